"""Greet people by name to demonstrate passing arguments to a script.

Positional arguments are the names to greet (default: "world"). Options change
the greeting text, repeat it, or shout it. The script finishes by echoing the
exact argument list it received, so you can check how ScriptBatch split and
quoted the arguments you configured for it.

Usage:
    python greet_with_args.py
    python greet_with_args.py Ada Grace --greeting "Good morning" --times 2
    python greet_with_args.py "Mary Ann" --shout
"""

import argparse
import sys


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Greet people by name.")
    parser.add_argument("names", nargs="*", default=["world"], help="who to greet (default: world)")
    parser.add_argument("--greeting", default="Hello", help="greeting word (default: Hello)")
    parser.add_argument(
        "--times", type=positive_int, default=1, help="how often to greet each name (default: 1)"
    )
    parser.add_argument("--shout", action="store_true", help="greet in capital letters")
    return parser


def make_greeting(greeting: str, name: str, shout: bool) -> str:
    text = f"{greeting}, {name}!"
    return text.upper() if shout else text


def main(argv: list[str] | None = None) -> int:
    received = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(received)

    for name in args.names:
        for _ in range(args.times):
            print(make_greeting(args.greeting, name, args.shout))

    # repr() shows quotes, so "Mary Ann" is visibly one argument, not two.
    print(f"\nArguments received ({len(received)}): {received!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
