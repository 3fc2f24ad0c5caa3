#!/usr/bin/env python3
"""The container's HEALTHCHECK: healthy when GET /api/health answers a health body saying pass or warn.

Streamlit answers any path, a wrong one too, with 200 and its index page, so the status code
alone proves nothing: the body must be the health JSON. Exit 0 healthy, 1 not (what Docker
expects). Standard library only; the port comes from ARCTICROUTE_PORT (default 8501).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request


def probe(url: str, timeout: float = 8.0) -> tuple[bool, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read(2_000_000)
    except urllib.error.HTTPError as exc:  # 503 carries the body of a failing check
        body = exc.read(2_000_000)
    except (OSError, ValueError) as exc:
        return False, f"{url}: no answer ({exc})"
    try:
        document = json.loads(body)
        status = document["status"]
    except (ValueError, KeyError, TypeError):
        return False, f"{url}: the answer is not the health JSON (starts {body[:60]!r})"
    if status in ("pass", "warn"):
        return True, f"{url}: {status}"
    return False, f"{url}: {status}: " + "; ".join(w.get("message", "") for w in document.get("warnings", [])[:3])


def main() -> int:
    port = os.environ.get("ARCTICROUTE_PORT") or "8501"
    healthy, message = probe(f"http://127.0.0.1:{port}/api/health")
    print(message)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
