"""The FastAPI application: :func:`create_app` wires state, security, errors, routes and page.

* JSON API under ``/api/`` (OpenAPI at ``/openapi.json``), every route behind a bearer token
  and a per-token rate limit (:mod:`synthcust.service.auth`);
* errors are JSON ``{"error": message}``: library errors (``SynthcustError``) say what to fix;
  anything unexpected is logged on the server and answered with a short message, never a
  stack trace;
* CORS is off unless ``cors_origins`` is given;
* the web page is served from package data at ``/`` (no CDN, works offline).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from importlib import resources
from importlib.metadata import version
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from synthcust.exceptions import SynthcustError
from synthcust.io import ReadLimits
from synthcust.service.auth import RateLimiter, TokenCheck, load_or_create_token
from synthcust.service.interview import InterviewUnavailable
from synthcust.service.routes import router
from synthcust.service.state import ServiceState
from synthcust.service.uploads import UploadError
from synthcust.store.jobs import JobConflict, UnknownJob
from synthcust.store.workspace import BudgetError, Workspace

__all__ = ["create_app"]

log = logging.getLogger("synthcust.service")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; frame-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'")  # fmt: skip
# (no frame-ancestors: the sandboxed report iframe inherits the policy and would be blocked;
# X-Frame-Options: DENY keeps other sites from framing the page)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


class SecurityMiddleware:
    """Pure ASGI: token check and rate limit on ``/api/``; security headers everywhere.

    (Pure ASGI rather than ``BaseHTTPMiddleware`` so request bodies stream through untouched.)
    """

    def __init__(self, app: Any, check: TokenCheck, limiter: RateLimiter,
                 max_body: int = 10 * 2**20):  # fmt: skip
        self.app = app
        self.check = check
        self.limiter = limiter
        self.max_body = max_body
        # failed attempts per client address: slows down token guessing (and noisy clients)
        self.failures = RateLimiter(rate=1.0, burst=30)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                h = list(message.get("headers", []))
                h += [(b"x-content-type-options", b"nosniff"),
                      (b"referrer-policy", b"no-referrer"),
                      (b"content-security-policy", CSP.encode()),
                      (b"x-frame-options", b"DENY")]  # fmt: skip
                message["headers"] = h
            await send(message)

        path: str = scope.get("path", "")
        if path.startswith("/api/") and scope.get("method") != "OPTIONS":
            auth = dict(scope.get("headers", [])).get(b"authorization", b"").decode("latin-1")
            scheme, _, token = auth.partition(" ")
            if scheme.lower() != "bearer" or not self.check.verify(token.strip()):
                client = scope.get("client") or ("?", 0)
                wait = self.failures.take(f"fail:{client[0]}")
                if wait > 0:
                    resp = _error(429, "too many requests with a missing or invalid token",
                                  {"Retry-After": RateLimiter.retry_after(wait)})  # fmt: skip
                    return await resp(scope, receive, send_with_headers)
                resp = _error(401, "missing or invalid API token: send the header "
                                   "'Authorization: Bearer <token>' printed by `synthcust "
                                   "serve` at its first start",
                              {"WWW-Authenticate": "Bearer"})  # fmt: skip
                return await resp(scope, receive, send_with_headers)
            wait = self.limiter.take(self.check.digest + ":" + token.strip()[:8])
            if wait > 0:
                resp = _error(429, "too many requests; slow down",
                              {"Retry-After": RateLimiter.retry_after(wait)})  # fmt: skip
                return await resp(scope, receive, send_with_headers)
            headers = dict(scope.get("headers", []))
            if not headers.get(b"content-type", b"").startswith(b"multipart/"):
                receive = await self._bounded_body(scope, receive, send_with_headers, headers)
                if receive is None:
                    return None
        await self.app(scope, receive, send_with_headers)

    async def _bounded_body(self, scope: dict, receive: Any, send: Any,
                            headers: dict) -> Any:  # fmt: skip
        """Read a non-upload body up to ``max_body`` bytes, then replay it; None: refused."""
        limit = self.max_body
        too_big = _error(413, f"the request body is larger than the limit of "
                              f"{limit / 2**20:g} MB (serve --max-json-mb)")  # fmt: skip
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            await too_big(scope, receive, send)
            return None
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # a disconnect: pass it on
                chunks = [message]
                break
            size += len(message.get("body", b""))
            if size > limit:
                await too_big(scope, receive, send)
                return None
            chunks.append(message)
            more = message.get("more_body", False)
        pending = list(chunks)

        async def replay() -> Any:
            return pending.pop(0) if pending else await receive()

        return replay


def create_app(
    workspace: Workspace | str | Path | None = None,
    data_dir: str | Path | None = None,
    token: str | None = None,
    max_upload_mb: float = 200.0,
    *,
    rate: float = 50.0,
    burst: int = 400,
    cors_origins: list[str] | None = None,
    llm_backend: Any = None,
    workers: int = 2,
    read_limits: ReadLimits | None = None,
    max_json_mb: float = 10.0,
    upload_timeout_s: float = 30.0,
) -> FastAPI:
    """Build the synthcust HTTP service.

    Parameters
    ----------
    workspace : Workspace, str, Path or None
        A :class:`Workspace`, its location, or None for the default one. Jobs and uploaded
        datasets are stored in it (tables ``service_jobs``, ``service_datasets``), and so is
        the privacy ledger DP fits are charged to (the one the CLI uses).
    data_dir : str, Path or None
        Folder for uploaded files, models and reports (default: ``service-data`` beside the
        workspace file).
    token : str or None
        The API token to accept. ``None``: the token whose hash is stored in the workspace
        folder (``service_token.json``); on first start one is generated, its hash stored, and
        the plain token left in ``app.state.new_token`` for the caller to print once.
    max_upload_mb : float
        Largest accepted upload.
    rate, burst : float, int
        Per-token token bucket (requests per second, requests at once).
    cors_origins : list of str or None
        Origins allowed to call the API from a browser; None (default): CORS off.
    llm_backend : LLMBackend or None
        A backend for interviews (default: picked by :func:`synthcust.llm.get_backend` when
        the offline model or an HTTP server is set).
    workers : int
        Jobs (fits, evaluations, personas) run at once.
    read_limits : ReadLimits or None
        What one upload may decode to (default :data:`synthcust.service.state.SERVICE_LIMITS`:
        2 GiB, 20 million rows, 2,000 columns, 1 million characters per cell); crossing one is
        a 413 naming the limit.
    max_json_mb : float
        Largest JSON request body; larger ones get a 413 before they are read whole.
    upload_timeout_s : float
        An upload silent for this long is dropped with a 408 (frees its upload slot).

    Returns
    -------
    FastAPI
        The application; ``app.state.service`` is its :class:`ServiceState`.

    Examples
    --------
    >>> import tempfile
    >>> app = create_app(tempfile.mkdtemp(), token="secret")
    >>> app.title
    'synthcust'
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    if data_dir is None:
        loc = Path(ws.location)
        data_dir = (loc.parent if loc.suffix else Path.cwd()) / "service-data"
    data_dir = Path(data_dir)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    new_token = None
    if token is None:
        folder = Path(ws.location).parent if ws.backend == "sqlite" else data_dir
        check, new_token = load_or_create_token(folder)
    else:
        check = TokenCheck.for_token(token)
    if max_json_mb <= 0 or upload_timeout_s <= 0:
        raise SynthcustError("max_json_mb and upload_timeout_s must be positive")
    state = ServiceState(ws, data_dir, int(max_upload_mb * 2**20), llm_backend, workers,
                         read_limits=read_limits, upload_timeout_s=upload_timeout_s)  # fmt: skip

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()

    app = FastAPI(
        lifespan=lifespan,
        title="synthcust",
        version=_version(),
        description="Synthetic customers: upload, review the schema and PII, fit (with a "
        "target, or under differential privacy charged to the workspace's ledger), sample, "
        "evaluate, personas, price scenarios and persona interviews: the workflows the CLI "
        "and the library run, with their defaults. Every /api/ route needs "
        "`Authorization: Bearer <token>`. Real rows are never returned: only synthetic data "
        "and aggregates.",
        docs_url=None,  # Swagger UI loads scripts from a CDN, which our own CSP blocks
        redoc_url=None,
    )
    app.state.service = state
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    app.state.new_token = new_token
    app.state.recovered_jobs = state.recovered
    for exc, handler in _HANDLERS:
        app.add_exception_handler(exc, handler)
    app.include_router(router)
    _add_page(app)
    if cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins),
                           allow_methods=["GET", "POST", "PUT"],
                           allow_headers=["Authorization", "Content-Type"])  # fmt: skip
    app.add_middleware(SecurityMiddleware, check=check, limiter=RateLimiter(rate, burst),
                       max_body=int(max_json_mb * 2**20))  # fmt: skip
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI spec, with bearer authentication declared on every /api/ operation."""
    if app.openapi_schema is None:
        spec = get_openapi(title=app.title, version=app.version,
                           description=app.description, routes=app.routes)  # fmt: skip
        spec.setdefault("components", {})["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "the token printed by `synthcust serve`"}
        }  # fmt: skip
        for path, ops in spec.get("paths", {}).items():
            if path.startswith("/api/"):
                for op in ops.values():
                    op["security"] = [{"bearer": []}]
        app.openapi_schema = spec
    return app.openapi_schema


def _add_page(app: FastAPI) -> None:
    """The web page (package data: no CDN) and the health check."""
    static = resources.files("synthcust.service") / "static"

    @app.get("/", include_in_schema=False)
    def index() -> Response:
        return Response((static / "index.html").read_bytes(), media_type="text/html")

    @app.get("/static/{name}", include_in_schema=False)
    def static_file(name: str) -> Response:
        files = {"app.js": "text/javascript", "style.css": "text/css"}
        if name not in files:  # a fixed list: no name from the URL becomes a path
            return _error(404, f"no static file {name!r}")
        return Response((static / name).read_bytes(), media_type=files[name])

    @app.get("/docs", include_in_schema=False)
    def docs() -> Response:
        return Response(
            "<!doctype html><title>synthcust API</title><p>The API is described by its OpenAPI "
            "document at <a href='/openapi.json'>/openapi.json</a>: open it in any OpenAPI "
            "viewer. The interactive page is off because it loads scripts from a CDN.</p>",
            media_type="text/html",
        )

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}


# ---------------------------------------------------------------------------- errors -> JSON
async def _http(request: Request, e: StarletteHTTPException) -> JSONResponse:
    return _error(e.status_code, str(e.detail), getattr(e, "headers", None))


async def _invalid(request: Request, e: RequestValidationError) -> JSONResponse:
    parts = []
    for err in e.errors()[:5]:
        loc = ".".join(str(x) for x in err.get("loc", ()) if x != "body")
        parts.append(f"{loc}: {err.get('msg')}" if loc else str(err.get("msg")))
    return _error(422, "invalid request: " + "; ".join(parts))


async def _upload(request: Request, e: UploadError) -> JSONResponse:
    return _error(e.status, e.message)


def _status(code: int) -> Any:
    async def handler(request: Request, e: Exception) -> JSONResponse:
        return _error(code, str(e))

    return handler


async def _bug(request: Request, e: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _error(500, f"internal error ({type(e).__name__}); see the server log")


#: exception -> handler; Starlette picks the most specific class (its MRO), not the order
_HANDLERS: list[tuple[type[Exception], Any]] = [
    (StarletteHTTPException, _http),
    (RequestValidationError, _invalid),
    (UploadError, _upload),
    (UnknownJob, _status(404)),
    (JobConflict, _status(409)),
    (InterviewUnavailable, _status(503)),
    (BudgetError, _status(403)),  # over the dataset's privacy budget: refused, not retried
    (SynthcustError, _status(400)),  # the library says what to fix
    (Exception, _bug),
]


def _version() -> str:
    try:
        return version("synthcust")
    except Exception:  # not installed (running from a source tree)
        return "0"
