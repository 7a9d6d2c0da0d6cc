"""``python -m bench [engine] [--quick] [--only ABCDE] [--repeat N] [--jobs N] [--keep]``."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from bench import engine
from bench.common import print_table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="ScriptBatch benchmarks: the real scriptbatch command against xargs and a "
        "naive runner, measured in the same run. See bench/README.md.",
    )
    parser.add_argument(
        "suite", nargs="?", default="engine", choices=["engine"], help="what to run (engine)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes and one run each: a smoke test"
    )
    parser.add_argument("--only", default="ABCDE", metavar="LETTERS", help="e.g. --only AB")
    parser.add_argument("--repeat", type=int, metavar="N", help="runs per timing (default 3)")
    parser.add_argument("--jobs", type=int, metavar="N", help="parallel jobs (default: CPUs)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    only = args.only.upper()
    if not only or set(only) - set("ABCDE"):
        parser.error("--only takes letters from ABCDE")

    rows = engine.run(
        quick=args.quick, jobs=args.jobs, repeats=args.repeat, only=only, keep=args.keep
    )
    print_table(rows)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump([{**asdict(r), "result": r.verdict} for r in rows], f, indent=2)
    return 1 if any(r.verdict == "ERROR" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
