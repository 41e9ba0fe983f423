"""The provider contract, the measurements it produces, and the one place HTTP I/O happens.

A provider turns a (resolved) metric into a :class:`~analysis.models.Measurement`. Its failures
are data: a bad setting, an unreachable server, an HTTP error or a response that does not parse
all become an ``Error`` measurement carrying the provider's message, so nothing a metric does
can raise out of a reconcile. Asynchronous providers (Jobs) also resume and terminate
measurements they left running; synchronous ones (HTTP queries) finish in :meth:`measure`.

HTTP providers are written sans-I/O, in the style of httpx's auth flows: the provider's logic
is a generator (a :data:`Flow`) that yields ``httpx.Request`` objects and receives
``httpx.Response`` objects, and finally returns its outcome. The flow is pure, so unit tests
drive it with recorded responses; :class:`HttpDriver` is the small piece that sends requests
(with timeouts, TLS verification switched per metric, a response size cap) and turns transport
failures into :class:`ProviderError` messages in the style of Go's ``net/http`` errors.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar

import httpx

from analysis.assessment import Verdict, format_time
from analysis.models import AnalysisPhase, Measurement, Metric

__all__ = [
    "MAX_RESPONSE_BYTES",
    "MAX_VALUE_CHARS",
    "Flow",
    "HttpDriver",
    "Outcome",
    "Provider",
    "ProviderError",
    "SynchronousProvider",
    "error_measurement",
    "finish_measurement",
    "go_method",
    "outcome_measurement",
    "utc_now",
]

T = TypeVar("T")

Flow = Generator[httpx.Request, httpx.Response, T]
"""Pure provider logic: yields requests, receives their responses, returns its outcome."""

MAX_RESPONSE_BYTES = 16 * 1024 * 1024
"""Responses larger than this are an Error, not a controller out of memory."""

MAX_VALUE_CHARS = 8192
"""``measurement.value`` is cut to this length: ten of them live in the run's status object."""


class ProviderError(Exception):
    """A measurement could not be taken; the message goes into the Error measurement."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def go_method(method: str) -> str:
    """``GET`` → ``Get``, as Go's ``url.Error`` names the operation."""
    return method[:1].upper() + method[1:].lower()


@dataclass(frozen=True)
class Outcome:
    """What a flow concluded: the value as text, its verdict, and measurement metadata."""

    value: str
    verdict: Verdict
    metadata: Mapping[str, str] | None = None


def error_measurement(message: str, started_at: datetime, finished_at: datetime) -> Measurement:
    """Upstream's ``MarkMeasurementError``: phase Error, the message, no value."""
    return Measurement(
        phase=str(AnalysisPhase.ERROR),
        message=message,
        started_at=format_time(started_at),
        finished_at=format_time(finished_at),
    )


def finish_measurement(
    measurement: Measurement, phase: AnalysisPhase, message: str, now: datetime
) -> Measurement:
    """End a measurement left running (a Job, a workflow) with ``phase`` and ``message``."""
    return measurement.model_copy(
        update={
            "phase": str(phase),
            "message": message or None,
            "finished_at": format_time(now),
            "resume_at": None,
        }
    )


def outcome_measurement(outcome: Outcome, started_at: datetime, finished_at: datetime) -> Measurement:
    """A completed measurement from a flow's outcome (an evaluation error makes it Error)."""
    if outcome.verdict.error is not None:
        return error_measurement(outcome.verdict.error, started_at, finished_at)
    value = outcome.value
    if len(value) > MAX_VALUE_CHARS:
        value = value[:MAX_VALUE_CHARS] + "…(truncated)"
    return Measurement(
        phase=str(outcome.verdict.phase),
        value=value,
        metadata=dict(outcome.metadata) if outcome.metadata else None,
        started_at=format_time(started_at),
        finished_at=format_time(finished_at),
    )


