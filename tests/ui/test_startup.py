"""Start-up pieces: preflight messages, language choice, translations, single instance."""

from __future__ import annotations

from pathlib import Path

import pytest

from AppCode.ui import preflight
from AppCode.ui.app import TRANSLATIONS, choose_language, install_language, instance_key


def test_preflight_names_the_missing_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preflight.sys, "platform", "linux")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(
        preflight.ctypes.util,
        "find_library",
        lambda name: None if name == "xcb-icccm" else f"lib{name}.so",
    )
    problems = preflight.problems()
    assert any("No display" in p for p in problems)
    assert any("sudo apt install libxcb-icccm4" in p for p in problems)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert preflight.problems() == []


def test_language_follows_the_system_unless_chosen() -> None:
    assert choose_language("auto", "zh_CN") == "zh_CN"
    assert choose_language("auto", "zh_TW") == "zh_CN"
    assert choose_language("auto", "de_DE") == "en"
    assert choose_language("en", "zh_CN") == "en"
    assert choose_language("zh_CN", "en_US") == "zh_CN"


def test_chinese_translation_is_compiled_and_used(qapp) -> None:  # type: ignore[no-untyped-def]
    from PyQt5.QtCore import QCoreApplication

    assert (TRANSLATIONS / "scriptbatch_zh_CN.qm").is_file()
    translators = install_language(qapp, "zh_CN")
    try:
        assert QCoreApplication.translate("MainWindow", "&Run selected") == "运行所选(&R)"
        assert QCoreApplication.translate("Status", "succeeded") == "成功"
    finally:
        for translator in translators:
            qapp.removeTranslator(translator)


def test_instance_key_depends_on_the_data_directory(tmp_path: Path) -> None:
    assert instance_key(tmp_path / "a") != instance_key(tmp_path / "b")
    assert instance_key(tmp_path / "a") == instance_key(tmp_path / "a")


def test_every_ui_string_has_a_chinese_translation(tmp_path: Path) -> None:
    """Runs pylupdate5 over the UI sources: a tr() string missing from the .ts (or left
    untranslated there) fails this test; `make translations` then `lrelease` fixes it."""
    import shutil
    import subprocess
    import sys
    import xml.etree.ElementTree as ET

    ui = Path(__file__).resolve().parents[2] / "AppCode" / "ui"
    scratch = tmp_path / "check.ts"
    shutil.copy(TRANSLATIONS / "scriptbatch_zh_CN.ts", scratch)
    pylupdate = Path(sys.executable).with_name("pylupdate5")
    sources = sorted(str(p) for p in ui.rglob("*.py"))
    subprocess.run(
        [str(pylupdate), "-noobsolete", *sources, "-ts", str(scratch)],
        check=True,
        capture_output=True,
    )
    untranslated = [
        f"{ctx.findtext('name')}: {m.findtext('source')}"
        for ctx in ET.parse(scratch).getroot().iter("context")
        for m in ctx.iter("message")
        if m.find("translation").get("type") in ("unfinished", "obsolete")
        or not "".join(m.find("translation").itertext()).strip()  # an empty plural form too
    ]
    assert untranslated == []


def test_dark_theme_uses_a_dark_palette(qapp) -> None:  # type: ignore[no-untyped-def]
    from PyQt5.QtGui import QPalette

    from AppCode.ui.app import apply_theme

    before_style, before_palette = qapp.style().objectName(), qapp.palette()
    try:
        apply_theme(qapp, "dark")
        assert qapp.style().objectName().lower() == "fusion"
        assert qapp.palette().color(QPalette.Window).lightness() < 80
        apply_theme(qapp, "light")
        assert qapp.palette().color(QPalette.Window).lightness() > 180
    finally:
        from PyQt5.QtWidgets import QStyleFactory

        qapp.setStyle(QStyleFactory.create(before_style))
        qapp.setPalette(before_palette)
