from __future__ import annotations

import builtins

import pytest

from AppCode.core.domain import errors


@pytest.mark.parametrize(
    "cls",
    [
        errors.ScriptExecutionError,
        errors.ScriptTimeoutError,
        errors.SecurityError,
        errors.ResourceLimitError,
        errors.PermissionDeniedError,
        errors.DatabaseError,
        errors.ConfigurationError,
        errors.BackupError,
        errors.PluginError,
        errors.NotFoundError,
    ],
)
def test_every_error_is_a_scriptbatch_error(cls: type[Exception]) -> None:
    assert issubclass(cls, errors.ScriptBatchError)


def test_timeout_error_does_not_shadow_the_builtin() -> None:
    assert not hasattr(errors, "TimeoutError")
    assert not issubclass(errors.ScriptTimeoutError, builtins.TimeoutError)
    error = errors.ScriptTimeoutError("ex1", 2.5)
    assert error.timeout_s == 2.5 and error.execution_id == "ex1"
    assert "2.5 s" in error.message and error.hint


def test_errors_carry_message_and_hint() -> None:
    error = errors.BackupError("archive truncated", hint="Take a new backup.")
    assert str(error) == "archive truncated"
    assert error.hint == "Take a new backup."


def test_permission_denied_names_operation_and_level() -> None:
    error = errors.PermissionDeniedError("restore backup", "admin", "operator")
    assert "restore backup" in error.message and "admin" in error.message
    assert "operator" in error.message
