"""Application settings: the shipped defaults, the user's config file and environment overrides.

Precedence, lowest first: ``config/default.toml`` (every key, with its default), the user's config
file (``<data-dir>/config.toml`` or ``--config FILE``; only the keys they change), environment
variables ``SCRIPTBATCH_<SECTION>__<KEY>``. The result is validated by the pydantic models below;
a bad value raises ``ConfigurationError`` naming where it came from, the key and what is allowed.
The files' values are validated strictly (``jobs = true`` or ``timeout_s = "60"`` is a mistake
to report, not to guess at); an environment variable is text, converted to its key's type.
The defaults live in default.toml only, so the models declare types and bounds, not values.
"""

from __future__ import annotations

import json
import os
import tomllib
import typing
from collections.abc import MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from AppCode.core.domain.errors import ConfigurationError
from AppCode.utils.resources import bundled_path

if TYPE_CHECKING:
    import tomlkit

__all__ = [
    "ENV_PREFIX",
    "Settings",
    "default_config_file",
    "load_settings",
    "save_user_settings",
]

ENV_PREFIX = "SCRIPTBATCH_"
_ENV_DELIMITER = "__"

RetryableStatus = Literal["failed", "timed_out", "interrupted"]


# The bounds of the keys that every adapter's requests and policy files share (policies.py,
# batch_service.py): nobody may ask for more than the config file may. Beyond them the kernel's
# limits overflow.
MAX_JOBS = 1024
MAX_RETRIES = 100
MAX_SECONDS = 365 * 24 * 3600
MAX_MB = 1 << 24  # 16 TiB: beyond any machine, within what the kernel's limits can hold
MAX_PROCESSES = 4_194_304  # the kernel's highest pid_max


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class ExecutionSettings(_Section):
    backend: Literal["local", "dask"]
    jobs: int = Field(ge=0, le=MAX_JOBS)
    timeout_s: float = Field(ge=0, le=MAX_SECONDS)
    retries: int = Field(ge=0, le=MAX_RETRIES)
    retry_backoff_s: float = Field(ge=0, le=3600)
    retry_on: list[RetryableStatus]
    kill_grace_s: float = Field(ge=0, le=600)
    fail_fast: bool
    python: str
    start_method: Literal["auto", "spawn", "forkserver"]
    max_log_mb: int = Field(ge=1, le=MAX_MB)
    dask_scheduler: str


class SandboxSettings(_Section):
    enabled: bool
    policy: str = Field(min_length=1)
    memory_limit_mb: int = Field(ge=0, le=MAX_MB)
    cpu_time_limit_s: float = Field(ge=0, le=MAX_SECONDS)
    max_file_size_mb: int = Field(ge=0, le=MAX_MB)
    max_processes: int = Field(ge=0, le=MAX_PROCESSES)
    network: bool
    allowed_write_paths: list[str]
    allowed_read_paths: list[str]
    blocked_modules: list[str]
    allow_subprocess: bool


class HistorySettings(_Section):
    retention_days: int = Field(ge=0, le=100 * 365)


class MonitoringSettings(_Section):
    enabled: bool
    interval_s: float = Field(ge=0.05, le=3600)
    retention_days: int = Field(ge=0, le=100 * 365)


class CacheSettings(_Section):
    scripts_size: int = Field(ge=0, le=10_000_000)
    history_size: int = Field(ge=0, le=10_000_000)
    ttl_s: float = Field(ge=0, le=MAX_SECONDS)


class BackupSettings(_Section):
    directory: str
    auto_interval_h: float = Field(ge=0, le=365 * 24)
    keep_last: int = Field(ge=1, le=100_000)
    include_logs: bool
    incremental_logs: bool


class PluginsSettings(BaseModel):
    # Each plugin may add its own table, e.g. [plugins.email_notify]; the plugin validates it.
    model_config = ConfigDict(extra="allow", validate_assignment=True, allow_inf_nan=False)

    enabled: list[str]
    hook_timeout_s: float = Field(gt=0, le=3600)

    @model_validator(mode="after")
    def _only_tables_besides_the_keys(self) -> PluginsSettings:
        for key, value in (self.model_extra or {}).items():
            if not isinstance(value, dict):
                keys = ", ".join(type(self).model_fields)
                raise ValueError(
                    f"unknown key '{key}' in [plugins]; keys are {keys}, and a plugin's own "
                    f"settings go in a table of its name, e.g. [plugins.{key}]"
                )
        return self


class ApiSettings(_Section):
    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)


class AuthSettings(_Section):
    mode: Literal["single", "multi"]


class UiSettings(_Section):
    language: Literal["auto", "en", "zh_CN"]
    theme: Literal["system", "light", "dark"]


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class DatabaseSettings(_Section):
    url: str


