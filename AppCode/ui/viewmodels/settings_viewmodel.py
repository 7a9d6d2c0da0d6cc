"""The Settings dialog's state: the editable fields of some config sections, validated as typed.

Fields are described from the pydantic section models (type, bounds, choices) and the comments of
``config/default.toml`` (help texts), so a section is added to the dialog by naming it. Beyond
its type, a value is checked the way it will be used: the Python interpreter must be a program
that is there, the sandbox policy one that exists, the Dask scheduler an address; checks that
touch the disk run off the GUI thread. Edits are kept here until ``save()``, which writes the
user config file off the GUI thread and, once it is written, copies them into the live
``Settings`` (which the services read, so most changes apply at once).
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import tomllib
import types
import typing
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel, ValidationError
from PyQt5.QtCore import QObject, pyqtSignal

from AppCode.core.domain.errors import ScriptBatchError
from AppCode.core.security.policy import BUILTIN_POLICIES
from AppCode.services.settings import Settings, default_config_file
from AppCode.ui.viewmodels.background import Background, user_message

FieldKind = Literal["bool", "int", "float", "choice", "list", "string"]

# Keys read once at start-up: saving them takes effect the next time the app starts.
# ui.*: the translator and style are installed at start-up; cache.*: the container sizes the cache
# regions when it builds them; api/logging/database: bound or opened by container.build().
RESTART_KEYS: frozenset[tuple[str, str]] = frozenset(
    {
        ("ui", "language"),
        ("ui", "theme"),
        ("cache", "scripts_size"),
        ("cache", "history_size"),
        ("cache", "ttl_s"),
        ("api", "host"),
        ("api", "port"),
        ("logging", "level"),
        ("database", "url"),
    }
)


@dataclass(frozen=True)
class FieldSpec:
    """One editable key, as the view needs it to build a row.

    ``minimum``/``maximum`` are None when unbounded; ``*_inclusive`` is False for ``gt``/``lt``.
    ``choices`` are the allowed values of a ``choice`` field or of a ``list`` field's items.
    """

    section: str
    key: str
    kind: FieldKind
    value: Any
    minimum: float | None = None
    maximum: float | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True
    choices: tuple[str, ...] = ()
    help: str = ""
    restart_needed: bool = False


# A Dask scheduler as the Dask client takes it: [PROTOCOL://]HOST:PORT, HOST a name, an IPv4
# address or an IPv6 one in brackets.
DASK_PROTOCOLS = ("tcp", "tls", "ws", "wss", "ucx")
_SCHEDULER = re.compile(
    r"(?:(?P<protocol>[A-Za-z][A-Za-z0-9+.-]*)://)?"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(?P<port>[0-9]{1,5})"
)


class SettingsViewModel(QObject):
    """Edits ``sections`` of ``settings``; ``save(settings)`` persists them (runs in the
    background). Nothing reaches the live settings before the file is written.

    ``policies`` lists the sandbox policies to choose from (the built-ins if not given; it may
    read the disk: it is called off the GUI thread). ``check_python``, if given, is asked about
    an interpreter that is there (off the GUI thread) and raises ``ScriptBatchError`` if it is
    not a working Python.
    """

    field_error = pyqtSignal(str, str, str)  # section, key, message ("" = valid)
    value_changed = pyqtSignal(str, str, object)  # a value the view did not enter (defaults)
    validity_changed = pyqtSignal(bool)  # is_valid
    busy_changed = pyqtSignal(bool)  # saving
    # "section.key" of every value copied into the live settings, after the file was written
    applied = pyqtSignal(list)
    saved = pyqtSignal()
    error_occurred = pyqtSignal(str)

    def __init__(
        self,
        settings: Settings,
        save: Callable[[Settings], None],
        sections: Sequence[str] = ("execution", "cache", "ui"),
        parent: QObject | None = None,
        *,
        defaults_file: Path | None = None,
        restart_keys: Collection[tuple[str, str]] = RESTART_KEYS,
        policies: Callable[[], Iterable[str]] = lambda: BUILTIN_POLICIES,
        check_python: Callable[[str], object] | None = None,
    ) -> None:
        super().__init__(parent)
        self._settings = settings
        self._write = save
        self._policies = policies
        self._check_python = check_python
        self._background = Background(self)
        # The checks that touch the disk (they run in the background), by key.
        self._checks: dict[tuple[str, str], Callable[[Any], Callable[[], str]]] = {
            ("execution", "python"): self._python_check,
            ("sandbox", "policy"): self._policy_check,
        }
        self._checking: dict[tuple[str, str], int] = {}  # key -> token of its running check
        self._tokens = itertools.count()
        self._restart_keys = frozenset(restart_keys)
        self._models: dict[str, type[BaseModel]] = {}
        for section in sections:
            field = type(settings).model_fields.get(section)
            model = field.annotation if field else None
            if not (isinstance(model, type) and issubclass(model, BaseModel)):
                raise ValueError(f"{section!r} is not a section of the settings")
            self._models[section] = model
        path = defaults_file or default_config_file()
        text = path.read_text(encoding="utf-8")  # a small bundled file
        self._defaults: dict[str, Any] = tomllib.loads(text)
        self._help = read_help_texts(text)
        self._values = {s: getattr(settings, s).model_dump() for s in self._models}
        self._errors: dict[tuple[str, str], str] = {}
        self._saving = False

    # -- state -------------------------------------------------------------------------------

    @property
    def sections(self) -> list[str]:
        return list(self._models)

    def keys(self, section: str) -> list[str]:
        return list(self._models[section].model_fields)

    def fields(self, section: str) -> list[FieldSpec]:
        """Every key of ``section``, described from its model, with the edited value."""
        return [self.field(section, key) for key in self.keys(section)]

    def field(self, section: str, key: str) -> FieldSpec:
        info = self._models[section].model_fields[key]
        kind, choices = _kind_of(info.annotation)
        lo: Any = None
        hi: Any = None
        lo_incl = hi_incl = True
        for meta in info.metadata:
            if isinstance(meta, annotated_types.Ge):
                lo = meta.ge
            elif isinstance(meta, annotated_types.Gt):
                lo, lo_incl = meta.gt, False
            elif isinstance(meta, annotated_types.Le):
                hi = meta.le
            elif isinstance(meta, annotated_types.Lt):
                hi, hi_incl = meta.lt, False
        if kind == "int":  # whole numbers: an exclusive bound is the next number in
            if lo is not None and not lo_incl:
                lo, lo_incl = int(lo) + 1, True
            if hi is not None and not hi_incl:
                hi, hi_incl = int(hi) - 1, True
        return FieldSpec(
            section=section,
            key=key,
            kind=kind,
            value=self.value(section, key),
            minimum=lo,
            maximum=hi,
            min_inclusive=lo_incl,
            max_inclusive=hi_incl,
            choices=choices,
            help=self.help_text(section, key),
            restart_needed=self.restart_needed(section, key),
        )

    def value(self, section: str, key: str) -> Any:
        """The edited value (the last valid one when the input is invalid)."""
        return self._values[section][key]

    def error(self, section: str, key: str) -> str:
        return self._errors.get((section, key), "")

    def help_text(self, section: str, key: str) -> str:
        """The comment of ``key`` in ``config/default.toml``."""
        return self._help.get(section, {}).get(key, "")

    def restart_needed(self, section: str, key: str) -> bool:
        """True if a change of this key takes effect only after a restart."""
        return (section, key) in self._restart_keys

    @property
    def is_valid(self) -> bool:
        """No value is wrong, and none is still being checked."""
        return not self._errors and not self._checking

    @property
    def is_checking(self) -> bool:
        """A value is being checked in the background (``field_error`` follows)."""
        return bool(self._checking)

    @property
    def is_modified(self) -> bool:
        """True if some edited value differs from the live settings."""
        return bool(self._changes())

    @property
    def busy(self) -> bool:
        return self._saving

    # -- intents -----------------------------------------------------------------------------

    def set_value(self, section: str, key: str, raw: Any) -> None:
        """Validate ``raw`` (typed, or text as the user typed it) for ``key``; ``field_error``
        follows, with "" when the value is accepted."""
        spec = self.field(section, key)
        value = _from_raw(spec.kind, raw)
        model = self._models[section]
        was_valid = self.is_valid
        self._checking.pop((section, key), None)  # this input replaces the one being checked
        message = ""
        try:
            validated = model.model_validate({**self._values[section], key: value})
        except ValidationError as exc:
            errors = [e for e in exc.errors() if e["loc"] and e["loc"][0] == key]
            message = self._explain(spec, errors[0] if errors else exc.errors()[0])
        else:
            self._values[section][key] = getattr(validated, key)
            message = self._check(section, key, getattr(validated, key))
        self._set_error(section, key, message, was_valid)

    def reset_to_defaults(self, section: str) -> None:
        """Put every key of ``section`` back to its default from ``config/default.toml``."""
        defaults = self._defaults.get(section, {})
        values = {**self._values[section], **defaults}
        validated = self._models[section].model_validate(values)
        for key in self.keys(section):
            new = getattr(validated, key)
            changed = new != self._values[section][key]
            self._values[section][key] = new
            was_valid = self.is_valid
            self._checking.pop((section, key), None)  # a default needs no check
            self._set_error(section, key, "", was_valid)
            if changed:
                self.value_changed.emit(section, key, new)

    def save(self) -> None:
        """Write the edited settings to the user config in the background; once written, copy
        the edits into the live settings (``applied``), then ``saved``. If the file cannot be
        written, ``error_occurred`` follows and the live settings stay as they were."""
        if self._saving:
            return
        if self._errors:
            self.error_occurred.emit(self.tr("Correct the values marked in red first."))
            return
        if self._checking:
            self.error_occurred.emit(self.tr("Some values are still being checked."))
            return
        changes = self._changes()
        edited = self._settings.model_copy(deep=True)
        try:
            for section, key, value in changes:
                setattr(getattr(edited, section), key, _copy(value))
        except ValidationError as exc:  # cannot happen for values validated above
            self.error_occurred.emit(str(exc.errors()[0]["msg"]))
            return
        self._set_saving(True)
        self._background.submit(
            lambda: self._write(edited),
            lambda _result: self._on_saved(changes),
            self._on_failed,
        )

    # -- helpers -----------------------------------------------------------------------------

    def _changes(self) -> list[tuple[str, str, Any]]:
        out = []
        for section in self._models:
            live = getattr(self._settings, section)
            for key in self.keys(section):
                value = self._values[section][key]
                if getattr(live, key) != value:
                    out.append((section, key, value))
        return out

    def _apply(self, changes: list[tuple[str, str, Any]]) -> list[str]:
        applied = []
        for section, key, value in changes:
            # In place: services hold the section objects (e.g. BatchService its execution).
            setattr(getattr(self._settings, section), key, _copy(value))
            applied.append(f"{section}.{key}")
        return applied

    def _on_saved(self, changes: list[tuple[str, str, Any]]) -> None:
        self._set_saving(False)
        applied = self._apply(changes)
        if applied:
            self.applied.emit(applied)
        self.saved.emit()

    def _on_failed(self, error: BaseException) -> None:
        self._set_saving(False)
        if isinstance(error, OSError):
            message = self.tr("The settings could not be written to {file}: {reason}").format(
                file=error.filename or "", reason=error.strerror or error
            )
        else:
            message = user_message(error)
        self.error_occurred.emit(message)

    # -- checks of a value beyond its type ---------------------------------------------------

    def _check(self, section: str, key: str, value: Any) -> str:
        """What is wrong with a valid-typed ``value`` that can be told at once ("" = nothing);
        a check that touches the disk is started in the background instead."""
        if (section, key) == ("execution", "dask_scheduler"):
            return self._scheduler_problem(value)
        make = self._checks.get((section, key))
        if make is None or not value:
            return ""
        where = (section, key)
        token = next(self._tokens)
        self._checking[where] = token

        def done(problem: str) -> None:
            if self._checking.get(where) != token:
                return  # the value was changed meanwhile
            was_valid = self.is_valid
            del self._checking[where]
            self._set_error(section, key, problem, was_valid)

        def failed(error: BaseException) -> None:
            done(error.message if isinstance(error, ScriptBatchError) else user_message(error))

        self._background.submit(make(value), done, failed)
        return ""

    def _scheduler_problem(self, address: str) -> str:
        if not address:
            return ""
        match = _SCHEDULER.fullmatch(address)
        protocol = (match.group("protocol") or "tcp").lower() if match else ""
        if match and protocol in DASK_PROTOCOLS and 0 < int(match.group("port")) <= 65535:
            return ""
        return self.tr(
            "Must be the address of a Dask scheduler, like tcp://HOST:8786 (also {protocols}), "
            "or empty to run a Dask cluster on this computer."
        ).format(protocols=", ".join(f"{p}://" for p in DASK_PROTOCOLS[1:]))

    def _python_check(self, python: str) -> Callable[[], str]:
        """The check of an interpreter, to run off the GUI thread; it raises what
        ``check_python`` raises."""
        not_found = self.tr(
            "“{python}” was not found. Give the path of a Python interpreter, e.g. "
            "/usr/bin/python3, or leave it empty to use the one ScriptBatch runs on."
        ).format(python=python)
        folder = self.tr(
            "“{python}” is a folder: give the interpreter in it, e.g. {example}."
        ).format(python=python, example=os.path.join(python, "bin", "python3"))
        not_a_program = self.tr("“{python}” is not a program this user may run.").format(
            python=python
        )
        check_python = self._check_python

        def work() -> str:
            found = _find_program(python)
            if found == "missing":
                return not_found
            if found == "folder":
                return folder
            if found == "not_executable":
                return not_a_program
            if check_python is not None:
                check_python(python)
            return ""

        return work

    def _policy_check(self, name: str) -> Callable[[], str]:
        """The check of a sandbox policy's name or file, to run off the GUI thread."""
        policies = self._policies
        unknown = self.tr(
            "There is no sandbox policy “{name}”. Choose one of: {policies}; or give the path "
            "of a policy file (.toml)."
        )
        no_file = self.tr("There is no policy file “{path}”.").format(path=name)

        def work() -> str:
            known = list(policies())
            if name in known:
                return ""
            if "/" in name or "\\" in name or name.endswith(".toml"):
                return "" if Path(name).expanduser().is_file() else no_file
            return unknown.format(name=name, policies=", ".join(known))

        return work

    def _set_saving(self, saving: bool) -> None:
        self._saving = saving
        self.busy_changed.emit(saving)

    def _set_error(
        self, section: str, key: str, message: str, was_valid: bool | None = None
    ) -> None:
        """Record ``message`` for the key; ``was_valid``: ``is_valid`` before the change began
        (now if not given), to tell whether ``validity_changed`` is due."""
        if was_valid is None:
            was_valid = self.is_valid
        if message:
            self._errors[(section, key)] = message
        else:
            self._errors.pop((section, key), None)
        self.field_error.emit(section, key, message)
        if self.is_valid != was_valid:
            self.validity_changed.emit(self.is_valid)

    def _explain(self, spec: FieldSpec, error: Any) -> str:
        """A pydantic error in the user's terms, naming what is allowed."""
        kind = error["type"]
        ctx = error.get("ctx") or {}
        lo, hi = spec.minimum, spec.maximum
        if kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}:
            if lo is not None and hi is not None and spec.min_inclusive and spec.max_inclusive:
                return self.tr("Must be between {low} and {high}.").format(
                    low=_number(lo), high=_number(hi)
                )
            if kind == "greater_than_equal":
                return self.tr("Must be at least {limit}.").format(limit=_number(ctx["ge"]))
            if kind == "greater_than":
                return self.tr("Must be more than {limit}.").format(limit=_number(ctx["gt"]))
            if kind == "less_than_equal":
                return self.tr("Must be at most {limit}.").format(limit=_number(ctx["le"]))
            return self.tr("Must be less than {limit}.").format(limit=_number(ctx["lt"]))
        if kind == "literal_error" and spec.choices:
            allowed = ", ".join(spec.choices)
            if spec.kind == "list":
                return self.tr("“{value}” is not allowed; choose from: {allowed}.").format(
                    value=error.get("input"), allowed=allowed
                )
            return self.tr("Must be one of: {allowed}.").format(allowed=allowed)
        if kind in {"int_parsing", "int_type", "int_from_float"}:
            return self.tr("Must be a whole number.")
        if kind in {"float_parsing", "float_type", "finite_number"}:
            return self.tr("Must be a number.")
        if kind in {"bool_parsing", "bool_type"}:
            return self.tr("Must be on or off (true or false).")
        if kind == "string_too_short":
            if ctx.get("min_length", 1) <= 1:
                return self.tr("Must not be empty.")
            return self.tr("Must be at least {count} characters.").format(count=ctx["min_length"])
        if kind == "list_type":
            return self.tr("Must be a list of values separated by commas.")
        if kind == "string_type":
            return self.tr("Must be text.")
        return str(error["msg"])


