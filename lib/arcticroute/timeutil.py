"""Parsing of the time options every command shares, and run ids."""

from __future__ import annotations

import calendar
import re
import secrets
from datetime import UTC, date, datetime, timedelta

from .errors import BadInputError

_DURATION = re.compile(
    r"^(?P<sign>-)?P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$",
    re.ASCII,
)
FIRST_YEAR = 1978  # the first full year of the passive-microwave sea-ice record


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_run_id(now: datetime | None = None) -> str:
    """``YYYYMMDDTHHMMSSZ-<6 hex>``, sortable by start time."""
    now = now or utc_now()
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def parse_ym(text: str, now: datetime | None = None, option: str = "--ym") -> tuple[int, int]:
    """``current``, ``YYYYMM`` or a duration back from now (``-P1D``: the month of yesterday, the
    one the daily chain works on, so the last day of a month is pulled and fused on the 1st) to
    ``(year, month)``; at most one month after the current UTC month."""
    now = now or utc_now()
    value = text.strip().lower()
    if value == "current":
        return now.year, now.month
    if _DURATION.fullmatch(value.upper()):
        moment = parse_since(value, now)
        return moment.year, moment.month
    if not re.fullmatch(r"[0-9]{6}", value):
        raise BadInputError(
            f"{option} {text!r} is not a month: expected YYYYMM (e.g. 202611), 'current' or a duration back "
            "from now (-P1D: the month of yesterday)"
        )
    year, month = int(value[:4]), int(value[4:])
    if not 1 <= month <= 12 or year < FIRST_YEAR:
        raise BadInputError(
            f"{option} {text!r} is not a month: expected YYYYMM with month 01..12, year >= {FIRST_YEAR}"
        )
    if year * 12 + month - 1 > now.year * 12 + now.month:  # more than one month ahead
        raise BadInputError(
            f"{option} {value} is in the future; the newest month with data is {now:%Y%m}",
            hint=f"use {option} current, or a month up to next month",
        )
    return year, month


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """An ISO 8601 date/datetime, or a duration back from now (``-P1D``, ``PT6H``, ``P2W``).

    Durations with years or months are refused: their length is ambiguous.
    """
    now = now or utc_now()
    value = text.strip()
    match = _DURATION.fullmatch(value.upper())
    if match and any(match.group(k) for k in ("weeks", "days", "hours", "minutes", "seconds")):
        try:
            span = timedelta(
                weeks=int(match["weeks"] or 0),
                days=int(match["days"] or 0),
                hours=int(match["hours"] or 0),
                minutes=int(match["minutes"] or 0),
                seconds=int(match["seconds"] or 0),
            )
            return now - span
        except (OverflowError, ValueError):
            raise BadInputError(
                f"--since {text!r} reaches back before the year 1",
                hint="give a shorter duration (-P30D) or a date (2026-11-20)",
            ) from None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadInputError(
            f"--since {text!r} is neither an ISO 8601 date/datetime nor a duration",
            hint="examples: 2026-11-20, 2026-11-20T06:00Z, -P1D (one day back), PT12H",
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise BadInputError(
            f"--since {text!r} is out of range once converted to UTC",
            hint="examples: 2026-11-20, 2026-11-20T06:00Z, -P1D (one day back), PT12H",
        ) from None


def month_days(year: int, month: int) -> list[date]:
    last = calendar.monthrange(year, month)[1]
    return [date(year, month, d) for d in range(1, last + 1)]


def day_span(first: date, last: date | None = None) -> dict:
    """A sidecar's ``time_coverage`` of whole days: 00:00:00Z of ``first`` to 23:59:59Z of
    ``last`` (default: the same day)."""
    return {"start": f"{first.isoformat()}T00:00:00Z", "end": f"{(last or first).isoformat()}T23:59:59Z"}


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise BadInputError(f"date {text!r} is not a day: expected YYYY-MM-DD or 'latest'") from None


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