class Settings(BaseModel):
    """Every configuration key of ARCHITECTURE.md, one model per section."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    execution: ExecutionSettings
    sandbox: SandboxSettings
    history: HistorySettings
    monitoring: MonitoringSettings
    cache: CacheSettings
    backup: BackupSettings
    plugins: PluginsSettings
    api: ApiSettings
    auth: AuthSettings
    ui: UiSettings
    logging: LoggingSettings
    database: DatabaseSettings


def default_config_file() -> Path:
    """The shipped ``default.toml`` that holds every key with its default."""
    return bundled_path("config") / "default.toml"


def load_settings(user_file: Path | None, *, must_exist: bool = False) -> Settings:
    """Load defaults, then ``user_file`` (if given and present), then the environment.

    ``must_exist`` is for a file the user named explicitly (``--config``): its absence is an error.
    """
    defaults_path = default_config_file()
    merged = _read_toml(defaults_path)
    user: dict[str, Any] = {}
    if user_file is not None:
        if user_file.is_file():
            user = _read_toml(user_file)
        elif must_exist or user_file.exists():
            raise ConfigurationError(
                f"config file {user_file} does not exist or is not a file",
                hint="Check the path given with --config.",
            )
    _deep_merge(merged, user)
    try:
        settings = Settings.model_validate(merged, strict=True)
    except ValidationError as exc:
        raise _explain(exc, defaults_path, user_file, user) from None
    _apply_environment(settings)
    return settings


def save_user_settings(user_file: Path, settings: Settings) -> None:
    """Write the keys of ``settings`` that differ from the defaults to ``user_file``.

    The file is edited, not rewritten: the user's comments, the order of the keys and the
    keys that did not change stay as they were; a changed key keeps its comment, a key set back
    to its default is removed. A key set by an environment variable keeps what the file had:
    the variable's value is for this run, not something the user saved. The file is replaced
    atomically, so a crash never leaves half a config behind.
    """
    import tomlkit  # here: it costs every CLI command ~30 ms, and only saving needs it

    defaults = _read_toml(default_config_file())
    if user_file.is_file():
        document = _read_document(user_file)
    else:
        document = tomlkit.document()
        document.add(tomlkit.comment(_NEW_FILE_HEADER))
        document.add(tomlkit.nl())
    environment = {name.upper() for name in os.environ if name.upper().startswith(ENV_PREFIX)}
    _update_table(document, settings.model_dump(mode="json"), defaults, ENV_PREFIX, environment)
    user_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = user_file.with_name(user_file.name + ".tmp")
    tmp.write_text(tomlkit.dumps(document), encoding="utf-8")
    os.replace(tmp, user_file)


_NEW_FILE_HEADER = "ScriptBatch user settings: only the keys that differ from the defaults."


def _read_document(path: Path) -> tomlkit.TOMLDocument:
    """``path`` as an editable TOML document (comments and layout kept)."""
    import tomlkit.exceptions

    _read_toml(path)  # the same errors as loading it
    try:
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    except tomlkit.exceptions.ParseError as exc:  # tomllib took it; tomlkit is stricter
        raise ConfigurationError(
            f"{path} cannot be edited: {exc}",
            hint="Fix the line named above; see config/default.toml for the format.",
        ) from None


def _update_table(
    table: MutableMapping[str, Any],
    values: dict[str, Any],
    defaults: dict[str, Any],
    env_prefix: str,
    environment: set[str],
) -> None:
    """Make ``table`` (a part of the user's file) hold each of ``values`` that differs from
    ``defaults``, touching only the keys whose value changes. ``env_prefix`` + a key is the
    environment variable that would set it."""
    import tomlkit

    for key, value in values.items():
        name = f"{env_prefix}{key}".upper()
        if name in environment:
            continue  # set for this run only
        default = defaults.get(key)
        present = table.get(key)
        if isinstance(value, dict):
            if not isinstance(present, MutableMapping):
                if value == default or not value:
                    continue
                present = table[key] = tomlkit.table()
            inner_defaults = default if isinstance(default, dict) else {}
            _update_table(present, value, inner_defaults, name + _ENV_DELIMITER, environment)
            if not present and not _has_comments(present):
                del table[key]
        elif key in table:
            if _plain(present) == value:
                continue  # the user's own line, as it was
            if value == default:
                del table[key]
            else:
                table[key] = value  # keeps the line's comment
        elif value != default:
            table[key] = value


def _plain(item: Any) -> Any:
    unwrap = getattr(item, "unwrap", None)
    return unwrap() if callable(unwrap) else item


def _has_comments(table: MutableMapping[str, Any]) -> bool:
    import tomlkit.items

    body = getattr(getattr(table, "value", None), "body", [])
    return any(isinstance(item, tomlkit.items.Comment) for _key, item in body)


def _apply_environment(settings: Settings) -> None:
    """Set the keys named by ``SCRIPTBATCH_<SECTION>__<KEY>`` variables on ``settings``.

    Names are case-insensitive; a list key's value is JSON (``'["failed", "timed_out"]'``), any
    other is text converted to the key's type (``"4"``, ``"true"``). A plugin's table takes one
    level more (``SCRIPTBATCH_PLUGINS__EMAIL_NOTIFY__SMTP_HOST``). Variables of no section
    (``SCRIPTBATCH_HOME``) are not settings. Every bad variable is reported, by name.
    """
    problems: list[str] = []
    for name, value in sorted(os.environ.items()):
        if not name.upper().startswith(ENV_PREFIX):
            continue
        path = name[len(ENV_PREFIX) :].lower().split(_ENV_DELIMITER)
        if len(path) < 2 or path[0] not in Settings.model_fields:
            continue
        try:
            _set_from_environment(settings, name, value, path)
        except ValueError as exc:
            problems.append(f"environment variable {name}: {exc}")
    if problems:
        raise ConfigurationError(
            "invalid configuration:\n  " + "\n  ".join(problems),
            hint="Correct or unset the variable (config/default.toml lists every key with "
            "its allowed values).",
        )


def _set_from_environment(settings: Settings, name: str, value: str, path: list[str]) -> None:
    section_name, key = path[0], path[1]
    section = getattr(settings, section_name)
    keys = ", ".join(type(section).model_fields)
    if not all(path):
        raise ValueError(f"the name has an empty part; settings are {ENV_PREFIX}SECTION__KEY")
    if key not in type(section).model_fields:
        if section_name != "plugins":
            raise ValueError(f"unknown key '{key}' in [{section_name}]; keys are {keys}")
        if len(path) < 3:
            raise ValueError(
                f"unknown key '{key}' in [plugins]; keys are {keys}, and a plugin's own "
                f"settings are {ENV_PREFIX}PLUGINS__<PLUGIN>__<KEY>"
            )
        table = (section.model_extra or {}).get(key)
        table = dict(table) if isinstance(table, dict) else {}
        inner = table
        for part in path[2:-1]:
            inner = inner.setdefault(part, {})
            if not isinstance(inner, dict):
                raise ValueError(f"[plugins.{key}] {part} is not a table")
        inner[path[-1]] = value
        setattr(section, key, table)
        return
    if len(path) > 2:
        raise ValueError(
            f"[{section_name}] {key} is not a table; set it with "
            f"{ENV_PREFIX}{section_name.upper()}{_ENV_DELIMITER}{key.upper()}"
        )
    parsed: Any = value
    if _is_list(section_name, key):
        try:
            parsed = json.loads(value)
        except ValueError:
            raise ValueError(
                f'{value!r} is not a list; give a JSON list, e.g. \'["failed", "timed_out"]\''
            ) from None
    try:
        setattr(section, key, parsed)
    except ValidationError as exc:
        raise ValueError(
            f"[{section_name}] {key} = {value!r} is not allowed: {exc.errors()[0]['msg']}"
        ) from None


def _is_list(section: str, key: str) -> bool:
    model = Settings.model_fields[section].annotation
    field = model.model_fields.get(key) if isinstance(model, type) else None
    return field is not None and typing.get_origin(field.annotation) is list


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except UnicodeDecodeError as exc:
        raise ConfigurationError(
            f"{path} is not UTF-8 text (byte {exc.start + 1} cannot be read)",
            hint="Save the file as UTF-8 (TOML files must be UTF-8).",
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(
            f"{path} is not valid TOML: {exc}",
            hint="Fix the line named above; see config/default.toml for the format.",
        ) from None
    except OSError as exc:
        raise ConfigurationError(f"cannot read config file {path}: {exc.strerror}") from None


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> None:
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = value


def _explain(
    exc: ValidationError, defaults_path: Path, user_file: Path | None, user: dict[str, Any]
) -> ConfigurationError:
    lines = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        section = loc[0] if loc else ""
        key = loc[1] if len(loc) > 1 else None
        if user_file is not None and _has_key(user, section, key):
            source = str(user_file)
        else:
            source = str(defaults_path)
        if error["type"] == "extra_forbidden":
            if key is None and not isinstance(user.get(section, {}), dict):
                # ``jobs = 4`` before any [section] header
                homes = [
                    f"[{name}]"
                    for name in Settings.model_fields
                    if section in _section_fields(name)
                ]
                where = f"; it belongs under {' or '.join(homes)}" if homes else ""
                lines.append(f"{source}: '{section}' is set outside any [section]{where}")
            elif key is None:
                allowed = ", ".join(f"[{name}]" for name in Settings.model_fields)
                lines.append(f"{source}: unknown section [{section}]; sections are {allowed}")
            else:
                fields = _section_fields(section)
                lines.append(
                    f"{source}: unknown key '{key}' in [{section}]; keys are {', '.join(fields)}"
                )
            continue
        where = f"[{section}] {'.'.join(loc[1:])}" if key else f"[{section}]"
        value = error.get("input")
        shown = "" if error["type"] == "missing" else f" = {value!r}"
        lines.append(f"{source}: {where}{shown} is not allowed: {error['msg']}")
    return ConfigurationError(
        "invalid configuration:\n  " + "\n  ".join(lines),
        hint="Correct the value (config/default.toml lists every key with its allowed values).",
    )


def _has_key(data: dict[str, Any], section: str, key: str | None) -> bool:
    table = data.get(section)
    if key is None:
        return table is not None
    return isinstance(table, dict) and key in table


def _section_fields(section: str) -> list[str]:
    field = Settings.model_fields.get(section)
    model = field.annotation if field else None
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []
