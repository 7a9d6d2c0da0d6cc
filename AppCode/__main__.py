"""``scriptbatch`` and ``python -m AppCode``: a command runs in the CLI; none opens the GUI."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``scriptbatch`` console script."""
    from AppCode.cli.main import build_parser, run

    args = build_parser().parse_args(argv)
    if args.handler is None:
        from AppCode.ui.app import run_gui

        return run_gui(getattr(args, "data_dir", None), getattr(args, "config", None))
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
