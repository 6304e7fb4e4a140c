"""The studio's web app (Starlette): the page and its files, ``GET /api/state``, ``POST /api/<action>``.

Every answer is JSON; an error is ``{"error": message, "code": ...}`` with an HTTP status the page shows as
it is (400 a setting or upload it cannot use, 404 a model not served, 413 an upload over the limit, 415 a
body that is not JSON (another site's form cannot make the studio work for it), 503 the
model server down, TF Serving's code for other server errors). A traceback never reaches the page: an
unexpected failure is logged here and answered 500 with its one-line description.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from serving.client import ServingError
from serving.part_maps import UnknownPartError
from serving.studio.actions import ACTIONS, SettingsError, shown
from serving.studio.backend import Studio
from serving.studio.discovery import ModelMissing
from serving.studio.uploads import MiB, UploadError, UploadTooLarge

STATIC = Path(__file__).with_name("static")
LOG = logging.getLogger("shoes-studio")
# HTTP statuses of TF Serving's error codes (as its REST API maps them).
HTTP_STATUS = {"INVALID_ARGUMENT": 400, "NOT_FOUND": 404, "FAILED_PRECONDITION": 409, "RESOURCE_EXHAUSTED": 429,
               "UNAVAILABLE": 503, "DEADLINE_EXCEEDED": 504, "UNIMPLEMENTED": 501}
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
REQUEST_UPLOADS = 2  # the most images one request carries (combine: two photos)


class WrongMediaType(SettingsError):
    """A POST that is not JSON (HTTP 415): the page always sends JSON; a form from another site does not."""


class SecurityHeaders:
    """ASGI middleware: every answer says that the page runs only its own script, shows images from the studio
    and data URLs, is never framed by another site, and is never sniffed as another type.

    Args:
        app: the ASGI app to wrap.
    """

    HEADERS = [
        (b"content-security-policy", b"default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; "
                                     b"form-action 'self'; frame-ancestors 'none'"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
    ]

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        async def sending(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *self.HEADERS]}
            await send(message)

        await self.app(scope, receive, sending if scope["type"] == "http" else send)


def error(status: int, message: str, code: str = "") -> JSONResponse:
    return JSONResponse({"error": message, "code": code}, status_code=status)


async def read_json(request: Request, limit: int, upload_limit: int) -> dict:
    """The request's JSON object, refused (`UploadTooLarge`) as soon as more than `limit` bytes arrive: the
    body is read in chunks as it comes, never whole before the check.

    Args:
        request: the request.
        limit: the largest body taken, in bytes.
        upload_limit: the largest image taken, in bytes (for the message).

    Raises:
        WrongMediaType: not ``application/json``.
        UploadTooLarge: more than `limit` bytes, said or sent.
        SettingsError: not JSON, nested too deeply, or not an object.
    """
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":  # a form or text/plain POST from another site's page (no CORS preflight)
        raise WrongMediaType(f"The studio takes settings as application/json. Received: Content-Type {shown(kind)}")
    declared = request.headers.get("content-length")
    too_large = UploadTooLarge(f"The request is over {limit / MiB:.0f} MB; the studio takes images up to "
                               f"{upload_limit / MiB:.3g} MB (shoes-studio --max-upload-mb). Choose a smaller file.")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    try:
        settings = json.loads(body or b"{}")
    except ValueError as problem:
        raise SettingsError(f"The request is not JSON: {problem}") from None
    except RecursionError:
        raise SettingsError("The request's JSON nests too deeply (the page sends settings a few levels deep)") from None
    if not isinstance(settings, dict):
        raise SettingsError(f"The request must be a JSON object. Received: {type(settings).__name__}")
    return settings


def loopback_hosts(host: str) -> list[str] | None:
    """The Host headers to answer when the studio listens on `host`: this machine's names when it listens on
    loopback only (another site's page that points its own name at 127.0.0.1, DNS rebinding, gets 400), None
    (any) when it listens on a network.

    Args:
        host: the address the server listens on (``shoes-studio --host``).
    """
    try:
        loopback = ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = host == "localhost"
    return list(dict.fromkeys([*LOOPBACK_HOSTS, host])) if loopback else None


def create_app(studio: Studio, hosts: list[str] | None = None) -> Starlette:
    """The ASGI app over `studio`.

    Args:
        studio: the models and actions behind the page.
        hosts: the Host headers answered (`loopback_hosts`); None answers any.
    """
    # Base64 makes 3 bytes 4; a little room for the settings around the images.
    body_limit = REQUEST_UPLOADS * (studio.max_upload_bytes * 4 // 3 + 4) + MiB

    async def page(request: Request):
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def state(request: Request):
        return JSONResponse(await run_in_threadpool(studio.state))

    async def act(request: Request):
        action = request.path_params["action"]
        if action not in ACTIONS:
            return error(404, f"No action {shown(action)}. The actions: {', '.join(ACTIONS)}")
        try:
            settings = await read_json(request, body_limit, studio.max_upload_bytes)
            return JSONResponse(await run_in_threadpool(studio.run, action, settings))
        except WrongMediaType as problem:
            return error(415, str(problem), "BAD_MEDIA_TYPE")
        except UploadError as problem:
            return error(problem.status, str(problem), "TOO_LARGE" if problem.status == 413 else "BAD_UPLOAD")
        except (SettingsError, UnknownPartError) as problem:
            return error(400, str(problem), "BAD_SETTING")
        except ModelMissing as problem:
            return error(404, str(problem), "MODEL_MISSING")
        except ServingError as problem:
            return error(HTTP_STATUS.get(problem.code, 502), f"{problem.code}: {problem.message}", problem.code)
        except ValueError as problem:  # what the client refuses before sending (e.g. parts that do not match)
            return error(400, str(problem), "BAD_SETTING")
        except Exception as problem:  # noqa: BLE001 - the page gets one line; the log keeps the traceback
            LOG.exception("%s failed", action)
            return error(500, f"The studio failed: {type(problem).__name__}: {problem}", "INTERNAL")

    routes = [
        Route("/", page),
        Route("/api/state", state),
        Route("/api/{action}", act, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        studio.close()

    middleware = [Middleware(SecurityHeaders)]
    middleware += [Middleware(TrustedHostMiddleware, allowed_hosts=hosts)] if hosts is not None else []
    app = Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
    app.state.studio = studio
    return app
