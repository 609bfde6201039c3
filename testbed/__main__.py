"""Place one SIPp call by hand against the running test bed:

    .venv/bin/python -m testbed 13800138000 10086 --key 2.5:5

Each ``--key SECONDS:DIGIT`` presses DIGIT (RFC 2833) that many seconds after the answer.
"""

from __future__ import annotations

import argparse
import asyncio

from testbed.sipp import place_call


def _key(text: str) -> tuple[float, str]:
    seconds, _, digit = text.partition(":")
    return float(seconds), digit


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m testbed", description=__doc__)
    parser.add_argument("caller")
    parser.add_argument("dialled")
    parser.add_argument("--key", type=_key, action="append", default=[], metavar="SECONDS:DIGIT")
    parser.add_argument("--hangup-after", type=float, default=None, metavar="SECONDS")
    args = parser.parse_args()
    result = asyncio.run(
        place_call(args.caller, args.dialled, keys=args.key, hangup_after=args.hangup_after)
    )
    print(result.describe())
    raise SystemExit(0 if result.successful else 1)


if __name__ == "__main__":
    main()
