"""Starting, stopping and re-running batches; crash recovery and history retention."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from AppCode.core.domain.errors import ConfigurationError
from AppCode.core.domain.ids import new_id
from AppCode.core.domain.models import (
    Batch,
    BatchStatus,
    Execution,
    ExecutionStatus,
    RunOptions,
)
from AppCode.core.domain.ports import ProcessTable, UnitOfWork, UnitOfWorkFactory
from AppCode.core.engines.engine import BatchHandle, ExecutionEngine, LaunchPlan, default_jobs
from AppCode.core.managers.script_manager import Rejected, ScriptManager, absolute
from AppCode.core.security.permissions import ALLOW_ALL, AccessControl, Level, requires
from AppCode.core.security.policy import SandboxPolicy
from AppCode.services.history_service import find_batch
from AppCode.services.policies import (
    PolicyOverrides,
    PolicyResolver,
    policy_record,
)
from AppCode.services.settings import MAX_JOBS, MAX_RETRIES, MAX_SECONDS, ExecutionSettings
from AppCode.utils.validation import problems

__all__ = ["BatchOptions", "BatchService", "PruneReport", "ScriptPath", "StartBatch"]

log = logging.getLogger(__name__)

_PRUNE_CHUNK = 500
_MB = 1024 * 1024


def _env_name(name: str) -> str:
    if not name:
        raise ValueError("an environment variable needs a name")
    if "=" in name or "\0" in name:
        raise ValueError(f"{name!r} is not an environment variable name (it has '=' or NUL)")
    return name


def _env_value(value: str) -> str:
    if "\0" in value:
        raise ValueError("an environment variable's value cannot hold a NUL character")
    return value


ScriptPath = Annotated[str, Field(min_length=1)]
EnvName = Annotated[str, AfterValidator(_env_name)]
EnvValue = Annotated[str, AfterValidator(_env_value)]


class BatchOptions(BaseModel):
    """How to run a batch: what every adapter may ask for (the API's request body is these
    and the scripts). Unset options take their value from ``[execution]``."""

    # The bounds are those of [execution] in the config file.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    jobs: int | None = Field(
        default=None, ge=0, le=MAX_JOBS, description="scripts at once (0: one per CPU)"
    )
    timeout_s: float | None = Field(
        default=None, ge=0, le=MAX_SECONDS, description="time limit per script (0: none)"
    )
    retries: int | None = Field(
        default=None, ge=0, le=MAX_RETRIES, description="extra attempts after a failure"
    )
    # With each_args: after each line's own.
    args: list[str] = Field(default_factory=list, description="arguments for every script")
    each_args: list[list[str]] | None = Field(
        default=None, description="run each script once per argument list"
    )
    env: dict[EnvName, EnvValue] = Field(
        default_factory=dict, description="environment variables for the scripts"
    )
    python: str | None = Field(default=None, description="interpreter to run the scripts with")
    start_method: Literal["auto", "spawn", "forkserver"] | None = None
    fail_fast: bool | None = Field(default=None, description="cancel the rest after a failure")
    sandbox_policy: str | None = Field(  # None = [sandbox]'s
        default=None, min_length=1, description="off, standard, strict or a custom policy name"
    )
    no_sandbox: bool = False
    sandbox_overrides: PolicyOverrides | None = None
    backend: Literal["local", "dask"] | None = Field(  # None = [execution] backend
        default=None,
        description="run on this machine, or on the Dask cluster of the configuration",
    )
    note: str | None = Field(default=None, max_length=2000)


class StartBatch(BatchOptions):
    """A request to run scripts, from the GUI, the CLI or the API."""

    paths: list[ScriptPath] = Field(min_length=1)
    scheduler: str | None = Field(default=None, max_length=1000)  # None = [execution]'s
    created_by: str | None = None


@dataclass
class PruneReport:
    executions: int = 0
    log_files: int = 0


class BatchService:
    """Use cases of running scripts, shared by the GUI, the CLI and the API."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        engine: ExecutionEngine,
        scripts: ScriptManager,
        processes: ProcessTable,
        resolve_python: Callable[[str], str],
        flush_results: Callable[[float], bool],
        defaults: ExecutionSettings,
        runs_dir: Path,
        remove_log: Callable[[str], None],
        policies: PolicyResolver,
        access: AccessControl = ALLOW_ALL,
    ) -> None:
        self._uow = uow
        self._access = access
        self._engine = engine
        self._scripts = scripts
        self._processes = processes
        self._resolve_python = resolve_python
        self._flush_results = flush_results
        self._defaults = defaults
        self._runs_dir = runs_dir
        self._remove_log = remove_log
        self._policies = policies

    # -- running -------------------------------------------------------------------------------

    @requires(Level.EXECUTE, "run batch", audit=True)
    def start(
        self,
        request: StartBatch | dict[str, object],
        *,
        on_skipped: Callable[[Rejected], None] | None = None,
    ) -> BatchHandle:
        """Validate the request, store the batch and all its executions in one transaction, and
        hand it to the engine. Returns at once; the batch runs in the background.

        Scripts found in a folder that cannot be run (a name that is not UTF-8) are left out
        and passed to ``on_skipped``; the rest runs."""
        request = _validated(request)
        scripts = self._expand(request.paths, on_skipped or (lambda rejected: None))
        if request.each_args is not None:
            arg_lists = [[*line, *request.args] for line in request.each_args]
        else:
            arg_lists = [request.args]
        if not arg_lists:
            raise ConfigurationError(
                "the argument list is empty, so there is nothing to run",
                hint="Put one line of arguments per run in the --each-args file.",
            )
        options = self._options(request)
        policy = self._policy(request)
        options = replace(options, sandbox_policy=policy.name, sandbox=policy_record(policy))
        batch = Batch(
            id=new_id(), options=options, created_by=request.created_by, note=request.note
        )
        batch.owner_pid, batch.owner_host, batch.owner_token = self._processes.current_owner()
        executions = [
            Execution(
                id=new_id(),
                batch_id=batch.id,
                sequence=sequence,
                script_path=path,
                args=tuple(args),
                env=dict(request.env),
            )
            for sequence, (path, args) in enumerate(
                (path, args) for path in scripts for args in arg_lists
            )
        ]
        return self._submit(batch, executions, policy)

    @requires(Level.EXECUTE, "rerun batch", audit=True)
    def rerun(self, batch_ref: str, *, failed_only: bool = False) -> BatchHandle:
        """A new batch with the scripts and arguments of an old one (only those that did not
        succeed, with ``failed_only``), and its options."""
        self._flush_results(30.0)  # a batch that just finished: its final statuses stored
        with self._uow() as uow:
            old = self._find_batch(uow, batch_ref)
            previous = uow.executions.of_batch(old.id)
        if failed_only:
            previous = [e for e in previous if e.status is not ExecutionStatus.SUCCEEDED]
            if not previous:
                raise ConfigurationError(
                    f"every execution of batch {old.id} succeeded: nothing to re-run",
                    hint="Leave out --failed to run the whole batch again.",
                )
        if old.options.python and old.options.python != sys.executable:
            self._resolve_python(old.options.python)  # still there and working (a virtualenv)
        batch = Batch(id=new_id(), options=old.options, note=f"re-run of {old.id}")
        batch.owner_pid, batch.owner_host, batch.owner_token = self._processes.current_owner()
        executions = [
            Execution(
                id=new_id(),
                batch_id=batch.id,
                sequence=sequence,
                script_path=e.script_path,
                args=e.args,
                env=dict(e.env),
            )
            for sequence, e in enumerate(previous)
        ]
        if old.options.sandbox is not None:
            policy = self._policies.restore(old.options.sandbox)  # as it was, overrides and all
        else:  # stored before the resolved policy was kept: the best that is known
            policy = self._policies.resolve(old.options.sandbox_policy)
        return self._submit(batch, executions, policy)

    @requires(Level.EXECUTE, "cancel batch", audit=True)
    def cancel(self, batch_id: str) -> bool:
        """Stop a running batch (pending executions never start; running ones are killed)."""
        return self._engine.cancel_batch(batch_id, by_user=True)

    @requires(Level.EXECUTE, "cancel execution", audit=True)
    def cancel_execution(self, execution_id: str) -> bool:
        return self._engine.cancel_execution(execution_id)

    def wait(self, handle: BatchHandle, timeout: float | None = None) -> bool:
        """Wait until the batch has finished and its results are stored."""
        if not handle.wait(timeout):
            return False
        return self._flush_results(30.0)

    @requires(Level.VIEW, "view output")
    def live_output(self, execution_id: str) -> tuple[int, list[tuple[str, str]]]:
        """The last lines of a running execution, and the seq of the last output event they
        include (later ``OutputAppended`` events continue exactly where they end)."""
        return self._engine.live_output(execution_id)

    def is_running(self) -> bool:
        """Whether this process runs a batch."""
        return bool(self._engine.active_batches())

    def running_anywhere(self) -> bool:
        """Whether any live process (this one, a CLI run, the API server) runs a batch on
        this database."""
        if self.is_running():
            return True
        with self._uow() as uow:
            return any(
                self._processes.owner_alive(b.owner_pid, b.owner_host, b.owner_token)
                for b in uow.batches.unfinished()
            )

    def _submit(
        self,
        batch: Batch,
        executions: list[Execution],
        policy: SandboxPolicy,
    ) -> BatchHandle:
        """Store and start the batch; a script with a pinned policy runs under it whatever
        ``policy`` is, ``off`` (``--no-sandbox``) included: a pin is there to hold."""
        # Reach a cluster before anything is stored (an unreachable scheduler or mismatched
        # workers are a usage error, not a batch of failures); a local runner starts its fork
        # server while the batch is stored.
        capacity = self._engine.prepare(batch.options)
        if batch.options.jobs == 0:  # a cluster's size, once asked (RunOptions says 0 only then)
            batch.options = replace(batch.options, jobs=capacity or default_jobs(0))
        pins = self._link_library_scripts(executions)
        run_dir = str(self._runs_dir / batch.id)
        pinned: dict[str, SandboxPolicy] = {}
        planned: dict[str, dict[str, object]] = {}  # policy name -> the record until it runs
        plans = {}
        for e in executions:
            chosen = policy
            pin = pins.get(e.script_path)
            if pin:
                if pin not in pinned:
                    pinned[pin] = self._policies.resolve(pin)
                chosen = pinned[pin]
            plans[e.id] = LaunchPlan(
                log_path=os.path.join(run_dir, f"{e.id}.log"),
                sandbox=chosen if chosen.enabled else None,
            )
            # Until it runs (and if it never does: cancelled, interrupted), an execution shows
            # the policy it is to run under, with no layers yet; its run records what held.
            name = chosen.name if chosen.enabled else "off"
            if name not in planned:
                planned[name] = {"policy": name, "layers": [], "degraded": False}
            e.sandbox = planned[name]
            e.log_path = plans[e.id].log_path
        with self._uow() as uow:
            uow.batches.add(batch, executions)
            uow.commit()
        log.info(
            "batch %s: %d executions, %d at a time", batch.id, len(executions), batch.options.jobs
        )
        return self._engine.submit(batch, executions, plans)

    def _expand(self, paths: Sequence[str], on_skipped: Callable[[Rejected], None]) -> list[str]:
        scripts: list[str] = []
        for given in paths:
            path = absolute(given)
            if os.path.isdir(path):
                discovery = self._scripts.discover([path])
                for rejected in discovery.rejected:
                    log.warning("skipped %r: %s", rejected.path, rejected.reason)
                    on_skipped(rejected)
                found = discovery.files
                if not found:
                    raise ConfigurationError(
                        f"no Python scripts (*.py) in folder {path}",
                        hint="Give a folder that contains scripts, or the scripts themselves.",
                    )
                scripts.extend(found)
            else:
                # A missing file is run anyway and recorded as failed ("script not found"), so
                # that the rest of the batch still runs and the miss is in the history.
                scripts.append(path)
        return scripts

    def _options(self, request: StartBatch) -> RunOptions:
        d = self._defaults
        backend = request.backend or d.backend
        if backend == "dask" and request.python:
            raise ConfigurationError(
                "--python does not apply to a Dask cluster: scripts run with the workers' "
                "own Python",
                hint="Leave out --python, or run on this computer with --backend local.",
            )
        python = self._resolve_python(request.python if request.python is not None else d.python)
        method = request.start_method or d.start_method
        # PYTHON* variables of a run are read at interpreter start-up, which forked children
        # skip: such runs need fresh interpreters (the fork server applies PYTHONPATH itself).
        startup_env = sorted(k for k in request.env if k.startswith("PYTHON") and k != "PYTHONPATH")
        if method == "auto":
            own = os.path.abspath(python) == os.path.abspath(sys.executable)
            on_linux = sys.platform == "linux" or backend == "dask"  # a Dask worker forks there
            fork = (own or backend == "dask") and on_linux and not startup_env
            method = "forkserver" if fork else "spawn"
        elif method == "forkserver" and startup_env:
            raise ConfigurationError(
                f"{', '.join(startup_env)} would be ignored with the forkserver start method: "
                "Python reads it when an interpreter starts, and forkserver scripts are forked "
                "from one that has started already",
                hint="Use the spawn (or auto) start method for this run.",
            )
        elif method == "forkserver" and sys.platform != "linux" and backend != "dask":
            raise ConfigurationError(
                "the forkserver start method is only available on Linux",
                hint="Use --start-method spawn (or auto).",
            )
        timeout = request.timeout_s if request.timeout_s is not None else d.timeout_s
        jobs = request.jobs if request.jobs is not None else d.jobs
        return RunOptions(
            # On a cluster, 0 (one per core) becomes the cluster's size once it is asked.
            jobs=0 if backend == "dask" and jobs == 0 else default_jobs(jobs),
            timeout_s=timeout or None,
            retries=request.retries if request.retries is not None else d.retries,
            retry_backoff_s=d.retry_backoff_s,
            retry_on=tuple(ExecutionStatus(s) for s in d.retry_on),
            kill_grace_s=d.kill_grace_s,
            fail_fast=request.fail_fast if request.fail_fast is not None else d.fail_fast,
            python=python,
            start_method=method,
            max_log_bytes=d.max_log_mb * _MB,
            backend=backend,
            scheduler=(request.scheduler if request.scheduler is not None else d.dask_scheduler)
            if backend == "dask"
            else "",
        )

    def _link_library_scripts(self, executions: list[Execution]) -> dict[str, str]:
        """Link executions to their library scripts; returns the pinned sandbox policies
        (script path -> policy name)."""
        paths = {e.script_path for e in executions}
        with self._uow() as uow:
            known = [s for s in uow.scripts.list() if s.path in paths]
        ids = {s.path: s.id for s in known}
        for execution in executions:
            execution.script_id = ids.get(execution.script_path)
        return {s.path: s.sandbox_policy for s in known if s.sandbox_policy}

    def _policy(self, request: StartBatch) -> SandboxPolicy:
        if request.no_sandbox:
            given = request.sandbox_overrides.given() if request.sandbox_overrides else []
            if request.sandbox_policy and request.sandbox_policy.strip() != "off":
                given.insert(0, f"policy {request.sandbox_policy!r}")
            if given:
                raise ConfigurationError(
                    f"the sandbox is turned off (--no-sandbox), so {', '.join(given)} cannot apply",
                    hint="Leave out --no-sandbox, or leave out the sandbox options.",
                )
            return self._policies.resolve("off")
        return self._policies.resolve(request.sandbox_policy, request.sandbox_overrides)

    @requires(Level.VIEW, "list sandbox policies")
    def policies(self) -> list[str]:
        """Policy names a batch can use (built-ins and custom files)."""
        return self._policies.available()

    @requires(Level.VIEW, "list sandbox policies")
    def default_policy(self) -> str:
        """The policy a batch gets when it names none (``[sandbox]``)."""
        return self._policies.default_name()

    @staticmethod
    def _find_batch(uow: UnitOfWork, ref: str) -> Batch:
        return find_batch(uow, ref)

    # -- start-up duties -------------------------------------------------------------------------

    def recover_interrupted(self, *, all_unfinished: bool = False) -> int:
        """Executions left running or pending by an app that died become ``interrupted``, their
        leftover processes are ended, and their batches are closed as failed. Finished results
        are not touched. Returns how many executions were marked.

        With ``all_unfinished`` every unfinished batch is closed, also one whose recorded owner
        is alive: after a restore (refused while a batch runs) the restored rows are from the
        past, though they may name this very process as their owner."""
        marked = 0
        now = datetime.now(UTC)
        with self._uow() as uow:
            for batch in uow.batches.unfinished():
                if not all_unfinished and self._processes.owner_alive(
                    batch.owner_pid, batch.owner_host, batch.owner_token
                ):
                    continue
                stale = [e for e in uow.executions.of_batch(batch.id) if not e.status.is_final]
                for execution in stale:
                    if execution.pid is not None:
                        self._processes.kill_leftover(execution.pid, execution.pid_started_at)
                    execution.status = ExecutionStatus.INTERRUPTED
                    execution.finished_at = now
                    execution.error_type = "Interrupted"
                    execution.error_message = (
                        "ScriptBatch stopped while this script was queued"
                        if execution.attempts == 0
                        else "ScriptBatch stopped while this ran"
                    )
                uow.executions.update(stale)
                batch.status = BatchStatus.FAILED
                batch.finished_at = now
                uow.batches.set_status(batch)
                marked += len(stale)
                log.warning("batch %s was interrupted: %d executions marked", batch.id, len(stale))
            uow.commit()
        return marked

    @requires(Level.MANAGE, "delete history", audit=True)
    def prune(self, older_than: timedelta) -> PruneReport:
        """Delete finished executions older than ``older_than`` with their log files, in one
        transaction per chunk of 500 so a huge history never holds a long lock."""
        try:
            cutoff = datetime.now(UTC) - older_than
        except OverflowError:  # older than the calendar: nothing is
            return PruneReport()
        report = PruneReport()
        while True:
            with self._uow() as uow:
                chunk = uow.executions.oldest_before(cutoff, _PRUNE_CHUNK)
                if not chunk:
                    break
                uow.executions.delete([e.id for e in chunk])
                uow.commit()
            report.executions += len(chunk)
            for execution in chunk:
                if execution.log_path:
                    self._remove_log(execution.log_path)
                    report.log_files += 1
        return report


def _validated(request: StartBatch | dict[str, object]) -> StartBatch:
    if isinstance(request, StartBatch):
        return request
    try:
        return StartBatch.model_validate(request)
    except ValidationError as exc:
        raise ConfigurationError(f"invalid batch request: {problems(exc, 'request')}") from None
