"""Plugins as Tools > Plugins shows them: the list, switching them on and off, their settings,
and the problems they run into (shown in the status bar). Every service call runs off the GUI
thread; results and errors come back as signals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError
from PyQt5.QtCore import QObject, pyqtSignal

from AppCode.core.domain.errors import ConfigurationError
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
        ``configure_failed`` naming what is wrong (nothing is saved then)."""
        view = self.find(name)
        schema = view.settings_schema if view is not None else None

        def work() -> tuple[PluginView | None, str, list[str]]:
            try:
                return self._service.configure(name, values), "", []
            except ConfigurationError as exc:
                return None, user_message(exc), wrong_fields(schema, values)

        def done(result: tuple[PluginView | None, str, list[str]]) -> None:
            saved, problem, fields = result
            if saved is None:
                self.configure_failed.emit(name, problem, fields)
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
        self.error_occurred.emit(user_message(error))

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


def wrong_fields(schema: type[BaseModel] | None, values: dict[str, Any]) -> list[str]:
    """The names of the fields of ``values`` that ``schema`` rejects (not the model-wide
    checks, which name no field)."""
    if schema is None:
        return []
    try:
        schema.model_validate(values)
    except ValidationError as exc:
        names = [str(error["loc"][0]) for error in exc.errors() if error["loc"]]
        return list(dict.fromkeys(names))
    return []
