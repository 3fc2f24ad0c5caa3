"""The UI's server: the Streamlit app plus the JSON endpoints, on one port.

Started by ``serve --ui`` (scripts/serve.py), ``just serve`` and the container; also
``streamlit run apps/asgi.py`` or ``uvicorn apps.asgi:app``. The endpoints are
``lib/arcticroute/api.py``; this file only maps them to routes.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from arcticroute.api import Endpoints, Reply

ENDPOINTS = Endpoints()


def _response(reply: Reply) -> Response:
    return Response(reply.text(), status_code=reply.status, headers=reply.headers, media_type=reply.media_type)


def _route(path: str, handler) -> Route:
    async def endpoint(request: Request) -> Response:
        return _response(await run_in_threadpool(handler, dict(request.query_params)))

    return Route(path, endpoint, methods=["GET"])


async def _stac(request: Request) -> Response:
    """/api/stac/<file>: the static STAC catalog's files (catalog.json at /api/stac/)."""
    return _response(await run_in_threadpool(ENDPOINTS.stac, request.path_params.get("path", "")))


app = st.App(
    Path(__file__).with_name("app_min.py"),
    routes=[
        _route("/api/health", ENDPOINTS.health),
        _route("/api/runs", ENDPOINTS.runs),
        _route("/api/catalog", ENDPOINTS.catalog),
        _route("/metrics", ENDPOINTS.metrics),
        Route("/api/stac/{path:path}", _stac, methods=["GET"]),
    ],
)
