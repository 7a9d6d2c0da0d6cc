"""Choosing a run's sandbox policy: built-ins, custom policy files, and per-run overrides.

A custom policy is a TOML file, ``<data-dir>/policies/NAME.toml`` (chosen by NAME) or any path
(``--policy FILE``)::

    base = "standard"            # the built-in it starts from: "off", "standard" or "strict"
    memory_limit_mb = 512
    network = false
    allowed_write_paths = ["/srv/reports"]

Keys missing from the file keep the base's value (with ``[sandbox]`` applied).
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from AppCode.core.domain.errors import ConfigurationError
from AppCode.core.security.policy import (
    BUILTIN_POLICIES,
    PRELOADED_MODULES,
    SandboxPolicy,
    builtin_policy,
)
from AppCode.services.settings import MAX_MB, MAX_PROCESSES, MAX_SECONDS, SandboxSettings
from AppCode.utils.validation import problems

__all__ = [
    "MIN_MEMORY_LIMIT_MB",
    "PolicyFile",
    "PolicyOverrides",
    "PolicyResolver",
    "policy_from_record",
    "policy_record",
]

log = logging.getLogger(__name__)

# Measured: ``python -c pass`` starts under RLIMIT_AS of 16 MB on Linux x86-64 (not 8), and so
# does a trivial script in the sandbox, spawned or forked. Below twice that, a script fails
# before its first line with an empty log, or the loader cannot map libpython (exit 127).
MIN_MEMORY_LIMIT_MB = 32


def check_memory_limit(value: int | None) -> int | None:
    """0 (no limit) or enough for an interpreter to start."""
    if value is not None and 0 < value < MIN_MEMORY_LIMIT_MB:
        raise ValueError(
            f"must be 0 (no limit) or at least {MIN_MEMORY_LIMIT_MB} MB, which a Python "
            "interpreter needs to start"
        )
    return value


NonEmpty = Annotated[str, Field(min_length=1)]


class PolicyFile(BaseModel):
    """The keys a custom policy file may set."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    base: Literal["off", "standard", "strict"] = "standard"
    memory_limit_mb: int | None = Field(default=None, ge=0, le=MAX_MB)
    cpu_time_limit_s: float | None = Field(default=None, ge=0, le=MAX_SECONDS)
    max_file_size_mb: int | None = Field(default=None, ge=0, le=MAX_MB)
    max_processes: int | None = Field(default=None, ge=0, le=MAX_PROCESSES)
    network: bool | None = None
    allow_subprocess: bool | None = None
    allowed_write_paths: list[str] | None = None
    allowed_read_paths: list[str] | None = None
    blocked_modules: list[str] | None = None
    allow_degraded: bool | None = None
    namespaces: bool | None = None

    _memory = field_validator("memory_limit_mb")(check_memory_limit)


class PolicyOverrides(BaseModel):
    """Per-run changes on top of the chosen policy (CLI flags, the GUI, API bodies)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    memory_limit_mb: int | None = Field(default=None, ge=0, le=MAX_MB)
    cpu_time_limit_s: float | None = Field(default=None, ge=0, le=MAX_SECONDS)
    network: bool | None = None
    allow_write: list[NonEmpty] = Field(default_factory=list)
    allow_read: list[NonEmpty] = Field(default_factory=list)
    block_modules: list[NonEmpty] = Field(default_factory=list)

    _memory = field_validator("memory_limit_mb")(check_memory_limit)

    def given(self) -> list[str]:
        """What these overrides change, in a user's words (for a message)."""
        return [_WORDS[name] for name, value in self if value not in (None, [])]


_WORDS = {
    "memory_limit_mb": "the memory limit",
    "cpu_time_limit_s": "the CPU-time limit",
    "network": "network access",
    "allow_write": "the allowed write paths",
    "allow_read": "the allowed read paths",
    "block_modules": "the blocked modules",
}


