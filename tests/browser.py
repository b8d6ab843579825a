"""Headless Chromium for the map tests (tests/outputs/test_maps.py, tests/plan/test_end_to_end.py).

:func:`open_page` drives headless Chromium through the DevTools protocol over a pipe
(``--remote-debugging-pipe``: JSON messages separated by NUL bytes on file descriptors 3/4), so
no extra Python package and no browser download are needed, only ``/usr/bin/chromium``.

The hand-made bundles the outputs tests draw (Monaco, Hohhot) and the run parameters they
carry are fixtures in tests/outputs/conftest.py.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def chromium_path() -> str | None:
    """The Chromium executable, or None."""
    for c in CHROMIUM_CANDIDATES:
        if os.path.exists(c):
            return c
    return shutil.which("chromium")


# ---------------------------------------------------------------------------------------
# DevTools protocol over a pipe
# ---------------------------------------------------------------------------------------

@dataclass
class PageResult:
    """What a page did while it was open."""

    js_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    network_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    screenshot: Path | None = None
    final_screenshot: Path | None = None


class _Cdp:
    def __init__(self, exe: str, user_dir: str) -> None:
        args = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-default-apps", "--mute-audio", f"--user-data-dir={user_dir}",
                # no internet in tests: fail every host name at once instead of waiting on DNS
                "--host-resolver-rules=MAP * ~NOTFOUND", "--remote-debugging-pipe", "about:blank"]
        # Chromium reads commands on fd 3 and writes replies on fd 4: map them onto our pipes.
        self.proc = subprocess.Popen(
            ["/bin/sh", "-c", 'exec "$@" 3<&0 4>&1 0</dev/null 1>/dev/null', "sh", *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._id = 0
        self.replies: dict[int, dict] = {}
        self.events: queue.Queue[dict] = queue.Queue()
        self._cond = threading.Condition()
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self) -> None:
        buf = b""
        while True:
            chunk = self.proc.stdout.read1(1 << 16)
            if not chunk:
                with self._cond:
                    self._cond.notify_all()
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "id" in msg:
                    with self._cond:
                        self.replies[msg["id"]] = msg
                        self._cond.notify_all()
                else:
                    self.events.put(msg)

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 300.0) -> dict:
        self._id += 1
        mid = self._id
        msg: dict[str, Any] = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.proc.stdin.write(json.dumps(msg).encode() + b"\0")
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        with self._cond:
            while mid not in self.replies:
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise TimeoutError(f"no reply to {method}")
                self._cond.wait(left)
            reply = self.replies.pop(mid)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def open_page(html_path: str | Path, *, evaluate: dict[str, str], screenshot: str | Path | None = None,
              ready: str = "document.querySelector('.leaflet-control-layers') !== null",
              width: int = 1280, height: int = 860, timeout: float = 300.0,
              final_screenshot: str | Path | None = None) -> PageResult:
    """Open ``html_path`` in headless Chromium and report errors, requests, values and screenshots.

    Parameters
    ----------
    evaluate
        name -> JavaScript expression evaluated, in order, once ``ready`` is true; its value
        (or the value of the promise it returns) must be JSON-serialisable.
    screenshot
        PNG of the page as it opened, written here when given (before ``evaluate``).
    final_screenshot
        PNG of the page after every expression ran, written here when given.

    Every URL the page requests is in ``requests`` (the Network domain's
    ``requestWillBeSent``), so tests can check that nothing but tiles leaves the machine.
    """
    exe = chromium_path()
    if exe is None:
        raise FileNotFoundError("Chromium not found")
    res = PageResult()
    with tempfile.TemporaryDirectory(prefix="cc-chromium-") as user_dir:
        cdp = _Cdp(exe, user_dir)
        try:
            target = cdp.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            sid = cdp.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for method in ("Page.enable", "Runtime.enable", "Log.enable", "Network.enable"):
                cdp.send(method, session=sid)
            cdp.send("Emulation.setDeviceMetricsOverride",
                     {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=sid)
            cdp.send("Page.navigate", {"url": Path(html_path).resolve().as_uri()}, session=sid)
            deadline = time.monotonic() + timeout
            loaded = False
            while time.monotonic() < deadline:
                _drain(cdp, res)
                if not loaded:
                    r = cdp.send("Runtime.evaluate", {"expression": f"Boolean({ready})", "returnByValue": True},
                                 session=sid)
                    loaded = bool(r.get("result", {}).get("value"))
                    if loaded:
                        time.sleep(0.5)  # let Leaflet finish drawing
                        continue
                else:
                    break
                time.sleep(0.1)
            if not loaded:
                raise TimeoutError(f"map not ready after {timeout} s: {ready}")
            if screenshot is not None:
                res.screenshot = _shot(cdp, sid, screenshot)
            for name, expr in evaluate.items():
                r = cdp.send("Runtime.evaluate", {"expression": f"Promise.resolve({expr}).then(v => JSON.stringify(v))",
                                                  "returnByValue": True, "awaitPromise": True},
                             session=sid, timeout=timeout)
                if "exceptionDetails" in r:
                    d = r["exceptionDetails"]
                    res.js_errors.append(f"evaluate {name}: {d.get('exception', {}).get('description') or d.get('text')}")
                    continue
                res.values[name] = json.loads(r["result"]["value"])
            if final_screenshot is not None:
                res.final_screenshot = _shot(cdp, sid, final_screenshot)
            time.sleep(0.2)
            _drain(cdp, res)
        finally:
            cdp.close()
    return res


def _shot(cdp: _Cdp, sid: str, path: str | Path) -> Path:
    png = cdp.send("Page.captureScreenshot", {"format": "png"}, session=sid)["data"]
    Path(path).write_bytes(base64.b64decode(png))
    return Path(path)


def _drain(cdp: _Cdp, res: PageResult) -> None:
    while True:
        try:
            ev = cdp.events.get_nowait()
        except queue.Empty:
            return
        method, p = ev.get("method"), ev.get("params", {})
        if method == "Network.requestWillBeSent":
            res.requests.append(str(p.get("request", {}).get("url", "")))
        elif method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            res.js_errors.append(str(d.get("exception", {}).get("description") or d.get("text")))
        elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            res.console_errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
        elif method == "Log.entryAdded":
            e = p.get("entry", {})
            if e.get("level") == "error":
                # failed tile/network loads are expected without internet; JS errors are not
                (res.network_errors if e.get("source") == "network" else res.console_errors).append(
                    f"{e.get('source')}: {e.get('text')} {e.get('url', '')}")
