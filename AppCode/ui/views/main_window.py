"""The main window."""

from __future__ import annotations

from PyQt5.QtWidgets import QHeaderView, QMainWindow, QMessageBox, QTableWidget, QTableWidgetItem

from AppCode import __version__
from AppCode.core.domain.models import Script
from AppCode.ui.viewmodels.library_viewmodel import LibraryViewModel


class MainWindow(QMainWindow):
    def __init__(self, library: LibraryViewModel) -> None:
        super().__init__()
        self._library = library
        self.setWindowTitle(self.tr("ScriptBatch {version}").format(version=__version__))
        self.resize(1000, 640)
        self.table = QTableWidget(0, 3, self)
        self.table.setHorizontalHeaderLabels(
            [self.tr("Name"), self.tr("Description"), self.tr("Path")]
        )
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.Stretch)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.setCentralWidget(self.table)
        library.scripts_changed.connect(self._on_scripts_changed)
        library.error_occurred.connect(self._on_error)
        library.refresh()

    def _on_scripts_changed(self, scripts: list[Script]) -> None:
        self.table.setRowCount(len(scripts))
        for row, script in enumerate(scripts):
            for col, text in enumerate((script.name, script.description, script.path)):
                self.table.setItem(row, col, QTableWidgetItem(text))
        self.statusBar().showMessage(self.tr("%n script(s) in the library", "", len(scripts)))

    def _on_error(self, message: str) -> None:
        QMessageBox.warning(self, self.tr("ScriptBatch"), message)