class PolicyResolver:
    """Resolves policy choices; every policy it gives keeps ``protected`` (the app's data
    directory, database, backups, config: read at each call, as settings change) from scripts."""

    def __init__(
        self,
        settings: SandboxSettings,
        policy_dir: Path,
        protected: Callable[[], Iterable[str]] = tuple,
    ) -> None:
        self._settings = settings
        self._dir = policy_dir
        self._protected = protected

    def default_name(self) -> str:
        return self._settings.policy if self._settings.enabled else "off"

    def available(self) -> list[str]:
        """Policy names to choose from: the built-ins, then the custom files by name."""
        custom = sorted(p.stem for p in self._dir.glob("*.toml")) if self._dir.is_dir() else []
        return [*BUILTIN_POLICIES, *(name for name in custom if name not in BUILTIN_POLICIES)]

    def resolve(
        self, choice: str | None = None, overrides: PolicyOverrides | None = None
    ) -> SandboxPolicy:
        """The policy ``choice`` (a name, a file path, or None for ``[sandbox]``'s), with
        ``overrides`` applied. Raises ``ConfigurationError`` naming what is wrong."""
        choice = (choice or self.default_name()).strip()
        policy = self._named(choice)
        if overrides is None:
            return self._finished(policy)
        if not policy.enabled:
            if overrides.given():
                raise ConfigurationError(
                    f"sandbox policy {choice!r} turns the sandbox off, so its options "
                    f"({', '.join(overrides.given())}) cannot apply",
                    hint="Choose a policy that sandboxes (standard, strict), or leave out the "
                    "sandbox options.",
                )
            return policy
        changes: dict[str, object] = {
            "add_write_paths": tuple(overrides.allow_write),
            "add_read_paths": tuple(overrides.allow_read),
            "add_blocked_modules": tuple(overrides.block_modules),
        }
        if overrides.memory_limit_mb is not None:
            changes["memory_limit_mb"] = overrides.memory_limit_mb
        if overrides.cpu_time_limit_s is not None:
            changes["cpu_time_limit_s"] = overrides.cpu_time_limit_s
        if overrides.network is not None:
            changes["network"] = overrides.network
        return self._finished(policy.with_overrides(**changes))

    def restore(self, record: dict[str, Any]) -> SandboxPolicy:
        """The policy ``policy_record`` stored (a re-run's), protecting this app's data."""
        return self._finished(policy_from_record(record))

    def _finished(self, policy: SandboxPolicy) -> SandboxPolicy:
        """``policy`` checked for modules that cannot be blocked, with the protected paths."""
        if not policy.enabled:
            return policy
        preloaded = sorted(m for m in policy.blocked_modules if m in PRELOADED_MODULES)
        if preloaded:
            raise ConfigurationError(
                f"sandbox policy {policy.name!r} blocks {', '.join(preloaded)}, which every "
                "script finds already imported (by the interpreter or the sandbox), so it "
                "cannot be blocked",
                hint="Leave it out of blocked_modules (--block-module). Modules that cannot "
                "be blocked: " + ", ".join(sorted(PRELOADED_MODULES)),
            )
        protected = tuple(dict.fromkeys(os.path.abspath(p) for p in self._protected() if p))
        for folder in policy.allowed_write_paths:
            real = os.path.realpath(folder)
            if any(p == real or p.startswith(real.rstrip("/") + "/") for p in protected):
                log.warning(
                    "sandbox policy %r lets scripts write %s, which holds ScriptBatch's own "
                    "data: only the Python-level guard rail keeps scripts from it there "
                    "(see docs/sandbox.md)",
                    policy.name,
                    folder,
                )
        return replace(policy, protected_paths=protected)

    def _builtin(self, level: Literal["off", "standard", "strict"]) -> SandboxPolicy:
        s = self._settings
        try:
            check_memory_limit(s.memory_limit_mb)
        except ValueError as exc:
            raise ConfigurationError(
                f"[sandbox] memory_limit_mb = {s.memory_limit_mb} in the config file: {exc}",
                hint="Raise it in config.toml (or the SCRIPTBATCH_SANDBOX__MEMORY_LIMIT_MB "
                "variable), or set 0 for no limit.",
            ) from None
        return builtin_policy(
            level,
            memory_limit_mb=s.memory_limit_mb,
            cpu_time_limit_s=s.cpu_time_limit_s,
            max_file_size_mb=s.max_file_size_mb,
            max_processes=s.max_processes,
            network=s.network,
            allow_subprocess=s.allow_subprocess,
            allowed_write_paths=tuple(s.allowed_write_paths),
            allowed_read_paths=tuple(s.allowed_read_paths),
            blocked_modules=tuple(s.blocked_modules),
        )

    def _named(self, choice: str) -> SandboxPolicy:
        if choice in BUILTIN_POLICIES:
            return self._builtin(choice)  # type: ignore[arg-type]
        path = Path(choice).expanduser()
        if path.suffix != ".toml" and "/" not in choice and "\\" not in choice:
            path = self._dir / f"{choice}.toml"
        if not path.is_file():
            known = ", ".join(self.available())
            raise ConfigurationError(
                f"sandbox policy {choice!r} does not exist (no file {path})",
                hint=f"Choose one of: {known}; or give the path of a policy .toml file.",
            )
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            spec = PolicyFile.model_validate(data)
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"cannot read sandbox policy file {path}: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"{path} is not valid TOML: {exc}") from None
        except ValidationError as exc:
            raise ConfigurationError(
                f"sandbox policy file {path} is invalid: {problems(exc)}",
                hint="Allowed keys: " + ", ".join(PolicyFile.model_fields),
            ) from None
        base = self._builtin(spec.base)
        if not base.enabled:
            return SandboxPolicy(name=path.stem, level="off")
        changes = {
            key: tuple(value) if isinstance(value, list) else value
            for key, value in spec.model_dump(exclude={"base"}).items()
            if value is not None
        }
        return base.with_overrides(name=path.stem, **changes)


def policy_record(policy: SandboxPolicy) -> dict[str, Any]:
    """A resolved policy as JSON-ready data, stored with a batch so that a re-run gets exactly
    the same sandbox (overrides, custom files as they were then)."""
    return {
        key: list(v) if isinstance(v, tuple) else v
        for key, v in asdict(policy).items()
        if key != "protected_paths"  # the installation's, not the batch's: set when it runs
    }


def policy_from_record(record: dict[str, Any]) -> SandboxPolicy:
    """The policy ``policy_record`` stored (keys it does not know are ignored)."""
    known = {f.name for f in fields(SandboxPolicy)}
    values: dict[str, Any] = {
        key: tuple(value) if isinstance(value, list) else value
        for key, value in record.items()
        if key in known
    }
    return SandboxPolicy(**values)
