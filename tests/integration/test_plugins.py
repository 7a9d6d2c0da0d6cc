"""The plugin service with real plugins: built-ins, files dropped into <data-dir>/plugins/, and
broken ones (import error, hook exception, slow hook), which are isolated while batches run."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest

from AppCode.core.domain.errors import ConfigurationError, NotFoundError, PluginError
from AppCode.core.domain.ports import ExecutionFilter
from tests.conftest import REPO, write_script

RECORDER = """\
import json
from pathlib import Path
from AppCode.services.plugin_spec import PluginInfo, hookimpl

OUT = Path({out!r})

@hookimpl
def plugin_info():
    return PluginInfo(name="recorder", version="0.1", description="writes what it hears")

@hookimpl
def on_batch_started(batch, executions):
    OUT.joinpath("started").write_text(str(len(executions)))

@hookimpl
def on_execution_finished(execution):
    OUT.joinpath("finished-" + execution.id).write_text(execution.status.value)

@hookimpl
def on_batch_finished(report, settings):
    OUT.joinpath("report.json").write_text(json.dumps({{
        "batch": report.batch.id,
        "counts": report.counts(),
        "tails": {{k: list(v) for k, v in report.output_tails.items()}},
        "settings": settings,
    }}))
"""


def _run(container: Any, *scripts: Path) -> str:
    handle = container.batch_service().start({"paths": [str(s) for s in scripts], "jobs": 2})
    assert handle.wait(60)
    assert container.plugin_service().wait_idle(60)
    return str(handle.batch_id)


def _plugins(container: Any) -> dict[str, Any]:
    return {p.name: p for p in container.plugin_service().list()}


def test_built_ins_are_found_and_enabled_by_default(container: Any) -> None:
    plugins = _plugins(container)
    assert {"html_report", "excel_export", "email_notify"} <= plugins.keys()
    for name in ("html_report", "excel_export", "email_notify"):
        assert plugins[name].state == "enabled" and plugins[name].source == "built-in"
        assert plugins[name].info is not None and plugins[name].error is None
    assert plugins["email_notify"].settings_schema is not None
    assert container.plugin_service().formats() == {"html": "html_report", "xlsx": "excel_export"}


def test_a_dropped_in_plugin_hears_a_batch_from_start_to_report(
    container: Any, data_home: Path, tmp_path: Path
) -> None:
    out = tmp_path / "heard"
    out.mkdir()
    write_script(data_home / "plugins" / "recorder.py", RECORDER.format(out=str(out)))
    container.plugin_service().enable("recorder")  # third-party plugins start disabled
    ok = write_script(tmp_path / "ok.py", "print('fine')\n")
    bad = write_script(
        tmp_path / "bad.py", "print('line 1')\nprint('last words')\nraise SystemExit(3)\n"
    )

    batch_id = _run(container, ok, bad)

    assert (out / "started").read_text() == "2"
    assert sorted(p.read_text() for p in out.glob("finished-*")) == ["failed", "succeeded"]
    report = json.loads((out / "report.json").read_text())
    assert report["batch"] == batch_id
    assert report["counts"]["succeeded"] == 1 and report["counts"]["failed"] == 1
    [tail] = report["tails"].values()
    assert tail[:2] == ["line 1", "last words"]
    assert report["settings"] is None  # no settings schema


def test_a_listener_enabled_between_batches_hears_every_execution_of_the_next(
    container: Any, data_home: Path, tmp_path: Path
) -> None:
    """Executions' ends are not even queued while no active plugin listens; a listener
    enabled in between, here or in another process, hears the whole next batch."""
    from AppCode.container import build

    out = tmp_path / "heard"
    out.mkdir()
    write_script(data_home / "plugins" / "recorder.py", RECORDER.format(out=str(out)))
    scripts = [write_script(tmp_path / f"s{i}.py", "print('fine')\n") for i in range(3)]
    _run(container, *scripts)  # the recorder is off: nobody listens
    assert not list(out.glob("finished-*"))

    other = build(data_home)  # the CLI, say
    try:
        other.plugin_service().enable("recorder")
    finally:
        other.shutdown_resources()
    _run(container, *scripts)
    assert len(list(out.glob("finished-*"))) == 3

    container.plugin_service().disable("recorder")
    _run(container, *scripts)
    assert len(list(out.glob("finished-*"))) == 3
    container.plugin_service().enable("recorder")
    _run(container, *scripts)
    assert len(list(out.glob("finished-*"))) == 6


NOTIFIED = """\
from pathlib import Path
from AppCode.services.plugin_spec import PluginInfo, hookimpl

