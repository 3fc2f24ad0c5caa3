"""Keep credentials out of logs, run records, meta files and alerts."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
_SECRET_NAME = re.compile(
    r"(pass(word)?|secret|token|api[-_]?key|apikey|auth|credential|signature|sig|session|webhook)",
    re.IGNORECASE,
)
_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")
_MIN_SECRET_LEN = 4


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def redact_url(url: str) -> str:
    """Drop user:password@ and mask query parameters whose names look like credentials."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, MASK if is_secret_name(k) else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def secret_values(env: Mapping[str, str]) -> list[str]:
    """Values of environment variables whose names say they hold secrets."""
    values = {v for k, v in env.items() if is_secret_name(k) and v and len(v) >= _MIN_SECRET_LEN}
    return sorted(values, key=len, reverse=True)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask known secret values and credentials inside any URLs in free text."""
    for value in secrets:
        text = text.replace(value, MASK)
    return _URL.sub(lambda m: redact_url(m.group(0)), text)


def redact_argv(argv: list[str], secrets: Iterable[str] = ()) -> list[str]:
    """Mask the values of secret-looking options (``--token X``, ``--password=X``) and URLs."""
    secrets = list(secrets)
    out: list[str] = []
    mask_next = False
    for arg in argv:
        if mask_next:
            out.append(MASK)
            mask_next = False
            continue
        if arg.startswith("--") and is_secret_name(arg.split("=", 1)[0]):
            if "=" in arg:
                out.append(arg.split("=", 1)[0] + "=" + MASK)
            else:
                out.append(arg)
                mask_next = True
            continue
        out.append(redact_text(arg, secrets))
    return out
