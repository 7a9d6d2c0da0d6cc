"""ViewModels without any widget: the real services underneath, signals checked with qtbot."""

from __future__ import annotations

from pathlib import Path

from AppCode.core.domain.models import ExecutionStatus
from AppCode.ui.viewmodels.batch_viewmodel import BatchViewModel
from AppCode.ui.viewmodels.library_viewmodel import LibraryViewModel
from tests.conftest import write_script

S = ExecutionStatus


def batch_vm(container) -> BatchViewModel:  # type: ignore[no-untyped-def]
    return BatchViewModel(
        container.batch_service(),
        container.history_service(),
        container.event_bus().subscribe,
        jobs=2,
        timeout_s=0,
        retries=0,
    )


def test_library_filters_in_memory_and_remembers_ticks(qtbot, container, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    write_script(tmp_path / "a" / "report.py", '"""Monthly sales report."""\n')
    write_script(tmp_path / "b" / "clean.py")
    vm = LibraryViewModel(container.script_service())
    with qtbot.waitSignal(vm.scripts_changed, timeout=10_000):
        vm.add_paths([str(tmp_path)])
    qtbot.waitUntil(lambda: len(vm.all_scripts) == 2, timeout=10_000)
    assert set(vm.checked_paths()) == {s.path for s in vm.all_scripts}  # new ones come ticked
    vm.set_checked([str(tmp_path / "b" / "clean.py")], False)
    with qtbot.waitSignal(vm.scripts_changed) as shown:
        vm.set_search("SALES")
    assert [s.name for s in shown.args[0]] == ["report"]
    vm.set_search("")
    assert vm.checked_paths() == [str(tmp_path / "a" / "report.py")]


def test_library_reports_refused_paths(qtbot, container, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    vm = LibraryViewModel(container.script_service())
    with qtbot.waitSignal(vm.error_occurred, timeout=10_000) as error:
        vm.add_paths([str(tmp_path / "missing.py")])
    assert "no such file or folder" in error.args[0]


def test_batch_vm_runs_scripts_and_shows_their_rows_and_output(
    qtbot, container, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    ok = write_script(tmp_path / "ok.py", "print('hello from ok')\n")
    bad = write_script(
        tmp_path / "bad.py", "import sys\nprint('oops', file=sys.stderr)\nsys.exit(3)\n"
    )
    vm = batch_vm(container)
    with qtbot.waitSignal(vm.batch_finished, timeout=30_000) as finished:
        vm.run([str(ok), str(bad)])
    assert finished.args[1] == "failed"
    assert [e.status for e in vm.rows] == [S.SUCCEEDED, S.FAILED]
    assert vm.rows[1].exit_code == 3
    assert vm.counts()["done"] == 2 and not vm.is_running
    assert vm.has_failures()
    with qtbot.waitSignal(vm.output_reset, timeout=10_000) as output:
        vm.select_execution(vm.rows[1].id)
    assert ("stderr", "oops\n") in output.args[1]
    vm.shutdown()


def test_batch_vm_follows_live_output_and_stops(qtbot, container, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    slow = write_script(
        tmp_path / "slow.py",
        "import time\nfor i in range(600):\n    print('tick', i, flush=True)\n"
        "    time.sleep(0.1)\n",
    )
    vm = batch_vm(container)
    vm.run([str(slow), str(slow)])
    qtbot.waitUntil(lambda: any(e.status is S.RUNNING for e in vm.rows), timeout=20_000)
    running = next(e for e in vm.rows if e.status is S.RUNNING)
    with qtbot.waitSignal(vm.output_appended, timeout=10_000) as appended:
        vm.select_execution(running.id)
    assert "tick" in "".join(text for _, text in appended.args[1])
    with qtbot.waitSignal(vm.batch_finished, timeout=30_000) as finished:
        vm.stop()
    assert finished.args[1] == "cancelled"
    assert {e.status for e in vm.rows} == {S.CANCELLED}
    vm.shutdown()


def test_rerun_failed_makes_a_batch_of_the_failures(qtbot, container, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ok = write_script(tmp_path / "ok.py")
    bad = write_script(tmp_path / "bad.py", "raise SystemExit(1)\n")
    vm = batch_vm(container)
    with qtbot.waitSignal(vm.batch_finished, timeout=30_000):
        vm.run([str(ok), str(bad)])
    first = vm.batch.id
    with qtbot.waitSignal(vm.batch_finished, timeout=30_000):
        vm.rerun_failed()
    assert vm.batch.id != first
    assert [Path(e.script_path).name for e in vm.rows] == ["bad.py"]
    vm.shutdown()


def test_bad_options_come_back_as_a_message(qtbot, container, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    vm = batch_vm(container)
    with qtbot.waitSignal(vm.error_occurred, timeout=10_000) as error:
        vm.run([])
    assert "Tick the scripts" in error.args[0]
    (tmp_path / "empty").mkdir()
    with qtbot.waitSignal(vm.error_occurred, timeout=10_000) as error:
        vm.run([str(tmp_path / "empty")])
    assert "no Python scripts" in error.args[0] and not vm.is_running
    vm.shutdown()


def test_batch_vm_runs_on_the_dask_cluster_of_the_settings(  # type: ignore[no-untyped-def]
    qtbot, container, tmp_path: Path
) -> None:
    from distributed import LocalCluster

    script = write_script(tmp_path / "hi.py", "print('hello from a worker')\n")
    vm = batch_vm(container)
    vm.backend = "dask"  # the batch panel's "Run on" choice
    container.settings().execution.dask_scheduler = "tcp://127.0.0.1:9"
    with qtbot.waitSignal(vm.error_occurred, timeout=30_000) as error:
        vm.run([str(script)])
    assert "cannot reach the Dask scheduler" in error.args[0] and not vm.is_running

    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        container.settings().execution.dask_scheduler = cluster.scheduler_address
        with qtbot.waitSignal(vm.batch_finished, timeout=60_000) as finished:
            vm.run([str(script)])
        assert finished.args[1] == "succeeded"
        assert vm.rows[0].worker and vm.rows[0].worker.startswith("tcp://")
        with qtbot.waitSignal(vm.output_reset, timeout=10_000) as output:
            vm.select_execution(vm.rows[0].id)
        assert ("stdout", "hello from a worker\n") in output.args[1]
        vm.shutdown()


def test_batch_vm_splits_arguments_like_a_shell_and_explains_bad_quoting(qtbot, container) -> None:  # type: ignore[no-untyped-def]
    vm = batch_vm(container)
    vm.set_args_text("--out 'my file.csv' -n\\ 3")
    assert vm.args == ["--out", "my file.csv", "-n 3"] and vm.args_error == ""
    with qtbot.waitSignal(vm.args_error_changed) as error:
        vm.set_args_text("--title 'unfinished")
    assert error.args[0] == "a quote is not closed"
    assert vm.args == ["--out", "my file.csv", "-n 3"]  # the last good ones stay
    vm.set_args_text("ends with \\")
    assert vm.args_error == "a backslash at the end has nothing to escape"
    with qtbot.waitSignal(vm.args_error_changed) as error:
        vm.set_args_text("")
    assert error.args[0] == "" and vm.args == []
    vm.shutdown()


def test_batch_vm_takes_only_the_applied_settings(qtbot, container) -> None:  # type: ignore[no-untyped-def]
    vm = batch_vm(container)
    vm.jobs, vm.retries = 2, 0
    execution = container.settings().execution.model_copy(
        update={"jobs": 5, "retries": 3, "timeout_s": 1.5, "fail_fast": True}
    )
    with qtbot.waitSignal(vm.options_changed):
        vm.use_settings(["execution.retries", "execution.fail_fast"], execution)
    assert (vm.jobs, vm.retries, vm.timeout_s, vm.fail_fast) == (2, 3, 0, True)
    vm.shutdown()
