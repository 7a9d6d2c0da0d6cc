"""Plugins: discovery, lifecycle, settings, and every call into a plugin (docs/plugins.md).

Lifecycle: discovered -> loaded (imported, its hooks checked against ``HookSpecs``) ->
enabled or disabled (the user's choice, kept in ``plugin_state``) -> unloaded at shutdown. A
plugin that fails to import, raises in a hook or overruns ``[plugins].hook_timeout_s`` is
*errored*: it is skipped, the reason is logged, stored and shown, until someone enables it again
(which also re-imports a plugin that failed to import). One that did not load in time is not
even imported until then, so a hanging import costs its budget once, not at every start. The
app never waits on a plugin longer than the budget and never lets its exception through,
``SystemExit`` and ``KeyboardInterrupt`` included.

Threads: engine events are queued by ``on_event`` (the engine's thread only enqueues) and run by
one dispatcher thread in order; each call into a plugin, its import included, runs in its own
daemon thread so that an overrunning plugin can be abandoned (a daemon thread does not keep the
process alive). Report generation called by an adapter runs on the adapter's worker thread with
the same guard.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import pluggy
from pydantic import BaseModel, ValidationError

from AppCode import __version__
from AppCode.core.domain.errors import ConfigurationError, NotFoundError, PluginError
from AppCode.core.domain.events import BatchFinished, BatchStarted, Event, ExecutionFinished
from AppCode.core.domain.models import BatchStatus
from AppCode.core.domain.ports import PluginCandidate, PluginState, UnitOfWorkFactory
from AppCode.core.security.permissions import ALLOW_ALL, AccessControl, Level, requires
from AppCode.services.plugin_spec import (
    BATCH_FINISHED,
    PROJECT,
    Attachment,
    BatchReport,
    DeliveryError,
    HookSpecs,
    Notification,
    PluginInfo,
)
from AppCode.services.settings import PluginsSettings
from AppCode.utils.validation import problems

__all__ = ["PluginProblem", "PluginService", "PluginView"]

log = logging.getLogger(__name__)

ENABLED, DISABLED, ERRORED = "enabled", "disabled", "errored"
_NOT_LOADED = "could not be loaded"  # how the error of a plugin that failed to load begins
_BUDGET = "([plugins].hook_timeout_s)"  # ends the error of a call that overran its budget
_HOOKS = tuple(name for name in vars(HookSpecs) if not name.startswith("_"))
_STOP = object()


@dataclass(frozen=True)
class PluginView:
    """A plugin as the user sees it (the plugins list, the API, the dialog)."""

    name: str
    source: str
    state: str  # enabled | disabled | errored
    error: str | None
    info: PluginInfo | None  # None when it could not be loaded
    hooks: tuple[str, ...]
    settings_schema: type[BaseModel] | None
    settings: dict[str, Any]  # its [plugins.<name>] section, defaults filled in when valid
    last_problem: str | None  # the last thing it could not deliver (DeliveryError)


@dataclass(frozen=True)
class PluginProblem:
    """Something a plugin could not do, for the user to see (status bar, stderr)."""

    plugin: str
    message: str
    errored: bool  # the plugin is now errored and skipped (else it could not deliver)


@dataclass
class _Plugin:
    name: str
    source: str
    candidate: PluginCandidate
    obj: object | None = None
    info: PluginInfo | None = None
    schema: type[BaseModel] | None = None
    config: BaseModel | None = None
    impls: dict[str, pluggy.HookImpl] = field(default_factory=dict)
    enabled: bool = False
    error: str | None = None
    # The error is its settings' (from the config file, --config or the environment): it holds
    # while those settings do, so it is not stored for later runs as other errors are.
    settings_invalid: bool = False
    last_problem: str | None = None

    @property
    def state(self) -> str:
        return ERRORED if self.error else ENABLED if self.enabled else DISABLED

    @property
    def active(self) -> bool:
        return self.enabled and not self.error and self.obj is not None


_Heard = BatchStarted | ExecutionFinished | BatchFinished  # the engine events plugins hear


class _SettingsInvalidError(PluginError):
    """A plugin's settings do not pass its schema."""


