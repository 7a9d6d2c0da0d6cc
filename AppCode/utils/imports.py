"""Importing a library without letting it pull in optional packages it only probes for."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def import_without(*packages: str) -> Iterator[None]:
    """Make ``import`` of *packages* (and their submodules) fail with ImportError inside the block.

    For libraries that do ``try: import optional_package`` at import time to support an
    integration we do not use. Packages already imported are left alone (the library sees them),
    and after the block the packages import normally again.
    """
    blocked = [name for name in packages if name not in sys.modules]
    finder = _Refuse(blocked)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


class _Refuse:
    """A meta-path finder that refuses a set of top-level packages."""

    def __init__(self, packages: list[str]) -> None:
        self._packages = frozenset(packages)

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> None:
        if fullname.partition(".")[0] in self._packages:
            raise ImportError(f"{fullname} is not imported here", name=fullname)
        return None
