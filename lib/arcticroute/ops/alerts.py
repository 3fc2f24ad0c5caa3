"""Alerts as files in ``outputs/alerts/``; optionally POSTed to a webhook from the environment.

The file is the alert; the webhook is a courtesy copy. Delivering it can never raise, so it
can never replace or hide the error of the run that is being reported. A webhook URL carries
its secret in the path, so only ``scheme://host/…`` of it is ever logged.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from ..redact import redact_known, redact_text, url_origin
from ..store import atomic
from ..timeutil import iso_utc, utc_now

WEBHOOK_ENV = "ARCTICROUTE_ALERT_WEBHOOK"
WEBHOOK_SCHEMES = ("http", "https")
log = logging.getLogger("arcticroute.ops.alerts")


def webhook_problem(url: str) -> str | None:
    """Why ``url`` cannot be used as a webhook, in words that never repeat any part of it."""
    if any(ch.isspace() for ch in url):
        return "it contains spaces or line breaks"
    if any(not ch.isprintable() for ch in url):
        return "it contains control characters"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "it is not a URL"
    if not parts.scheme:
        return "it has no scheme; expected https://host/path"
    if parts.scheme.lower() not in WEBHOOK_SCHEMES:
        return "its scheme is not http or https"
    try:
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in 0..65535
    except ValueError:
        return "its host or port is malformed (the port must be a number in 1..65535)"
    if not host:
        return "it has no host name"
    if parts.port == 0:
        return "its port must be a number in 1..65535"
    return None


def write_alert(
    outputs_root: Path,
    *,
    severity: str,
    command: str,
    what: str,
    why: str,
    hint: str | None,
    run_id: str | None,
    env: dict,
    secrets: list[str],
    timeout_s: float = 5.0,
) -> Path:
    """Write ``<UTC timestamp>_<severity>_<command>.json`` and return its path."""
    now = utc_now()
    payload = {
        "schema_version": 1,
        "created_at": iso_utc(now),
        "severity": severity,
        "command": command,
        "run_id": run_id,
        "what": redact_text(what, secrets),
        "why": redact_text(why, secrets),
        "hint": redact_text(hint, secrets) if hint else None,
    }
    folder = outputs_root / "alerts"
    path = folder / f"{now.strftime('%Y%m%dT%H%M%SZ')}_{severity}_{command}.json"
    counter = 1
    while path.exists():
        counter += 1
        path = folder / f"{now.strftime('%Y%m%dT%H%M%SZ')}_{severity}_{command}-{counter}.json"
    atomic.write_json(path, payload)
    webhook = env.get(WEBHOOK_ENV)
    if webhook:
        try:
            post_webhook(webhook, payload, timeout_s)
        except Exception as exc:  # noqa: BLE001 - post_webhook never raises; this is the backstop
            log.warning("alert webhook %s failed: %s", url_origin(webhook), _describe(exc, webhook))
    return path


def post_webhook(url: str, payload: dict, timeout_s: float) -> bool:
    """POST the alert JSON; a failing webhook is logged (host only), never raised."""
    where = url_origin(url)
    problem = webhook_problem(url)
    if problem:
        log.warning("alert webhook %s not used: %s", where, problem)
        return False
    try:
        request = urllib.request.Request(
            url,
            data=json.dumps(payload, default=str).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=float(timeout_s)) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        log.warning("alert webhook %s answered HTTP %s", where, exc.code)
        return False
    except Exception as exc:  # noqa: BLE001 - URLError, OSError, timeouts, http.client, bad ports ...
        log.warning("alert webhook %s failed: %s", where, _describe(exc, url))
        return False
    if not 200 <= status < 300:
        log.warning("alert webhook %s answered HTTP %s", where, status)
        return False
    return True


def _describe(exc: BaseException, url: str) -> str:
    """The exception's type and message with the URL and each of its parts masked."""
    reason = getattr(exc, "reason", None)
    text = f"{type(exc).__name__}: {reason if reason is not None else exc}"
    pieces = {url}
    try:
        parts = urlsplit(url)
        pieces |= {parts.netloc, parts.path, parts.query, parts.fragment, *parts.path.split("/"),
                   *parts.netloc.replace("@", ":").split(":")}
    except ValueError:
        pass
    host = url_origin(url).split("://", 1)[-1].removesuffix("/…")
    pieces = {p for p in pieces if p and len(p) >= 3 and p != host and p not in ("http", "https")}
    return redact_known(redact_text(text, sorted(pieces, key=len, reverse=True)))
