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
# The answer is framed by a marker, so that a program that merely prints something (echo, a
# wrapper script) is not taken for a Python.
_MARK = "scriptbatch-python-probe"
_PROBE = f"""import sys
print({_MARK!r})
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
PROBE_TIMEOUT_S = 15
_HINT = "Choose a working python executable, e.g. ~/venvs/tools/bin/python."


def resolve_python(python: str) -> str:
    """The real executable for ``python`` ("" = the app's own), checked to be a working Python.

    Asks the interpreter for its ``sys.executable`` (once per process, unless that file has
    gone since): a pyenv shim is a shell script that costs ~10x an interpreter start on every
    launch. Virtualenv interpreters keep their path (their ``pyvenv.cfg`` is found through it).
    """
    if not python:
        return sys.executable
    real = _probe(python)
    if not os.access(real, os.X_OK):  # deleted since (a removed virtualenv): ask again
        _probe.cache_clear()
        real = _probe(python)
    return real


@functools.lru_cache(maxsize=16)
def _probe(python: str) -> str:
    path = os.path.expanduser(python)
    found = shutil.which(path)  # a bare name is looked for on PATH, as a shell would
    if found is None:
        if os.sep in path and os.path.isfile(path):
            raise ConfigurationError(
                f"Python interpreter {python!r} is not executable",
                hint="Give a python executable (chmod +x), or the path of another one.",
            )
        raise ConfigurationError(
            f"Python interpreter {python!r} was not found",
            hint="Give the path of a python executable, e.g. ~/venvs/tools/bin/python.",
        )
    try:
        probe = subprocess.run(
            [found, "-c", _PROBE, os.path.dirname(bootstrap.__file__)],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=PROBE_TIMEOUT_S,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise ConfigurationError(
            f"{found} did not answer as a Python interpreter within {PROBE_TIMEOUT_S} s",
            hint=_HINT,
        ) from None
    except OSError as exc:
        raise ConfigurationError(
            f"{found} could not be run: {exc.strerror or exc}", hint=_HINT
        ) from None
    lines = probe.stdout.splitlines()
    answer = lines[lines.index(_MARK) + 1 :] if _MARK in lines else []
    version = answer[1].split(".") if len(answer) >= 2 else []
    if probe.returncode != 0 or len(version) != 2 or not all(v.isdigit() for v in version):
        said = (probe.stderr.strip() or probe.stdout.strip()).splitlines()
        detail = f"it said: {said[-1][:200]}" if said else "no answer"
        raise ConfigurationError(
            f"{found} is not a working Python interpreter ({detail})", hint=_HINT
        )
    major, minor = int(version[0]), int(version[1])
    if (major, minor) < MIN_VERSION:
        raise ConfigurationError(
            f"{found} is Python {major}.{minor}; ScriptBatch needs 3.8 or newer for scripts",
            hint="Choose a newer interpreter.",
        )
    real = answer[0]
    # A virtualenv's python reports its own path; a shim reports the interpreter behind it.
    return real if os.path.isfile(real) else found


def is_own_interpreter(python: str) -> bool:
    return not python or os.path.realpath(python) == os.path.realpath(sys.executable)
