"""``scriptbatch metrics`` and ``scriptbatch analyze`` after real runs."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import CliRunner, write_script

METRIC_KEYS = {
    "at",
    "cpu_percent",
    "memory_used_bytes",
    "memory_percent",
    "disk_read_bytes_per_s",
    "disk_write_bytes_per_s",
    "script_processes",
}


def test_a_run_records_metrics_that_the_cli_prints(cli: CliRunner, tmp_path: Path) -> None:
    write_script(tmp_path / "sleepy.py", "import time\ntime.sleep(1.5)\n")
    env = {"SCRIPTBATCH_MONITORING__INTERVAL_S": "0.2"}
    assert cli("run", str(tmp_path / "sleepy.py"), "--quiet", env=env).returncode == 0
    result = cli("metrics", "--since", "1h", "--json")
    assert result.returncode == 0, result.stderr
    samples = json.loads(result.stdout)
    assert len(samples) >= 3
    assert all(set(s) >= METRIC_KEYS for s in samples)
    assert max(s["script_processes"] for s in samples) >= 1
    table = cli("metrics", "--since", "1h")
    assert "CPU %" in table.stdout
    assert cli("metrics", "--since", "sometime").returncode == 2


def test_monitoring_can_be_switched_off(cli: CliRunner, tmp_path: Path) -> None:
    write_script(tmp_path / "quick.py")
    env = {"SCRIPTBATCH_MONITORING__ENABLED": "false"}
    assert cli("run", str(tmp_path), "--quiet", env=env).returncode == 0
    assert json.loads(cli("metrics", "--since", "1h", "--json").stdout) == []


def test_analyze_reports_failing_and_regressing_scripts(cli: CliRunner, tmp_path: Path) -> None:
    write_script(tmp_path / "flaky.py", "raise RuntimeError('database unreachable')\n")
    slow = write_script(tmp_path / "grows.py", "import sys, time\ntime.sleep(float(sys.argv[1]))\n")
    for _ in range(3):
        cli("run", str(slow), "--arg", "0.1", "--quiet")
    cli("run", str(slow), "--arg", "0.8", "--quiet")
    run = json.loads(cli("run", str(tmp_path / "flaky.py"), "--json").stdout)
    result = cli("analyze", "--json", "--batch", run["batch_id"])
    assert result.returncode == 0, result.stderr
    findings = json.loads(result.stdout)["findings"]
    kinds = {(f["kind"], Path(f["script"]).name if f["script"] else None) for f in findings}
    assert ("failing", "flaky.py") in kinds
    assert ("regression", "grows.py") in kinds
    regression = next(f for f in findings if f["kind"] == "regression")
    assert regression["figures"]["ratio"] >= 2
    assert all({"kind", "script", "message", "figures"} <= set(f) for f in findings)
    text = cli("analyze")
    assert "[regression] grows.py" in text.stdout
    assert cli("analyze", "--batch", "nope").returncode == 2