def _copy(value: Any) -> Any:
    """A value to store: lists are copied, so that the edits and the settings never share one."""
    return list(value) if isinstance(value, list) else value


def _find_program(python: str) -> Literal["found", "missing", "folder", "not_executable"]:
    """Whether ``python`` (a path, ~ allowed, or a name on the PATH) names a program this user
    may run. Touches the disk: not for the GUI thread."""
    path = os.path.expanduser(python)
    if shutil.which(path):
        return "found"
    if os.path.dirname(path):  # a path, not a name looked up on the PATH
        if os.path.isdir(path):
            return "folder"
        if os.path.exists(path):
            return "not_executable"
    return "missing"


def _kind_of(annotation: Any) -> tuple[FieldKind, tuple[str, ...]]:
    origin = typing.get_origin(annotation)
    if annotation is bool:
        return "bool", ()
    if annotation is int:
        return "int", ()
    if annotation is float:
        return "float", ()
    if origin is Literal:
        return "choice", tuple(str(a) for a in typing.get_args(annotation))
    if origin in (list, tuple, set, frozenset):
        args = typing.get_args(annotation)
        item = args[0] if args else str
        if typing.get_origin(item) is Literal:
            return "list", tuple(str(a) for a in typing.get_args(item))
        return "list", ()
    if origin in (typing.Union, types.UnionType):  # e.g. "str | None": edit the first type
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        if inner:
            return _kind_of(inner[0])
    return "string", ()


