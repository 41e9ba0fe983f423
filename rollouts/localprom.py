"""A local Prometheus scraping a local exporter: used by ``rollouts demo`` and the analysis tests.

:class:`Exporter` runs this module as a separate process (``python -m rollouts.localprom
exporter PORT REVISION...``): a ``prometheus_client`` registry with ``http_requests_total{code,
revision}`` and a latency histogram per revision, served on ``/metrics``, plus ``POST /record``
so the caller drives the numbers. The listed revisions' series exist at zero from the start, so
``rate()`` over them is exact from the first increment.

:class:`PrometheusServer` runs Debian's ``/usr/bin/prometheus`` on a free loopback port with a
TSDB and a generated config (scraping every second) in its own directory; ``start`` waits until
the targets are up. Optionally it serves TLS with a self-signed certificate and requires basic
auth (``web.config.file``), so the provider's ``insecure`` and ``basicAuth`` are tested for real.

Both run attached (stopped with the caller, as the tests want) or ``detached`` in their own
session with a log file, so the demo can leave them running for the user; a missing binary is a
:class:`LocalPrometheusError` that says what to install.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PROMETHEUS_BINARY = "/usr/bin/prometheus"
INSTALL_HINT = "install Debian's prometheus package: apt-get install -y prometheus"
SCRAPE_INTERVAL = "1s"
REVISIONS = ("stable", "canary")
CODES = ("200", "404", "500", "503")
BASIC_AUTH_USER = "analyst"
BASIC_AUTH_PASSWORD = "s3cret-analysis"
# bcrypt (cost 4) of BASIC_AUTH_PASSWORD, made with golang.org/x/crypto/bcrypt: Prometheus' web
# config only takes bcrypt hashes, and no bcrypt library is a dependency of this project.
BASIC_AUTH_HASH = "$2a$04$r8w6ZCbdrkbSxhMmDxTfnezWKbZTYhhtsCo.zIHFCHeRSvx5bi7Uy"


class LocalPrometheusError(RuntimeError):
    """Prometheus or the exporter did not start or answer (the message says why)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(what: str, check: Callable[[], bool], *, timeout: float = 60.0, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log is not None and log.exists() else ""
    raise LocalPrometheusError(
        f"timed out after {timeout:g}s waiting for {what}" + (f"\n--- log ---\n{tail}" if tail else "")
    )


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1, made with the openssl command line tool."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert),
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


# --------------------------------------------------------------------------------------------
# The exporter process


def serve_exporter(port: int, revisions: list[str]) -> None:
    """The exporter's main: counters and a histogram per revision, driven by POST /record."""
    from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
    from prometheus_client.exposition import CONTENT_TYPE_LATEST

    registry = CollectorRegistry()
    requests = Counter("http_requests", "HTTP requests served", ["code", "revision"], registry=registry)
    latency = Histogram(
        "http_request_duration_seconds",
        "HTTP request latency",
        ["revision"],
        buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
        registry=registry,
    )
    for revision in revisions:
        latency.labels(revision=revision)
        for code in CODES:
            requests.labels(code=code, revision=revision)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/metrics":
                self.send_error(404)
                return
            body = generate_latest(registry)
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE_LATEST)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            if url.path != "/record":
                self.send_error(404)
                return
            query = urllib.parse.parse_qs(url.query)
            revision = query.get("revision", ["canary"])[0]
            count = int(query.get("count", ["1"])[0])
            requests.labels(code=query.get("code", ["200"])[0], revision=revision).inc(count)
            duration = float(query.get("duration", ["0.01"])[0])
            for _ in range(count):
                latency.labels(revision=revision).observe(duration)
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return None

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


