"""``python -m bench [engine|gui|platform|distributed] [--quick] [--only LETTERS] [--repeat N]
[--jobs N] [--keep]``."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from bench import distributed, engine, gui, platform_costs
from bench.common import print_table

SUITES = {"engine": "ABCDE", "gui": "FG", "platform": "HI", "distributed": "JK"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="ScriptBatch benchmarks: the real scriptbatch command against xargs and a "
        "naive runner, measured in the same run (engine); the real main window's responsiveness "
        "and start-up (gui); the Dask backend against the local one (distributed). See "
        "bench/README.md.",
    )
    parser.add_argument(
        "suite",
        nargs="?",
        default="engine",
        choices=list(SUITES),
        help="what to run: engine (A-E, the default), gui (F-G), platform (H: sandbox "
        "launch cost, I: monitoring CPU), or distributed (J: Dask backend overhead per script, "
        "K: throughput with 1 and 2 Dask workers)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes and one run each: a smoke test"
    )
    parser.add_argument(
        "--only", metavar="LETTERS", help="e.g. --only AB (engine) or --only G (gui)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        metavar="N",
        help="runs per timing (default 3; gui: 3 batches for F, 5 start-ups of each kind for G)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="engine: parallel jobs (default: CPUs); distributed: --jobs of every run (default 2)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    letters = SUITES[args.suite]
    only = (args.only or letters).upper()
    if not only or set(only) - set(letters):
        parser.error(f"--only takes letters from {letters} for the {args.suite} suite")

    if args.suite == "distributed":
        rows = distributed.run(
            quick=args.quick, jobs=args.jobs, repeats=args.repeat, only=only, keep=args.keep
        )
    elif args.suite == "platform":
        rows = platform_costs.run(quick=args.quick, only=only)
    elif args.suite == "gui":
        if args.jobs:
            parser.error("--jobs is for the engine suite; the gui suite uses the app's default")
        rows = gui.run(quick=args.quick, repeats=args.repeat, only=only, keep=args.keep)
    else:
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
