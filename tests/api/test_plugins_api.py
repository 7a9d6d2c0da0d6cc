"""Plugins over the API: anyone may look, managers switch them, reports download as files."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl

from tests.api.conftest import ClientFor, assert_error, finished_batch, make_token
from tests.conftest import write_script

BUILT_INS = {"email_notify", "excel_export", "html_report"}


def test_a_viewer_lists_plugins_but_only_a_manager_switches_them(
    container: Any, client_for: ClientFor
) -> None:
    viewer = client_for(make_token(container, "vera", "viewer"))
    operator = client_for(make_token(container, "olga", "operator"))
    manager = client_for(make_token(container, "max", "manager"))

    listed = viewer.get("/plugins").json()["items"]
    assert {p["name"] for p in listed} >= BUILT_INS
    html = viewer.get("/plugins/html_report").json()
    assert (html["state"], html["formats"], html["source"]) == ("enabled", ["html"], "built-in")
    assert viewer.get("/plugins/email_notify").json()["settings_schema"]["properties"]["smtp_port"]

    assert_error(operator.post("/plugins/html_report/disable"), 403, "PermissionDeniedError")
    disabled = manager.post("/plugins/html_report/disable")
    assert disabled.status_code == 200 and disabled.json()["state"] == "disabled"
    assert viewer.get("/plugins/html_report").json()["state"] == "disabled"
    assert manager.post("/plugins/html_report/enable").json()["state"] == "enabled"
    assert_error(manager.post("/plugins/no_such/enable"), 404, "NotFoundError")


def test_plugin_settings_are_validated_before_they_are_saved(
    container: Any, client_for: ClientFor
) -> None:
    manager = client_for(make_token(container, "max", "manager"))
    bad = manager.put("/plugins/email_notify/settings", json={"smtp_port": 0})
    error = assert_error(bad, 400, "ConfigurationError")
    assert "smtp_port" in error["message"]
    assert not container.config_file().exists() or "smtp_port" not in (
        container.config_file().read_text(encoding="utf-8")
    )

    good = manager.put(
        "/plugins/email_notify/settings",
        json={"smtp_host": "mail.example.org", "smtp_port": 2525, "recipients": ["a@example.org"]},
    )
    assert good.status_code == 200, good.text
    assert good.json()["settings"]["smtp_port"] == 2525
    saved = container.config_file().read_text(encoding="utf-8")
    assert "[plugins.email_notify]" in saved and "2525" in saved


def test_a_batch_report_downloads_in_each_format(
    container: Any, client_for: ClientFor, tmp_path: Path
) -> None:
    operator = client_for(make_token(container, "olga", "operator"))
    viewer = client_for(make_token(container, "vera", "viewer"))
    ok = write_script(tmp_path / "ok.py", "print('fine')\n")
    bad = write_script(tmp_path / "bad.py", "print('<script>x</script>')\nraise SystemExit(4)\n")
    batch_id = operator.post("/batches", json={"scripts": [str(ok), str(bad)]}).json()["id"]
    finished_batch(operator, batch_id)

    html = viewer.get(f"/batches/{batch_id}/report", params={"format": "html"})
    assert html.status_code == 200, html.text
    assert html.headers["content-type"].startswith("text/html")
    assert "attachment" in html.headers["content-disposition"]
    assert str(bad) in html.text and "&lt;script&gt;x" in html.text
    assert "<script>x" not in html.text

    xlsx = viewer.get(f"/batches/{batch_id[:10]}/report", params={"format": "XLSX"})
    assert xlsx.status_code == 200, xlsx.text
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert workbook["Executions"].max_row == 3  # header + two executions

    unknown = viewer.get(f"/batches/{batch_id}/report", params={"format": "pdf"})
    assert_error(unknown, 400, "ConfigurationError")
    assert_error(
        viewer.get("/batches/nosuchbatch/report", params={"format": "html"}), 404, "NotFoundError"
    )
