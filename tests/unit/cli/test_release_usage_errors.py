"""The release commands' refusals of bad flags: one line, exit 2, before any cluster is asked.

The kubeconfig does not exist, so a command that got past its flags would fail differently.
"""

import pytest

NO_CLUSTER = "/nonexistent/kubeconfig"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["env", "trace-api", "frob"], 'unknown env action "frob" (use: list, set, unset)'),
        (["env", "trace-api", "list", "PORT"], "env list takes no arguments"),
        (["env", "trace-api", "list", "--from-secret", "s"], "--from-secret goes with set"),
        (["env", "trace-api", "unset", "PORT", "--from-secret", "s"], "--from-secret goes with set"),
        (["env", "trace-api", "unset", "PORT", "--reveal"], "--reveal goes with list"),
        (["env", "trace-api", "list", "--secret"], "--secret goes with set"),
        (["env", "trace-api", "unset", "PORT", "--force"], "--force goes with set"),
        (
            ["env", "trace-api", "set", "DATABASE_URL", "--secret", "--from-secret", "db"],
            "--secret stores new values; --from-secret references an existing Secret: pick one",
        ),
        (["history", "trace-api", "--limit", "0"], "--limit takes a positive number, not '0'"),
        (["history", "trace-api", "--limit", "x"], "--limit takes a positive number, not 'x'"),
        (
            ["promote", "trace-api", "--from", "staging", "--to", "staging"],
            "--from and --to are the same namespace (staging)",
        ),
    ],
)
def test_bad_flags_are_refused_with_one_line(invoke, argv, message):
    result = invoke(*argv, kubeconfig=NO_CLUSTER)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"error: {message}\n"
