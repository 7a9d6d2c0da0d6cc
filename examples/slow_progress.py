"""Simulate a slow job that reports its progress line by line.

Each step waits --delay seconds and then prints "step i/n ... p%". Every line
is flushed immediately, so the progress shows up live in ScriptBatch's output
pane instead of all at once when the script ends. Output printed by a child
process is usually block-buffered when it is not a terminal; flush=True (or
running Python with -u) is the fix to copy into your own long-running scripts.

Usage:
    python slow_progress.py                              # 10 steps, half a second each
    python slow_progress.py --steps 20 --delay 0.2
    python slow_progress.py --steps 3 --delay 0          # instant, handy for tests
"""

import argparse
import time


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:  # also rejects NaN
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Simulate a slow job with live progress output.")
    parser.add_argument(
        "--steps", type=positive_int, default=10, help="number of steps (default: 10)"
    )
    parser.add_argument(
        "--delay",
        type=non_negative_float,
        default=0.5,
        help="seconds to wait per step (default: 0.5)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    print(f"Starting {args.steps} steps, {args.delay:g} s each.", flush=True)

    started = time.monotonic()
    for step in range(1, args.steps + 1):
        time.sleep(args.delay)  # stand-in for real work
        percent = step * 100 // args.steps
        print(f"step {step}/{args.steps} ... {percent}%", flush=True)

    print(f"Done in {time.monotonic() - started:.1f} s.", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
