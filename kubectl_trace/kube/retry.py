"""Retry policy: a plain function ``(error, attempt) → RetryDecision`` (lightkube's ``on_error``).

Watches, log streams and one-shot requests take a policy instead of sleeping on their own
terms, so tests pass a policy with no delay and a fake clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from kubectl_trace.kube.errors import KubeError

__all__ = ["NO_RETRY", "Backoff", "RetryDecision", "RetryPolicy", "call_with_retry"]

T = TypeVar("T")


@dataclass(frozen=True)
class RetryDecision:
    """Whether to try again, and after how many seconds."""

    retry: bool
    delay: float = 0.0


RetryPolicy = Callable[[BaseException, int], RetryDecision]


def _random() -> float:
    import random  # only when a retry happens: it costs a command's start-up otherwise

    return random.random()


def NO_RETRY(error: BaseException, attempt: int) -> RetryDecision:
    """A policy that never retries."""
    return RetryDecision(False)


@dataclass(frozen=True)
class Backoff:
    """Exponential back-off with jitter; honours ``Retry-After`` (429, 503).

    Retries what can heal: connection refused or dropped, timeouts, 429 and 5xx. Never
    401, 403, 404, 400, 422 or TLS failures. ``max_attempts=None`` retries for ever (for
    long-running follows); ``attempt`` counts consecutive failures from 1. One-shot commands
    pass ``retry_refused=False``: a server that refuses connections fails at once.
    """

    initial: float = 0.25
    factor: float = 2.0
    cap: float = 5.0
    jitter: float = 0.2
    max_attempts: int | None = 5
    max_retry_after: float = 30.0
    retry_refused: bool = True
    rng: Callable[[], float] = field(default=_random, compare=False)

    def __call__(self, error: BaseException, attempt: int) -> RetryDecision:
        """Decide about ``error``, the ``attempt``-th consecutive failure."""
        if self.max_attempts is not None and attempt >= self.max_attempts:
            return RetryDecision(False)
        if not isinstance(error, KubeError) or not error.retriable:
            return RetryDecision(False)
        if not self.retry_refused and getattr(error, "kind", None) == "refused":
            return RetryDecision(False)
        if error.retry_after is not None:
            return RetryDecision(True, min(error.retry_after, self.max_retry_after))
        base = min(self.cap, self.initial * self.factor ** max(0, attempt - 1))
        spread = 1.0 + self.jitter * (2.0 * self.rng() - 1.0)
        return RetryDecision(True, max(0.0, base * spread))


def call_with_retry(
    fn: Callable[[], T],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[BaseException, RetryDecision], None] | None = None,
) -> T:
    """Call ``fn`` until it succeeds or ``policy`` gives up (then re-raise the last error)."""
    attempt = 0
    while True:
        try:
            return fn()
        except Exception as error:
            attempt += 1
            decision = policy(error, attempt)
            if not decision.retry:
                raise
            if on_retry is not None:
                on_retry(error, decision)
            sleep(decision.delay)
