from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from AppCode.core.domain.errors import ConfigurationError
from AppCode.services.settings import (
    Settings,
    default_config_file,
    load_settings,
    save_user_settings,
)


def test_defaults_load_without_a_user_file() -> None:
    settings = load_settings(None)
    assert settings.execution.jobs == 0
    assert settings.execution.retry_on == ["failed", "timed_out"]
    assert settings.sandbox.policy == "standard"
    assert settings.api.host == "127.0.0.1" and settings.api.port == 8765
    assert settings.auth.mode == "single"


def test_default_toml_has_every_key_of_every_section_with_a_comment() -> None:
    text = default_config_file().read_text(encoding="utf-8")
    data = tomllib.loads(text)
    for section, field in Settings.model_fields.items():
        model = field.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        assert section in data, f"[{section}] missing from default.toml"
        assert set(data[section]) == set(model.model_fields), section
    for line in text.splitlines():
        if re.match(r"^[a-z_]+ *=", line):
            assert "#" in line, f"key without a comment: {line}"


def test_user_file_overrides_defaults_and_keeps_the_rest(tmp_path: Path) -> None:
    user = tmp_path / "config.toml"
    user.write_text("[execution]\njobs = 4\ntimeout_s = 60\n", encoding="utf-8")
    settings = load_settings(user)
    assert settings.execution.jobs == 4
    assert settings.execution.timeout_s == 60
    assert settings.execution.kill_grace_s == 3


def test_environment_overrides_the_user_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = tmp_path / "config.toml"
    user.write_text("[execution]\njobs = 4\n", encoding="utf-8")
    monkeypatch.setenv("SCRIPTBATCH_EXECUTION__JOBS", "7")
    monkeypatch.setenv("SCRIPTBATCH_EXECUTION__RETRY_ON", '["failed"]')
    settings = load_settings(user)
    assert settings.execution.jobs == 7
    assert settings.execution.retry_on == ["failed"]


def test_environment_reaches_plugin_tables_and_ignores_what_is_not_a_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SCRIPTBATCH_PLUGINS__EMAIL_NOTIFY__SMTP_HOST", "mail.local")
    monkeypatch.setenv("SCRIPTBATCH_SANDBOX__BLOCKED_MODULES", '["ctypes", "socket"]')
    monkeypatch.setenv("SCRIPTBATCH_SANDBOX__NETWORK", "true")
    monkeypatch.setenv("SCRIPTBATCH_HOME", "/somewhere")  # the data directory, not a setting
    monkeypatch.setenv("SCRIPTBATCH_COLOURS__X", "1")  # no such section: not ours
    settings = load_settings(None)
    assert settings.plugins.model_extra == {"email_notify": {"smtp_host": "mail.local"}}
    assert settings.sandbox.blocked_modules == ["ctypes", "socket"]
    assert settings.sandbox.network is True


def test_a_bad_environment_list_or_key_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SCRIPTBATCH_EXECUTION__RETRY_ON", "failed")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(None)
    assert "environment variable SCRIPTBATCH_EXECUTION__RETRY_ON: 'failed' is not a list" in (
        caught.value.message
    )
    assert '["failed", "timed_out"]' in caught.value.message
    monkeypatch.delenv("SCRIPTBATCH_EXECUTION__RETRY_ON")
    monkeypatch.setenv("SCRIPTBATCH_EXECUTION__JBOS", "2")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(None)
    assert "environment variable SCRIPTBATCH_EXECUTION__JBOS" in caught.value.message
    assert "unknown key 'jbos' in [execution]" in caught.value.message


def test_a_variable_nested_under_a_plain_key_is_blamed_on_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SCRIPTBATCH_EXECUTION__JOBS__X", "1")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(None)
    message = caught.value.message
    assert "environment variable SCRIPTBATCH_EXECUTION__JOBS__X" in message
    assert "jobs is not a table" in message and "SCRIPTBATCH_EXECUTION__JOBS" in message
    assert "default.toml" not in message


