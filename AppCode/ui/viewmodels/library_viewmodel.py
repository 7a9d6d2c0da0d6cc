"""The script library as the main window shows it: filtering, ticking, adding, removing."""

from __future__ import annotations

from collections.abc import Iterable

from PyQt5.QtCore import QObject, pyqtSignal

from AppCode.core.domain.models import Script
from AppCode.services.script_service import AddReport, RescanReport, ScriptService
from AppCode.ui.viewmodels.background import Background, user_message


class LibraryViewModel(QObject):
    """Holds the whole library in memory (loaded off the GUI thread) and filters it there, so
    typing in the search box is instant. Ticked scripts are remembered by path across filters."""

    scripts_changed = pyqtSignal(list)  # the visible scripts, list[Script]
    tags_changed = pyqtSignal(list)  # every tag in use, list[str]
    checked_changed = pyqtSignal(int)  # how many scripts are ticked
    busy_changed = pyqtSignal(bool)
    message = pyqtSignal(str)  # a short result for the status bar
    error_occurred = pyqtSignal(str)

    def __init__(self, service: ScriptService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self._background = Background(self)
        self._all: list[Script] = []
        self._search = ""
        self._tag = ""
        self._checked: set[str] = set()

    # -- state -------------------------------------------------------------------------------

    @property
    def scripts(self) -> list[Script]:
        """The scripts that pass the current search and tag filter."""
        needle = self._search.casefold()
        return [
            s
            for s in self._all
            if (not self._tag or self._tag in s.tags)
            and (
                not needle
                or needle in s.name.casefold()
                or needle in s.path.casefold()
                or needle in s.description.casefold()
            )
        ]

    @property
    def all_scripts(self) -> list[Script]:
        return list(self._all)

    def is_checked(self, path: str) -> bool:
        return path in self._checked

    def checked_paths(self) -> list[str]:
        """Ticked scripts in library order (missing files left out)."""
        return [s.path for s in self._all if s.path in self._checked and not s.missing]

    # -- intents -----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the library in the background; ``scripts_changed`` follows."""
        self._run(self._service.list, self._on_loaded)

    def set_search(self, text: str) -> None:
        self._search = text.strip()
        self.scripts_changed.emit(self.scripts)

    def set_tag(self, tag: str) -> None:
        self._tag = tag
        self.scripts_changed.emit(self.scripts)

    def set_checked(self, paths: Iterable[str], checked: bool) -> None:
        if checked:
            self._checked.update(paths)
        else:
            self._checked.difference_update(paths)
        self.checked_changed.emit(len(self.checked_paths()))

    def add_paths(self, paths: list[str]) -> None:
        """Register files and folders (recursively); refused ones are reported."""
        if paths:
            self._run(lambda: self._service.add(paths), self._on_added)

    def remove(self, paths: list[str]) -> None:
        """Take scripts out of the library; their history stays."""

        def remove_all() -> int:
            for path in paths:
                self._service.remove(path)
            return len(paths)

        if paths:
            self._checked.difference_update(paths)
            self._run(remove_all, lambda n: self._after_change(f"{n} removed"))

    def set_policy(self, paths: list[str], policy: str | None) -> None:
        """Pin a sandbox policy to scripts (None: they follow the batch's policy)."""

        def pin() -> int:
            for path in paths:
                self._service.set_policy(path, policy)
            return len(paths)

        if paths:
            label = policy or self.tr("the batch's policy")
            self._run(
                pin,
                lambda n: self._after_change(
                    self.tr("{count} script(s) now run under {policy}").format(
                        count=n, policy=label
                    )
                ),
            )

    def rescan(self) -> None:
        self._run(self._service.rescan, self._on_rescanned)

    # -- results -----------------------------------------------------------------------------

    def _run(self, fn, on_done) -> None:  # type: ignore[no-untyped-def]
        self.busy_changed.emit(True)

        def done(result: object) -> None:
            self.busy_changed.emit(self._background.pending() > 0)
            on_done(result)

        def failed(error: BaseException) -> None:
            self.busy_changed.emit(self._background.pending() > 0)
            self.error_occurred.emit(user_message(error))

        self._background.submit(fn, done, failed)

    def _on_loaded(self, scripts: list[Script]) -> None:
        self._all = scripts
        known = {s.path for s in scripts}
        self._checked &= known
        self.tags_changed.emit(sorted({t for s in scripts for t in s.tags}))
        self.scripts_changed.emit(self.scripts)
        self.checked_changed.emit(len(self.checked_paths()))

    def _on_added(self, report: AddReport) -> None:
        text = self.tr("{added} added, {updated} updated, {skipped} skipped").format(
            added=len(report.added), updated=len(report.updated), skipped=len(report.rejected)
        )
        self._checked.update(s.path for s in report.added)
        if report.rejected:
            details = "\n".join(f"{r.path}: {r.reason}" for r in report.rejected[:20])
            self.error_occurred.emit(self.tr("Some paths were not added:") + "\n\n" + details)
        self._after_change(text)

    def _on_rescanned(self, report: RescanReport) -> None:
        self._after_change(
            self.tr("{updated} updated, {missing} missing, {restored} back").format(
                updated=len(report.updated),
                missing=len(report.missing),
                restored=len(report.restored),
            )
        )

    def _after_change(self, text: str) -> None:
        self.message.emit(text)
        self.refresh()