def _from_raw(kind: FieldKind, raw: Any) -> Any:
    """The user's input as the model expects it; text is left to pydantic to parse."""
    if not isinstance(raw, str):
        return list(raw) if kind == "list" and isinstance(raw, tuple | set) else raw
    text = raw.strip()
    if kind == "list":
        return [part.strip() for part in text.split(",") if part.strip()]
    return text


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


_TABLE = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(?:#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=(.*)$")


def read_help_texts(toml_text: str) -> dict[str, dict[str, str]]:
    """``{section: {key: comment}}`` from the ``key = value  # comment`` lines of a TOML file."""
    texts: dict[str, dict[str, str]] = {}
    section = ""
    for line in toml_text.splitlines():
        table = _TABLE.match(line)
        if table:
            section = table.group(1)
            continue
        match = _KEY.match(line)
        if match:
            comment = _trailing_comment(match.group(2))
            if comment:
                texts.setdefault(section, {})[match.group(1)] = comment
    return texts


def _trailing_comment(rest: str) -> str:
    """The text after the first ``#`` that is outside a quoted string."""
    quote = ""
    escaped = False
    for i, char in enumerate(rest):
        if quote:
            if escaped:
                escaped = False
            elif char == "\\" and quote == '"':
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#":
            return rest[i + 1 :].strip()
    return ""
