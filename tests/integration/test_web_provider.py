"""The web provider against a real local HTTP(S) server (stdlib ``http.server`` in a thread)."""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from prometheus import free_port, self_signed_certificate

from analysis.models import Measurement, Metric
from analysis.providers import HttpDriver, WebProvider

TOKEN = "tok-123"
PAYLOAD = {"data": {"ok": True, "successPercent": 0.97, "latency": [120, 250, 900]}}


class Handler(BaseHTTPRequestHandler):
    """Routes a test can point a metric at."""

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, value: Any) -> None:
        self._send(status, json.dumps(value).encode())

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if path == "/json":
            self._json(200, PAYLOAD)
        elif path.startswith("/status/"):
            self._json(int(path.rsplit("/", 1)[1]), {"error": "as requested"})
        elif path == "/slow":
            time.sleep(3)
            self._json(200, PAYLOAD)
        elif path == "/text":
            self._send(200, b"OK\n", "text/plain")
        elif path == "/nan":
            self._send(200, b'{"ratio": NaN}')
        elif path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/json")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/huge":
            self._send(200, b'{"padding": "' + b"x" * (2 * 1024 * 1024) + b'"}')
        elif path == "/protected":
            if self.headers.get("Authorization") == f"Bearer {TOKEN}":
                self._json(200, {"healthy": True})
            else:
                self._json(401, {"error": "unauthorized"})
        else:
            self._echo()

    def do_POST(self) -> None:
        if self.path == "/token":
            self._token()
        else:
            self._echo()

    def do_PUT(self) -> None:
        self._echo()

    def _echo(self) -> None:
        headers = {key.lower(): value for key, value in self.headers.items()}
        self._json(200, {"method": self.command, "headers": headers, "body": self._body().decode()})

    def _token(self) -> None:
        """Accepts client credentials only in the form body, as some identity providers do."""
        form = urllib.parse.parse_qs(self._body().decode())
        if "Authorization" in self.headers:
            self._json(401, {"error": "invalid_client"})
        elif form.get("client_id") == ["app"] and form.get("client_secret") == ["secret"]:
            self._json(200, {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 60})
        else:
            self._json(400, {"error": "invalid_request"})

    def log_message(self, format: str, *args: Any) -> None:
        return None


def _serve(server: ThreadingHTTPServer) -> Iterator[str]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    scheme = "https" if isinstance(server.socket, ssl.SSLSocket) else "http"
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def web() -> Iterator[str]:
    yield from _serve(ThreadingHTTPServer(("127.0.0.1", 0), Handler))


