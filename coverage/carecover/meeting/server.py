"""The meeting room's web server: a Starlette app on uvicorn, bound to 127.0.0.1.

Every request must carry the session's token (``?token=`` in the page's address, or the
``X-Carecover-Token`` header the page sends with its API calls); anything else gets 403, so
another local page or user cannot drive the meeting. Only the page, its script and style and the
vendored Leaflet files are served, by name (no path from a request ever reaches the file
system); request bodies are limited to :data:`MAX_BODY` bytes; the host name must be
``127.0.0.1`` or ``localhost``. The state lives in one :class:`~carecover.meeting.room.Room`:
several tabs see the same scenario (the page polls :func:`version`).
"""

from __future__ import annotations

import json
import math
import secrets
import socket
import threading
import time
from importlib.resources import files
from pathlib import Path

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from carecover.errors import InputError
from carecover.meeting import views
from carecover.meeting.room import Room

__all__ = ["MAX_BODY", "Served", "build_app", "new_token", "start"]

#: Largest request body accepted (bytes).
MAX_BODY = 64 * 1024
HOST = "127.0.0.1"
TOKEN_HEADER = "x-carecover-token"
STATIC = {"meet.js": "application/javascript", "meet.css": "text/css"}
ASSETS = {"leaflet.js": "application/javascript", "leaflet.css": "text/css"}
#: The page may load tiles from these hosts only (optional basemap); nothing else leaves the machine.
TILE_HOSTS = "https://*.tile.openstreetmap.org"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       f"img-src 'self' data: blob: {TILE_HOSTS}; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")


def new_token() -> str:
    """A fresh random session token."""
    return secrets.token_urlsafe(24)


class _TokenGate:
    """ASGI middleware: 403 unless the request carries the token."""

    def __init__(self, app, token: str) -> None:
        self.app, self.token = app, token

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope.get("path") == "/favicon.ico":
            return await Response(status_code=204)(scope, receive, send)
        if scope["type"] == "http":
            req = Request(scope)
            given = req.query_params.get("token") or req.headers.get(TOKEN_HEADER) or ""
            if not secrets.compare_digest(given.encode(), self.token.encode()):
                resp = PlainTextResponse("403 禁止访问：缺少会话令牌 / forbidden: missing or wrong session token",
                                         status_code=403)
                return await resp(scope, receive, send)
        await self.app(scope, receive, send)


async def _body(request: Request) -> dict:
    """The JSON body (at most :data:`MAX_BODY` bytes)."""
    if int(request.headers.get("content-length") or 0) > MAX_BODY:
        raise InputError(f"请求过大 / request larger than {MAX_BODY} bytes", field="body")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise InputError(f"请求过大 / request larger than {MAX_BODY} bytes", field="body")
        chunks.append(chunk)
    try:
        doc = json.loads(b"".join(chunks) or b"{}")
    except ValueError as exc:
        raise InputError(f"请求不是有效的 JSON / body is not valid JSON: {exc}", field="body") from exc
    if not isinstance(doc, dict):
        raise InputError("请求须为 JSON 对象 / body must be a JSON object", field="body")
    return doc


