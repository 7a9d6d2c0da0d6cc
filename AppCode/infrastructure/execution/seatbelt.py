"""macOS: the sandbox's OS layer, ``sandbox-exec`` with a profile generated from the policy.

Landlock and seccomp are Linux's; on macOS the kernel's Seatbelt sandbox holds the file, network
and process rules instead. The runner starts the bootstrap as
``sandbox-exec -p PROFILE python -c ... SCRIPT`` (``command``), so the profile is in force from
the interpreter's first instruction; the bootstrap still applies the rlimits and the guard rail.

The profile denies by default and allows what a Python script needs to run (its interpreter,
system libraries, the usual sysctls and a few system services) plus what the policy grants:
writes only in the script's folder, the per-run temp dir and ``allowed_write_paths``; reads
anywhere, or in strict only from those, the interpreter's installation and
``allowed_read_paths``; the network when the policy allows it; other programs when subprocesses
are allowed. ``sandbox-exec`` is deprecated by Apple but still ships with macOS; where it is
missing the run is degraded (strict refuses to run), as for a missing Linux layer.

CI runs on Linux: the profile text is tested there, the launch only on a Mac.
"""

from __future__ import annotations

import os
import shutil

from AppCode.core.security.policy import ScriptSandbox
from AppCode.infrastructure.execution import bootstrap

__all__ = ["LAYER", "available", "command", "profile"]

LAYER = "seatbelt"
SANDBOX_EXEC = "/usr/bin/sandbox-exec"  # by absolute path: PATH must not choose it

# Read by the dynamic loader, the C library and the interpreter on every macOS.
_SYSTEM_READ = (
    "/System",
    "/usr/lib",
    "/usr/share",
    "/Library/Apple",
    "/Library/Preferences",
    "/private/etc",
    "/private/var/db/dyld",
    "/private/var/db/timezone",
    "/dev",
    # Homebrew's shared libraries (an interpreter's ssl, sqlite3, ... link against them).
    "/usr/local/lib",
    "/usr/local/opt",
    "/usr/local/Cellar",
    "/opt/homebrew/lib",
    "/opt/homebrew/opt",
    "/opt/homebrew/Cellar",
)
_DEVICES = ("/dev/null", "/dev/zero", "/dev/tty", "/dev/dtracehelper")
# Services a Python process asks for (user and group lookups, logging, notifications).
_MACH_SERVICES = (
    "com.apple.system.opendirectoryd.libinfo",
    "com.apple.system.opendirectoryd.membership",
    "com.apple.system.logger",
    "com.apple.logd",
    "com.apple.system.notification_center",
    "com.apple.bsd.dirhelper",
    "com.apple.trustd.agent",
)


def available() -> bool:
    return os.access(SANDBOX_EXEC, os.X_OK)


def command(sandbox: ScriptSandbox, python: str, argv: list[str]) -> list[str]:
    """``argv`` (the interpreter's command line) run under the profile for ``sandbox``."""
    return [SANDBOX_EXEC, "-p", profile(sandbox, python), *argv]


def profile(sandbox: ScriptSandbox, python: str) -> str:
    """The SBPL profile for one run of ``sandbox`` with the interpreter ``python``."""
    policy = sandbox.policy
    interpreter = _interpreter_paths(python)
    lines = [
        "(version 1)",
        "(deny default)",
        "(allow process-fork)" if policy.allow_subprocess else "",
        "(allow process-exec)"
        if policy.allow_subprocess
        else f"(allow process-exec {_paths('literal', _executables(python))})",
        "(allow signal (target same-sandbox))",
        "(allow process-info* (target same-sandbox))",
        "(allow sysctl-read)",
        "(allow ipc-posix-shm)",
        "(allow ipc-posix-sem)",
        "(allow user-preference-read)",
        f"(allow mach-lookup {' '.join(f'(global-name {_quote(n)})' for n in _MACH_SERVICES)})",
        "(allow file-read-metadata)",
        f"(allow file-write* {_paths('subpath', sandbox.write_paths)})",
        f"(allow file-write* file-ioctl {_paths('literal', _DEVICES)})",
    ]
    if policy.restrict_reads:
        readable = (
            *sandbox.read_paths,
            *sandbox.write_paths,
            *interpreter,
            os.path.dirname(os.path.abspath(bootstrap.__file__)),  # the bootstrap itself
            *_SYSTEM_READ,
        )
        lines.append(f"(allow file-read* {_paths('subpath', readable)})")
    else:
        lines.append("(allow file-read*)")
    if policy.network:
        lines.append("(allow network*)")
    else:
        # Only the local logging socket; no TCP, UDP or other sockets to anywhere.
        lines.append('(allow network-outbound (literal "/private/var/run/syslog"))')
    return "\n".join(line for line in lines if line) + "\n"


def _executables(python: str) -> tuple[str, ...]:
    """The interpreter as given and as resolved (a virtualenv's python is a symlink)."""
    return tuple(dict.fromkeys((os.path.abspath(python), os.path.realpath(python))))


def _interpreter_paths(python: str) -> tuple[str, ...]:
    """What strict must leave readable for the interpreter: its installation (two levels above
    the real executable: ``.../bin/python3`` -> ``...``) and its virtualenv's, if any."""
    found = shutil.which(python) or python
    paths = []
    for executable in _executables(found):
        paths.append(os.path.dirname(os.path.dirname(executable)))
    return tuple(dict.fromkeys(p for p in paths if p and p != "/"))


def _paths(kind: str, paths: tuple[str, ...] | list[str]) -> str:
    unique = dict.fromkeys(os.path.realpath(p) if kind == "subpath" else p for p in paths if p)
    return " ".join(f"({kind} {_quote(p)})" for p in unique)


def _quote(text: str) -> str:
    """An SBPL string literal: backslashes and double quotes escaped; no control characters."""
    if any(ord(c) < 32 for c in text):
        raise OSError(f"a path with a control character cannot go into a sandbox profile: {text!r}")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
