"""Whether an environment variable looks like a credential: by its name or its value's shape.

Pure and without imports from the rest of ``release``, so ``patches`` (masking what a
record keeps) and ``envvars`` (warning before a literal ``set``) both ask it.
"""

from __future__ import annotations

import re

__all__ = ["credential_reason"]

_CREDENTIAL_NAME = re.compile(
    r"(^|_)(KEY|SECRET|TOKEN|PASSWORD|PASSWD|PWD|CREDENTIALS?|PRIVATE_KEY|API_KEY|AUTH)$|PASSWORD|SECRET",
    re.IGNORECASE,
)
_NOT_CREDENTIAL_NAME = re.compile(r"(_KEY_ID|_PUBLIC_KEY|_KEY_PATH|_SECRET_NAME|_TOKEN_URL)$", re.IGNORECASE)
# Well-known shapes of tokens and keys (prefixes their issuers document).
_TOKEN_SHAPES = (
    (re.compile(r"^(sk|rk)_(live|test)_[0-9A-Za-z]{8,}$"), "a Stripe secret key"),
    (re.compile(r"^gh[pousr]_[0-9A-Za-z]{20,}$"), "a GitHub token"),
    (re.compile(r"^github_pat_[0-9A-Za-z_]{20,}$"), "a GitHub token"),
    (re.compile(r"^xox[abposr]-[0-9A-Za-z-]{10,}$"), "a Slack token"),
    (re.compile(r"^(AKIA|ASIA)[0-9A-Z]{16}$"), "an AWS access key"),
    (re.compile(r"^AIza[0-9A-Za-z_-]{30,}$"), "a Google API key"),
    (re.compile(r"^glpat-[0-9A-Za-z_-]{20,}$"), "a GitLab token"),
    (re.compile(r"^npm_[0-9A-Za-z]{30,}$"), "an npm token"),
    (re.compile(r"^eyJ[0-9A-Za-z_-]{8,}\.eyJ[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]{8,}$"), "a JSON Web Token"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
    (re.compile(r"^[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@"), "a URL with a password"),
)


def credential_reason(name: str, value: str | None) -> str | None:
    """Why ``name=value`` looks like a credential (``"the name ends in _KEY"``), else None."""
    for pattern, what in _TOKEN_SHAPES:
        if value and pattern.search(value):
            return f"the value looks like {what}"
    if _CREDENTIAL_NAME.search(name) and not _NOT_CREDENTIAL_NAME.search(name):
        if value is not None and value.lower() in ("", "true", "false", "on", "off", "none"):
            return None
        return f"the name {name} says it holds a credential"
    return None
