"""Choosing the interpreter scripts run with (``[execution].python`` / ``--python``)."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys

from AppCode.core.domain.errors import ConfigurationError
from AppCode.infrastructure.execution import bootstrap

# Also compiles the sandbox's child module for that interpreter (see bootstrap.precompile).
_PROBE = """import sys
print(sys.executable)
print('%d.%d' % sys.version_info[:2])
try:
    sys.path[0] = sys.argv[1]
    import bootstrap
    bootstrap.precompile()
except Exception:
    pass
"""
MIN_VERSION = (3, 8)


@functools.lru_cache(maxsize=16)
def resolve_python(python: str) -> str:
    """The real executable for ``python`` ("" = the app's own), checked to be a working Python.

    Asks the interpreter for its ``sys.executable`` once: a pyenv shim is a shell script that
    costs ~10x an interpreter start on every launch. Virtualenv interpreters keep their path
    (their ``pyvenv.cfg`` is found through it).
    """
    if not python:
        return sys.executable
    found = shutil.which(os.path.expanduser(python))
    if found is None:
        raise ConfigurationError(
            f"Python interpreter {python!r} was not found",
            hint="Give the path of a python executable, e.g. ~/venvs/tools/bin/python.",
        )
    try:
        probe = subprocess.run(
            [found, "-c", _PROBE, os.path.dirname(bootstrap.__file__)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigurationError(
            f"{found} could not be run as a Python interpreter: {exc}",
            hint="Choose a working python executable with --python.",
        ) from None
    lines = probe.stdout.split()
    if probe.returncode != 0 or len(lines) < 2:
        raise ConfigurationError(
            f"{found} is not a working Python interpreter "
            f"({(probe.stderr.strip().splitlines() or ['no output'])[-1]})",
            hint="Choose a working python executable with --python.",
        )
    major, minor = (int(part) for part in lines[-1].split("."))
    if (major, minor) < MIN_VERSION:
        raise ConfigurationError(
            f"{found} is Python {major}.{minor}; ScriptBatch needs 3.8 or newer for scripts",
            hint="Choose a newer interpreter with --python.",
        )
    real = lines[0]
    # A virtualenv's python reports its own path; a shim reports the interpreter behind it.
    return real if os.path.isfile(real) else found


def is_own_interpreter(python: str) -> bool:
    return not python or os.path.realpath(python) == os.path.realpath(sys.executable)
