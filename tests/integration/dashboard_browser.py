"""A small Chrome DevTools Protocol client for the dashboard's browser tests.

Debian's ``chromium`` runs headless with a private profile and a DevTools port it picks itself
(read back from ``DevToolsActivePort``); we talk to one page over ``websocket-client`` (already
a dependency of the kubernetes client), so no browser download and no Playwright are needed.
Clicks are real mouse events at the element's centre, not ``element.click()`` from a script.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import websocket

PATIENCE = 60.0


class BrowserError(AssertionError):
    pass


class Browser:
    def __init__(self, profile: Path, width: int = 1280, height: int = 900) -> None:
        executable = shutil.which("chromium") or shutil.which("chromium-browser")
        if executable is None:
            raise BrowserError("chromium is not installed (apt-get install -y chromium)")
        profile.mkdir(parents=True, exist_ok=True)
        port_file = profile / "DevToolsActivePort"
        port_file.unlink(missing_ok=True)  # a reused profile's file names a browser long gone
        self.log = profile / "chromium.log"
        with self.log.open("w") as sink:
            self.process = subprocess.Popen(
                [
                    executable,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--remote-debugging-port=0",
                    f"--user-data-dir={profile}",
                    f"--window-size={width},{height}",
                    "about:blank",
                ],
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + PATIENCE
        while not (port_file.exists() and port_file.read_text().strip()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise BrowserError(f"chromium did not start; log: {self.log.read_text()[-2000:]}")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list") as answer:
            pages = [t for t in json.load(answer) if t.get("type") == "page"]
        self.socket = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=PATIENCE)
        self.ids = itertools.count(1)
        self.send("Page.enable")
        self.send("Runtime.enable")

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        message_id = next(self.ids)
        self.socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") != message_id:
                continue  # an event; nothing here needs them
            if "error" in message:
                raise BrowserError(f"{method}: {message['error']}")
            result: dict[str, Any] = message.get("result", {})
            return result

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression}: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def open(self, url: str) -> None:
        self.send("Page.navigate", url=url)

    def wait_for(self, what: str, expression: str, timeout: float = PATIENCE) -> Any:
        """Poll a page expression until it is truthy; fail naming ``what`` and the page text."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                text = self.evaluate("document.body ? document.body.innerText : ''")
                raise BrowserError(f"gave up waiting for {what}; the page shows: {text[:1500]!r}")
            time.sleep(0.2)

    def click(self, selector: str) -> None:
        box = self.wait_for(
            f"a visible {selector}",
            f"""(() => {{ const e = document.querySelector({json.dumps(selector)});
                if (!e) return null; e.scrollIntoView({{block: 'center'}});
                const r = e.getBoundingClientRect();
                return r.width > 0 ? {{x: r.x + r.width / 2, y: r.y + r.height / 2}} : null; }})()""",
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.send(
                "Input.dispatchMouseEvent", type=kind, x=box["x"], y=box["y"], button="left", clickCount=1
            )

    def screenshot(self, path: Path) -> Path:
        data = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        socket = getattr(self, "socket", None)
        if socket is not None:
            socket.close()
        stop(self.process)


def stop(process: subprocess.Popen[Any]) -> None:
    """Terminate a process we started, killing it if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