@dataclass
class Exporter:
    """The exporter process; :meth:`record` drives its counters.

    Series exist (at zero) from the start only for ``revisions``: record to those, or the first
    increment of a new series is invisible to ``rate()``.
    """

    revisions: tuple[str, ...] = REVISIONS
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    # detached: its own session, errors to this file, left running when the caller exits
    log: Path | None = None

    def start(self) -> Exporter:
        command = [sys.executable, "-m", "rollouts.localprom", "exporter", str(self.port), *self.revisions]
        if self.log is None:
            self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        else:
            with self.log.open("ab") as log:
                self.process = subprocess.Popen(
                    command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
        wait_for("the exporter", lambda: bool(self._get("/metrics")), timeout=30, log=self.log)
        return self

    def _get(self, path: str) -> bytes:
        if self.process is not None and self.process.poll() is not None:
            stderr = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
            raise LocalPrometheusError(f"the exporter exited with {self.process.returncode}: {stderr}")
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as response:
            body: bytes = response.read()
            return body

    def record(self, code: str, count: int, *, revision: str = "canary", duration: float = 0.01) -> None:
        query = urllib.parse.urlencode(
            {"code": code, "count": count, "revision": revision, "duration": duration}
        )
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/record?{query}", method="POST")
        with urllib.request.urlopen(request, timeout=5):
            pass

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        if self.process.stderr is not None:
            self.process.stderr.close()


# --------------------------------------------------------------------------------------------
# Prometheus


@dataclass
class PrometheusServer:
    """Debian's Prometheus on loopback, scraping ``targets`` every second."""

    directory: Path
    targets: tuple[str, ...] = ()
    secured: bool = False
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    detached: bool = False  # its own session: left running when the caller exits
    binary: str = PROMETHEUS_BINARY

    @property
    def address(self) -> str:
        return f"{'https' if self.secured else 'http'}://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.directory / "prometheus.log"

    def start(self) -> PrometheusServer:
        if not (shutil.which(self.binary) or os.access(self.binary, os.X_OK)):
            raise FileNotFoundError(f"{self.binary} is missing: {INSTALL_HINT}")
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.directory / "prometheus.yml"
        config.write_text(self._config())
        command = [
            self.binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={self.directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--log.level=warn",
        ]
        if self.secured:
            command.append(f"--web.config.file={self._web_config()}")
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=self.detached
            )
        wait_for("Prometheus to be ready", self._ready, log=self.log)
        if self.targets:
            wait_for("the scrape targets to be up", self._targets_up, log=self.log)
        return self

    def _config(self) -> str:
        lines = [
            "global:",
            f"  scrape_interval: {SCRAPE_INTERVAL}",
            f"  evaluation_interval: {SCRAPE_INTERVAL}",
        ]
        if self.targets:
            lines += ["scrape_configs:", "  - job_name: exporter", "    static_configs:"]
            lines.append("      - targets: [" + ", ".join(f"'{target}'" for target in self.targets) + "]")
        return "\n".join(lines) + "\n"

    def _web_config(self) -> Path:
        cert, key = self_signed_certificate(self.directory)
        web = self.directory / "web.yml"
        web.write_text(
            f"tls_server_config:\n  cert_file: {cert}\n  key_file: {key}\n"
            f"basic_auth_users:\n  {BASIC_AUTH_USER}: {BASIC_AUTH_HASH}\n"
        )
        return web

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise LocalPrometheusError(
                f"prometheus exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}"
            )
        if self.secured:
            return bool(self.query("vector(1)"))
        with urllib.request.urlopen(f"{self.address}/-/ready", timeout=2) as response:
            return bool(response.status == 200)

    def _targets_up(self) -> bool:
        series = self.query('up{job="exporter"} == 1')
        return len(series) == len(self.targets)

    def query(self, promql: str) -> list[Any]:
        """An instant query through Prometheus' HTTP API (the test's own view, not the provider's)."""
        url = f"{self.address}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        request = urllib.request.Request(url)
        context = None
        if self.secured:
            import base64
            import ssl

            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            token = base64.b64encode(f"{BASIC_AUTH_USER}:{BASIC_AUTH_PASSWORD}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(request, timeout=5, context=context) as response:
            body = json.load(response)
        result: list[Any] = body["data"]["result"]
        return result

    def wait_for_value(self, promql: str, expected: float, *, timeout: float = 30.0) -> None:
        """Wait until ``promql`` returns one series equal to ``expected`` (a scrape has happened)."""

        def reached() -> bool:
            result = self.query(promql)
            return len(result) == 1 and float(result[0]["value"][1]) == expected

        wait_for(f"{promql} == {expected}", reached, timeout=timeout, log=self.log)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


if __name__ == "__main__" and sys.argv[1:2] == ["exporter"]:
    serve_exporter(int(sys.argv[2]), sys.argv[3:])
