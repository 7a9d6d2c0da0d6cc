"""``scriptbatch plugins``, ``report`` and ``run --report`` as a user types them; a plugin
installed from a package built here; the batch email through a real SMTP server."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
from aiosmtpd.controller import Controller

from tests.conftest import CliRunner, write_script
from tests.integration.test_email_notify import HOST, Collector, free_port

HELLO_PLUGIN = """\
from pathlib import Path
from AppCode.services.plugin_spec import PluginInfo, hookimpl

@hookimpl
def plugin_info():
    return PluginInfo(name="hello", version="0.3", description="greets finished batches")

@hookimpl
def on_batch_finished(report):
    Path({marker!r}).write_text("hello " + report.batch.status.value)
"""


def _wheel(folder: Path, marker: Path) -> Path:
    """A minimal wheel of distribution ``sb-hello`` whose entry point is a ScriptBatch plugin."""
    wheel = folder / "sb_hello-0.3-py3-none-any.whl"
    info = "sb_hello-0.3.dist-info"
    files = {
        "sb_hello_plugin.py": HELLO_PLUGIN.format(marker=str(marker)),
        f"{info}/METADATA": "Metadata-Version: 2.1\nName: sb-hello\nVersion: 0.3\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
        f"{info}/entry_points.txt": "[scriptbatch.plugins]\nhello = sb_hello_plugin\n",
    }
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
        archive.writestr(f"{info}/RECORD", "".join(f"{n},,\n" for n in [*files, f"{info}/RECORD"]))
    return wheel


def test_an_installed_entry_point_plugin_is_discovered_and_runs(
    cli: CliRunner, tmp_path: Path
) -> None:
    marker = tmp_path / "greeted"
    site = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index"]
    subprocess.run(
        [*pip, "--target", str(site), str(_wheel(tmp_path, marker))],
        check=True,
        timeout=120,
    )
    env = {"PYTHONPATH": str(site)}

    listed = json.loads(cli("plugins", "list", "--json", env=env).stdout)
    hello = next(p for p in listed if p["name"] == "hello")
    assert hello["source"] == "entry point of sb-hello"
    assert (hello["state"], hello["version"]) == ("disabled", "0.3")  # third party: opt in

    assert cli("plugins", "enable", "hello", env=env).returncode == 0
    run = cli("run", str(write_script(tmp_path / "a.py")), env=env)
    assert run.returncode == 0, run.stderr
    assert marker.read_text() == "hello succeeded"


def test_run_writes_reports_and_report_rewrites_them(cli: CliRunner, tmp_path: Path) -> None:
    ok = write_script(tmp_path / "ok.py", "print('fine')\n")
    bad = write_script(
        tmp_path / "bad.py", "print('<script>alert(1)</script>')\nraise SystemExit(2)\n"
    )
    html, xlsx = tmp_path / "out" / "r.html", tmp_path / "out" / "r.xlsx"
    html.parent.mkdir()

    run = cli(
        "run", str(ok), str(bad), "--json", "--report", f"html:{html}", "--report", f"XLSX:{xlsx}"
    )

    assert run.returncode == 1  # a script failed; the reports are still written
    batch = json.loads(run.stdout)  # stdout stays the JSON object alone
    assert f"html report written: {html}" in run.stderr
    text = html.read_text(encoding="utf-8")
    assert str(bad) in text and "&lt;script&gt;alert(1)" in text and "<script>alert" not in text
    rows = openpyxl.load_workbook(io.BytesIO(xlsx.read_bytes()))["Executions"].max_row
    assert rows == 3

    again = tmp_path / "again.html"
    made = cli("report", batch["batch_id"][:10], "--format", "html", "--output", str(again))
    assert made.returncode == 0, made.stderr
    assert again.read_text(encoding="utf-8").count(str(bad)) >= 1


def test_report_mistakes_are_usage_errors_before_anything_runs(
    cli: CliRunner, tmp_path: Path
) -> None:
    script = write_script(tmp_path / "a.py")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # a pipe (or a device) is never replaced by a report file
    for spec, words in (
        ("pdf:x.pdf", "no enabled plugin makes 'pdf'"),
        ("html", "is not FORMAT:PATH"),
        (f"html:{tmp_path / 'missing' / 'r.html'}", "does not exist"),
        (f"html:{script / 'r.html'}", "is a file, not a folder"),
        (f"html:{fifo}", "is not a regular file"),
    ):
        run = cli("run", str(script), "--report", spec)
        assert run.returncode == 2, run.stderr
        assert words in run.stderr and "Traceback" not in run.stderr
    history = json.loads(cli("history", "--json").stdout)
    assert history == []  # nothing ran
    assert stat.S_ISFIFO(fifo.stat().st_mode)

    assert cli("plugins", "disable", "html_report").returncode == 0
    refused = cli("report", "anything", "--format", "html", "--output", str(tmp_path / "r.html"))
    assert refused.returncode == 2 and "xlsx" in refused.stderr  # says what is available
    unknown = cli("plugins", "enable", "no_such_plugin")
    assert unknown.returncode == 2 and "html_report" in unknown.stderr


def _email_config(path: Path, port: int, **extra: object) -> Path:
    lines = [
        "[plugins.email_notify]",
        "enabled = true",
        f'smtp_host = "{HOST}"',
        f"smtp_port = {port}",
        'sender = "scriptbatch@example.org"',
        'recipients = ["team@example.org"]',
        *(f"{k} = {json.dumps(v)}" for k, v in extra.items()),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_failed_batch_is_mailed_with_its_report(cli: CliRunner, tmp_path: Path) -> None:
    collector, port = Collector(), free_port()
    controller = Controller(collector, hostname=HOST, port=port)
    controller.start()
    try:
        config = _email_config(tmp_path / "config.toml", port)
        bad = write_script(tmp_path / "broken_job.py", "raise ValueError('bad input')\n")
        run = cli("--config", str(config), "run", str(bad), str(write_script(tmp_path / "ok.py")))
    finally:
        controller.stop()

    assert run.returncode == 1 and "warning" not in run.stderr, run.stderr
    [received] = collector.received
    message = received.message()
    assert "failed (1 of 2 scripts)" in message["subject"]
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and str(bad) in body.get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename().endswith(".html")
    assert "broken_job.py" in attachment.get_content()


def test_an_unreachable_mail_server_is_a_warning_not_a_failure(
    cli: CliRunner, tmp_path: Path
) -> None:
    config = _email_config(tmp_path / "config.toml", free_port(), when="always", timeout_s=5)
    run = cli("--config", str(config), "run", str(write_script(tmp_path / "ok.py")))
    assert run.returncode == 0, run.stderr
    assert "warning: plugin email_notify: could not send the batch email" in run.stderr
    listed = json.loads(cli("--config", str(config), "plugins", "list", "--json").stdout)
    email_notify = next(p for p in listed if p["name"] == "email_notify")
    assert email_notify["state"] == "enabled"  # a delivery problem does not switch it off


def test_history_exports_every_matching_execution(cli: CliRunner, tmp_path: Path) -> None:
    bad = write_script(tmp_path / "bad.py", "raise SystemExit(1)\n")
    cli("run", str(write_script(tmp_path / "ok.py")), str(bad))
    target = tmp_path / "failed.xlsx"

    done = cli("history", "--status", "failed", "--limit", "1", "--export", f"xlsx:{target}")

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"1 executions written to {target}"
    workbook = openpyxl.load_workbook(target)
    assert workbook["Executions"].max_row == 2
    assert str(bad) in [c.value for c in workbook["Executions"][2]]
    refused = cli("history", "--export", f"html:{tmp_path / 'h.html'}")
    assert refused.returncode == 2 and "no enabled plugin makes 'html' exports" in refused.stderr


FAST_PLUGINS = {"SCRIPTBATCH_PLUGINS__HOOK_TIMEOUT_S": "1"}  # the budget of every plugin call


def test_plugins_list_goes_on_past_a_plugin_that_exits_or_is_interrupted_at_import(
    cli: CliRunner, data_home: Path
) -> None:
    write_script(data_home / "plugins" / "exiter.py", "import sys; sys.exit(3)\n")
    write_script(data_home / "plugins" / "interrupter.py", "raise KeyboardInterrupt\n")

    listed = cli("plugins", "list")

    assert listed.returncode == 0, listed.stderr
    exiter = next(line for line in listed.stdout.splitlines() if line.startswith("exiter "))
    assert "errored" in exiter and "importing it called sys.exit(3)" in exiter
    assert "importing it raised KeyboardInterrupt" in listed.stdout
    assert "html_report" in listed.stdout


def test_a_plugin_that_hangs_at_import_is_switched_off_in_time_and_the_command_goes_on(
    cli: CliRunner, data_home: Path, tmp_path: Path
) -> None:
    write_script(data_home / "plugins" / "slow.py", "import time; time.sleep(1000)\n")
    reason = "could not be loaded: importing it took longer than 1 s ([plugins].hook_timeout_s)"

    run = cli(
        "run", str(write_script(tmp_path / "a.py")), "--jobs", "2", env=FAST_PLUGINS, timeout=30
    )

    assert run.returncode == 0, run.stderr
    assert f"warning: plugin slow: {reason}" in run.stderr
    assert "succeeded" in run.stdout

    listed = cli("plugins", "list", env=FAST_PLUGINS, timeout=30)
    assert listed.returncode == 0, listed.stderr
    assert f"slow: {reason}" in listed.stdout  # in full below the table, which cuts it short
    refused = cli("plugins", "enable", "slow", env=FAST_PLUGINS, timeout=30)
    assert refused.returncode == 1 and reason in refused.stderr


def test_hooks_that_block_or_exit_at_the_end_of_a_batch_do_not_hold_up_run(
    cli: CliRunner, data_home: Path, tmp_path: Path
) -> None:
    write_script(
        data_home / "plugins" / "stuck.py",
        "import sys, time\n"
        "from AppCode.services.plugin_spec import PluginInfo, hookimpl\n"
        "@hookimpl\ndef plugin_info():\n    return PluginInfo(name='stuck', version='1')\n"
        "@hookimpl\ndef on_batch_finished():\n    time.sleep(1000)\n",
    )
    write_script(
        data_home / "plugins" / "quitter.py",
        "import sys\n"
        "from AppCode.services.plugin_spec import PluginInfo, hookimpl\n"
        "@hookimpl\ndef plugin_info():\n    return PluginInfo(name='quitter', version='1')\n"
        "@hookimpl\ndef notify():\n    sys.exit(4)\n",
    )
    for name in ("stuck", "quitter"):
        assert cli("plugins", "enable", name, env=FAST_PLUGINS).returncode == 0

    run = cli("run", str(write_script(tmp_path / "a.py")), env=FAST_PLUGINS, timeout=30)

    assert run.returncode == 0, run.stderr
    assert "warning: plugin stuck: on_batch_finished took longer than 1 s" in run.stderr
    assert "warning: plugin quitter: notify called sys.exit(4)" in run.stderr
    listed = json.loads(cli("plugins", "list", "--json").stdout)
    states = {p["name"]: p["state"] for p in listed}
    assert (states["stuck"], states["quitter"], states["html_report"]) == (
        "errored",
        "errored",
        "enabled",
    )
