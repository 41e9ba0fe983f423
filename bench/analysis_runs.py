"""AnalysisRun benchmark: N concurrent runs against a real Prometheus; prints numbers, asserts nothing.

    rollouts dev-cluster up --dir /var/tmp/bench-dc
    python bench/analysis_runs.py --dir /var/tmp/bench-dc [--runs 100] [--seconds 300] [--interval 5s]

Starts Debian's Prometheus scraping a ``prometheus_client`` exporter (``rollouts.localprom``, as
the tests and the demo do) and our controller as a subprocess scoped to a fresh namespace, then
creates ``--runs`` AnalysisRuns, each with one unbounded Prometheus metric measured every
``--interval``, keeps them running for ``--seconds``, terminates them and reads the record:

* **queries per measurement**: the delta of Prometheus' own
  ``prometheus_http_requests_total{handler="/api/v1/query"}`` over the whole benchmark (nothing
  else queries it meanwhile) divided by the measurements the runs recorded — must be exactly 1;
* **measurements per interval**: every run's measurements mapped onto its grid
  ``startedAt + k·interval``; a slot measured twice or skipped is counted (both must be 0);
* **measurement lag**: a measurement's ``startedAt`` minus its grid time, over all measurements
  (median, p95, max) — ``measurementRetention`` keeps every measurement so none is missed;
* the controller's CPU seconds and peak RSS over the window, and its API requests by verb and
  resource (``controller_clientset_k8s_request_total``).

The numbers depend on how busy the machine is; the load average is printed with them.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as ``python bench/analysis_runs.py``, this file's directory is first on sys.path and the file's
# name would shadow the ``analysis`` package it measures: put the repository root there instead
# (which also makes ``bench.controller``, the shared harness, importable).
if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import os
import statistics
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kubernetes import client

from analysis.assessment import parse_time
from analysis.values import DurationError, parse_go_duration_ns
from bench.controller import Controller, parse_metrics, wait
from rollouts.crds.install import install_crds
from rollouts.devcluster import DevCluster
from rollouts.localprom import Exporter, PrometheusServer

GROUP, VERSION = "argoproj.io", "v1alpha1"
COMPLETED = ("Successful", "Failed", "Error", "Inconclusive")
REVISION = "stable"


@dataclass(frozen=True)
class GridReport:
    """How one run's measurements sit on its grid."""

    lags: list[float]
    """Seconds from each measurement's grid time to its ``startedAt``."""
    repeated: int
    """Grid slots measured more than once."""
    skipped: int
    """Grid slots between the first and the last measured slot that were never measured."""


def grid_report(run_started: datetime, interval: timedelta, measured: list[datetime]) -> GridReport:
    """Each measurement belongs to the latest grid point at or before it (a lag longer than one
    interval would show up as a skipped slot followed by a repeated one)."""
    slots = [int((moment - run_started) / interval) for moment in measured]
    lags = [
        (moment - (run_started + slot * interval)).total_seconds()
        for moment, slot in zip(measured, slots, strict=True)
    ]
    counted = Counter(slots)
    repeated = sum(1 for hits in counted.values() if hits > 1)
    skipped = (max(slots) - min(slots) + 1 - len(counted)) if slots else 0
    return GridReport(lags, repeated, skipped)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def prometheus_queries(prometheus: PrometheusServer) -> float:
    """Instant queries Prometheus has served, from its own /metrics (reading it is not a query)."""
    with urllib.request.urlopen(f"{prometheus.address}/metrics", timeout=10) as answer:
        samples = parse_metrics(answer.read().decode(), "prometheus_http_requests_total")
    return sum(value for labels, value in samples if labels.get("handler") == "/api/v1/query")


def settled_requests(controller: Controller) -> Counter[tuple[str, str]]:
    """The controller's request counters once they stop moving (two equal reads 2 s apart)."""
    previous = controller.requests()
    while True:
        time.sleep(2)
        current = controller.requests()
        if current == previous:
            return current
        previous = current