OUT = Path({out!r})


@hookimpl
def plugin_info():
    return PluginInfo(name="pager", version="0.1", description="pages on failures only")


@hookimpl
def wants_notification(failed):
    OUT.joinpath("asked").write_text(str(failed))
    return failed


@hookimpl
def notify(event):
    OUT.joinpath("paged").write_text(event.subject)
"""


def test_notify_is_called_only_when_the_plugin_wants_it_and_no_report_is_built_otherwise(
    container: Any, data_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "heard"
    out.mkdir()
    write_script(data_home / "plugins" / "pager.py", NOTIFIED.format(out=str(out)))
    service = container.plugin_service()
    service.enable("pager")
    built: list[str] = []
    real_build = service._build_report
    monkeypatch.setattr(
        service, "_build_report", lambda batch_id: built.append(batch_id) or real_build(batch_id)
    )

    _run(container, write_script(tmp_path / "ok.py", "print('fine')\n"))
    assert (out / "asked").read_text() == "False"
    assert not (out / "paged").exists()
    assert built == []  # the built-in email plugin is off in its settings: nobody wanted it

    failed_batch = _run(container, write_script(tmp_path / "bad.py", "raise SystemExit(2)\n"))
    assert (out / "asked").read_text() == "True"
    assert "failed" in (out / "paged").read_text()
    assert built == [failed_batch]


def test_state_is_stored_and_seen_by_another_process(container: Any, data_home: Path) -> None:
    from AppCode.container import build

    container.plugin_service().disable("excel_export")
    other = build(data_home)
    try:
        assert _plugins(other)["excel_export"].state == "disabled"
        assert "xlsx" not in other.plugin_service().formats()
        other.plugin_service().enable("excel_export")
    finally:
        other.shutdown_resources()
    assert _plugins(container)["excel_export"].state == "enabled"  # re-read from the store


def test_a_plugin_that_fails_to_import_is_errored_and_the_rest_work(
    container: Any, data_home: Path, tmp_path: Path
) -> None:
    plugin = write_script(data_home / "plugins" / "broken.py", "import no_such_module_here\n")
    plugins = _plugins(container)
    assert plugins["broken"].state == "errored"
    assert "no_such_module_here" in (plugins["broken"].error or "")
    assert plugins["html_report"].state == "enabled"
    with pytest.raises(PluginError, match="no_such_module_here"):
        container.plugin_service().enable("broken")

    # Fixed on disk: enabling imports it again.
    plugin.write_text(
        "from AppCode.services.plugin_spec import PluginInfo, hookimpl\n"
        "@hookimpl\ndef plugin_info():\n    return PluginInfo(name='broken', version='2')\n"
    )
    fixed = container.plugin_service().enable("broken")
    assert (fixed.state, fixed.info.version if fixed.info else None) == ("enabled", "2")
    batch_id = _run(container, write_script(tmp_path / "ok.py"))
    assert container.history_service().find_batch(batch_id).status.value == "succeeded"


def test_a_plugin_fixed_and_enabled_in_another_process_is_loaded_here_too(
    container: Any, data_home: Path
) -> None:
    from AppCode.container import build

    plugin = write_script(data_home / "plugins" / "late.py", "import no_such_module_here\n")
    assert _plugins(container)["late"].state == "errored"
    plugin.write_text(
        "from AppCode.services.plugin_spec import PluginInfo, hookimpl\n"
        "@hookimpl\ndef plugin_info():\n    return PluginInfo(name='late', version='2')\n"
    )
    other = build(data_home)
    try:
        other.plugin_service().enable("late")
    finally:
        other.shutdown_resources()

    late = _plugins(container)["late"]
    assert (late.state, late.info.version if late.info else None) == ("enabled", "2")


def test_a_hook_that_raises_is_errored_logged_and_the_batch_unharmed(
    container: Any, data_home: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_script(
        data_home / "plugins" / "raiser.py",
        "from AppCode.services.plugin_spec import PluginInfo, hookimpl\n"
        "@hookimpl\ndef plugin_info():\n    return PluginInfo(name='raiser', version='1')\n"
        "@hookimpl\ndef on_execution_finished(execution):\n    raise RuntimeError('boom')\n",
    )
    service = container.plugin_service()
    service.enable("raiser")
    problems: list[Any] = []
    service.subscribe_problems(problems.append)

    with caplog.at_level(logging.ERROR):
        batch_id = _run(container, write_script(tmp_path / "a.py"), write_script(tmp_path / "b.py"))

    assert container.history_service().find_batch(batch_id).status.value == "succeeded"
    raiser = _plugins(container)["raiser"]
    assert raiser.state == "errored" and "RuntimeError: boom" in (raiser.error or "")
    assert [p.plugin for p in problems] == ["raiser"]  # errored after the first: skipped since
    assert "Traceback" in caplog.text and "boom" in caplog.text
    assert service.enable("raiser").state == "enabled"  # the user gives it another chance


def test_a_slow_hook_overruns_its_budget_and_is_errored(
    container: Any, data_home: Path, tmp_path: Path
) -> None:
    write_script(
        data_home / "plugins" / "slow.py",
        "import threading\n"
        "from AppCode.services.plugin_spec import PluginInfo, hookimpl\n"
        "@hookimpl\ndef plugin_info():\n    return PluginInfo(name='slow', version='1')\n"
        "@hookimpl\ndef on_batch_started():\n    threading.Event().wait(10)\n",
    )
    container.settings().plugins.hook_timeout_s = 0.3
    container.plugin_service().enable("slow")

    batch_id = _run(container, write_script(tmp_path / "a.py"))

    assert container.history_service().find_batch(batch_id).status.value == "succeeded"
    slow = _plugins(container)["slow"]
    assert slow.state == "errored" and "took longer than 0.3 s" in (slow.error or "")


def test_a_plugin_that_exits_or_is_interrupted_at_import_is_errored_and_the_rest_work(
    container: Any, data_home: Path
) -> None:
    write_script(data_home / "plugins" / "exiter.py", "import sys\nsys.exit(3)\n")
    write_script(data_home / "plugins" / "interrupter.py", "raise KeyboardInterrupt\n")
    problems: list[Any] = []
    container.plugin_service().subscribe_problems(problems.append)

    plugins = _plugins(container)

    assert plugins["exiter"].state == "errored"
    assert plugins["exiter"].error == "could not be loaded: importing it called sys.exit(3)"
    assert plugins["interrupter"].state == "errored"
    assert "importing it raised KeyboardInterrupt" in (plugins["interrupter"].error or "")
    assert plugins["html_report"].state == "enabled"
    assert sorted(p.plugin for p in problems if p.errored) == ["exiter", "interrupter"]


def _hanging_plugin(data_home: Path, gate: Path) -> Path:
    """A dropped-in plugin whose import blocks until ``gate`` exists, counting its imports."""
    return write_script(
        data_home / "plugins" / "hanging.py",
        "import time\n"
        "from pathlib import Path\n"
        f"gate = Path({str(gate)!r})\n"
        "imports = gate.with_name('imports')\n"
        "imports.write_text(str(int(imports.read_text()) + 1 if imports.exists() else 1))\n"
        "while not gate.exists():\n"
        "    time.sleep(0.02)\n",
    )


def test_a_plugin_whose_import_hangs_is_errored_in_time_and_not_waited_for_again(
    container: Any, data_home: Path, tmp_path: Path
) -> None:
    from AppCode.container import build

    gate = tmp_path / "gate"
    _hanging_plugin(data_home, gate)
    container.settings().plugins.hook_timeout_s = 0.5
    try:
        hanging = _plugins(container)["hanging"]
        assert hanging.state == "errored"
        assert hanging.error == (
            "could not be loaded: importing it took longer than 0.5 s ([plugins].hook_timeout_s)"
        )
        assert _plugins(container)["html_report"].state == "enabled"

        other = build(data_home)  # the next start: errored as stored, not imported again
        try:
            assert _plugins(other)["hanging"].error == hanging.error
        finally:
            other.shutdown_resources()
        assert (tmp_path / "imports").read_text() == "1"

        with pytest.raises(PluginError, match=r"importing it took longer than 0\.5 s"):
            container.plugin_service().enable("hanging")  # enabling tries it again
        assert (tmp_path / "imports").read_text() == "2"
    finally:
        gate.touch()  # let the abandoned imports end


def test_shutdown_does_not_wait_for_a_plugin_still_loading(
    container: Any, data_home: Path, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    _hanging_plugin(data_home, gate)
    container.settings().plugins.hook_timeout_s = 10
    service = container.plugin_service()
    try:
        # The batch's start has the dispatcher load the plugins; it is stuck in the import.
        handle = container.batch_service().start({"paths": [str(write_script(tmp_path / "a.py"))]})
        assert handle.wait(60)
        deadline = time.monotonic() + 10
        while not (tmp_path / "imports").exists():
            assert time.monotonic() < deadline, "the plugin was never imported"
            time.sleep(0.01)

        started = time.monotonic()
        service.shutdown(timeout=0.3)
        assert time.monotonic() - started < 5  # not the 10 s the import may take
    finally:
        gate.touch()


def test_a_hook_that_calls_sys_exit_is_errored_and_the_other_plugins_still_hear_the_batch(
    container: Any, data_home: Path, tmp_path: Path
) -> None:
    write_script(
        data_home / "plugins" / "quitter.py",
        "import sys\n"
        "from AppCode.services.plugin_spec import PluginInfo, hookimpl\n"
        "@hookimpl\ndef plugin_info():\n    return PluginInfo(name='quitter', version='1')\n"
        "@hookimpl\ndef on_batch_started():\n    sys.exit(5)\n",
    )
    out = tmp_path / "heard"
    out.mkdir()
    write_script(data_home / "plugins" / "recorder.py", RECORDER.format(out=str(out)))
    service = container.plugin_service()
    service.enable("quitter")
    service.enable("recorder")

    batch_id = _run(container, write_script(tmp_path / "a.py"))

    quitter = _plugins(container)["quitter"]
    assert quitter.state == "errored"
    assert quitter.error == "on_batch_started called sys.exit(5)"
    assert json.loads((out / "report.json").read_text())["batch"] == batch_id


def test_plugins_that_do_not_follow_the_spec_are_refused(container: Any, data_home: Path) -> None:
    header = "from AppCode.services.plugin_spec import PluginInfo, hookimpl\n"
    write_script(
        data_home / "plugins" / "typo.py",
        header + "@hookimpl\ndef plugin_info():\n    return PluginInfo(name='typo', version='1')\n"
        "@hookimpl\ndef on_batch_finishd(report):\n    pass\n",
    )
    write_script(data_home / "plugins" / "noinfo.py", header + "X = 1\n")
    write_script(
        data_home / "plugins" / "future.py",
        header + "@hookimpl\ndef plugin_info():\n"
        "    return PluginInfo(name='future', version='1', min_app_version='99.0')\n",
    )
    plugins = _plugins(container)
    assert "unknown hook on_batch_finishd" in (plugins["typo"].error or "")
    assert "no plugin_info() hook" in (plugins["noinfo"].error or "")
    assert "needs ScriptBatch 99.0 or newer" in (plugins["future"].error or "")


def test_a_plugin_that_takes_a_built_ins_name_is_ignored_and_said_so(
    container: Any, data_home: Path
) -> None:
    impostor = write_script(
        data_home / "plugins" / "impostor.py",
        "from AppCode.services.plugin_spec import PluginInfo, hookimpl\n"
        "@hookimpl\ndef plugin_info():\n    return PluginInfo(name='html_report', version='9')\n",
    )
    kept = _plugins(container)["html_report"]
    assert kept.source == "built-in" and kept.state == "enabled"
    assert str(impostor) in (kept.last_problem or "") and "was ignored" in (kept.last_problem or "")


def test_plugin_settings_are_validated_and_saved(container: Any) -> None:
    service = container.plugin_service()
    with pytest.raises(ConfigurationError, match="smtp_port"):
        service.configure("email_notify", {"smtp_port": 70000})
    assert "email_notify" not in (container.settings().plugins.model_extra or {})
    saved = service.configure("email_notify", {"smtp_host": "mail.example.org"})
    assert saved.settings["smtp_host"] == "mail.example.org"
    text = container.config_file().read_text(encoding="utf-8")
    assert "[plugins.email_notify]" in text and "mail.example.org" in text
    with pytest.raises(NotFoundError):
        service.configure("nope", {})
    # A save that fails (a folder where the file is written first) applies nothing.
    config = container.config_file()
    tmp = config.with_name(config.name + ".tmp")
    tmp.mkdir()
    with pytest.raises(ConfigurationError, match="could not be saved: Is a directory"):
        service.configure("email_notify", {"smtp_host": "other.example.org"})
    tmp.rmdir()
    live = container.settings().plugins.model_extra["email_notify"]
    assert live["smtp_host"] == "mail.example.org"
    assert "other.example.org" not in config.read_text(encoding="utf-8")


def test_invalid_settings_in_the_config_file_make_the_plugin_errored(
    data_home: Path,
) -> None:
    from AppCode.container import build

    data_home.mkdir(parents=True, exist_ok=True)
    (data_home / "config.toml").write_text('[plugins.email_notify]\nsmtp_port = "many"\n')
    built = build(data_home)
    try:
        email = _plugins(built)["email_notify"]
        assert email.state == "errored" and "[plugins.email_notify]" in (email.error or "")
        assert "smtp_port" in (email.error or "")
        assert _plugins(built)["html_report"].state == "enabled"
    finally:
        built.shutdown_resources()
    # The settings fixed (or a one-off --config gone): the plugin is well again, nobody had
    # to enable it; an error of its settings is not stored as other errors are.
    (data_home / "config.toml").write_text("[plugins.email_notify]\nsmtp_port = 2525\n")
    built = build(data_home)
    try:
        assert _plugins(built)["email_notify"].state == "enabled"
    finally:
        built.shutdown_resources()


def test_reports_are_written_by_the_plugin_of_the_format(container: Any, tmp_path: Path) -> None:
    batch_id = _run(container, write_script(tmp_path / "a.py", "print('<b>&</b>')\n"))
    reports = container.report_service()
    html = reports.write_report(batch_id, "HTML", tmp_path / "r.html")
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    container.plugin_service().disable("html_report")
    with pytest.raises(PluginError, match="no enabled plugin makes 'html'"):
        reports.write_report(batch_id, "html", tmp_path / "again.html")
    assert not (tmp_path / "again.html").exists()
    with pytest.raises(ConfigurationError, match="does not exist"):
        reports.write_report(batch_id, "xlsx", tmp_path / "missing" / "r.xlsx")
    path, count = reports.export(ExecutionFilter(), "xlsx", tmp_path / "history.xlsx")
    assert count == 1 and path.stat().st_size > 0


def test_the_example_plugin_of_the_docs_works_as_documented(
    container: Any, data_home: Path, tmp_path: Path
) -> None:
    docs = (REPO / "docs" / "plugins.md").read_text(encoding="utf-8")
    example = docs.split("### A complete minimal plugin", 1)[1].split("```python\n", 1)[1]
    write_script(data_home / "plugins" / "slow_scripts.py", example.split("```", 1)[0])
    service = container.plugin_service()
    service.enable("slow_scripts")
    listing = tmp_path / "slow.txt"
    service.configure("slow_scripts", {"threshold_s": 0.000001, "output": str(listing)})

    batch_id = _run(container, write_script(tmp_path / "job.py"))

    assert listing.read_text(encoding="utf-8").startswith(batch_id)
    report = container.report_service().write_report(batch_id, "txt", tmp_path / "r.txt")
    assert "succeeded" in report.read_text(encoding="utf-8")


def test_plugins_run_for_batches_of_any_user_in_multi_user_mode(
    data_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dispatcher thread acts for the app, not for whoever started the batch (an API
    request's user is gone by the time the batch ends)."""
    from AppCode.container import build
    from AppCode.core.domain.models import User

    monkeypatch.setenv("SCRIPTBATCH_AUTH__MODE", "multi")
    heard = tmp_path / "notified.txt"
    write_script(
        data_home / "plugins" / "teller.py",
        "from pathlib import Path\n"
        "from AppCode.services.plugin_spec import PluginInfo, hookimpl\n"
        "@hookimpl\ndef plugin_info():\n    return PluginInfo(name='teller', version='1')\n"
        "@hookimpl\ndef notify(event):\n"
        f"    Path({str(heard)!r}).write_text(event.subject + '|' + "
        "','.join(a.filename for a in event.attachments))\n",
    )
    built = build(data_home)
    try:
        access = built.access()
        with access.acting_as(User(name="mia", role="manager")):
            built.plugin_service().enable("teller")
        with access.acting_as(User(name="olga", role="operator")):
            handle = built.batch_service().start({"paths": [str(write_script(tmp_path / "a.py"))]})
        assert handle.wait(60) and built.plugin_service().wait_idle(60)
        subject, attachments = heard.read_text().split("|")
        assert "succeeded (1 scripts)" in subject
        assert attachments.startswith("report-") and attachments.endswith(".html")
        with access.acting_as(User(name="vera", role="viewer")):
            assert not [p.name for p in built.plugin_service().list() if p.error]
    finally:
        built.shutdown_resources()
