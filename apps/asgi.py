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

from arcticroute.api import Endpoints

ENDPOINTS = Endpoints()


def _route(path: str, handler) -> Route:
    async def endpoint(request: Request) -> Response:
        reply = await run_in_threadpool(handler, dict(request.query_params))
        return Response(reply.text(), status_code=reply.status, headers=reply.headers, media_type=reply.media_type)

    return Route(path, endpoint, methods=["GET"])


app = st.App(
    Path(__file__).with_name("app_min.py"),
    routes=[
        _route("/api/health", ENDPOINTS.health),
        _route("/api/runs", ENDPOINTS.runs),
        _route("/api/catalog", ENDPOINTS.catalog),
        _route("/metrics", ENDPOINTS.metrics),
    ],
)