def _finite(obj):
    """``obj`` with NaN/inf floats as ``None`` (strict JSON)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if isinstance(obj, np.generic):
        return _finite(obj.item())
    return obj


def _json(doc, status: int = 200) -> JSONResponse:
    headers = {"Cache-Control": "no-store"}
    try:  # strict JSON at once (no walk over thousands of point indices) …
        return JSONResponse(doc, status_code=status, headers=headers)
    except (ValueError, TypeError):  # … else with NaN as null and numpy scalars as numbers
        return JSONResponse(_finite(doc), status_code=status, headers=headers)


def build_app(room: Room, token: str, lang: str = "zh", tiles: bool = False) -> Starlette:
    """The meeting app.

    Parameters
    ----------
    room
        The tiers and their scenarios.
    token
        The session token every request must carry.
    lang
        ``zh`` (Chinese first) or ``en``.
    tiles
        Whether the OpenStreetMap basemap starts switched on (the page can switch it).
    """
    static = files("carecover.meeting") / "static"
    assets = files("carecover") / "outputs" / "assets"

    def guarded(fn):
        async def endpoint(request: Request) -> Response:
            t0 = time.perf_counter()
            try:
                body = await _body(request) if request.method == "POST" else {}
                resp = _json(await run_in_threadpool(fn, request, body))
            except InputError as exc:
                resp = _json({"error": str(exc)}, 400)
            # the server's share of an answer (the page records it beside its own timing)
            resp.headers["X-Elapsed-Ms"] = f"{(time.perf_counter() - t0) * 1000:.1f}"
            return resp
        return endpoint

    def page(request: Request) -> Response:
        cfg = {"token": token, "lang": lang, "tiles": tiles and "handout" not in request.query_params,
               "handout": request.query_params.get("handout") == "1", "tier": request.query_params.get("tier"),
               "tiers": [{"key": k, "name_zh": v[0], "name_en": v[1]} for k, v in _labels(room).items()]}
        text = (static / "meet.html").read_text(encoding="utf-8").replace(
            "__CONFIG__", _script_json(cfg)).replace("__TOKEN__", token)
        return HTMLResponse(text, headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store",
                                           "Referrer-Policy": "no-referrer"})

    def file_of(root, table):
        def serve_file(request: Request) -> Response:
            name = request.path_params["name"]
            if name not in table:
                return PlainTextResponse("404", status_code=404)
            return Response((root / name).read_bytes(), media_type=table[name])
        return serve_file

    def tier_call(method):
        def call(request: Request, body: dict):
            with room.lock:
                return method(room, room.tier(request.path_params["tier"]), body)
        return call

    routes = [Route("/", page), Route("/static/{name}", file_of(static, STATIC)),
              Route("/assets/{name}", file_of(assets, ASSETS)),
              Route("/api/version", guarded(lambda r, b: {"version": room.version})),
              Route("/api/tier/{tier}/layers", guarded(tier_call(lambda rm, t, b: views.static_layers(t)))),
              Route("/api/tier/{tier}/view", guarded(tier_call(lambda rm, t, b: views.view(t, rm.version)))),
              Route("/api/tier/{tier}/compare", guarded(tier_call(lambda rm, t, b: views.compare(t)))),
              Route("/api/tier/{tier}/handout", guarded(tier_call(lambda rm, t, b: views.handout(t)))),
              Route("/api/tier/{tier}/action", guarded(tier_call(_act)), methods=["POST"])]
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=[HOST, "localhost"]),
                  Middleware(_TokenGate, token=token)]
    return Starlette(routes=routes, middleware=middleware)


def _script_json(doc) -> str:
    """JSON safe inside ``<script type="application/json">`` (no ``<``, ``>``, ``&`` as such)."""
    return (json.dumps(doc, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026"))


def _labels(room: Room) -> dict[str, tuple[str, str]]:
    from carecover.meeting.common import tier_label

    return {k: tier_label(k) for k in room.keys()}


def _act(room: Room, t, body: dict) -> dict:
    """POST action: save/load a named scenario, or a scenario change."""
    kind = body.get("action")
    if kind == "save":
        views.save_scenario(t, str(body.get("name", "")))
        room.version += 1
    elif kind == "load":
        room.act(t.state.tier, {"action": "scenario",
                                "scenario": views.load_saved(t, str(body.get("name", ""))).to_dict()})
    else:
        room.act(t.state.tier, body)
    return views.view(t, room.version)


class Served:
    """A running server (uvicorn in a thread, or in the foreground with :meth:`run`).

    Parameters
    ----------
    app
        The ASGI app.
    port
        Port on 127.0.0.1 (0: any free port).
    """

    def __init__(self, app, port: int = 0) -> None:
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((HOST, int(port)))
        except OSError as exc:
            self.sock.close()
            raise InputError(f"端口不可用 / cannot listen on {HOST}:{port}: {exc}", field="port",
                             expected="a free port, or 0 for any") from exc
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off",
                                                    timeout_graceful_shutdown=2))
        self.thread: threading.Thread | None = None

    def url(self, token: str) -> str:
        """The page's address with the token."""
        return f"http://{HOST}:{self.port}/?token={token}"

    def run(self) -> None:
        """Serve in the foreground until Ctrl-C (uvicorn shuts down gracefully)."""
        self.server.run(sockets=[self.sock])

    def start(self, timeout: float = 20.0) -> Served:
        """Serve in a background thread; returns once it accepts connections."""
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        end = time.monotonic() + timeout
        while not self.server.started and time.monotonic() < end and self.thread.is_alive():
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Stop a background server."""
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(10)
        self.sock.close()


def start(room: Room, *, lang: str = "zh", port: int = 0, token: str | None = None) -> tuple[Served, str]:
    """Build the app and serve it in a background thread (tests, benchmark).

    Returns
    -------
    (Served, str)
        The server and the page's URL with the token.
    """
    token = token or new_token()
    served = Served(build_app(room, token, lang), port).start()
    return served, served.url(token)


def folder_of(room: Room) -> Path | None:
    """The plan output folder the room works in."""
    t = next(iter(room.tiers.values()))
    return t.state.path.parent.parent if t.state.path is not None else None
