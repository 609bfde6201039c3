"""What a benchmark reports: figures measured against a target and a baseline measured in
the same run, printed as a table and written into docs/benchmarks.md."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Figure:
    """One measured figure, e.g. ``Figure("p99 turnaround, 500 sessions", 3.1, "ms",
    target="<= 5 ms", met=True, baseline=8.4)``. ``met`` is None for figures without a
    target (context for the reader)."""

    name: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None
    baseline: float | None = None

    def cells(self) -> list[str]:
        return [
            self.name,
            _number(self.value, self.unit),
            "" if self.baseline is None else _number(self.baseline, self.unit),
            self.target,
            {True: "yes", False: "**no**", None: ""}[self.met],
        ]


@dataclass
class BenchResult:
    """One benchmark's outcome: its figures, what the baseline is, and notes (method,
    profile findings, why a target is missed)."""

    number: int
    title: str
    baseline: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def met(self) -> bool:
        return all(f.met is not False for f in self.figures)

    def markdown(self) -> str:
        lines = [f"## {self.number}. {self.title}", "", f"Baseline: {self.baseline}", ""]
        lines.append("| figure | engine | baseline | target | met |")
        lines.append("|---|---|---|---|---|")
        lines += ["| " + " | ".join(f.cells()) + " |" for f in self.figures]
        if self.notes:
            lines.append("")
            lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"

    def table(self) -> str:
        rows = [["figure", "engine", "baseline", "target", "met"]] + [
            f.cells() for f in self.figures
        ]
        widths = [max(len(r[i].replace("**", "")) for r in rows) for i in range(5)]
        out = [f"{self.number}. {self.title}  (baseline: {self.baseline})"]
        for row in rows:
            out.append(
                "  ".join(c.replace("**", "").ljust(w) for c, w in zip(row, widths, strict=True))
            )
        return "\n".join(out)


def _number(value: float, unit: str) -> str:
    if value != value:  # NaN: not measured
        return "-"
    if abs(value) >= 100 or value == int(value):
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}".strip()
