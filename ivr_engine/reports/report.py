"""The one shape every report has: named columns, rows, and the definitions behind them."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Pacer", "Report", "calls", "pct", "secs"]


def secs(value: float | None) -> float | None:
    """Seconds as shown: one decimal."""
    return None if value is None else round(value, 1)


def calls(count: int) -> str:
    """'1 call', '2 calls'."""
    return f"{count} call" if count == 1 else f"{count} calls"


def pct(part: float, whole: float) -> float | None:
    """A percentage with one decimal; None when there is nothing to divide by."""
    return None if whole == 0 else round(100.0 * part / whole, 1)


@dataclass
class Report:
    """A finished report.

    ``rows`` hold plain JSON values (str, int, float, None) under the names in ``columns``.
    ``notes`` say what the figures mean: the period, the service-level definition, and any
    other definition a reader needs. ``chart`` draws the report (see ``to_png``).
    """

    name: str
    title: str
    columns: list[str]
    rows: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    chart: Callable[[Report], bytes] | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "columns": list(self.columns),
            "rows": [{column: row.get(column) for column in self.columns} for row in self.rows],
            "notes": list(self.notes),
        }

    def to_csv(self) -> str:
        """The rows as CSV with a header line (empty cells where there is no value)."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow(["" if row.get(c) is None else row.get(c) for c in self.columns])
        return out.getvalue()

    def to_png(self) -> bytes | None:
        """The report's chart as PNG, or None for a report that has none.

        Drawing takes CPU time: from async code, call it in a worker thread
        (``await asyncio.to_thread(report.to_png)``).
        """
        return None if self.chart is None else self.chart(self)

    def to_table(self) -> str:
        """Aligned text for a terminal: the title, the rows, then the notes."""
        cells = [[_cell(row.get(c)) for c in self.columns] for row in self.rows]
        widths = [
            max([len(c), *(len(line[i]) for line in cells)]) for i, c in enumerate(self.columns)
        ]
        lines = [self.title, ""]
        lines.append("  ".join(c.ljust(w) for c, w in zip(self.columns, widths, strict=True)))
        lines.append("  ".join("-" * w for w in widths))
        for row, line in zip(self.rows, cells, strict=True):
            values = [row.get(c) for c in self.columns]
            lines.append(
                "  ".join(
                    text.ljust(w) if isinstance(value, str) else text.rjust(w)
                    for value, text, w in zip(values, line, widths, strict=True)
                ).rstrip()
            )
        if not cells:
            lines.append("(no rows)")
        if self.notes:
            lines.append("")
            lines.extend(f"* {note}" for note in self.notes)
        return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


class Pacer:
    """Lets other tasks run during a long loop over rows: ``await pacer.tick()`` per row
    yields to the event loop every ``every`` rows."""

    def __init__(self, every: int = 2000) -> None:
        self.every = every
        self.count = 0

    async def tick(self) -> None:
        self.count += 1
        if self.count % self.every == 0:
            await asyncio.sleep(0)
