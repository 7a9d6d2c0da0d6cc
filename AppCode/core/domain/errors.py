"""The error taxonomy every layer raises and every adapter turns into a message.

Each error carries a user-facing ``message`` (what went wrong, where) and an optional ``hint``
(what to do about it). Adapters show both; tracebacks go to the log only.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "BackupError",
    "ConfigurationError",
    "ConflictError",
    "DatabaseError",
    "NotFoundError",
    "PermissionDeniedError",
    "PluginError",
    "ResourceLimitError",
    "ScriptBatchError",
    "ScriptExecutionError",
    "ScriptTimeoutError",
    "SecurityError",
]


class ScriptBatchError(Exception):
    """Base of every error ScriptBatch reports to a user."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class ConfigurationError(ScriptBatchError):
    """A setting, a command-line option or a config file is invalid."""


class NotFoundError(ScriptBatchError):
    """Something the user named (a script, a batch, an execution, a file) does not exist."""


class DatabaseError(ScriptBatchError):
    """The database cannot be opened, migrated or written."""


class ScriptExecutionError(ScriptBatchError):
    """A script could not be started or ended abnormally."""

    def __init__(
        self, message: str, *, execution_id: str | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.execution_id = execution_id


class ScriptTimeoutError(ScriptExecutionError):
    """A script ran longer than its wall-clock or CPU-time limit."""

    def __init__(self, execution_id: str | None, timeout_s: float) -> None:
        super().__init__(
            f"script exceeded its time limit of {timeout_s:g} s",
            execution_id=execution_id,
            hint="Raise the timeout (--timeout) if the script needs longer.",
        )
        self.timeout_s = timeout_s


class SecurityError(ScriptBatchError):
    """The sandbox stopped an operation its policy does not allow."""


class ResourceLimitError(ScriptBatchError):
    """A script hit a memory, file-size or process limit of its sandbox."""


class PermissionDeniedError(ScriptBatchError):
    """The current user's role does not allow an operation."""

    def __init__(self, operation: str, required: str, actual: str | None = None) -> None:
        if actual is None:
            super().__init__(
                f"'{operation}' needs the '{required}' level, and nobody is logged in",
                hint="Log in: in the app when it starts, with --user NAME on the command line, "
                "with an API token ('Authorization: Bearer ...') in the REST API.",
            )
        else:
            super().__init__(
                f"'{operation}' needs the '{required}' level, which your role '{actual}' "
                "does not have",
                hint="Ask an administrator to grant you that level.",
            )
        self.operation = operation
        self.required = required
        self.actual = actual


class AuthenticationError(ScriptBatchError):
    """Who is asking could not be established: a wrong password, an unknown or revoked
    token, a disabled user, too many failed attempts."""


class BackupError(ScriptBatchError):
    """A backup could not be created, verified or restored."""


class ConflictError(BackupError):
    """A backup operation cannot happen now because of something else going on (a restore
    while a batch runs). The API answers 409."""


class PluginError(ScriptBatchError):
    """A plugin failed to load or raised in a hook."""