@pytest.fixture(scope="module")
def tls_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    cert, key = self_signed_certificate(tmp_path_factory.mktemp("tls"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    yield from _serve(server)


def metric(url: str, success: str | None = None, failure: str | None = None, **web: Any) -> Metric:
    return Metric.from_dict(
        {
            "name": "m",
            "successCondition": success,
            "failureCondition": failure,
            "provider": {"web": {"url": url, **web}},
        }
    )


def measure(m: Metric, **driver: Any) -> Measurement:
    async def run() -> Measurement:
        async with HttpDriver(**driver) as http:
            return await WebProvider(http).measure(m)

    return asyncio.run(run())


def test_a_json_path_value_is_evaluated(web: str) -> None:
    m = metric(f"{web}/json", "result >= 0.95", jsonPath="{$.data.successPercent}")
    measurement = measure(m)
    assert (measurement.phase, measurement.value, measurement.message) == ("Successful", "0.97", None)
    failing = measure(metric(f"{web}/json", "all(result, {# < 500})", jsonPath="{.data.latency}"))
    assert (failing.phase, failing.value) == ("Failed", "[120,250,900]")


def test_the_whole_body_by_default(web: str) -> None:
    measurement = measure(metric(f"{web}/json", "result.data.ok && result.data.successPercent > 0.9"))
    assert measurement.phase == "Successful"
    assert measurement.value == '{"data":{"latency":[120,250,900],"ok":true,"successPercent":0.97}}'


@pytest.mark.parametrize("status", [404, 500, 503])
def test_non_2xx_is_an_error(web: str, status: int) -> None:
    measurement = measure(metric(f"{web}/status/{status}", "true"))
    assert (measurement.phase, measurement.message) == ("Error", f"received non 2xx response code: {status}")


def test_a_slow_server_times_out(web: str) -> None:
    began = time.monotonic()
    measurement = measure(metric(f"{web}/slow", "true", timeoutSeconds=1))
    assert (measurement.phase, measurement.message) == ("Error", f'Get "{web}/slow": timed out after 1s')
    assert time.monotonic() - began >= 1


def test_a_body_that_is_not_json_is_successful_raw(web: str) -> None:
    text = measure(metric(f"{web}/text", "false"))
    assert (text.phase, text.value) == ("Successful", "OK\n")
    nan = measure(metric(f"{web}/nan", "false"))  # Go's JSON has no NaN: the body is not JSON
    assert (nan.phase, nan.value) == ("Successful", '{"ratio": NaN}')


def test_post_with_a_json_body_and_headers(web: str) -> None:
    m = metric(
        f"{web}/echo",
        'result.method == "POST" && result.headers["x-tenant"] == "b"',
        method="POST",
        headers=[{"key": "X-Tenant", "value": "a"}, {"key": "X-Tenant", "value": "b"}],
        jsonBody={"query": "errors", "window": "5m"},
    )
    measurement = measure(m)
    assert measurement.phase == "Successful", measurement.message
    echoed = json.loads(measurement.value or "{}")
    assert echoed["headers"]["content-type"] == "application/json"
    assert json.loads(echoed["body"]) == {"query": "errors", "window": "5m"}
    put = measure(metric(f"{web}/echo", 'result.body == "plain text"', method="PUT", body="plain text"))
    assert put.phase == "Successful", put.value


def test_redirects_are_followed(web: str) -> None:
    assert measure(metric(f"{web}/redirect", "result.data.ok")).phase == "Successful"


def test_an_oversized_response_is_an_error(web: str) -> None:
    measurement = measure(metric(f"{web}/huge", "true"), max_response_bytes=1024 * 1024)
    assert (measurement.phase, measurement.message) == ("Error", "response body is larger than 1048576 bytes")


def test_oauth2_client_credentials(web: str) -> None:
    oauth2 = {"tokenUrl": f"{web}/token", "clientId": "app", "clientSecret": "secret", "scopes": ["metrics"]}
    measurement = measure(metric(f"{web}/protected", "result.healthy", authentication={"oauth2": oauth2}))
    assert measurement.phase == "Successful", measurement.message
    wrong = {**oauth2, "clientSecret": "nope"}
    refused = measure(metric(f"{web}/protected", "result.healthy", authentication={"oauth2": wrong}))
    assert refused.phase == "Error"
    assert (refused.message or "").startswith("oauth2: cannot fetch token: 400 Bad Request")


def test_a_path_that_finds_nothing_is_an_error(web: str) -> None:
    measurement = measure(metric(f"{web}/json", "true", jsonPath="{.data.missing}"))
    assert (measurement.phase, measurement.message) == (
        "Error",
        "Could not find JSONPath in body: missing is not found",
    )


def test_a_condition_that_does_not_parse_is_an_error_naming_the_position(web: str) -> None:
    measurement = measure(metric(f"{web}/json", "result.data.ok &&"))
    assert measurement.phase == "Error"
    assert (measurement.message or "").startswith('could not evaluate successCondition "result.data.ok &&": ')
    assert "(1:" in (measurement.message or "")


def test_tls_verification_and_insecure(tls_web: str) -> None:
    assert measure(metric(f"{tls_web}/json", "result.data.ok", insecure=True)).phase == "Successful"
    verified = measure(metric(f"{tls_web}/json", "result.data.ok"))
    assert verified.phase == "Error"
    assert "CERTIFICATE_VERIFY_FAILED" in (verified.message or "")


def test_unreachable_and_unsupported_urls_are_errors() -> None:
    port = free_port()
    refused = measure(metric(f"http://127.0.0.1:{port}/json", "true"))
    assert refused.phase == "Error"
    assert (refused.message or "").startswith(f'Get "http://127.0.0.1:{port}/json": ')
    scheme = measure(metric("bad://url.com", "true"))
    assert scheme.phase == "Error"
    assert "unsupported protocol" in (scheme.message or "")
