"""The composition root: the one place that names the concrete infrastructure and wires it up.

Adapters (GUI, CLI, API) call ``build()`` at start-up, take services from the container and pass
them on; services never reach into the container themselves. Tests override providers with fakes
(``container.uow.override(...)``) or build a container on a temporary data directory.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

from AppCode.utils.imports import import_without

# dependency_injector imports FastAPI, Starlette and Werkzeug (to recognise their markers in
# @inject), PyYAML (for Configuration.from_yaml) and pydantic-settings (from_pydantic) when they
# are installed: ~0.35 s of every CLI command. ScriptBatch uses neither wiring nor those
# Configuration loaders, so those imports are skipped here; the API imports FastAPI itself when
# it is served.
with import_without(
    "fastapi", "starlette", "werkzeug", "fast_depends", "yaml", "pydantic_settings"
):
    from dependency_injector import containers, providers
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from AppCode.core.domain.errors import DatabaseError
from AppCode.core.engines.engine import ExecutionEngine
from AppCode.core.engines.event_bus import EventBus
from AppCode.core.managers.script_manager import ScriptManager
from AppCode.infrastructure.data.database import (
    create_database_engine,
    sqlite_damage,
    sqlite_url,
)
from AppCode.infrastructure.data.migrations import Migrator
from AppCode.infrastructure.data.result_writer import ResultWriter
from AppCode.infrastructure.data.unit_of_work import SqlUnitOfWork, unit_of_work_factory
from AppCode.infrastructure.execution.backends import BackendRunner
from AppCode.infrastructure.execution.local_runner import LocalRunner
from AppCode.infrastructure.execution.log_file import read_log, remove_log
from AppCode.infrastructure.execution.processes import PsutilProcessTable
from AppCode.infrastructure.execution.python_env import resolve_python
from AppCode.infrastructure.execution.system_load import system_load
from AppCode.infrastructure.logging.setup import configure_logging
from AppCode.infrastructure.monitoring.sampler import PsutilSampler
from AppCode.infrastructure.plugins.discovery import discover_plugins
from AppCode.infrastructure.storage.backups import ZipBackupArchiver, recover_interrupted_restore
from AppCode.infrastructure.storage.cache import TTLCacheManager
from AppCode.infrastructure.storage.data_dir import prepare_data_dir
from AppCode.services.access import SessionAccess
from AppCode.services.backup_service import BackupService
from AppCode.services.batch_service import BatchService
from AppCode.services.history_service import HistoryService
from AppCode.services.monitoring_service import MonitoringService
from AppCode.services.plugin_service import PluginService
from AppCode.services.policies import PolicyResolver
from AppCode.services.report_service import BatchReportBuilder, ReportService
from AppCode.services.script_service import ScriptService
from AppCode.services.settings import Settings, load_settings, save_user_settings
from AppCode.services.settings_service import SettingsService
from AppCode.services.user_service import UserService
from AppCode.utils.data_dir import DataDir
from AppCode.utils.resources import bundled_path

log = logging.getLogger(__name__)

EXAMPLE_TAG = "example"


def _database_engine(url: str) -> Iterator[Engine]:
    engine = create_database_engine(url)
    yield engine
    engine.dispose()


def _result_writer(
    engine: Engine, session_factory: sessionmaker[Session], bus: EventBus
) -> Iterator[ResultWriter]:
    writer = ResultWriter(engine, session_factory)
    unsubscribe = bus.subscribe(writer.on_event)
    yield writer
    unsubscribe()
    writer.close()


def _execution_engine(
    bus: EventBus,
    writer: ResultWriter,  # the writer outlives the engine: it stores its last events
) -> Iterator[ExecutionEngine]:
    engine = ExecutionEngine(BackendRunner(LocalRunner()), bus)
    yield engine
    engine.stop()


def _monitoring_service(
    uow: Callable[[], SqlUnitOfWork],
    cache: TTLCacheManager,
    settings: Settings,
    engine: ExecutionEngine,
    writer: ResultWriter,
    bus: EventBus,
    access: SessionAccess,
) -> Iterator[MonitoringService]:
    service = MonitoringService(
        PsutilSampler,
        uow,
        cache,
        settings.monitoring,
        queue_depth=engine.queue_depth,
        flush_results=writer.flush,
        sandbox=settings.sandbox,
        access=access,
    )
    unsubscribe = bus.subscribe(service.on_event)
    yield service
    unsubscribe()
    service.stop()


def _plugin_service(
    uow: Callable[[], SqlUnitOfWork],
    data_dir: DataDir,
    settings: Settings,
    config_file: Path,
    builder: BatchReportBuilder,
    bus: EventBus,
    access: SessionAccess,
) -> Iterator[PluginService]:
    service = PluginService(
        uow,
        functools.partial(discover_plugins, data_dir.plugins),
        settings.plugins,
        build_report=builder,
        save_settings=functools.partial(save_user_settings, config_file, settings),
        access=access,
    )
    unsubscribe = bus.subscribe(service.on_event)
    yield service
    unsubscribe()
    service.shutdown(timeout=settings.plugins.hook_timeout_s)


def _database_url(settings: Settings, data_dir: DataDir) -> str:
    return settings.database.url or sqlite_url(data_dir.database)


def _protected_paths(settings: Settings, data_dir: DataDir, config_file: Path) -> list[str]:
    """What no script may touch, whatever folders its policy grants: the data directory, and
    the database file (with SQLite's side files), the backup folder and the config file
    where they lie elsewhere."""
    paths = [str(data_dir.root), str(config_file)]
    backups = settings.backup.directory.strip()
    paths.append(str(data_dir.root / Path(backups).expanduser()) if backups else "")
    try:
        url = make_url(settings.database.url) if settings.database.url else None
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        url = None  # the database refuses it at start-up
    if (
        url is not None
        and url.get_backend_name() == "sqlite"
        and url.database not in (None, "", ":memory:")
    ):
        database = os.path.abspath(Path(str(url.database)).expanduser())  # as SQLite opens it
        paths.extend(database + suffix for suffix in ("", "-wal", "-shm", "-journal"))
    return paths


def _cache_regions(settings: Settings) -> dict[str, tuple[int, float]]:
    cache = settings.cache
    return {
        "scripts": (cache.scripts_size, cache.ttl_s),
        "history": (cache.history_size, cache.ttl_s),
        "config": (32, cache.ttl_s),
    }


class AfterRestore:
    """What a restore needs once the backup's data is in place: the schema migrated forward
    and the settings re-read from the restored config file into the live settings object."""

    def __init__(self, migrator: Migrator, settings: Settings, config_file: Path) -> None:
        self._migrator = migrator
        self._settings = settings
        self._config_file = config_file

    def __call__(self) -> None:
        self._migrator.ensure_current()
        fresh = load_settings(self._config_file)
        # Field by field into the existing section objects: services hold those objects.
        for section in Settings.model_fields:
            current, restored = getattr(self._settings, section), getattr(fresh, section)
            for key in type(current).model_fields:
                setattr(current, key, getattr(restored, key))
            for key, value in (restored.model_extra or {}).items():
                setattr(current, key, value)


class Container(containers.DeclarativeContainer):
    data_dir = providers.Dependency(instance_of=DataDir)
    settings = providers.Dependency(instance_of=Settings)
    config_file = providers.Dependency(instance_of=Path)

    database_url = providers.Callable(_database_url, settings, data_dir)
    database = providers.Resource(_database_engine, database_url)
    migrator = providers.Singleton(Migrator, database)
    session_factory = providers.Singleton(unit_of_work_factory, database)
    uow = providers.Factory(SqlUnitOfWork, database, session_factory, data_dir.provided.runs)

    access = providers.Singleton(SessionAccess, uow.provider, settings.provided.auth)
    user_service = providers.Singleton(UserService, uow.provider, access)
    settings_service = providers.Singleton(SettingsService, config_file, access)
    cache = providers.Singleton(TTLCacheManager, providers.Callable(_cache_regions, settings))
    script_manager = providers.Singleton(ScriptManager)
    script_service = providers.Singleton(
        ScriptService, uow=uow.provider, cache=cache, manager=script_manager, access=access
    )

    event_bus = providers.Singleton(EventBus)
    result_writer = providers.Resource(_result_writer, database, session_factory, event_bus)
    execution_engine = providers.Resource(_execution_engine, event_bus, result_writer)
    process_table = providers.Singleton(PsutilProcessTable)
    # The interpreter scripts run with, checked to be a working Python (--python, Settings).
    python_checker = providers.Object(resolve_python)
    policy_resolver = providers.Singleton(
        PolicyResolver,
        settings.provided.sandbox,
        data_dir.provided.policies,
        providers.Callable(functools.partial, _protected_paths, settings, data_dir, config_file),
    )
    batch_service = providers.Singleton(
        BatchService,
        uow=uow.provider,
        engine=execution_engine,
        scripts=script_manager,
        processes=process_table,
        resolve_python=python_checker,
        flush_results=result_writer.provided.flush,
        defaults=settings.provided.execution,
        runs_dir=data_dir.provided.runs,
        remove_log=providers.Object(remove_log),
        policies=policy_resolver,
        access=access,
    )
    backup_archiver = providers.Singleton(
        ZipBackupArchiver,
        database,
        data_dir.provided.root,
        config_file,
        migrator.provided.current,
    )
    backup_service = providers.Singleton(
        BackupService,
        uow=uow.provider,
        archiver=backup_archiver,
        settings=settings.provided.backup,
        data_root=data_dir.provided.root,
        default_directory=data_dir.provided.backups,
        access=access,
        batch_running=batch_service.provided.running_anywhere,
        after_restore=providers.Singleton(AfterRestore, migrator, settings, config_file),
        cache=cache,
        # A restored database has no running batch (restore is refused while one runs).
        close_unfinished_batches=providers.Callable(
            functools.partial, batch_service.provided.recover_interrupted, all_unfinished=True
        ),
    )
    system_load = providers.Object(system_load)
    monitoring_service = providers.Resource(
        _monitoring_service,
        uow.provider,
        cache,
        settings,
        execution_engine,
        result_writer,
        event_bus,
        access,
    )
    report_builder = providers.Singleton(
        BatchReportBuilder,
        uow=uow.provider,
        read_log=providers.Object(read_log),
        flush_results=result_writer.provided.flush,
    )
    plugin_service = providers.Resource(
        _plugin_service,
        uow.provider,
        data_dir,
        settings,
        config_file,
        report_builder,
        event_bus,
        access,
    )
    report_service = providers.Singleton(
        ReportService,
        uow=uow.provider,
        plugins=plugin_service,
        build_report=report_builder,
        flush_results=result_writer.provided.flush,
        access=access,
    )
    history_service = providers.Singleton(
        HistoryService,
        uow=uow.provider,
        cache=cache,
        read_log=providers.Object(read_log),
        flush_results=result_writer.provided.flush,
        access=access,
    )


def build(
    data_dir: str | Path | None = None,
    config_file: str | Path | None = None,
    *,
    migrate: bool = True,
) -> Container:
    """Open the data directory and its database (migrated to the current schema).

    ``data_dir``: ``--data-dir``, else ``$SCRIPTBATCH_HOME``, else the per-user data directory.
    ``config_file``: ``--config``, else ``<data-dir>/config.toml``. Raises ``ConfigurationError``
    or ``DatabaseError`` with a message for the user. Call ``shutdown_resources()`` when done.
    ``migrate=False`` leaves the database unopened, for commands that open it themselves:
    ``scriptbatch db ...`` (``upgrade_schema``) and the backup commands that must work on a
    damaged database (``open_database(allow_damaged=True)``).
    """
    where = DataDir.resolve(data_dir)
    prepare_data_dir(where)
    leftover = recover_interrupted_restore(where.database)
    user_config = Path(config_file).expanduser().resolve() if config_file else where.config_file
    settings = load_settings(user_config, must_exist=config_file is not None)
    log_file = configure_logging(where.logs, settings.logging.level)
    log.info("starting with data directory %s (log %s)", where.root, log_file)
    if leftover:
        log.warning("found %s; cleaned up", leftover)

    container = Container(data_dir=where, settings=settings, config_file=user_config)
    container.init_resources()
    if not migrate:
        return container
    try:
        open_database(container)
    except BaseException:
        container.shutdown_resources()
        raise
    return container


def open_database(container: Container, *, allow_damaged: bool = False) -> str | None:
    """Start-up upkeep: migrate the schema (``upgrade_schema``), mark runs a dead app left
    behind, apply the history retention.

    With ``allow_damaged`` (the backup commands that must help when the database is broken),
    a damaged SQLite file is not an error: nothing is done and what is wrong is returned.
    Raises ``DatabaseError`` otherwise.
    """
    try:
        upgrade_schema(container)
        retention_days = container.settings().history.retention_days
        with container.access().system():
            batches = container.batch_service()
            batches.recover_interrupted()
            if retention_days:
                batches.prune(timedelta(days=retention_days))
    except DatabaseError:
        problem = sqlite_damage(container.database()) if allow_damaged else None
        if problem is None:
            raise
        log.warning("the database is damaged (%s); going on without it", problem)
        return problem
    return None


def upgrade_schema(container: Container, target: str = "head") -> tuple[str | None, str | None]:
    """The one way the schema is upgraded, at start-up and by ``scriptbatch db upgrade``:
    check the upgrade can happen (a database from a newer ScriptBatch, an unknown or older
    target are refused before anything is written), take a pre-migration backup when an
    existing database is about to change, then migrate. Returns the revisions before and
    after."""
    migrator = container.migrator()
    before, goal = migrator.plan(target)
    if before is not None and before != goal:
        with container.access().system():
            container.backup_service().create(kind="pre-migration", note=f"before {before}")
    return migrator.upgrade(goal)


def install_examples(container: Container) -> bool:
    """On a data directory's first GUI start, copy the bundled example scripts into
    ``<data-dir>/examples`` and register them (tagged "example"). Returns True if it did."""
    target = container.data_dir().examples
    if target.exists():
        return False
    shutil.copytree(bundled_path("examples"), target, ignore=shutil.ignore_patterns("__pycache__"))
    with container.access().system():
        container.script_service().add([target], tags=[EXAMPLE_TAG])
    log.info("example scripts installed in %s", target)
    return True
