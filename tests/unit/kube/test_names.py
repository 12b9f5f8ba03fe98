"""Names and patterns refused before any request: one line, exit 2, in well under a second."""

from __future__ import annotations

import pytest

from kubectl_trace.errors import UsageError
from kubectl_trace.kube.names import check_pattern, validate_name, validate_namespace
from kubectl_trace.kube.targets import classify


@pytest.mark.parametrize("name", ["default", "production", "a", "team-1", "x" * 63])
def test_valid_namespaces_pass(name: str) -> None:
    assert validate_namespace(name) == name


@pytest.mark.parametrize("name", ["x" * 64, "Prod", "-a", "a-", "a.b", "a b", "ns\x1b]0;t\x07", "ü"])
def test_invalid_namespaces_are_one_line_usage_errors(name: str) -> None:
    with pytest.raises(UsageError) as info:
        validate_namespace(name)
    message = str(info.value.message)
    assert "\n" not in message and "\x1b" not in message and len(message) < 300


def test_names_are_rfc_1123_subdomains() -> None:
    assert validate_name("pod", "web-7d9f.x2k") == "web-7d9f.x2k"
    for bad in ("", "A", "a..b", "a" * 254, "a/b"):
        with pytest.raises(UsageError):
            validate_name("pod", bad)
    assert classify("pod/web-1").text == "web-1"
    with pytest.raises(UsageError, match="invalid deployment name"):
        classify("deploy/Web")
    with pytest.raises(UsageError, match="253"):
        classify("a" * 100_000)


@pytest.mark.parametrize(
    "pattern",
    ["(a+)+$", "(a*)*b", "(.*a){20}", r"(\w+\s?)+$", "(?:(?:a|b)+)+", r"^(([a-z])+.)+[A-Z]([a-z])+$"],
)
def test_patterns_that_backtrack_exponentially_are_refused(pattern: str) -> None:
    with pytest.raises(UsageError, match="repeat inside a repeat"):
        check_pattern(pattern, "TARGET")
    with pytest.raises(UsageError):
        classify(pattern)


@pytest.mark.parametrize(
    "pattern", ["trace-api-.*", "web-[0-9a-f]{5}", r"(\w+-)+web", "(ab)+c", "^(web|worker)-", "(a++)+"]
)
def test_ordinary_pod_patterns_pass(pattern: str) -> None:
    check_pattern(pattern, "TARGET")


def test_very_long_patterns_are_refused() -> None:
    with pytest.raises(UsageError, match="at most 1000"):
        check_pattern("a" * 1001, "--include")


def test_the_cli_refuses_before_any_request(invoke) -> None:
    huge = invoke("logs", "-n", "n" * 100_000, "--kubeconfig", "/nonexistent")
    assert huge.exit_code == 2
    assert huge.stderr.count("\n") == 1 and "invalid --namespace" in huge.stderr
    assert "8190" not in huge.stderr and len(huge.stderr) < 300
    evil = invoke("logs", "(a+)+$", "--kubeconfig", "/nonexistent")
    assert evil.exit_code == 2 and "repeat inside a repeat" in evil.stderr
    assert evil.stderr.startswith("error: ") and "Traceback" not in evil.stderr
    include = invoke("logs", "web", "-i", r"(\w+\s?)+$", "--kubeconfig", "/nonexistent")
    assert include.exit_code == 2 and "--include" in include.stderr


def test_release_commands_refuse_an_app_name_that_cannot_be_a_label_value_before_any_request():
    from kubectl_trace.errors import UsageError
    from kubectl_trace.kube.targets import resolve_app

    class NoServer:
        def list(self, *args, **kwargs):
            raise AssertionError("no request may be sent for a bad app name")

    for name in ("a" * 100_000, "Trace$x", "trace api"):
        with pytest.raises(UsageError) as caught:
            resolve_app(NoServer(), name, namespace="staging", config=None)
        message = str(caught.value)
        assert "is not an app name" in message and len(message) < 200
