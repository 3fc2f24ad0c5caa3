"""The dates a provider's gridded file gives itself, checked against the day it was asked for.

A file can say when it is in three ways, each checked where present: the field's time
coordinate (every step, or its bounds, must lie within the day, its end included), the ACDD
``time_coverage_start``/``time_coverage_end`` attributes (the span must overlap the day: swath
products start the evening before), and a plain ``date`` attribute. A file that says nothing
about its date is taken as the URL's (most daily products name the day only in the path).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import numpy as np
import xarray as xr

from .http_client import validation_error

_ISO = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})(?:[T ](\d{2}):?(\d{2})(?::?(\d{2}))?(?:\.\d+)?)?\s*(Z|[+-]00:?00|UTC)?$")


def _parse(text: object) -> datetime | None:
    match = _ISO.match(str(text).strip())
    if not match:
        return None
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups()[:6])
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


def _as_datetimes(values) -> list[datetime]:
    array = np.asarray(values).ravel()
    if array.dtype.kind == "M":
        seconds = array.astype("datetime64[s]").astype(np.int64)
        return [datetime.fromtimestamp(int(s), UTC).replace(tzinfo=None) for s in seconds]
    found = []
    for value in array if array.dtype.kind == "O" else ():  # cftime dates (non-standard calendars) have the same fields
        if all(hasattr(value, f) for f in ("year", "month", "day", "hour", "minute")):
            found.append(datetime(value.year, value.month, value.day, value.hour, value.minute))
    return found


def _time_steps(ds: xr.Dataset, variable: str) -> tuple[list[datetime], str]:
    """The field's time steps (its bounds where the file gives them) and how they were found."""
    var = ds[variable]
    steps: list[datetime] = []
    names = []
    for name, coord in var.coords.items():
        values = _as_datetimes(coord.values)
        bounds = coord.attrs.get("bounds") or coord.encoding.get("bounds")
        if bounds in ds.variables:
            values = _as_datetimes(ds[bounds].values) or values
            name = f"{name} bounds"
        if values:
            steps += values
            names.append(str(name))
    return steps, ", ".join(names)


def check(ds: xr.Dataset, variable: str, day: date, name: str) -> None:
    """DataValidationError when the file's own dates contradict ``day``."""
    start = datetime(day.year, day.month, day.day)
    end = start + timedelta(days=1)
    steps, where = _time_steps(ds, variable) if variable in ds.variables else ([], "")
    outside = [t for t in steps if not start <= t <= end]
    if outside:
        shown = sorted({t.date().isoformat() for t in outside})
        raise validation_error(f"a file whose {where} says {', '.join(shown[:3])}"
                               f"{' …' if len(shown) > 3 else ''} ({len(outside)} of {len(steps)} time steps "
                               f"outside {day})", f"data for {day}, the day asked for", name)
    first = _parse(ds.attrs.get("time_coverage_start", ""))
    last = _parse(ds.attrs.get("time_coverage_end", "")) or first
    if first is not None and last is not None:
        overlaps = first < end and (last > start or (last == first and first >= start))
        if not overlaps:
            raise validation_error(f"a file covering {first:%Y-%m-%dT%H:%M} to {last:%Y-%m-%dT%H:%M} "
                                   "(time_coverage_start/end)", f"data for {day}, the day asked for", name)
    stated = _parse(ds.attrs.get("date", ""))
    if stated is not None and stated.date() != day:
        raise validation_error(f"a file dated {stated.date()} (its date attribute)", f"data for {day}, the day asked for",
                               name)
