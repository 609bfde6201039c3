"""Run the benchmarks, print their tables and regenerate docs/benchmarks.md.

    .venv/bin/python -m bench                 # all six (Asterisk started when needed)
    .venv/bin/python -m bench --only 2,4      # some of them
    .venv/bin/python -m bench --quick         # short runs, to check that they work
    .venv/bin/python -m bench --no-write      # print only

Each benchmark measures the engine and its baseline in the same run, on this machine, and
states its target and whether it is met. Benchmarks are not tests: nothing here runs in
``make test``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from bench.machine import describe_machine
from bench.result import BenchResult

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"

BENCHMARKS: dict[int, str] = {
    1: "bench.ivr_throughput",
    2: "bench.fastagi_turnaround",
    3: "bench.key_latency",
    4: "bench.acd_decisions",
    5: "bench.routing_quality",
    6: "bench.ami_intake",
}

INTRO = """# Benchmarks

The engine must never be what a hotline waits on. Each benchmark below measures the engine
and a baseline **in the same run on the same machine**, states its target and whether it
is met. Regenerate this file with one command:

    .venv/bin/python -m bench

(`--only 1,3` runs some of them, `--quick` checks that they work with short runs and
writes nothing unless asked.) Benchmarks are not tests and do not run in `make test`.
"""


async def _run(numbers: list[int], quick: bool) -> list[BenchResult]:
    results: list[BenchResult] = []
    for number in numbers:
        module = importlib.import_module(BENCHMARKS[number])
        run: Callable[[bool], Awaitable[BenchResult]] = module.run
        started = time.monotonic()
        print(f"--- benchmark {number} ({BENCHMARKS[number]}) ...", flush=True)
        result = await run(quick)
        result.notes.append(f"Run took {time.monotonic() - started:.0f} s.")
        print(result.table(), flush=True)
        print(flush=True)
        results.append(result)
    return results


def _document(results: list[BenchResult], machine: list[str], quick: bool) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        INTRO,
        "## Machine and date",
        "",
        f"Measured {when}" + (" (quick runs)" if quick else "") + " on:",
        "",
    ]
    parts += [f"- {line}" for line in machine]
    parts.append("")
    parts.append("## Summary")
    parts.append("")
    parts.append("| # | benchmark | all targets met |")
    parts.append("|---|---|---|")
    for r in results:
        parts.append(f"| {r.number} | {r.title} | {'yes' if r.met else '**no**'} |")
    parts.append("")
    parts += [r.markdown() for r in results]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="Comma-separated benchmark numbers (1-6).")
    parser.add_argument("--quick", action="store_true", help="Short runs.")
    parser.add_argument("--no-write", action="store_true", help="Do not write docs/benchmarks.md.")
    parser.add_argument("--write", action="store_true", help="Write even with --quick.")
    args = parser.parse_args(argv)
    numbers = sorted(int(n) for n in args.only.split(",") if n) or sorted(BENCHMARKS)
    unknown = [n for n in numbers if n not in BENCHMARKS]
    if unknown:
        parser.error(f"no benchmark {unknown}; there are 1-6")
    results = asyncio.run(_run(numbers, args.quick))
    write = not args.no_write and (args.write or not args.quick)
    if write:
        if len(numbers) < len(BENCHMARKS):
            print(
                "only some benchmarks ran: docs/benchmarks.md is written only by a full run",
                file=sys.stderr,
            )
        else:
            DOC.write_text(_document(results, describe_machine(), args.quick), encoding="utf-8")
            print(f"wrote {DOC.relative_to(ROOT)}")
    return 0 if all(r.met for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
