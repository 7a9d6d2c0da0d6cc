"""The script library: register, list, tag, rescan and remove scripts."""

from __future__ import annotations

import builtins
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from AppCode.core.domain.errors import ConfigurationError, NotFoundError
from AppCode.core.domain.models import Script
from AppCode.core.domain.ports import UnitOfWork, UnitOfWorkFactory
from AppCode.core.managers.cache import CacheManager
from AppCode.core.managers.script_manager import Rejected, ScriptFile, ScriptManager, absolute
from AppCode.core.security.permissions import ALLOW_ALL, AccessControl, Level, requires
from AppCode.utils.paths import is_text

__all__ = ["AddReport", "RescanReport", "ScriptService"]

CACHE_REGION = "scripts"
_TAG = re.compile(r"^[^\s,]{1,100}$")


@dataclass
class AddReport:
    """What ``add`` did with each path: scripts added, changed, already known, or refused."""

    added: list[Script] = field(default_factory=list)
    updated: list[Script] = field(default_factory=list)
    unchanged: list[Script] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


@dataclass
class RescanReport:
    """What a rescan found: changed files, vanished ones (now missing), and returned ones."""

    updated: list[Script] = field(default_factory=list)
    missing: list[Script] = field(default_factory=list)
    restored: list[Script] = field(default_factory=list)
    unchanged: int = 0


