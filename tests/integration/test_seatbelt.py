"""macOS's OS sandbox layer (``sandbox-exec``): the generated profile, the launch under it, and
what the child reports where no OS sandbox holds. CI runs on Linux, so the launch is checked
with a stand-in ``sandbox-exec`` that records its profile and runs the rest of the command."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from AppCode.core.domain.models import ExecutionStatus
from AppCode.core.security.policy import ScriptSandbox, builtin_policy
from AppCode.infrastructure.execution import local_runner, seatbelt


def _sandbox(level: str, tmp_path: Path, *extra_write: str) -> ScriptSandbox:
    """What the runner makes of a policy for one script (see LocalRunner._prepare_sandbox)."""
    policy = builtin_policy(level, allowed_read_paths=("/srv/data",))  # type: ignore[arg-type]
    script_dir, temp_dir = str(tmp_path / "scripts"), str(tmp_path / "run-tmp")
    return ScriptSandbox(
        policy=policy,
        script_dir=script_dir,
        temp_dir=temp_dir,
        write_paths=(script_dir, temp_dir, *extra_write),
        read_paths=(script_dir, temp_dir, "/srv/data"),
    )


def _balanced(text: str) -> bool:
    """Parentheses balance outside string literals, and every string literal is closed."""
    depth, in_string, i = 0, False, 0
    while i < len(text):
        char = text[i]
        if in_string:
            if char == "\\":
                i += 1  # the escaped character
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "()":
            depth += 1 if char == "(" else -1
            if depth < 0:
                return False
        i += 1
    return depth == 0 and not in_string


def test_standard_denies_by_default_and_allows_writes_only_in_the_run_folders(
    tmp_path: Path,
) -> None:
    text = seatbelt.profile(_sandbox("standard", tmp_path), sys.executable)
    lines = text.splitlines()
    assert lines[:2] == ["(version 1)", "(deny default)"]
    write = next(line for line in lines if line.startswith("(allow file-write* (subpath"))
    assert f'(subpath "{tmp_path / "scripts"}")' in write
    assert f'(subpath "{tmp_path / "run-tmp"}")' in write
    assert "(allow file-read*)" in lines  # standard reads anywhere
    assert "(allow network*)" in lines
    assert "(allow process-exec)" in lines and "(allow process-fork)" in lines
    assert _balanced(text)


def test_strict_limits_reads_network_and_programs(tmp_path: Path) -> None:
    text = seatbelt.profile(_sandbox("strict", tmp_path), sys.executable)
    lines = text.splitlines()
    read = next(line for line in lines if line.startswith("(allow file-read* "))
    for folder in (tmp_path / "scripts", "/srv/data", "/usr/lib", "/System"):
        assert f'(subpath "{folder}")' in read
    bootstrap_dir = Path(local_runner.bootstrap.__file__).resolve().parent
    assert f'(subpath "{bootstrap_dir}")' in read
    prefix = Path(os.path.realpath(sys.executable)).parent.parent
    assert f'(subpath "{prefix}")' in read
    assert "(allow file-read*)" not in lines
    assert not any(line.startswith("(allow network*") for line in lines)
    assert "(allow process-fork)" not in lines
    exec_line = next(line for line in lines if line.startswith("(allow process-exec"))
    assert f'(literal "{os.path.realpath(sys.executable)}")' in exec_line
    assert _balanced(text)


def test_paths_are_quoted_and_control_characters_refused(tmp_path: Path) -> None:
    odd = tmp_path / 'say "hi" \\ there'
    sandbox = _sandbox("standard", tmp_path, str(odd))
    text = seatbelt.profile(sandbox, sys.executable)
    assert '(subpath "' + str(odd).replace("\\", "\\\\").replace('"', '\\"') + '")' in text
    assert _balanced(text)
    bad = _sandbox("standard", tmp_path, str(tmp_path / "a\nb"))
    with pytest.raises(OSError, match="control character"):
        seatbelt.profile(bad, sys.executable)


def test_a_sandboxed_spawn_starts_under_sandbox_exec(
    container, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    recorded = tmp_path / "profile.sb"
    fake = tmp_path / "sandbox-exec"
    fake.write_text(f'#!/bin/sh\n[ "$1" = "-p" ] || exit 99\nprintf "%s" "$2" > {recorded}\n')
    fake.write_text(fake.read_text() + 'shift 2\nexec "$@"\n')
    fake.chmod(0o755)
    monkeypatch.setattr(seatbelt, "SANDBOX_EXEC", str(fake))
    monkeypatch.setattr(local_runner, "USE_SEATBELT", True)
    monkeypatch.setattr(local_runner, "SPAWN_THROUGH_FORK_SERVER", False)
    folder = tmp_path / "scripts"
    folder.mkdir()
    (folder / "hello.py").write_text("print('hello from the sandbox')\n")
    service = container.batch_service()
    handle = service.start(
        {"paths": [str(folder)], "start_method": "spawn", "sandbox_policy": "standard"}
    )
    assert service.wait(handle, 60)
    execution = handle.executions[0]
    assert execution.status is ExecutionStatus.SUCCEEDED, execution.error_message
    profile = recorded.read_text()
    assert profile.startswith("(version 1)\n(deny default)\n")
    assert f'(subpath "{folder.resolve()}")' in profile
    # Off: no profile.
    recorded.unlink()
    handle = service.start(
        {"paths": [str(folder)], "start_method": "spawn", "sandbox_policy": "off"}
    )
    assert service.wait(handle, 60)
    assert handle.executions[0].status is ExecutionStatus.SUCCEEDED
    assert not recorded.exists()


@pytest.mark.parametrize(
    ("os_layers", "allow_degraded", "expected"),
    [
        (["seatbelt"], False, "(['seatbelt', 'rlimits'], False)"),
        ([], True, "(['rlimits'], True)"),
        ([], False, "SandboxRefusedError: the OS sandbox layer cannot be applied here"),
    ],
    ids=["seatbelt-held", "none-degraded", "none-refused"],
)
def test_elsewhere_than_linux_the_child_reports_the_os_sandbox_that_held(
    os_layers: list[str], allow_degraded: bool, expected: str
) -> None:
    """Run in a separate process: applying the layers sets rlimits on the process itself."""
    child = textwrap.dedent(
        f"""
        import sys
        sys.platform = "darwin"
        from AppCode.infrastructure.execution import sandbox_child
        policy = {{"os_layers": {os_layers!r}, "allow_degraded": {allow_degraded!r}}}
        try:
            print(sandbox_child.apply_kernel_layers(policy))
        except sandbox_child.SandboxRefusedError as exc:
            print("SandboxRefusedError:", exc)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip().startswith(expected)
