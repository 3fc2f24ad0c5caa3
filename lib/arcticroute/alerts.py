"""Alerts as files in ``outputs/alerts/``; optionally POSTed to a webhook from the environment."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from pathlib import Path

from . import atomic
from .redact import redact_text, redact_url
from .timeutil import iso_utc, utc_now

WEBHOOK_ENV = "ARCTICROUTE_ALERT_WEBHOOK"
log = logging.getLogger("arcticroute.alerts")


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
        post_webhook(webhook, payload, timeout_s)
    return path


def post_webhook(url: str, payload: dict, timeout_s: float) -> bool:
    """POST the alert JSON; a failing webhook is logged, never raised (the file alert stands)."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            ok = 200 <= response.status < 300
    except (urllib.error.URLError, OSError) as exc:
        log.warning("alert webhook %s failed: %s", redact_url(url), exc)
        return False
    if not ok:
        log.warning("alert webhook %s answered %s", redact_url(url), response.status)
    return ok
