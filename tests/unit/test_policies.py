"""Choosing a sandbox policy: built-ins, custom policy files (and their errors), overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from AppCode.core.domain.errors import ConfigurationError
from AppCode.services.policies import PolicyOverrides, PolicyResolver
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