class ScriptService:
    """Use cases of the script library, shared by the GUI, the CLI and the API."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        cache: CacheManager,
        manager: ScriptManager,
        access: AccessControl = ALLOW_ALL,
    ) -> None:
        self._uow = uow
        self._access = access
        self._cache = cache
        self._manager = manager

    @requires(Level.MANAGE, "register scripts", audit=True)
    def add(self, paths: Iterable[str | os.PathLike[str]], tags: Sequence[str] = ()) -> AddReport:
        """Register the ``*.py`` files named or found under ``paths`` (re-reading known ones).

        Refused paths (missing, not ``*.py``, binary, empty folder) are listed in the report;
        everything else is stored in one transaction.
        """
        tags = self._check_tags(tags)
        paths = list(paths)
        if any(not os.fspath(p).strip() for p in paths):
            raise ConfigurationError(
                "a path to add is empty", hint="Name script files or folders to register."
            )
        discovery = self._manager.discover(paths)
        report = AddReport(rejected=list(discovery.rejected))
        inspected: list[ScriptFile] = []
        for path in discovery.files:
            found = self._manager.inspect(path)
            if isinstance(found, Rejected):
                report.rejected.append(found)
            else:
                inspected.append(found)
        if not inspected:
            return report
        with self._uow() as uow:
            for info in inspected:
                existing = uow.scripts.get_by_path(info.path)
                if existing is None:
                    report.added.append(uow.scripts.add(_from_file(info, tags)))
                    continue
                merged = tuple(dict.fromkeys((*existing.tags, *tags)))
                fresh = _refresh(existing, info, merged)
                if fresh == existing:
                    report.unchanged.append(existing)
                else:
                    uow.scripts.update(fresh)
                    report.updated.append(fresh)
            uow.commit()
        self._cache.invalidate(CACHE_REGION)
        return report

    @requires(Level.VIEW, "list scripts")
    def list(self, *, tag: str | None = None, search: str | None = None) -> list[Script]:
        """Registered scripts ordered by path, optionally only those with ``tag`` or matching
        ``search`` (name, path or description, any case)."""
        tag = tag or None
        search = (search or "").strip() or None
        if not all(is_text(text) for text in (tag, search) if text is not None):
            return []  # nothing stored matches text that is not Unicode (see is_text)

        def load() -> list[Script]:
            with self._uow() as uow:
                return uow.scripts.list(tag=tag, search=search)

        return list(self._cache.get_or_load(CACHE_REGION, (tag, search), load))

    @requires(Level.VIEW, "view script")
    def get(self, ref: str) -> Script:
        """The script named by ``ref``: its numeric id or its path."""
        with self._uow() as uow:
            return self._find(uow, ref)

    @requires(Level.MANAGE, "remove script", audit=True)
    def remove(self, ref: str) -> Script:
        """Take a script out of the library; its past executions stay in the history."""
        return self._remove([ref])[0]

    @requires(Level.MANAGE, "remove script", audit=True)
    def remove_all(self, refs: Sequence[str]) -> builtins.list[Script]:
        """Take scripts out of the library, all or none: if any ref is unknown, nothing is
        removed and the ``NotFoundError`` names every unknown one."""
        return self._remove(refs)

    def _remove(self, refs: Sequence[str]) -> builtins.list[Script]:
        with self._uow() as uow:
            found: dict[int, Script] = {}
            unknown = []
            for ref in refs:
                try:
                    script = self._find(uow, ref)
                except NotFoundError:
                    unknown.append(ref)
                    continue
                assert script.id is not None
                found.setdefault(script.id, script)
            if unknown:
                names = ", ".join(repr(r) for r in unknown)
                raise NotFoundError(
                    f"no script with id or path {names} in the library; nothing was removed"
                    if len(unknown) == 1
                    else f"no scripts with ids or paths {names} in the library; nothing was "
                    "removed",
                    hint="See the registered scripts with 'scriptbatch scripts list'.",
                )
            for script_id in found:
                uow.scripts.remove(script_id)
            uow.commit()
        self._cache.invalidate(CACHE_REGION)
        return builtins.list(found.values())

    @requires(Level.MANAGE, "tag script", audit=True)
    def tag(self, ref: str, tags: Sequence[str], *, remove: bool = False) -> Script:
        """Add ``tags`` to a script (or take them away with ``remove``)."""
        tags = self._check_tags(tags)
        if not tags:
            raise ConfigurationError("no tag given", hint="Name at least one tag, e.g. 'nightly'.")
        with self._uow() as uow:
            script = self._find(uow, ref)
            if remove:
                new_tags = tuple(t for t in script.tags if t not in tags)
            else:
                new_tags = tuple(sorted(set(script.tags) | set(tags)))
            script = replace(script, tags=new_tags)
            uow.scripts.update(script)
            uow.commit()
        self._cache.invalidate(CACHE_REGION)
        return script

    @requires(Level.MANAGE, "set script sandbox policy", audit=True)
    def set_policy(self, ref: str, policy: str | None) -> Script:
        """Pin a sandbox policy to a script (None: follow the batch's policy)."""
        with self._uow() as uow:
            script = replace(self._find(uow, ref), sandbox_policy=policy or None)
            uow.scripts.update(script)
            uow.commit()
        self._cache.invalidate(CACHE_REGION)
        return script

    @requires(Level.VIEW, "list tags")
    def tags(self) -> builtins.list[str]:
        """Every tag in use, sorted."""
        return sorted({tag for script in self.list() for tag in script.tags})

    @requires(Level.EXECUTE, "rescan scripts", audit=True)
    def rescan(self) -> RescanReport:
        """Re-read every registered script whose (mtime, size) changed; mark vanished files as
        missing (keeping their history) and clear the mark when they come back."""
        report = RescanReport()
        with self._uow() as uow:
            for script in uow.scripts.list():
                stat = self._manager.stat(script.path)
                if stat is None:
                    if not script.missing:
                        script = replace(script, missing=True)
                        uow.scripts.update(script)
                        report.missing.append(script)
                    continue
                if stat == (script.mtime, script.size) and not script.missing:
                    report.unchanged += 1
                    continue
                info = self._manager.inspect(script.path)
                if isinstance(info, Rejected):
                    continue
                fresh = _refresh(script, info, script.tags)
                uow.scripts.update(fresh)
                (report.restored if script.missing else report.updated).append(fresh)
            uow.commit()
        self._cache.invalidate(CACHE_REGION)
        return report

    @staticmethod
    def _find(uow: UnitOfWork, ref: str) -> Script:
        ref = ref.strip()
        # An id is ASCII digits within SQLite's integers; anything else may still be a path.
        is_id = ref.isascii() and ref.isdigit() and int(ref) < 2**63
        script = uow.scripts.get(int(ref)) if is_id else None
        if script is None and ref and is_text(ref):
            script = uow.scripts.get_by_path(absolute(ref))
        if script is None:
            raise NotFoundError(
                f"no script with id or path {ref!r} in the library",
                hint="See the registered scripts with 'scriptbatch scripts list'.",
            )
        return script

    @staticmethod
    def _check_tags(tags: Sequence[str]) -> tuple[str, ...]:
        cleaned = tuple(dict.fromkeys(t.strip() for t in tags))
        for tag in cleaned:
            if not (_TAG.match(tag) and tag.isprintable()):
                raise ConfigurationError(
                    f"tag {tag!r} is not allowed",
                    hint="A tag is 1 to 100 characters without spaces or commas, e.g. 'nightly'.",
                )
        return cleaned


def _from_file(info: ScriptFile, tags: tuple[str, ...]) -> Script:
    return Script(
        path=info.path,
        name=info.name,
        description=info.description,
        size=info.size,
        mtime=info.mtime,
        sha256=info.sha256,
        tags=tuple(sorted(tags)),
    )


def _refresh(script: Script, info: ScriptFile, tags: tuple[str, ...]) -> Script:
    return replace(
        script,
        name=info.name,
        description=info.description,
        size=info.size,
        mtime=info.mtime,
        sha256=info.sha256,
        tags=tuple(sorted(tags)),
        missing=False,
    )