def run_manifest(name: str, address: str, interval: str) -> dict[str, Any]:
    ratio = (
        f'sum(http_requests_total{{revision="{REVISION}",code!~"5.."}}) / '
        f'sum(http_requests_total{{revision="{REVISION}"}})'
    )
    metric = {
        "name": "success-ratio",
        "interval": interval,  # no count: measured until terminated
        "successCondition": "result[0] >= 0.95",
        "provider": {"prometheus": {"address": address, "query": ratio}},
    }
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "AnalysisRun",
        "metadata": {"name": name},
        "spec": {
            "metrics": [metric],
            # keep every measurement, so the lag covers all of them (the default keeps 10)
            "measurementRetention": [{"metricName": ".*", "limit": 100_000}],
        },
    }


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def bench(
    api: client.ApiClient,
    cluster: DevCluster,
    namespace: str,
    workdir: Path,
    *,
    runs: int,
    seconds: float,
    interval: str,
) -> None:
    custom = client.CustomObjectsApi(api)
    exporter = Exporter(revisions=(REVISION,)).start()
    prometheus = PrometheusServer(workdir / "prometheus", targets=(f"127.0.0.1:{exporter.port}",)).start()
    controller = Controller(cluster, namespace, workdir / "controller.log")
    try:
        exporter.record("200", 99, revision=REVISION)
        exporter.record("500", 1, revision=REVISION)
        prometheus.wait_for_value(f'sum(http_requests_total{{revision="{REVISION}"}})', 100)
        queries_before = prometheus_queries(prometheus)
        requests_before = controller.requests()
        cpu_before = controller.cpu_seconds()
        print(f"load average before: {load_average()}", flush=True)
        names = [f"run-{index:03d}" for index in range(runs)]
        created = time.monotonic()
        for name in names:
            body = run_manifest(name, prometheus.address, interval)
            custom.create_namespaced_custom_object(GROUP, VERSION, namespace, "analysisruns", body)
        print(
            f"{runs} AnalysisRuns created in {time.monotonic() - created:.1f}s; measuring {seconds:g}s",
            flush=True,
        )
        time.sleep(seconds)
        cpu = controller.cpu_seconds() - cpu_before
        window = time.monotonic() - created
        print(f"load average after: {load_average()}", flush=True)
        for name in names:
            custom.patch_namespaced_custom_object(
                GROUP, VERSION, namespace, "analysisruns", name, {"spec": {"terminate": True}},
                _content_type="application/merge-patch+json",
            )  # fmt: skip

        def listed() -> list[dict[str, Any]]:
            found = custom.list_namespaced_custom_object(GROUP, VERSION, namespace, "analysisruns")
            items: list[dict[str, Any]] = found["items"]
            return items

        wait(lambda: all((item.get("status") or {}).get("phase") in COMPLETED for item in listed()), 300)
        queries = prometheus_queries(prometheus) - queries_before
        requests = settled_requests(controller)  # the Events follow the final status writes
        requests.subtract(requests_before)
        peak = controller.peak_rss_kib / 1024
        report(listed(), interval, Window(queries, +requests, cpu, window, peak))
    finally:
        controller.stop()
        prometheus.stop()
        exporter.stop()


@dataclass(frozen=True)
class Window:
    """What the controller and Prometheus did while the runs ran."""

    queries: float
    requests: Counter[tuple[str, str]]
    cpu_seconds: float
    seconds: float
    peak_rss_mib: float


def report(items: list[dict[str, Any]], interval: str, window: Window) -> None:
    step = timedelta(microseconds=parse_go_duration_ns(interval) // 1000)
    lags: list[float] = []
    repeated = skipped = measurements = errors = 0
    phases: Counter[str] = Counter()
    for item in items:
        status = item.get("status") or {}
        phases[status.get("phase", "")] += 1
        started = parse_time(status.get("startedAt"))
        taken = [m for result in status.get("metricResults") or [] for m in result.get("measurements") or []]
        moments = [moment for m in taken if (moment := parse_time(m.get("startedAt"))) is not None]
        measurements += len(taken)
        errors += sum(1 for m in taken if m.get("phase") == "Error")
        if started is None or not moments:
            continue
        grid = grid_report(started, step, moments)
        lags += grid.lags
        repeated += grid.repeated
        skipped += grid.skipped
    heading = f"{len(items)} concurrent AnalysisRuns, one Prometheus metric every {interval}"
    print(f"\n== {heading}, {window.seconds:.0f}s")
    print(f"run phases after terminate: {dict(phases)}")
    print(f"measurements recorded: {measurements} ({errors} Error)")
    per = window.queries / measurements if measurements else float("nan")
    print(f"Prometheus /api/v1/query requests: {window.queries:.0f} -> {per:.3f} per measurement")
    print(f"grid slots measured twice: {repeated}; skipped: {skipped}")
    if lags:
        millis = [lag * 1000 for lag in lags]
        print(
            f"measurement lag (startedAt - grid time): median {statistics.median(millis):.0f} ms, "
            f"p95 {percentile(millis, 0.95):.0f} ms, max {max(millis):.0f} ms (n={len(millis)})"
        )
    share = 100 * window.cpu_seconds / window.seconds
    print(f"controller CPU {window.cpu_seconds:.1f}s over {window.seconds:.0f}s ({share:.1f}% of a core); "
          f"peak RSS {window.peak_rss_mib:.0f} MiB")  # fmt: skip
    print("controller API requests (whole benchmark, terminate included):")
    for (verb, resource), count in sorted(window.requests.items()):
        print(f"  {verb:6} {resource:14} {count}")
    if measurements:
        patches = window.requests[("PATCH", "analysisruns")]
        print(f"AnalysisRun status PATCHes per measurement: {patches / measurements:.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, help="a running devcluster's directory")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--interval", default="5s", help="the metric's interval (a Go duration)")
    args = parser.parse_args()
    # the controller subprocess runs ``python -m``, which puts the working directory first on
    # its sys.path: from inside bench/ this file would shadow the analysis package there too
    os.chdir(Path(__file__).resolve().parents[1])
    if args.runs < 1 or args.seconds <= 0:
        parser.error("--runs and --seconds must be positive")
    try:
        parse_go_duration_ns(args.interval)  # a bad duration fails here, not in 100 runs
    except DurationError as error:
        parser.error(f"--interval: {error}")
    cluster = DevCluster(args.dir)
    if not cluster.is_running():
        raise SystemExit(f"no devcluster running in {args.dir}")
    with cluster.api_client() as api:
        install_crds(api)
        core = client.CoreV1Api(api)
        namespace = core.create_namespace({"metadata": {"generateName": "bench-analysis-"}}).metadata.name
        workdir = Path(tempfile.mkdtemp(prefix="bench-analysis-"))
        try:
            bench(
                api, cluster, namespace, workdir, runs=args.runs, seconds=args.seconds, interval=args.interval
            )
        finally:
            core.delete_namespace(namespace)
        print(f"\ncontroller log and Prometheus data: {workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
