"""The studio's web app (Starlette): the page and its files, ``GET /api/state``, ``POST /api/<action>``.

Every answer is JSON; an error is ``{"error": message, "code": ...}`` with an HTTP status the page shows as
it is (400 a setting or upload it cannot use, 404 a model not served, 413 an upload over the limit, 503 the
model server down, TF Serving's code for other server errors). A traceback never reaches the page: an
unexpected failure is logged here and answered 500 with its one-line description.
"""

from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from serving.client import ServingError
from serving.part_maps import UnknownPartError
from serving.studio.actions import ACTIONS, SettingsError
from serving.studio.backend import Studio
from serving.studio.discovery import ModelMissing
from serving.studio.uploads import MiB, UploadError, UploadTooLarge

STATIC = Path(__file__).with_name("static")
LOG = logging.getLogger("shoes-studio")
# HTTP statuses of TF Serving's error codes (as its REST API maps them).
HTTP_STATUS = {"INVALID_ARGUMENT": 400, "NOT_FOUND": 404, "FAILED_PRECONDITION": 409, "RESOURCE_EXHAUSTED": 429,
               "UNAVAILABLE": 503, "DEADLINE_EXCEEDED": 504, "UNIMPLEMENTED": 501}
REQUEST_UPLOADS = 2  # the most images one request carries (combine: two photos)


def error(status: int, message: str, code: str = "") -> JSONResponse:
    return JSONResponse({"error": message, "code": code}, status_code=status)


async def read_json(request: Request, limit: int, upload_limit: int) -> dict:
    """The request's JSON object, refused (`UploadTooLarge`) as soon as more than `limit` bytes arrive.

    Args:
        request: the request.
        limit: the largest body taken, in bytes.
        upload_limit: the largest image taken, in bytes (for the message).
    """
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
    if not isinstance(settings, dict):
        raise SettingsError(f"The request must be a JSON object. Received: {type(settings).__name__}")
    return settings


def create_app(studio: Studio) -> Starlette:
    """The ASGI app over `studio`."""
    # Base64 makes 3 bytes 4; a little room for the settings around the images.
    body_limit = REQUEST_UPLOADS * (studio.max_upload_bytes * 4 // 3 + 4) + MiB

    async def page(request: Request):
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def state(request: Request):
        return JSONResponse(await run_in_threadpool(studio.state))

    async def act(request: Request):
        action = request.path_params["action"]
        if action not in ACTIONS:
            return error(404, f"No action {action!r}. The actions: {', '.join(ACTIONS)}")
        try:
            settings = await read_json(request, body_limit, studio.max_upload_bytes)
            return JSONResponse(await run_in_threadpool(studio.run, action, settings))
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

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.studio = studio
    return app