class Provider(Protocol):
    """What the AnalysisRun controller needs from a metric provider."""

    @property
    def type(self) -> str:
        """The provider name upstream reports (``Prometheus``, ``Web``, ``Job``)."""
        ...

    def metric_metadata(self, metric: Metric) -> dict[str, str] | None:
        """Data about the metric kept in its result (e.g. the resolved Prometheus query)."""
        ...

    async def measure(self, metric: Metric) -> Measurement:
        """Take a measurement; never raises (failures are Error measurements)."""
        ...

    async def resume(self, metric: Metric, measurement: Measurement) -> Measurement:
        """Check an unfinished measurement again."""
        ...

    async def terminate(self, metric: Metric, measurement: Measurement) -> Measurement:
        """Stop an unfinished measurement because the run is terminating."""
        ...


class SynchronousProvider:
    """Base of providers whose measurements complete in :meth:`measure` (upstream's HTTP ones).

    Subclasses implement :meth:`_flow`; this class runs it with the driver, times it with the
    injected clock and turns every failure into an Error measurement.
    """

    type = "Unknown"

    def __init__(self, driver: HttpDriver, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.driver = driver
        self.clock = clock

    def metric_metadata(self, metric: Metric) -> dict[str, str] | None:
        return None

    def _flow(self, metric: Metric, now: datetime) -> tuple[Flow[Outcome], bool, float]:
        """The metric's flow, whether to skip TLS verification, and the timeout in seconds."""
        raise NotImplementedError

    async def measure(self, metric: Metric) -> Measurement:
        started_at = self.clock()
        try:
            flow, insecure, timeout = self._flow(metric, started_at)
            outcome = await self.driver.run(flow, insecure=insecure, timeout=timeout)
        except ProviderError as error:
            return error_measurement(str(error), started_at, self.clock())
        except Exception as error:  # the contract: nothing escapes into the reconcile
            return error_measurement(f"{self.type} provider failed: {error!r}", started_at, self.clock())
        return outcome_measurement(outcome, started_at, self.clock())

    async def resume(self, metric: Metric, measurement: Measurement) -> Measurement:
        return measurement  # synchronous measurements are never left unfinished

    async def terminate(self, metric: Metric, measurement: Measurement) -> Measurement:
        return measurement


class HttpDriver:
    """Sends a flow's requests; one connection pool per TLS-verification setting.

    Redirects are followed and proxies taken from the environment, as Go's default HTTP client
    does. ``timeout`` bounds each whole exchange (connect, send, read the body).
    """

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self._transport = transport
        self._max_bytes = max_response_bytes
        self._clients: dict[bool, httpx.AsyncClient] = {}

    def _client(self, insecure: bool) -> httpx.AsyncClient:
        client = self._clients.get(insecure)
        if client is None:
            client = httpx.AsyncClient(verify=not insecure, follow_redirects=True, transport=self._transport)
            self._clients[insecure] = client
        return client

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()

    async def __aenter__(self) -> HttpDriver:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def run(self, flow: Flow[T], *, insecure: bool, timeout: float) -> T:
        """Drive ``flow`` to its outcome; transport failures raise :class:`ProviderError`."""
        try:
            request = next(flow)
            while True:
                response = await self.send(request, insecure=insecure, timeout=timeout)
                request = flow.send(response)
        except StopIteration as stop:
            result: T = stop.value
            return result

    async def send(self, request: httpx.Request, *, insecure: bool, timeout: float) -> httpx.Response:
        operation = f'{go_method(request.method)} "{request.url}"'
        request.extensions["timeout"] = httpx.Timeout(timeout).as_dict()
        try:
            async with asyncio.timeout(timeout):
                response = await self._client(insecure).send(request, stream=True)
                try:
                    body = await self._read(response)
                finally:
                    await response.aclose()
        except TimeoutError:
            raise ProviderError(f"{operation}: timed out after {timeout:g}s") from None
        except httpx.TimeoutException:
            raise ProviderError(f"{operation}: timed out after {timeout:g}s") from None
        except httpx.HTTPError as error:
            reason = str(error) or type(error).__name__
            raise ProviderError(f"{operation}: {reason}") from None
        return httpx.Response(response.status_code, headers=response.headers, content=body, request=request)

    async def _read(self, response: httpx.Response) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self._max_bytes:
                raise ProviderError(f"response body is larger than {self._max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
