"""Sandbox policies: what a script may do, independent of how each OS enforces it.

Three built-in policies ("off", "standard", "strict") and custom ones (TOML files, validated by
the settings layer) resolve to one ``SandboxPolicy``. The runner turns it into the concrete
instructions for one script (``ScriptSandbox``: its folder, a temp dir, the interpreter's
folders), which the child bootstrap applies before the script's first line.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

__all__ = [
    "BUILTIN_POLICIES",
    "PRELOADED_MODULES",
    "SandboxPolicy",
    "ScriptSandbox",
    "builtin_policy",
]

Level = Literal["off", "standard", "strict"]
MB = 1024 * 1024
# Open files per sandboxed process: plenty for scripts, a wall for descriptor exhaustion.
MAX_OPEN_FILES = 4096

# Modules strict always blocks: they reach the C level, past every Python-level check.
STRICT_BLOCKED_MODULES = ("ctypes", "_ctypes", "cffi")
# Modules a sandboxed script finds already imported (by the interpreter at start-up, the bootstrap
# and the sandbox) on Python 3.11+, stdlib only. They cannot be blocked: the script reaches
# them as attributes of other modules (``os.st`` is ``stat``), so a policy that names one is
# refused. ctypes, loaded by the sandbox itself, is not here: it is dropped before the script.
PRELOADED_MODULES = frozenset(
    {
        "__future__",
        "__main__",
        "_abc",
        "_codecs",
        "_collections_abc",
        "_frozen_importlib",
        "_frozen_importlib_external",
        "_imp",
        "_io",
        "_signal",
        "_sitebuiltins",
        "_socket",
        "_stat",
        "_struct",
        "_thread",
        "_warnings",
        "_weakref",
        "abc",
        "builtins",
        "codecs",
        "encodings",
        "gc",
        "genericpath",
        "io",
        "marshal",
        "os",
        "posix",
        "posixpath",
        "resource",
        "select",
        "site",
        "stat",
        "struct",
        "sys",
        "time",
        "types",
        "zipimport",
    }
)
# Variables a strict run keeps from the app's environment (everything else is dropped).
STRICT_ENV_ALLOWED = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LANGUAGE",
    "TZ",
    "TERM",
    "SYSTEMROOT",
    "PYTHONIOENCODING",
)


@dataclass(frozen=True)
class SandboxPolicy:
    """A resolved policy: limits (0 = none) and restrictions."""

    name: str
    level: Level
    memory_limit_mb: int = 0
    cpu_time_limit_s: float = 0.0
    max_file_size_mb: int = 0
    max_processes: int = 0
    network: bool = True
    allow_subprocess: bool = True
    restrict_reads: bool = False
    scrub_environment: bool = False
    allowed_write_paths: tuple[str, ...] = ()
    allowed_read_paths: tuple[str, ...] = ()
    blocked_modules: tuple[str, ...] = ()
    # Run anyway, marked "degraded", when a kernel layer is missing (else: refuse the run).
    allow_degraded: bool = True
    # New user, IPC and UTS namespaces (and a network one when offline) where the kernel allows
    # unprivileged user namespaces; an extra layer, never required.
    namespaces: bool = False
    # What the app must keep from every script, whatever folders the policy grants: its data
    # directory, database, backups and config file. Set by the app, not a user's choice.
    protected_paths: tuple[str, ...] = ()

    @property
    def enabled(self) -> bool:
        return self.level != "off"

    def with_overrides(self, **changes: Any) -> SandboxPolicy:
        """A copy with some values changed (CLI flags, GUI choices)."""
        extra_write = tuple(changes.pop("add_write_paths", ()))
        extra_read = tuple(changes.pop("add_read_paths", ()))
        extra_blocked = tuple(changes.pop("add_blocked_modules", ()))
        policy = replace(self, **changes)
        return replace(
            policy,
            allowed_write_paths=_unique(policy.allowed_write_paths + extra_write),
            allowed_read_paths=_unique(policy.allowed_read_paths + extra_read),
            blocked_modules=_unique(policy.blocked_modules + extra_blocked),
        )

    def summary(self) -> dict[str, Any]:
        """What is stored with each execution besides the layers that held."""
        return {"policy": self.name}


def builtin_policy(
    level: Level,
    *,
    memory_limit_mb: int = 2048,
    cpu_time_limit_s: float = 0.0,
    max_file_size_mb: int = 1024,
    max_processes: int = 64,
    network: bool = True,
    allow_subprocess: bool = True,
    allowed_write_paths: tuple[str, ...] = (),
    allowed_read_paths: tuple[str, ...] = (),
    blocked_modules: tuple[str, ...] = (),
) -> SandboxPolicy:
    """The built-in policy ``level`` with the ``[sandbox]`` settings applied; "strict" forces
    its restrictions whatever the settings say."""
    if level == "off":
        return SandboxPolicy(name="off", level="off")
    if level == "standard":
        return SandboxPolicy(
            name="standard",
            level="standard",
            memory_limit_mb=memory_limit_mb,
            cpu_time_limit_s=cpu_time_limit_s,
            max_file_size_mb=max_file_size_mb,
            max_processes=max_processes,
            network=network,
            allow_subprocess=allow_subprocess,
            allowed_write_paths=allowed_write_paths,
            allowed_read_paths=allowed_read_paths,
            blocked_modules=blocked_modules,
            allow_degraded=True,
        )
    return SandboxPolicy(
        name="strict",
        level="strict",
        memory_limit_mb=memory_limit_mb,
        cpu_time_limit_s=cpu_time_limit_s,
        max_file_size_mb=max_file_size_mb,
        max_processes=max_processes or 64,
        network=False,
        allow_subprocess=False,
        restrict_reads=True,
        scrub_environment=True,
        allowed_write_paths=allowed_write_paths,
        allowed_read_paths=allowed_read_paths,
        blocked_modules=_unique(blocked_modules + STRICT_BLOCKED_MODULES),
        allow_degraded=False,
        namespaces=True,
    )


BUILTIN_POLICIES = ("off", "standard", "strict")


@dataclass(frozen=True)
class ScriptSandbox:
    """The policy made concrete for one script run; the bootstrap applies exactly this."""

    policy: SandboxPolicy
    script_dir: str
    temp_dir: str
    write_paths: tuple[str, ...] = ()
    read_paths: tuple[str, ...] = ()  # empty = reads are not restricted
    env: dict[str, str] = field(default_factory=dict)

    def to_child(self) -> dict[str, Any]:
        """The plain-data form sent to the child (a dict of str, int, float, bool, list)."""
        p = self.policy
        return {
            "name": p.name,
            "level": p.level,
            "allow_degraded": p.allow_degraded,
            "memory_bytes": p.memory_limit_mb * MB,
            "cpu_seconds": p.cpu_time_limit_s,
            "file_bytes": p.max_file_size_mb * MB,
            "max_processes": p.max_processes,
            "max_open_files": MAX_OPEN_FILES,
            "network": p.network,
            "subprocess": p.allow_subprocess,
            "write_paths": list(self.write_paths),
            "read_paths": list(self.read_paths) if p.restrict_reads else None,
            "blocked_modules": list(p.blocked_modules),
            "namespaces": p.namespaces,
            "protected_paths": list(p.protected_paths),
        }


def _unique(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))
