"""``scriptbatch metrics`` and ``scriptbatch analyze`` after real runs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

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


NEAR_LIMIT = (  # peaks at ~185 MiB: 92% of a 200 MB limit, 46% of a 400 MB one
    "b = bytearray(176 * 2**20)\n[b.__setitem__(i, 1) for i in range(0, len(b), 4096)]\n"
)


def memory_findings(cli: CliRunner, batch_id: str, env: dict[str, str]) -> list[dict]:  # type: ignore[type-arg]
    result = cli("analyze", "--json", "--batch", batch_id, env=env)
    assert result.returncode == 0, result.stderr
    return [
        f
        for f in json.loads(result.stdout)["findings"]
        if f["kind"] == "memory_pressure" and f["script"]
    ]


def test_analyze_judges_each_batch_against_the_memory_limit_it_ran_under(
    cli: CliRunner, tmp_path: Path
) -> None:
    script = write_script(tmp_path / "near.py", NEAR_LIMIT)
    env = {"SCRIPTBATCH_SANDBOX__MEMORY_LIMIT_MB": "200"}

    def run(*options: str) -> str:
        result = cli("run", str(script), "--json", *options, env=env)
        assert result.returncode == 0, result.stderr
        return str(json.loads(result.stdout)["batch_id"])

    settings_limit, own_limit, no_sandbox = run(), run("--memory-limit", "400"), run("--no-sandbox")

    [finding] = memory_findings(cli, settings_limit, env)
    assert Path(finding["script"]).name == "near.py"
    assert finding["figures"]["memory_limit_bytes"] == 200 * 2**20
    assert finding["figures"]["limit_fraction"] >= 0.9
    # The limit the batch ran with counts, not the one set now.
    assert memory_findings(cli, settings_limit, {}) == [finding]
    assert memory_findings(cli, own_limit, env) == []
    assert memory_findings(cli, no_sandbox, env) == []


def test_analyze_sees_a_saturated_cpu_even_in_a_short_batch(cli: CliRunner, tmp_path: Path) -> None:
    """Twice as many busy scripts as CPUs for 3 s: about four samples, none of which may
    read a bogus figure (the first one used to read 0%, measured over milliseconds)."""
    cpus = os.cpu_count() or 1
    if cpus > 16:
        pytest.skip("saturating this many CPUs would take too long")
    busy = "import time\nend = time.monotonic() + 3\nwhile time.monotonic() < end: pass\n"
    for n in range(2 * cpus):
        write_script(tmp_path / "busy" / f"busy{n}.py", busy)
    result = cli("run", str(tmp_path / "busy"), "--jobs", str(2 * cpus), "--json")
    assert result.returncode == 0, result.stderr
    batch_id = json.loads(result.stdout)["batch_id"]
    samples = json.loads(cli("metrics", "--since", "1h", "--json").stdout)
    assert all(s["cpu_percent"] is None or s["cpu_percent"] > 50 for s in samples), samples
    analysis = cli("analyze", "--json", "--batch", batch_id)
    findings = json.loads(analysis.stdout)["findings"]
    [saturated] = [f for f in findings if f["kind"] == "cpu_saturated"]
    assert saturated["figures"]["jobs"] == 2 * cpus
