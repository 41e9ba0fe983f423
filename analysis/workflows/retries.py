"""``retryStrategy``: whether and when a finished attempt is retried (reference §5.4). Pure.

The scheduler asks :func:`decide` with the attempts of one Retry node (the last one finished) and
the current time; the answer is to succeed, to fail with Argo's message, to wait (``Backoff for
<duration>``, until a given instant) or to start the next attempt. Time comes in as an argument,
so backoff and ``maxDuration`` are tested with exact instants.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from analysis.values import DurationError, go_parse_int, parse_go_duration
from analysis.workflows.spec import RetryStrategy
from analysis.workflows.status import NodeStatus

__all__ = [
    "RetryDecision",
    "RetryError",
    "decide",
    "humanize",
    "parse_duration",
    "parse_time",
]

_TRANSIENT = re.compile(
    r"connection reset by peer|i/o timeout|TLS handshake timeout|connection refused|"
    r"etcdserver: leader changed|Too Many Requests|the server was unable to return a response in the time|"
    r"exceeded quota|net/http: request canceled|unexpected EOF|broken pipe"
)
_POLICIES = frozenset({"Always", "OnFailure", "OnError", "OnTransientError"})


class RetryError(ValueError):
    """A retry strategy whose values cannot be read (``limit: many``, ``duration: soon``)."""


@dataclass(frozen=True)
class RetryDecision:
    action: Literal["succeed", "fail", "wait", "retry"]
    phase: str | None = None
    message: str | None = None
    wait_until: datetime | None = None


def parse_time(text: str | None) -> datetime | None:
    """An RFC 3339 status timestamp."""
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def parse_duration(value: int | str | None, field: str) -> float | None:
    """Seconds of an Argo duration: an integer (``20``, ``"20"``) or a Go duration (``"2m"``)."""
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return float(value)
    number = go_parse_int(value.strip())
    if number is not None:
        return float(number)
    try:
        return parse_go_duration(value.strip())
    except DurationError as error:
        raise RetryError(f"{field} {value!r} is not a duration: {error}") from None


def _limit(strategy: RetryStrategy) -> int | None:
    if strategy.limit is None:
        return None
    if isinstance(strategy.limit, int):
        return strategy.limit
    number = go_parse_int(strategy.limit.strip())
    if number is None:
        raise RetryError(f"retryStrategy.limit {strategy.limit!r} is not an integer")
    return number


def policy_of(strategy: RetryStrategy) -> str:
    policy = strategy.retry_policy or ("Always" if strategy.expression else "OnFailure")
    if policy not in _POLICIES:
        raise RetryError(
            f"retryStrategy.retryPolicy {policy!r} must be one of {', '.join(sorted(_POLICIES))}"
        )
    return policy


def _allowed(policy: str, last: NodeStatus) -> bool:
    if policy == "Always":
        return last.phase in ("Failed", "Error")
    if policy == "OnFailure":
        return last.phase == "Failed"
    if policy == "OnError":
        return last.phase == "Error"
    return last.phase in ("Failed", "Error") and bool(_TRANSIENT.search(last.message or ""))


def decide(
    strategy: RetryStrategy,
    attempts: list[NodeStatus],
    now: datetime,
    *,
    stopping: bool = False,
    expression_allows: bool | None = None,
) -> RetryDecision:
    """What to do after the last of ``attempts`` finished.

    ``stopping`` is true once the workflow deadline passed or a shutdown was asked for;
    ``expression_allows`` is the value of ``retryStrategy.expression`` (None when there is none),
    evaluated by the caller, which owns the variables.
    """
    last = attempts[-1]
    if last.phase in ("Succeeded", "Skipped", "Omitted"):
        return RetryDecision("succeed", last.phase, last.message)
    if not _allowed(policy_of(strategy), last) or stopping:
        return RetryDecision("fail", last.phase, last.message)
    limit = _limit(strategy)
    if limit is not None and len(attempts) > limit:
        return RetryDecision("fail", last.phase, "No more retries left")
    if expression_allows is False:
        return RetryDecision("fail", last.phase, "retryStrategy.expression evaluated to false")
    backoff = strategy.backoff
    if backoff is None:
        return RetryDecision("retry")
    wait = parse_duration(backoff.duration, "retryStrategy.backoff.duration") or 0.0
    factor = parse_duration(backoff.factor, "retryStrategy.backoff.factor")
    if factor is not None:
        wait *= factor ** (len(attempts) - 1)
    cap = parse_duration(backoff.cap, "retryStrategy.backoff.cap")
    if cap is not None:
        wait = min(wait, cap)
    finished = parse_time(last.finished_at) or now
    wait_until = finished + timedelta(seconds=wait)
    max_duration = parse_duration(backoff.max_duration, "retryStrategy.backoff.maxDuration")
    first_start = parse_time(attempts[0].started_at)
    if max_duration is not None and first_start is not None:
        budget_end = first_start + timedelta(seconds=max_duration)
        if now > budget_end:
            return RetryDecision("fail", last.phase, "Max duration limit exceeded")
        if wait_until > budget_end:
            return RetryDecision("fail", last.phase, "Backoff would exceed max duration limit")
    if now < wait_until:
        return RetryDecision("wait", message=f"Backoff for {humanize(wait)}", wait_until=wait_until)
    return RetryDecision("retry")


def humanize(seconds: float) -> str:
    """``65`` → ``1 minute 5 seconds``: the long form Argo prints in messages and ``argo get``."""
    whole = int(seconds)
    if whole <= 0:
        return "0 seconds"
    parts: list[str] = []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        count, whole = divmod(whole, size)
        if count:
            parts.append(f"{count} {unit}{'' if count == 1 else 's'}")
    return " ".join(parts)
