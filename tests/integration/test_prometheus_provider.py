"""The Prometheus provider against a real Prometheus (Debian's 2.42) scraping a real exporter.

No devcluster is needed: Prometheus, the exporter and the provider all run on loopback.
"""

from __future__ import annotations

import asyncio
import math
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus import (
    BASIC_AUTH_PASSWORD,
    BASIC_AUTH_USER,
    INSTALL_HINT,
    Exporter,
    PrometheusServer,
    free_port,
)

from analysis.assessment import (
    TakenMeasurement,
    conclude_reconcile,
    parse_time,
    plan_reconcile,
    replace_status,
    resolve_tasks,
)
from analysis.models import AnalysisRun, Measurement, Metric
from analysis.providers import HttpDriver, PrometheusProvider

REVISIONS = ("stable", "canary", "healthy", "broken", "idle", "ranged", "reconciled")


@pytest.fixture(scope="module")
def exporter() -> Iterator[Exporter]:
    process = Exporter(revisions=REVISIONS).start()
    try:
        yield process
    finally:
        process.stop()


def _start(server: PrometheusServer) -> PrometheusServer:
    try:
        return server.start()
    except FileNotFoundError as missing:
        pytest.fail(f"{missing}", pytrace=False)
    except RuntimeError as error:
        pytest.fail(f"Prometheus did not start ({INSTALL_HINT} if it is missing):\n{error}", pytrace=False)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory, exporter: Exporter) -> Iterator[PrometheusServer]:
    server = _start(
        PrometheusServer(tmp_path_factory.mktemp("prometheus"), targets=(f"127.0.0.1:{exporter.port}",))
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    server = _start(PrometheusServer(tmp_path_factory.mktemp("secured"), secured=True))
    try:
        yield server
    finally:
        server.stop()


def metric(address: str, query: str, success: str | None = None, **prometheus: Any) -> Metric:
    return Metric.from_dict(
        {
            "name": "m",
            "successCondition": success,
            "provider": {"prometheus": {"address": address, "query": query, **prometheus}},
        }
    )


def measure(m: Metric, *, default_address: str | None = None) -> Measurement:
    async def run() -> Measurement:
        async with HttpDriver() as driver:
            return await PrometheusProvider(driver, default_address=default_address).measure(m)

    return asyncio.run(run())


def success_rate(revision: str) -> str:
    return (
        f'sum(rate(http_requests_total{{revision="{revision}",code!~"5.."}}[30s])) / '
        f'sum(rate(http_requests_total{{revision="{revision}"}}[30s]))'
    )


def test_a_healthy_success_rate_is_successful(prometheus: PrometheusServer, exporter: Exporter) -> None:
    exporter.record("200", 100, revision="healthy")
    exporter.record("500", 5, revision="healthy")
    prometheus.wait_for_value('sum(http_requests_total{revision="healthy"})', 105)
    measurement = measure(metric(prometheus.address, success_rate("healthy"), "result[0] >= 0.95"))
    assert measurement.phase == "Successful", measurement.message
    assert measurement.value is not None
    assert measurement.value.startswith("[0.95238095")
    assert math.isclose(float(measurement.value.strip("[]")), 100 / 105, rel_tol=1e-9)
    started, finished = parse_time(measurement.started_at), parse_time(measurement.finished_at)
    assert started is not None and finished is not None and started <= finished


def test_a_high_error_rate_fails(prometheus: PrometheusServer, exporter: Exporter) -> None:
    exporter.record("200", 40, revision="broken")
    exporter.record("503", 60, revision="broken")
    prometheus.wait_for_value('sum(http_requests_total{revision="broken"})', 100)
    measurement = measure(metric(prometheus.address, success_rate("broken"), "result[0] >= 0.95"))
    assert (measurement.phase, measurement.message) == ("Failed", None)
    assert measurement.value is not None
    assert math.isclose(float(measurement.value.strip("[]")), 0.4, rel_tol=1e-9)


def test_an_empty_result_is_an_error_measurement(prometheus: PrometheusServer) -> None:
    query = 'sum(rate(http_requests_total{revision="never-deployed"}[30s]))'
    measurement = measure(metric(prometheus.address, query, "result[0] >= 0.95"))
    assert measurement.phase == "Error"
    assert measurement.message == (
        'could not evaluate successCondition "result[0] >= 0.95": '
        "metric result is nil or empty: no data returned from the metric provider"
    )
    guarded = measure(metric(prometheus.address, query, "len(result) == 0 || result[0] >= 0.95"))
    assert (guarded.phase, guarded.value) == ("Successful", "[]")


def test_no_traffic_gives_nan_which_fails_a_threshold(prometheus: PrometheusServer) -> None:
    prometheus.wait_for_value('sum(rate(http_requests_total{revision="idle"}[30s]))', 0.0)  # two samples in
    measurement = measure(metric(prometheus.address, success_rate("idle"), "result[0] >= 0.95"))
    assert (measurement.phase, measurement.value) == ("Failed", "[NaN]")
    assert measure(metric(prometheus.address, success_rate("idle"), "isNaN(result[0])")).phase == "Successful"


def test_scalars_infinities_and_several_series(prometheus: PrometheusServer, exporter: Exporter) -> None:
    exporter.record("200", 7, revision="stable")
    prometheus.wait_for_value('sum(http_requests_total{revision="stable"})', 7)
    scalar = measure(
        metric(prometheus.address, 'scalar(sum(http_requests_total{revision="stable"}))', "result == 7")
    )
    assert (scalar.phase, scalar.value) == ("Successful", "7")
    inf = measure(metric(prometheus.address, "vector(1) / 0", "isInf(result[0])"))
    assert (inf.phase, inf.value) == ("Successful", "[+Inf]")
    series = measure(
        metric(prometheus.address, 'sort(http_requests_total{revision="stable"})', "len(result) == 4")
    )
    assert (series.phase, series.value) == ("Successful", "[0,0,0,7]")


def test_a_range_query_returns_every_sample(prometheus: PrometheusServer, exporter: Exporter) -> None:
    exporter.record("200", 3, revision="ranged")
    prometheus.wait_for_value('sum(http_requests_total{revision="ranged"})', 3)
    time.sleep(2.5)  # a few more samples in the window
    window = {"start": 'now() - duration("3s")', "end": "now()", "step": "1s"}
    query = 'sum(http_requests_total{revision="ranged"})'
    measurement = measure(
        metric(prometheus.address, query, "len(result) >= 3 && all(result, {# <= 3})", rangeQuery=window)
    )
    assert measurement.phase == "Successful", (measurement.message, measurement.value)
    assert measurement.value is not None
    values = [float(v) for v in measurement.value.strip("[]").split(",")]
    assert len(values) >= 3
    assert values[-1] == 3


def test_bad_promql_is_an_error_with_prometheus_message(prometheus: PrometheusServer) -> None:
    measurement = measure(metric(prometheus.address, "sum(rate(http_requests_total[5m]", "result[0] > 0"))
    assert measurement.phase == "Error"
    assert measurement.message is not None
    assert measurement.message.startswith('bad_data: invalid parameter "query": ')
    assert "parse error" in measurement.message
    assert measurement.value is None


def test_a_string_result_is_not_supported(prometheus: PrometheusServer) -> None:
    measurement = measure(metric(prometheus.address, '"hello"'))
    assert (measurement.phase, measurement.message) == ("Error", "Prometheus metric type not supported")


def test_the_default_address_is_used_when_the_metric_has_none(prometheus: PrometheusServer) -> None:
    measurement = measure(metric("", "vector(1)", "result[0] == 1"), default_address=prometheus.address)
    assert measurement.phase == "Successful"
    assert measure(metric("", "vector(1)")).message == "prometheus address is not configured"


def test_prometheus_down_is_an_error_measurement() -> None:
    port = free_port()  # nothing listens there
    measurement = measure(metric(f"http://127.0.0.1:{port}", "up", "result[0] == 1"))
    assert measurement.phase == "Error"
    assert measurement.message is not None
    assert measurement.message.startswith(f'Post "http://127.0.0.1:{port}/api/v1/query": ')


def test_a_hanging_server_times_out() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        accepted: list[socket.socket] = []
        thread = threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True)
        thread.start()
        port = listener.getsockname()[1]
        began = time.monotonic()
        measurement = measure(metric(f"http://127.0.0.1:{port}", "up", timeout=1))
        took = time.monotonic() - began
        for connection in accepted:
            connection.close()
    assert (measurement.phase, measurement.message) == (
        "Error",
        f'Post "http://127.0.0.1:{port}/api/v1/query": timed out after 1s',
    )
    assert took >= 1


