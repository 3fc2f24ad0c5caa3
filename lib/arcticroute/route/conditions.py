"""Which conditions a voyage sails in at each instant.

A voyage uses, for the moment it reaches each step, the first of:

1. **daily**: the daily layers (sea ice, ice type, waves, risk) of that day;
2. **forecast**: past the newest daily layer, the ice forecast's step for that day (sea ice and
   stage of development from the forecast; waves and risk are those of the newest daily layer,
   the forecast having none);
3. **persisted**: past both (or on a day missing from the record), the newest conditions before
   it, unchanged — what the route document counts as ``persistence_days``.

``DailyConditions.at(moment)`` is "the conditions for a given instant" (with ``basis_at`` saying
which of the three it is); ``next_change`` says when they next change, so a time-dependent search
can step through them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import numpy as np

from .. import forecast
from .routing import Conditions

HORIZON_DAYS = 45  # daily layers and forecast steps this far past departure can be used
DAILY, FORECAST, PERSISTED = "daily", "forecast", "persisted"
BASES = (DAILY, FORECAST, PERSISTED)
CONDITIONS_VERSION = 1  # the route document's persistence_days and per-segment conditions


class DailyConditions:
    """The conditions of each day a voyage may use: ``days`` with daily layers and
    ``forecast_days`` with forecast steps (only those after the newest daily day count), loaded on
    demand by ``loader`` (day -> (Conditions, sidecars)); at most two days kept in memory."""

    def __init__(self, first_day: date, days: list[date], loader: Callable[[date], tuple[Conditions, list[dict]]],
                 forecast_days: list[date] = ()):
        horizon = first_day + timedelta(days=HORIZON_DAYS)
        daily = {d for d in days if first_day <= d <= horizon} | {first_day}
        newest = max(daily)
        self.forecast_days = sorted(d for d in forecast_days if newest < d <= horizon)
        self.daily_days = sorted(daily)
        self.days = sorted(daily | set(self.forecast_days))
        self.first_day = first_day
        self._loader = loader
        self._cache: dict[date, Conditions] = {}
        self.metas: dict[date, list[dict]] = {}

    @classmethod
    def single(cls, day: date, conditions: Conditions, metas: list[dict] | None = None) -> DailyConditions:
        return cls(day, [day], lambda _d: (conditions, metas or []))

    @property
    def newest_daily(self) -> date:
        return self.daily_days[-1]

    @property
    def last_day(self) -> date:
        """The last day with conditions of its own (daily or forecast)."""
        return self.days[-1]

    def day_for(self, moment: datetime) -> date:
        """The day whose layers describe ``moment``: its own, or the newest before it."""
        wanted = moment.date()
        usable = [d for d in self.days if d <= wanted]
        return usable[-1] if usable else self.first_day

    def kind_of(self, day: date) -> str:
        return FORECAST if day in self.forecast_days else DAILY

    def basis_at(self, moment: datetime) -> str:
        """daily, forecast or persisted: where the conditions at ``moment`` come from."""
        return self.basis_of(self.day_for(moment), moment.date())

    def basis_of(self, used: date, own: date) -> str:
        """The basis of conditions of day ``used`` sailed on day ``own``."""
        return PERSISTED if own > used else self.kind_of(used)

    def next_change(self, moment: datetime) -> datetime | None:
        """Midnight (UTC) of the next available day after ``moment``, None past the data."""
        later = [d for d in self.days if d > moment.date()]
        if not later:
            return None
        return datetime(later[0].year, later[0].month, later[0].day, tzinfo=moment.tzinfo)

    def close_by(self, closures: Callable[[date], Callable]) -> None:
        """Give each day's conditions the cells ``closures(day)`` closes to a vessel (the sea-area
        rules of that day), forecast and persisted days included."""
        loader = self._loader

        def closed(day: date) -> tuple[Conditions, list[dict]]:
            conditions, metas = loader(day)
            conditions.closed_for = closures(day)
            return conditions, metas

        self._loader = closed
        self._cache.clear()

    def get(self, day: date) -> Conditions:
        if day not in self._cache:
            if len(self._cache) >= 2:
                self._cache.pop(next(d for d in self._cache if d != self.first_day))
            conditions, metas = self._loader(day)
            self._cache[day] = conditions
            self.metas[day] = metas
        return self._cache[day]

    def at(self, moment: datetime) -> Conditions:
        """The conditions for a given instant."""
        return self.get(self.day_for(moment))


def forecast_conditions(issue: forecast.IssueReader, valid: date, persisted: Conditions) -> Conditions:
    """A forecast day's conditions: sea ice and stage from the forecast (the analysis's older ice
    types kept, ``forecast.with_analysis_stage``), waves and risk of the newest daily layer."""
    meta = issue.meta
    fields = issue.valid_day(valid)
    stage = forecast.with_analysis_stage(fields["stage"], fields["sic"], persisted.stage)
    assumed, assumed_age = None, None
    if persisted.assumed is not None and persisted.stage is not None:
        # where the analysis's type won, so did its basis (an assumed type stays assumed)
        kept = (stage == persisted.stage) & (persisted.assumed > 0)
        assumed = np.where(kept, persisted.assumed, 0).astype(persisted.assumed.dtype)
        assumed_age = None if persisted.assumed_age is None else np.where(kept, persisted.assumed_age, np.nan)
    return Conditions(sic=fields["sic"], hs=persisted.hs, risk=persisted.risk, stage=stage,
                      assumed=assumed, assumed_age=assumed_age,
                      warnings=[f"{valid}: ice from the forecast {meta['logical_id']} v{meta['version']}; waves and "
                                "risk of the newest daily layer"])


# A live forecast is issued on the day it is pulled, while the newest daily layer lags the
# providers' publication by a day or more (available_after_days): a forecast issued up to this
# many days after the newest daily layer is still the one to sail on (its first valid day is the
# day after its issue; the days between are persisted).
ISSUE_LAG_DAYS = 3


def forecast_issue(settings, newest_daily: date) -> dict | None:
    """The sidecar of the ice forecast a voyage uses past ``newest_daily``: the newest issued no
    later than ``ISSUE_LAG_DAYS`` after that day (and at most 10 days before it), or None."""
    return forecast.newest_issue(settings, newest_daily + timedelta(days=ISSUE_LAG_DAYS))


def with_forecast(first_day: date, days: list[date], loader: Callable[[date], tuple[Conditions, list[dict]]],
                  forecast_meta: dict | None, roots: dict) -> DailyConditions:
    """The daily layers ``days`` (loaded by ``loader``), extended by the forecast issue
    ``forecast_meta`` (None: no forecast) past the newest of them."""
    if forecast_meta is None:
        return DailyConditions(first_day, days, loader)
    newest = max(days)
    persisted: list = []
    issue = forecast.IssueReader(roots, forecast_meta)

    def load(day: date) -> tuple[Conditions, list[dict]]:
        if day <= newest:
            return loader(day)
        if not persisted:
            persisted.append(loader(newest))
        base, metas = persisted[0]
        return forecast_conditions(issue, day, base), [forecast_meta, *metas]

    return DailyConditions(first_day, days, load, forecast.valid_days(forecast_meta))


def step_starts(hours: np.ndarray, waits: np.ndarray | None = None) -> np.ndarray:
    """Per step, the hours from departure at which it begins (after any waiting before it)."""
    if not len(hours):
        return np.zeros(0)
    waits = np.zeros(len(hours)) if waits is None else np.asarray(waits, dtype=float)
    return np.concatenate([[0.0], np.cumsum(np.asarray(hours, dtype=float) + waits)[:-1]]) + waits


def step_basis(daily: DailyConditions, departure: datetime, hours: np.ndarray, step_day: list[date],
               waits: np.ndarray | None = None) -> np.ndarray:
    """Per step of a sailed voyage, the basis of the conditions it was sailed in: the day whose
    layers it used (``step_day``) against the day it began on."""
    starts = step_starts(hours, waits)
    return np.array([daily.basis_of(used, (departure + timedelta(hours=float(h))).date())
                     for used, h in zip(step_day, starts, strict=True)], dtype=object)


def basis_metrics(daily: DailyConditions, hours: np.ndarray, basis: np.ndarray) -> dict:
    """The route's figures on what it sailed in: days on persisted conditions (``persistence_days``),
    on forecast steps, and the days that bound each."""
    spent = {name: float(np.sum(hours[basis == name])) if len(hours) else 0.0 for name in BASES}
    return {
        "persistence_days": round(spent[PERSISTED] / 24.0, 2),
        "forecast_days": round(spent[FORECAST] / 24.0, 2),
        "conditions_hours": {name: round(value, 1) for name, value in spent.items()},
        "newest_daily_layer": daily.newest_daily.isoformat(),
        "forecast_to": daily.forecast_days[-1].isoformat() if daily.forecast_days else None,
    }


def persistence_warning(metrics: dict) -> str | None:
    """What the route document warns when the voyage sails on persisted conditions, or None."""
    if not metrics["persistence_days"]:
        return None
    forecast = (f"the ice forecast ends {metrics['forecast_to']}" if metrics["forecast_to"]
                else "no ice forecast covers the days after it (ingest.nrt.pull --forecast)")
    return (f"the voyage sails {metrics['persistence_days']:.1f} days on persisted conditions (days without a daily "
            f"layer or forecast step of their own, each sailed in the newest conditions before it): the newest daily "
            f"layer is {metrics['newest_daily_layer']} and {forecast}")
