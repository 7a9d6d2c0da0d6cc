from __future__ import annotations

from AppCode.container import install_examples
from AppCode.ui.viewmodels.library_viewmodel import LibraryViewModel
from AppCode.ui.views.main_window import MainWindow


def test_library_viewmodel_loads_scripts_off_the_gui_thread(qtbot, container) -> None:  # type: ignore[no-untyped-def]
    install_examples(container)
    vm = LibraryViewModel(container.script_service())
    with qtbot.waitSignal(vm.scripts_changed, timeout=10_000) as blocker:
        vm.refresh()
    assert len(blocker.args[0]) >= 8
    assert vm.scripts == blocker.args[0]


def test_main_window_lists_the_example_library(qtbot, container) -> None:  # type: ignore[no-untyped-def]
    install_examples(container)
    window = MainWindow(LibraryViewModel(container.script_service()))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.table.rowCount() >= 8, timeout=10_000)
    names = {window.table.item(r, 0).text() for r in range(window.table.rowCount())}
    assert "csv_summary" in names