def test_environment_values_are_text_converted_to_their_type(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SCRIPTBATCH_EXECUTION__TIMEOUT_S", "2.5")
    monkeypatch.setenv("SCRIPTBATCH_EXECUTION__FAIL_FAST", "true")
    monkeypatch.setenv("SCRIPTBATCH_PLUGINS__HOOK_TIMEOUT_S", "7")
    settings = load_settings(None)
    assert settings.execution.timeout_s == 2.5
    assert settings.execution.fail_fast is True
    assert settings.plugins.hook_timeout_s == 7.0


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("jobs = true", "[execution] jobs = True is not allowed: Input should be a valid integer"),
        ('timeout_s = "60"', "[execution] timeout_s = '60' is not allowed"),
        ("timeout_s = inf", "finite number"),
        ("timeout_s = nan", "finite number"),
        ("retries = 1e3", "valid integer"),
    ],
)
def test_a_file_value_of_the_wrong_type_is_reported_not_converted(
    tmp_path: Path, line: str, expected: str
) -> None:
    user = tmp_path / "config.toml"
    user.write_text(f"[execution]\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(user)
    assert str(user) in caught.value.message
    assert expected in caught.value.message


@pytest.mark.parametrize(
    ("section", "line"),
    [
        ("sandbox", "cpu_time_limit_s = inf"),
        ("sandbox", "cpu_time_limit_s = 1e30"),
        ("sandbox", "memory_limit_mb = 99999999999999"),
        ("sandbox", "max_file_size_mb = 99999999999999"),
        ("sandbox", "max_processes = 99999999999"),
        ("history", "retention_days = 99999999999"),
        ("monitoring", "retention_days = 800000"),
        ("execution", "timeout_s = 1e300"),
        ("backup", "auto_interval_h = 1e30"),
        ("cache", "ttl_s = 1e30"),
        ("plugins", "hook_timeout_s = inf"),
    ],
)
def test_values_beyond_what_the_system_can_hold_are_refused_at_load(
    tmp_path: Path, section: str, line: str
) -> None:
    """Otherwise they are accepted and fail later, far from the cause (every script blocked,
    every command crashing on a date out of range)."""
    user = tmp_path / "config.toml"
    user.write_text(f"[{section}]\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(user)
    assert f"[{section}] {line.split(' = ')[0]}" in caught.value.message


def test_an_environment_value_beyond_its_bounds_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SCRIPTBATCH_SANDBOX__CPU_TIME_LIMIT_S", "inf")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(None)
    assert "environment variable SCRIPTBATCH_SANDBOX__CPU_TIME_LIMIT_S" in caught.value.message


@pytest.mark.parametrize(
    ("where", "text"),
    [
        ("file", "[plugins]\nhook_timeout = 5\n"),
        ("env", ""),
    ],
)
def test_an_unknown_plain_key_in_plugins_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, text: str
) -> None:
    """[plugins] takes tables of any plugin's name, but a plain value is a typo of a key."""
    user = tmp_path / "config.toml"
    user.write_text(text, encoding="utf-8")
    if where == "env":
        monkeypatch.setenv("SCRIPTBATCH_PLUGINS__HOOK_TIMEOUT", "5")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(user)
    message = caught.value.message
    assert "unknown key 'hook_timeout' in [plugins]" in message and "hook_timeout_s" in message
    assert (str(user) if where == "file" else "SCRIPTBATCH_PLUGINS__HOOK_TIMEOUT") in message


def test_a_config_file_that_is_not_utf8_is_reported_not_a_traceback(tmp_path: Path) -> None:
    user = tmp_path / "config.toml"
    user.write_bytes(b"# r\xe9glages\n[execution]\njobs = 2\n")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(user)
    assert f"{user} is not UTF-8 text" in caught.value.message
    assert caught.value.hint and "UTF-8" in caught.value.hint


def test_bad_value_names_the_file_the_key_and_what_is_allowed(tmp_path: Path) -> None:
    user = tmp_path / "my config.toml"
    user.write_text('[execution]\nbackend = "cloud"\n', encoding="utf-8")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(user)
    message = caught.value.message
    assert str(user) in message
    assert "[execution] backend" in message
    assert "'local' or 'dask'" in message
    assert caught.value.hint


def test_bad_environment_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRIPTBATCH_API__PORT", "99999")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(None)
    assert "environment variable SCRIPTBATCH_API__PORT" in caught.value.message
    assert "less than or equal to 65535" in caught.value.message


def test_unknown_key_and_section_are_reported_with_what_exists(tmp_path: Path) -> None:
    user = tmp_path / "config.toml"
    user.write_text("[execution]\njbos = 2\n[colours]\nx = 1\n", encoding="utf-8")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(user)
    message = caught.value.message
    assert "unknown key 'jbos' in [execution]" in message and "jobs" in message
    assert "unknown section [colours]" in message


def test_a_key_before_any_section_says_where_it_belongs(tmp_path: Path) -> None:
    user = tmp_path / "config.toml"
    user.write_text("jobs = 4\nnonsense = 1\n[execution]\nretries = 1\n", encoding="utf-8")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(user)
    message = caught.value.message
    assert "'jobs' is set outside any [section]; it belongs under [execution]" in message
    assert "'nonsense' is set outside any [section]" in message


def test_plugin_sections_may_carry_their_own_tables(tmp_path: Path) -> None:
    user = tmp_path / "config.toml"
    user.write_text('[plugins.email_notify]\nsmtp_host = "mail.local"\n', encoding="utf-8")
    settings = load_settings(user)
    assert settings.plugins.model_extra == {"email_notify": {"smtp_host": "mail.local"}}


def test_invalid_toml_names_the_file_and_line(tmp_path: Path) -> None:
    user = tmp_path / "config.toml"
    user.write_text("[execution]\njobs = = 3\n", encoding="utf-8")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(user)
    assert str(user) in caught.value.message and "line 2" in caught.value.message


def test_a_named_config_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", must_exist=True)
    # The default user file is optional.
    assert load_settings(tmp_path / "nope.toml").execution.jobs == 0


def test_saved_settings_hold_only_the_changes_and_load_back(tmp_path: Path) -> None:
    user = tmp_path / "sub" / "config.toml"
    settings = load_settings(None)
    settings.execution.jobs = 3
    settings.ui.language = "zh_CN"
    save_user_settings(user, settings)
    data = tomllib.loads(user.read_text(encoding="utf-8"))
    assert data == {"execution": {"jobs": 3}, "ui": {"language": "zh_CN"}}
    assert load_settings(user) == settings


def test_assigning_an_invalid_value_is_refused() -> None:
    settings = load_settings(None)
    with pytest.raises(ValueError):
        settings.execution.jobs = -1


def test_saving_does_not_copy_environment_overrides_into_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = tmp_path / "config.toml"
    user.write_text("[api]\nport = 9000\n", encoding="utf-8")
    monkeypatch.setenv("SCRIPTBATCH_EXECUTION__JOBS", "7")
    monkeypatch.setenv("SCRIPTBATCH_API__PORT", "9100")
    settings = load_settings(user)
    assert settings.execution.jobs == 7 and settings.api.port == 9100
    settings.execution.retries = 2
    save_user_settings(user, settings)
    data = tomllib.loads(user.read_text(encoding="utf-8"))
    assert data == {"execution": {"retries": 2}, "api": {"port": 9000}}


def test_saving_edits_the_users_file_keeping_comments_and_untouched_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = tmp_path / "config.toml"
    user.write_text(
        "# tuned for the nightly box\n"
        "[execution]\n"
        "jobs = 3  # three!\n"
        "retries = 1  # once is enough\n"
        "timeout_s = 0  # the default, written on purpose\n"
        "\n"
        "[api]\n"
        "port = 9000  # the firewall's\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("SCRIPTBATCH_API__PORT", "9100")
    settings = load_settings(user)
    settings.execution.jobs = 5  # changed: its line keeps its comment
    settings.execution.retries = 0  # back to the default: its line goes
    settings.ui.theme = "dark"  # new: a table at the end
    save_user_settings(user, settings)
    assert user.read_text(encoding="utf-8") == (
        "# tuned for the nightly box\n"
        "[execution]\n"
        "jobs = 5  # three!\n"
        "timeout_s = 0  # the default, written on purpose\n"
        "\n"
        "[api]\n"
        "port = 9000  # the firewall's\n"
        "\n"
        "[ui]\n"
        'theme = "dark"\n'
    )
    monkeypatch.delenv("SCRIPTBATCH_API__PORT")
    reloaded = load_settings(user)
    assert (reloaded.execution.jobs, reloaded.execution.retries) == (5, 0)
    assert reloaded.api.port == 9000 and reloaded.ui.theme == "dark"
