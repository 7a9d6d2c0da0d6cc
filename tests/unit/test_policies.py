"""Choosing a sandbox policy: built-ins, custom policy files (and their errors), overrides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from AppCode.core.domain.errors import ConfigurationError
from AppCode.services.policies import (
    PolicyOverrides,
    PolicyResolver,
    policy_from_record,
    policy_record,
)
from AppCode.services.settings import load_settings


@pytest.fixture
def resolver(tmp_path: Path) -> PolicyResolver:
    (tmp_path / "policies").mkdir()
    return PolicyResolver(load_settings(None).sandbox, tmp_path / "policies")


def test_strict_isolates_namespaces_and_standard_does_not(resolver: PolicyResolver) -> None:
    strict, standard = resolver.resolve("strict"), resolver.resolve("standard")
    assert strict.namespaces and not strict.network and not strict.allow_degraded
    assert not standard.namespaces


def test_a_custom_file_by_name_starts_from_its_base(resolver: PolicyResolver) -> None:
    (resolver._dir / "offline.toml").write_text(
        'base = "standard"\nnetwork = false\nnamespaces = true\nmemory_limit_mb = 300\n'
    )
    policy = resolver.resolve("offline")
    assert policy.name == "offline" and policy.level == "standard"
    assert (policy.network, policy.namespaces, policy.memory_limit_mb) == (False, True, 300)
    assert "offline" in resolver.available()


def test_overrides_apply_on_top_of_the_policy(resolver: PolicyResolver) -> None:
    policy = resolver.resolve(
        "standard", PolicyOverrides(memory_limit_mb=64, network=False, allow_write=["/srv/out"])
    )
    assert (policy.memory_limit_mb, policy.network) == (64, False)
    assert "/srv/out" in policy.allowed_write_paths


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("base = 'standard'\nnamespace = true\n", ["namespace", "Allowed keys", "namespaces"]),
        ("base = 'sandboxed'\n", ["base", "off", "strict"]),
        ("memory_limit_mb = -1\n", ["memory_limit_mb", "0"]),
        ("network = 'maybe'\n", ["network"]),
        ("base = \n", ["not valid TOML"]),
    ],
    ids=["unknown-key", "bad-base", "negative", "not-a-bool", "broken-toml"],
)
def test_a_bad_policy_file_is_refused_naming_the_file_and_the_problem(
    resolver: PolicyResolver, tmp_path: Path, text: str, words: list[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigurationError) as caught:
        resolver.resolve(str(path))
    said = f"{caught.value} {caught.value.hint or ''}"
    assert str(path) in said
    for word in words:
        assert word in said
    assert "Traceback" not in said


def test_an_unknown_policy_name_lists_the_choices(resolver: PolicyResolver) -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolver.resolve("nonesuch")
    assert "nonesuch" in str(caught.value)
    assert "standard" in (caught.value.hint or "") and "strict" in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("memory_limit_mb = 99999999999999\n", ["memory_limit_mb", "16777216"]),
        ("memory_limit_mb = 5\n", ["memory_limit_mb", "at least 32"]),
        ("cpu_time_limit_s = 1e20\n", ["cpu_time_limit_s", "31536000"]),
        ("cpu_time_limit_s = inf\n", ["cpu_time_limit_s", "finite"]),
        ("max_processes = 99999999\n", ["max_processes", "4194304"]),
    ],
    ids=["huge-memory", "tiny-memory", "huge-cpu", "infinite-cpu", "huge-processes"],
)
def test_a_policy_file_stays_within_the_config_files_bounds(
    resolver: PolicyResolver, tmp_path: Path, text: str, words: list[str]
) -> None:
    path = tmp_path / "greedy.toml"
    path.write_text(text)
    with pytest.raises(ConfigurationError) as caught:
        resolver.resolve(str(path))
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize(
    "values",
    [
        {"memory_limit_mb": 2**24 + 1},
        {"memory_limit_mb": 31},
        {"cpu_time_limit_s": float("nan")},
        {"cpu_time_limit_s": -1},
        {"allow_write": [""]},
        {"block_modules": [""]},
    ],
)
def test_overrides_out_of_bounds_or_empty_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        PolicyOverrides.model_validate(values)


def test_no_memory_limit_and_the_minimum_are_allowed() -> None:
    assert PolicyOverrides(memory_limit_mb=0).memory_limit_mb == 0
    assert PolicyOverrides(memory_limit_mb=32).memory_limit_mb == 32


def test_overrides_on_a_policy_that_is_off_are_refused(resolver: PolicyResolver) -> None:
    assert not resolver.resolve("off", PolicyOverrides()).enabled
    with pytest.raises(ConfigurationError, match="blocked modules"):
        resolver.resolve("off", PolicyOverrides(block_modules=["json"]))


def test_a_policy_too_small_for_python_in_the_config_file_is_refused(tmp_path: Path) -> None:
    settings = load_settings(None).sandbox.model_copy(update={"memory_limit_mb": 5})
    with pytest.raises(ConfigurationError, match=r"\[sandbox\] memory_limit_mb = 5"):
        PolicyResolver(settings, tmp_path).resolve("standard")


def test_a_stored_policy_comes_back_the_same(resolver: PolicyResolver) -> None:
    policy = resolver.resolve(
        "strict", PolicyOverrides(memory_limit_mb=64, allow_write=["/srv"], block_modules=["x"])
    )
    record = json.loads(json.dumps(policy_record(policy)))
    assert policy_from_record(record) == policy