def test_tls_and_basic_auth(secured: PrometheusServer) -> None:
    auth = {"basicAuth": {"username": BASIC_AUTH_USER, "password": BASIC_AUTH_PASSWORD}}
    ok = measure(metric(secured.address, "vector(1)", "result[0] == 1", insecure=True, authentication=auth))
    assert ok.phase == "Successful", ok.message
    verified = measure(metric(secured.address, "vector(1)", authentication=auth))
    assert verified.phase == "Error"
    assert "CERTIFICATE_VERIFY_FAILED" in (verified.message or "")
    wrong = {"basicAuth": {"username": BASIC_AUTH_USER, "password": "wrong"}}
    refused = measure(metric(secured.address, "vector(1)", insecure=True, authentication=wrong))
    assert (refused.phase, refused.message) == ("Error", "client_error: client error: 401")


def test_a_run_reconciled_against_prometheus(prometheus: PrometheusServer, exporter: Exporter) -> None:
    """The pure core and the real provider together: three measurements a second apart."""
    exporter.record("200", 50, revision="reconciled")
    prometheus.wait_for_value('sum(http_requests_total{revision="reconciled"})', 50)
    run = AnalysisRun.from_dict(
        {
            "spec": {
                "args": [
                    {"name": "revision", "value": "reconciled"},
                    {"name": "address", "value": prometheus.address},
                ],
                "metrics": [
                    {
                        "name": "success-rate",
                        "interval": "1s",
                        "count": 3,
                        "successCondition": "result[0] >= 0.95",
                        "provider": {
                            "prometheus": {
                                "address": "{{args.address}}",
                                "query": success_rate("{{args.revision}}"),
                            }
                        },
                    }
                ],
            }
        }
    )

    async def reconcile_until_done() -> AnalysisRun:
        nonlocal run
        async with HttpDriver() as driver:
            provider = PrometheusProvider(driver)
            for _ in range(20):
                now = datetime.now(UTC)
                plan = plan_reconcile(run, now)
                metrics, secrets = resolve_tasks(plan, run.spec.args or [], {})
                taken = {
                    name: TakenMeasurement(await provider.measure(m), provider.metric_metadata(m))
                    for name, m in metrics.items()
                }
                conclusion = conclude_reconcile(run, plan, taken, datetime.now(UTC), secrets=secrets)
                run = replace_status(run, conclusion.status)
                if conclusion.requeue_at is None:
                    return run
                await asyncio.sleep(max(0.0, (conclusion.requeue_at - datetime.now(UTC)).total_seconds()))
        raise AssertionError("the run did not complete")

    finished = asyncio.run(reconcile_until_done())
    assert finished.status is not None
    assert finished.status.phase == "Successful", finished.status.message
    [result] = finished.status.metric_results or []
    assert (result.count, result.successful) == (3, 3)
    assert result.metadata == {"ResolvedPrometheusQuery": success_rate("reconciled")}
    started = [parse_time(m.started_at) for m in result.measurements or []]
    assert all(s is not None for s in started)
    assert len(started) == 3
