"""Keep credentials out of logs, run records, meta files, alerts and error messages.

Three layers: URL credentials (``user:pw@`` and token-like query parameters) are masked
wherever a URL appears; the value of every secret-looking variable (name containing TOKEN,
SECRET, PASSWORD, PASSWD, KEY, WEBHOOK, CREDENTIAL, ...) is masked wherever it appears; and
a process-wide registry (``remember_secrets``, filled by ``load_settings`` from the
environment and ``.env``) lets ``redact_known`` mask them in any text without a Settings.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
_SECRET_NAME = re.compile(
    r"(pass(word|wd)?|secret|token|key|auth|credential|signature|sig|session|webhook|cookie|private)",
    re.IGNORECASE,
)
# Names that match the pattern above but hold nothing secret (desktop/session plumbing):
# masking their values ("user", "wayland", socket paths) would garble ordinary messages.
_NOT_SECRET_NAME = re.compile(
    r"^(XDG_SESSION_\w*|DESKTOP_SESSION|SESSION_MANAGER|DBUS_SESSION_BUS_ADDRESS|SSH_AUTH_SOCK|"
    r"XAUTHORITY|GPG_AGENT_INFO|GNOME_KEYRING_\w*|KEYBOARD\w*|\w*_KEYMAP|XKB_\w*)$",
    re.IGNORECASE,
)
_NOT_SECRET_VALUE = {"true", "false", "yes", "none", "null"}
_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")
# Shorter values are not masked: masking a word like "demo" or "live" everywhere would garble
# messages and run records (the profile name) and protects nothing a real credential needs;
# ``short_secret_names`` lets the configuration warn about them instead.
_MIN_SECRET_LEN = 8

_remembered: set[str] = set()
_registry_lock = threading.Lock()


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name)) and not _NOT_SECRET_NAME.match(name)


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


def url_origin(url: str) -> str:
    """Only ``scheme://host/…``: for URLs whose path itself is a secret (webhooks)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "(unparsable URL)"
    if not parts.scheme or not host:
        return "(unparsable URL)"
    return f"{parts.scheme}://{host}/…"


def _variants(value: str) -> set[str]:
    """The value as written, and as it reads once escaped by repr() or JSON."""
    forms = {value, repr(value)[1:-1], json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    return {form for form in forms if len(form) >= _MIN_SECRET_LEN}


def _is_secret_value(name, value) -> bool:
    return (isinstance(name, str) and isinstance(value, str) and is_secret_name(name)
            and bool(value.strip()) and value.strip().lower() not in _NOT_SECRET_VALUE)


def short_secret_names(env: Mapping[str, str]) -> list[str]:
    """Names of secret-looking variables whose value is too short to be masked as a whole."""
    return sorted(name for name, value in env.items()
                  if _is_secret_value(name, value) and len(value) < _MIN_SECRET_LEN)


def secret_values(env: Mapping[str, str]) -> list[str]:
    """Values of variables whose names say they hold secrets, longest first (with escaped forms)."""
    values: set[str] = set()
    for name, value in env.items():
        if _is_secret_value(name, value) and len(value) >= _MIN_SECRET_LEN:
            values |= _variants(value)
    return sorted(values, key=len, reverse=True)


def remember_secrets(values: Iterable[str]) -> None:
    """Add values to the process-wide set that ``redact_known`` masks (e.g. from ``.env``)."""
    with _registry_lock:
        _remembered.update(v for v in values if isinstance(v, str) and len(v) >= _MIN_SECRET_LEN)


def forget_secrets() -> None:
    """Empty the registry (tests; a long-lived process that reloads its settings)."""
    with _registry_lock:
        _remembered.clear()


def known_secrets() -> list[str]:
    """Remembered secrets plus those of the current process environment, longest first."""
    with _registry_lock:
        values = set(_remembered)
    values.update(secret_values(os.environ))
    return sorted(values, key=len, reverse=True)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask known secret values and credentials inside any URLs in free text."""
    for value in secrets:
        if value:
            text = text.replace(value, MASK)
    return _URL.sub(lambda m: redact_url(m.group(0)), text)


def redact_known(text: str) -> str:
    """``redact_text`` with every secret this process knows of (registry + environment)."""
    return redact_text(str(text), known_secrets())


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
