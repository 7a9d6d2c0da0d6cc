"""Plugins as Tools > Plugins shows them: the list, switching them on and off, their settings,
and the problems they run into (shown in the status bar). Every service call runs off the GUI
thread; results and errors come back as signals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError
from PyQt5.QtCore import QObject, pyqtSignal

from AppCode.core.domain.errors import ConfigurationError, NotFoundError
from AppCode.services.plugin_service import PluginProblem, PluginService, PluginView
from AppCode.ui.viewmodels.background import Background, user_message


class PluginsViewModel(QObject):
    plugins_changed = pyqtSignal(list)  # list[PluginView], as the service lists them
    busy_changed = pyqtSignal(bool)  # a call is running (buttons wait for it)
    message = pyqtSignal(str)  # what a change did, in words
    error_occurred = pyqtSignal(str)
    configured = pyqtSignal(object)  # PluginView: its settings were saved
    # plugin name, the message, the names of the fields that are wrong (may be empty)
    configure_failed = pyqtSignal(str, str, list)
    problem = pyqtSignal(str)  # a plugin failed or could not deliver, in words
    _problem_arrived = pyqtSignal(object)  # PluginProblem, emitted on any thread

    def __init__(self, service: PluginService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self._background = Background(self)
        self._plugins: list[PluginView] = []
        self._loaded = False
        self._calls = 0
        # The service calls listeners on whatever thread the problem happened; a signal
        # emitted there reaches ``_on_problem`` queued on this object's (the GUI) thread.
        self._problem_arrived.connect(self._on_problem)
        self._unsubscribe: Callable[[], None] | None = service.subscribe_problems(
            self._problem_arrived.emit
        )

    # -- state -------------------------------------------------------------------------------

    @property
    def plugins(self) -> list[PluginView]:
        """The plugins as last loaded."""
        return list(self._plugins)

    @property
    def is_busy(self) -> bool:
        return self._calls > 0

    def find(self, name: str) -> PluginView | None:
        return next((p for p in self._plugins if p.name == name), None)

    # -- intents -----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the list in the background; ``plugins_changed`` follows."""
        self._call(self._service.list, self._on_loaded, self._on_failed)

    def set_enabled(self, name: str, enabled: bool) -> None:
        """Switch a plugin on (which also retries an errored one) or off."""
        change = self._service.enable if enabled else self._service.disable
        text = self.tr("Enabled {0}.") if enabled else self.tr("Disabled {0}.")

        def done(_view: PluginView) -> None:
            self.message.emit(text.format(name))
            self.refresh()

        def failed(error: BaseException) -> None:
            self._on_failed(error)
            self.refresh()  # a failed enable leaves the plugin errored: show that

        self._call(lambda: change(name), done, failed)

    def configure(self, name: str, values: dict[str, Any]) -> None:
        """Validate and save a plugin's settings; ``configured`` follows, or
        ``configure_failed`` naming what is wrong, by the fields' titles (nothing is saved
        then)."""
        view = self.find(name)
        schema = view.settings_schema if view is not None else None

        def work() -> tuple[PluginView | None, ConfigurationError | None, list[Any]]:
            try:
                return self._service.configure(name, values), None, []
            except ConfigurationError as exc:  # the schema's own errors say what is wrong
                return None, exc, schema_errors(schema, values)

        def done(result: tuple[PluginView | None, ConfigurationError | None, list[Any]]) -> None:
            saved, refused, errors = result
            if saved is None:
                fields = list(dict.fromkeys(str(e["loc"][0]) for e in errors if e["loc"]))
                lines = [self._explain(schema, error) for error in errors]
                message = "\n".join(lines) or (user_message(refused) if refused else "")
                self.configure_failed.emit(name, message, fields)
                return
            self._replace(saved)
            self.configured.emit(saved)
            self.message.emit(self.tr("Saved the settings of {0}.").format(name))

        self._call(work, done, self._on_failed)

    def shutdown(self) -> None:
        """Stop hearing of plugin problems (the window is closing)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    # -- helpers -----------------------------------------------------------------------------

    def _call(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        def done(result: object) -> None:
            self._finish_call()
            on_done(result)

        def failed(error: BaseException) -> None:
            self._finish_call()
            on_error(error)

        self._calls += 1
        if self._calls == 1:
            self.busy_changed.emit(True)
        self._background.submit(fn, done, failed)

    def _finish_call(self) -> None:
        self._calls -= 1
        if self._calls == 0:
            self.busy_changed.emit(False)

    def _on_loaded(self, plugins: list[PluginView]) -> None:
        self._plugins = list(plugins)
        self._loaded = True
        self.plugins_changed.emit(self.plugins)

    def _replace(self, view: PluginView) -> None:
        self._plugins = [view if p.name == view.name else p for p in self._plugins]
        self.plugins_changed.emit(self.plugins)

    def _on_failed(self, error: BaseException) -> None:
        if isinstance(error, NotFoundError):  # the service's hint names a CLI command
            message = self.tr("{problem}. The list shows the plugins found now.").format(
                problem=error.message[:1].upper() + error.message[1:]
            )
            self.error_occurred.emit(message)
            self.refresh()
            return
        self.error_occurred.emit(user_message(error))

    def _explain(self, schema: type[BaseModel] | None, error: Any) -> str:
        """One of the schema's errors in the user's terms: the field's title and plain words."""
        loc = error["loc"]
        field = schema.model_fields.get(str(loc[0])) if schema is not None and loc else None
        title = (field.title if field is not None else None) or (
            str(loc[0]).replace("_", " ").capitalize() if loc else ""
        )
        kind = error["type"]
        ctx = error.get("ctx") or {}
        if kind == "value_error" and "error" in ctx:
            problem = str(ctx["error"])  # the plugin's own words, without "Value error,"
        elif kind in {"string_too_short", "too_short"} and ctx.get("min_length", 1) <= 1:
            problem = self.tr("must not be empty")
        elif kind == "string_too_short":
            problem = self.tr("must be at least {count} characters").format(count=ctx["min_length"])
        elif kind in {"greater_than_equal", "greater_than", "less_than_equal", "less_than"}:
            words = {
                "greater_than_equal": self.tr("must be at least {limit}"),
                "greater_than": self.tr("must be more than {limit}"),
                "less_than_equal": self.tr("must be at most {limit}"),
                "less_than": self.tr("must be less than {limit}"),
            }
            limit = next(iter(ctx.values()), "")
            problem = words[kind].format(limit=limit)
        elif kind == "literal_error":
            problem = self.tr("must be one of: {choices}").format(
                choices=str(ctx.get("expected", "")).replace("'", "")
            )
        elif kind in {"int_parsing", "int_type", "int_from_float"}:
            problem = self.tr("must be a whole number")
        elif kind in {"float_parsing", "float_type", "finite_number"}:
            problem = self.tr("must be a number")
        elif kind in {"bool_parsing", "bool_type"}:
            problem = self.tr("must be on or off")
        elif kind == "missing":
            problem = self.tr("must be set")
        elif kind == "extra_forbidden":
            problem = self.tr("is not a setting of this plugin")
        else:
            problem = str(error["msg"])
        problem = problem.rstrip(".")
        if not title:  # a check of the settings together: a sentence of the plugin's
            return problem[:1].upper() + problem[1:] + "."
        return self.tr("{field}: {problem}.").format(field=title, problem=problem)

    def _on_problem(self, problem: PluginProblem) -> None:
        if problem.errored:
            text = self.tr(
                "Plugin {plugin} failed and is switched off until it is enabled again: {message}"
            )
        else:
            text = self.tr("Plugin {plugin}: {message}")
        self.problem.emit(text.format(plugin=problem.plugin, message=problem.message))
        if self._loaded:
            self.refresh()  # its state or last problem changed


def schema_errors(schema: type[BaseModel] | None, values: dict[str, Any]) -> list[Any]:
    """What ``schema`` finds wrong with ``values``, as pydantic's error records (a record with
    an empty ``loc`` is a check of the settings together)."""
    if schema is None:
        return []
    try:
        schema.model_validate(values)
    except ValidationError as exc:
        return list(exc.errors(include_url=False))
    return []
