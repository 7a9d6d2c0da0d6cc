"""The script library as the main window shows it."""

from __future__ import annotations

from PyQt5.QtCore import QObject, QRunnable, QThreadPool, pyqtSignal

from AppCode.core.domain.errors import ScriptBatchError
from AppCode.core.domain.models import Script
from AppCode.services.script_service import ScriptService


class _Load(QRunnable):
    def __init__(self, vm: LibraryViewModel) -> None:
        super().__init__()
        self._vm = vm

    def run(self) -> None:
        try:
            self._vm._loaded.emit(self._vm._service.list())
        except ScriptBatchError as exc:
            self._vm.error_occurred.emit(exc.message)


class LibraryViewModel(QObject):
    """Loads the library off the GUI thread and announces it with ``scripts_changed``."""

    scripts_changed = pyqtSignal(list)
    error_occurred = pyqtSignal(str)
    _loaded = pyqtSignal(list)

    def __init__(self, service: ScriptService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self._scripts: list[Script] = []
        self._loaded.connect(self._on_loaded)

    @property
    def scripts(self) -> list[Script]:
        return list(self._scripts)

    def refresh(self) -> None:
        """Reload the library in the background; ``scripts_changed`` follows."""
        QThreadPool.globalInstance().start(_Load(self))

    def _on_loaded(self, scripts: list[Script]) -> None:
        self._scripts = scripts
        self.scripts_changed.emit(scripts)