class PluginService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        discover: Callable[[], list[PluginCandidate]],
        settings: PluginsSettings,
        *,
        build_report: Callable[[str], BatchReport],
        save_settings: Callable[[], None],
        access: AccessControl = ALLOW_ALL,
        app_version: str = __version__,
    ) -> None:
        self._uow = uow
        self._discover = discover
        self._settings = settings
        self._build_report = build_report
        self._save_settings = save_settings
        self._access = access
        self._app_version = app_version
        self._lock = threading.RLock()
        self._plugins: dict[str, _Plugin] | None = None  # loaded on first use
        self._manager = pluggy.PluginManager(PROJECT)
        self._manager.add_hookspecs(HookSpecs)
        self._queue: queue.Queue[object] = queue.Queue()
        self._dispatcher: threading.Thread | None = None
        # Whether an active plugin implements on_execution_finished, as worked out when the
        # last batch started; None while not known (every such event is queued then). Any
        # change to the plugins' states bumps the generation, so an older answer is not kept.
        self._hears_executions: bool | None = None
        self._generation = 0
        # Guards the two above and the dispatcher thread; never held while plugins load or run,
        # so the engine's thread, which takes it, never waits for them.
        self._state_lock = threading.Lock()
        self._listeners: list[Callable[[PluginProblem], None]] = []

    # -- what adapters call --------------------------------------------------------------------

    @requires(Level.VIEW, "list plugins")
    def list(self) -> list[PluginView]:
        """Every plugin found, built-ins first, with its state as stored (another process,
        say the CLI, may have changed it)."""
        with self._lock:
            self._refresh_states()
            return [self._view(p) for p in self._loaded().values()]

    @requires(Level.VIEW, "view plugin")
    def get(self, name: str) -> PluginView:
        with self._lock:
            self._refresh_states()
            return self._view(self._find(name))

    @requires(Level.MANAGE, "enable plugin", audit=True)
    def enable(self, name: str) -> PluginView:
        """Switch a plugin on, at once; an errored one is cleared and, if it never loaded,
        imported again (after a fix). Raises ``PluginError`` if it still cannot load."""
        with self._lock:
            plugin = self._find(name)
            plugin.error = None
            if plugin.obj is None:
                self._import(plugin)
            else:
                try:
                    plugin.config = self._validated(plugin)
                except PluginError as exc:
                    plugin.error = str(exc)
            plugin.enabled = True
            self._states_changed()
            self._store(plugin)
            if plugin.error:
                raise PluginError(
                    f"plugin {name} could not be enabled: {plugin.error}",
                    hint="Fix the plugin (or its settings) and enable it again; the log has "
                    "the details.",
                )
            log.info("plugin %s enabled", name)
            return self._view(plugin)

    @requires(Level.MANAGE, "disable plugin", audit=True)
    def disable(self, name: str) -> PluginView:
        with self._lock:
            plugin = self._find(name)
            plugin.enabled = False
            self._store(plugin)
            log.info("plugin %s disabled", name)
            return self._view(plugin)

    @requires(Level.MANAGE, "configure plugin", audit=True)
    def configure(self, name: str, values: dict[str, Any]) -> PluginView:
        """Validate ``values`` with the plugin's schema and save them as its config section.
        Raises ``ConfigurationError`` naming each wrong field; nothing is saved then."""
        with self._lock:
            plugin = self._find(name)
            if plugin.schema is None:
                raise ConfigurationError(
                    f"plugin {name} has no settings",
                    hint="Only plugins that declare a settings schema can be configured.",
                )
            try:
                config = plugin.schema.model_validate(values)
            except ValidationError as exc:
                raise ConfigurationError(
                    f"settings of plugin {name} are not valid: {problems(exc)}",
                    hint="Correct the fields named above.",
                ) from None
            sections = self._settings.model_extra  # the plugins' own tables
            previous = sections.get(name) if sections is not None else None
            setattr(self._settings, name, config.model_dump(mode="json"))
            try:
                self._save_settings()
            except OSError as exc:  # not saved (a full disk, a read-only file): not applied
                if previous is None and sections is not None:
                    sections.pop(name, None)
                else:
                    setattr(self._settings, name, previous)
                raise ConfigurationError(
                    f"the settings of plugin {name} could not be saved: {exc.strerror or exc}",
                    hint="Check that the config file and its folder can be written.",
                ) from None
            plugin.config = config
            return self._view(plugin)

    @requires(Level.VIEW, "list plugins")
    def formats(self, kind: str = "report") -> dict[str, str]:
        """Formats the enabled plugins make, each with the plugin that makes it: reports of a
        batch (``kind`` "report") or exports of history queries ("export")."""
        with self._lock:
            self._refresh_states()
            return self._formats(kind)

    def subscribe_problems(self, listener: Callable[[PluginProblem], None]) -> Callable[[], None]:
        """``listener`` hears of every plugin problem, on the thread where it happened."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    # -- calls into plugins --------------------------------------------------------------------

    def produce(self, hook: str, fmt: str, **kwargs: Any) -> bytes:
        """The first enabled plugin's answer to ``generate_report`` or ``export_data`` in
        ``fmt``. Raises ``PluginError`` when no enabled plugin produces it or the one that
        does failed (the reason is in the message)."""
        with self._lock:
            candidates = [p for p in self._loaded().values() if p.active and hook in p.impls]
        for plugin in candidates:
            if plugin.info and plugin.info.formats and fmt not in plugin.info.formats:
                continue
            result = self._call(plugin, hook, {"format": fmt, **kwargs})
            if isinstance(result, bytes | bytearray):
                return bytes(result)
            if plugin.error:
                raise PluginError(
                    f"plugin {plugin.name} failed to make the {fmt} file: {plugin.error}",
                    hint="See Tools > Plugins or `scriptbatch plugins list`; the log has the "
                    "details.",
                )
        available = ", ".join(
            sorted(self._formats("report" if hook == "generate_report" else "export"))
        )
        raise PluginError(
            f"no enabled plugin makes {fmt!r} files",
            hint=f"Formats available: {available or 'none'}. Enable the plugin that makes "
            f"{fmt!r} files in Tools > Plugins or with `scriptbatch plugins enable NAME`.",
        )

    def on_event(self, event: Event) -> None:
        """Engine events, on the engine's thread: queue the ones plugins hear about (not an
        execution's end when no active plugin listens: one thread wake-up less per script)."""
        if isinstance(event, ExecutionFinished) and self._hears_executions is False:
            return
        if isinstance(event, _Heard):
            if isinstance(event, BatchStarted):
                self._states_changed()
            self._ensure_dispatcher()
            self._queue.put((event, self._generation))

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every queued event has been handled (the CLI waits for the batch's
        email before it exits). False if ``timeout`` passed first."""
        if self._dispatcher is None:
            return True
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def shutdown(self, timeout: float = 30.0) -> None:
        """Finish what is queued, then unload every plugin; never waits longer than
        ``timeout`` in all (whatever is still running then is left behind on its daemon
        thread)."""
        deadline = time.monotonic() + timeout
        if self._dispatcher is not None:
            self._queue.put(_STOP)
            self._dispatcher.join(timeout)
            if self._dispatcher.is_alive():
                log.warning("plugins were still busy after %g s at shutdown: left behind", timeout)
            self._dispatcher = None
        if not self._lock.acquire(timeout=max(deadline - time.monotonic(), 0)):
            log.warning("plugins were still loading at shutdown: left behind")
            return
        try:
            for plugin in (self._plugins or {}).values():
                self._unregister(plugin)
            self._plugins = None
        finally:
            self._lock.release()

    def _formats(self, kind: str) -> dict[str, str]:
        hook = "generate_report" if kind == "report" else "export_data"
        with self._lock:
            found: dict[str, str] = {}
            for plugin in self._loaded().values():
                if plugin.active and plugin.info and hook in plugin.impls:
                    for fmt in plugin.info.formats:
                        found.setdefault(fmt, plugin.name)
            return found

    # -- the dispatcher thread -----------------------------------------------------------------

    def _ensure_dispatcher(self) -> None:
        with self._state_lock:  # on the engine's thread: not the lock plugins load under
            if self._dispatcher is None or not self._dispatcher.is_alive():
                self._dispatcher = threading.Thread(
                    target=self._dispatch, name="plugin-dispatcher", daemon=True
                )
                self._dispatcher.start()

    def _dispatch(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if isinstance(item, threading.Event):
                item.set()
                continue
            event, generation = cast(tuple[_Heard, int], item)
            try:
                self._handle(event, generation)
            except Exception:
                log.exception("plugins could not handle %s", type(event).__name__)

    def _handle(self, event: _Heard, generation: int) -> None:
        with self._lock:
            if isinstance(event, BatchStarted):
                self._refresh_states()
            active = [p for p in self._loaded().values() if p.active]
        if isinstance(event, BatchStarted):
            hears = any("on_execution_finished" in p.impls for p in active)
            with self._state_lock:
                if generation == self._generation:
                    self._hears_executions = hears
        if isinstance(event, BatchStarted):
            self._broadcast(
                active, "on_batch_started", {"batch": event.batch, "executions": event.executions}
            )
        elif isinstance(event, ExecutionFinished):
            self._broadcast(active, "on_execution_finished", {"execution": event.execution})
        else:
            listeners = [p for p in active if "on_batch_finished" in p.impls]
            failed = event.batch.status is not BatchStatus.SUCCEEDED
            notified = [p for p in active if "notify" in p.impls and self._wants(p, failed)]
            if not listeners and not notified:
                return  # nobody needs the report: do not build it
            report = self._build_report(event.batch.id)
            self._broadcast(listeners, "on_batch_finished", {"report": report})
            if notified:
                self._broadcast(notified, "notify", {"event": self._notification(report)})

    def _wants(self, plugin: _Plugin, failed: bool) -> bool:
        """The plugin's ``wants_notification`` answer (yes without the hook, or if it failed)."""
        if "wants_notification" not in plugin.impls:
            return True
        return self._call(plugin, "wants_notification", {"failed": failed}) is not False

    def _broadcast(self, plugins: Sequence[_Plugin], hook: str, kwargs: dict[str, Any]) -> None:
        for plugin in plugins:
            if hook in plugin.impls and plugin.active:
                self._call(plugin, hook, kwargs)

    def _notification(self, report: BatchReport) -> Notification:
        failures = report.failures()
        total = len(report.executions)
        short = report.batch.id[:8]
        if failures:
            subject = f"ScriptBatch: batch {short} failed ({len(failures)} of {total} scripts)"
        else:
            subject = f"ScriptBatch: batch {short} succeeded ({total} scripts)"
        lines = [
            f"Batch {report.batch.id} ended {report.batch.status.value}.",
            ", ".join(f"{status}: {n}" for status, n in report.counts().items() if n)
            or "no scripts",
        ]
        if report.wall_s is not None:
            lines.append(f"Elapsed: {report.wall_s:.1f} s with {report.batch.options.jobs} jobs.")
        if failures:
            lines += ["", "Scripts that did not succeed:"]
            for execution in failures:
                detail = execution.error_message or (
                    f"exit code {execution.exit_code}" if execution.exit_code is not None else ""
                )
                lines.append(f"- {execution.script_path}: {execution.status.value} {detail}")
        attachments: tuple[Attachment, ...] = ()
        if "html" in self._formats("report"):
            try:
                html = self.produce("generate_report", "html", batch=report)
                attachments = (Attachment(f"report-{short}.html", html, "text/html"),)
            except PluginError as exc:
                lines += ["", f"(The HTML report could not be made: {exc})"]
        return Notification(
            kind=BATCH_FINISHED,
            subject=subject,
            text="\n".join(lines) + "\n",
            failed=bool(failures),
            report=report,
            attachments=attachments,
        )

    # -- guarded calls -------------------------------------------------------------------------

    def _call(self, plugin: _Plugin, hook: str, kwargs: dict[str, Any]) -> Any:
        """Run one hook of one plugin within the time budget; never raises."""
        impl = plugin.impls[hook]
        values = {**kwargs, "settings": plugin.config}
        try:
            args = [values[name] for name in impl.argnames]
        except KeyError as exc:
            self._mark_errored(plugin, f"{hook} asks for an unknown argument {exc}")
            return None
        try:
            return self._guarded(plugin.name, hook, impl.function, args)
        except DeliveryError as exc:
            plugin.last_problem = str(exc)
            log.warning("plugin %s could not deliver: %s", plugin.name, exc)
            self._tell(PluginProblem(plugin.name, str(exc), errored=False))
        except _GuardError as exc:
            if exc.__cause__:
                log.error("plugin %s: %s", plugin.name, exc, exc_info=exc.__cause__)
            self._mark_errored(plugin, str(exc))
        except Exception as exc:
            log.error("plugin %s raised in %s", plugin.name, hook, exc_info=exc)
            self._mark_errored(plugin, f"{hook} raised {type(exc).__name__}: {exc}")
        return None

    def _guarded(
        self, name: str, what: str, function: Callable[..., Any], args: Sequence[Any]
    ) -> Any:
        """``function(*args)``, a plugin's code (``what``: a hook's name, or "importing it"),
        run on a daemon thread of its own and waited for at most ``hook_timeout_s``. Raises
        what the plugin raised; ``_OverranError`` if it did not return in time (it is left
        running, abandoned); ``_EscapedError`` for ``SystemExit``, ``KeyboardInterrupt`` and
        the like, which must not end the app. A Ctrl-C while waiting still interrupts the
        caller: it arrives on the main thread, not on the plugin's."""
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["result"] = function(*args)
            except Exception as exc:
                outcome["error"] = exc
            except BaseException as exc:
                outcome["error"] = _EscapedError(what, exc)
                outcome["error"].__cause__ = exc  # the log shows where it came from

        worker = threading.Thread(target=run, name=f"plugin-{name}-{what}", daemon=True)
        worker.start()
        worker.join(self._settings.hook_timeout_s)
        if worker.is_alive():
            raise _OverranError(
                f"{what} took longer than {self._settings.hook_timeout_s:g} s {_BUDGET}"
            )
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("result")

    def _mark_errored(self, plugin: _Plugin, reason: str) -> None:
        log.error("plugin %s is errored and skipped until enabled again: %s", plugin.name, reason)
        with self._lock:
            plugin.error = reason
            self._store(plugin)
        self._tell(PluginProblem(plugin.name, reason, errored=True))

    def _tell(self, problem: PluginProblem) -> None:
        for listener in list(self._listeners):
            try:
                listener(problem)
            except Exception:
                log.exception("a plugin problem listener failed")

    # -- loading -------------------------------------------------------------------------------

    def _loaded(self) -> dict[str, _Plugin]:
        if self._plugins is None:
            self._plugins = {}
            with self._uow() as uow:
                stored = uow.plugin_states.all()
            for candidate in self._discover():
                plugin = _Plugin(candidate.name, candidate.source, candidate)
                state = stored.get(plugin.name)
                if state and state.error and _did_not_load_in_time(state.error):
                    plugin.error = state.error  # not waited for again until enabled again
                else:
                    self._import(plugin)
                if plugin.name in self._plugins:
                    first = self._plugins[plugin.name]
                    log.error(
                        "plugin %s from %s ignored: %s already has that name",
                        plugin.name,
                        plugin.source,
                        first.source,
                    )
                    # Shown with the plugin that kept the name (``plugins list``, Tools >
                    # Plugins), not only logged: the ignored one has no entry of its own.
                    first.last_problem = (
                        f"the plugin in {plugin.source} also calls itself {plugin.name} and was "
                        "ignored; give it a name of its own"
                    )
                    self._unregister(plugin)
                    continue
                state = stored.get(plugin.name)
                plugin.enabled = state.enabled if state else plugin.name in self._settings.enabled
                if state and state.error and not plugin.error:
                    plugin.error = state.error
                elif plugin.error and plugin.error != (state.error if state else None):
                    if not plugin.settings_invalid:
                        self._store(plugin)
                    self._tell(PluginProblem(plugin.name, plugin.error, errored=True))
                self._plugins[plugin.name] = plugin
            log.info(
                "plugins: %s",
                ", ".join(f"{p.name} ({p.state})" for p in self._plugins.values()) or "none",
            )
        return self._plugins

    def _import(self, plugin: _Plugin) -> None:
        """Import, register and check one plugin; any failure makes it errored."""
        self._unregister(plugin)
        plugin.obj, plugin.info, plugin.schema, plugin.config, plugin.impls = (
            None,
            None,
            None,
            None,
            {},
        )
        try:
            obj = self._guarded(plugin.name, "importing it", plugin.candidate.load, [])
            self._manager.register(obj, name=f"{plugin.candidate.source}:{plugin.candidate.name}")
        except _GuardError as exc:
            where = f"plugin {plugin.name} from {plugin.source}"
            log.error("%s %s: %s", where, _NOT_LOADED, exc, exc_info=exc.__cause__)
            plugin.error = f"{_NOT_LOADED}: {exc}"
            return
        except Exception as exc:
            log.error("plugin %s from %s %s", plugin.name, plugin.source, _NOT_LOADED, exc_info=exc)
            plugin.error = f"{_NOT_LOADED}: {type(exc).__name__}: {exc}"
            return
        unknown = [
            attr
            for attr in dir(obj)
            if attr not in _HOOKS and self._manager.parse_hookimpl_opts(obj, attr) is not None
        ]
        if unknown:
            self._manager.unregister(obj)
            plugin.error = (
                f"{_NOT_LOADED}: unknown hook {', '.join(unknown)} "
                f"(the hooks are {', '.join(_HOOKS)}; see docs/plugins.md)"
            )
            return
        plugin.obj = obj
        plugin.impls = {
            hook: impl
            for hook in _HOOKS
            for impl in getattr(self._manager.hook, hook).get_hookimpls()
            if impl.plugin is obj
        }
        try:
            info = self._guarded(plugin.name, "plugin_info", _impl(plugin, "plugin_info"), [])
            if not isinstance(info, PluginInfo):
                raise PluginError("plugin_info() must return a PluginInfo")
            if _version(self._app_version) < _version(info.min_app_version):
                raise PluginError(
                    f"needs ScriptBatch {info.min_app_version} or newer (this is "
                    f"{self._app_version})"
                )
            plugin.info = info
            plugin.name = info.name
            if "settings_schema" in plugin.impls:
                schema = self._guarded(
                    plugin.name, "settings_schema", plugin.impls["settings_schema"].function, []
                )
                if schema is not None and not (
                    isinstance(schema, type) and issubclass(schema, BaseModel)
                ):
                    raise PluginError("settings_schema() must return a pydantic model class")
                plugin.schema = schema
                plugin.config = self._validated(plugin) if schema else None
        except _SettingsInvalidError as exc:
            log.error("plugin %s %s: %s", plugin.name, _NOT_LOADED, exc)
            plugin.error = f"{_NOT_LOADED}: {exc}"
            plugin.settings_invalid = True
        except _GuardError as exc:
            log.error("plugin %s %s: %s", plugin.name, _NOT_LOADED, exc, exc_info=exc.__cause__)
            plugin.error = f"{_NOT_LOADED}: {exc}"
        except Exception as exc:
            log.error("plugin %s %s", plugin.name, _NOT_LOADED, exc_info=exc)
            plugin.error = f"{_NOT_LOADED}: {exc}"

    def _validated(self, plugin: _Plugin) -> BaseModel | None:
        if plugin.schema is None:
            return None
        raw = (self._settings.model_extra or {}).get(plugin.name, {})
        try:
            return plugin.schema.model_validate(raw if isinstance(raw, dict) else {})
        except ValidationError as exc:
            raise _SettingsInvalidError(
                f"its settings [plugins.{plugin.name}] are not valid: {problems(exc)}"
            ) from None

    def _unregister(self, plugin: _Plugin) -> None:
        if plugin.obj is not None and self._manager.is_registered(plugin.obj):
            self._manager.unregister(plugin.obj)

    def _refresh_states(self) -> None:
        plugins = self._loaded()
        with self._uow() as uow:
            stored = uow.plugin_states.all()
        for plugin in plugins.values():
            state = stored.get(plugin.name)
            if state is None:
                continue
            if state.enabled and not plugin.enabled:
                self._states_changed()  # enabled elsewhere (the CLI, the API server)
            plugin.enabled = state.enabled
            if state.error is None and plugin.error and plugin.obj is None:
                # Enabled again elsewhere after it failed to load: load it here too.
                plugin.error = None
                self._import(plugin)
                if plugin.error:
                    self._store(plugin)
                self._states_changed()
            elif state.error != plugin.error and (state.error or plugin.obj is not None):
                plugin.error = state.error  # enabled again elsewhere, or errored elsewhere
                self._states_changed()

    def _states_changed(self) -> None:
        """A plugin may have become active: queue every event again until the next batch's
        start has worked out who listens."""
        with self._state_lock:
            self._generation += 1
            self._hears_executions = None

    def _store(self, plugin: _Plugin) -> None:
        with self._uow() as uow:
            uow.plugin_states.save(PluginState(plugin.name, plugin.enabled, plugin.error))
            uow.commit()

    def _find(self, name: str) -> _Plugin:
        plugins = self._loaded()
        if name not in plugins:
            raise NotFoundError(
                f"no plugin named {name!r}",
                hint="`scriptbatch plugins list` shows the plugins found: "
                + (", ".join(plugins) or "none"),
            )
        return plugins[name]

    def _view(self, plugin: _Plugin) -> PluginView:
        raw = (self._settings.model_extra or {}).get(plugin.name, {})
        settings = plugin.config.model_dump(mode="json") if plugin.config else dict(raw or {})
        return PluginView(
            name=plugin.name,
            source=plugin.source,
            state=plugin.state,
            error=plugin.error,
            info=plugin.info,
            hooks=tuple(plugin.impls),
            settings_schema=plugin.schema,
            settings=settings,
            last_problem=plugin.last_problem,
        )


class _GuardError(Exception):
    """A call into a plugin went wrong in a way its own exceptions cannot say; the message is
    the reason shown to the user."""


class _OverranError(_GuardError):
    """A hook (or the import) did not return within the time budget."""


class _EscapedError(_GuardError):
    """The plugin raised an exception that would end the app (``SystemExit``,
    ``KeyboardInterrupt``): it is the plugin's failure instead."""

    def __init__(self, what: str, exc: BaseException) -> None:
        if isinstance(exc, SystemExit):
            code = "" if exc.code is None else repr(exc.code)
            super().__init__(f"{what} called sys.exit({code})")
        else:
            detail = f": {exc}" if str(exc) else ""
            super().__init__(f"{what} raised {type(exc).__name__}{detail}")


def _did_not_load_in_time(error: str) -> bool:
    return error.startswith(_NOT_LOADED) and error.endswith(_BUDGET)


def _impl(plugin: _Plugin, hook: str) -> Callable[..., Any]:
    if hook not in plugin.impls:
        raise PluginError(f"it has no {hook}() hook (every plugin needs one)")
    return plugin.impls[hook].function


def _version(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)
