"""ingest.backfill: pull and fuse a range of months, oldest first, resuming where it stopped.

Months go in order, and each month is pulled before it is fused, so every input of a day's
incident window (the days before it, in this month or the ones already done) exists before
that day is fused. Nothing here decides what is already done: the producers do, as always —
the pull skips days already pulled from an unchanged source, the fuse skips days whose inputs
digest is unchanged and whose file is intact, and both redo a missing or corrupt version. So a
backfill killed part-way and run again does only what is missing (the next run of the family
also removes the temporary files the killed one left).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from . import ingest
from .config import Settings
from .errors import BadInputError
from .parallel import resolve_jobs
from .risk.fuse import fuse_month
from .timeutil import month_days


def parse_month(text: str, option: str) -> tuple[int, int]:
    """``2024-01`` or ``202401`` to ``(2024, 1)``; BadInputError names the option."""
    from .timeutil import parse_ym

    return parse_ym(text.replace("-", ""), option=option)


def months_between(start: tuple[int, int], end: tuple[int, int]) -> list[tuple[int, int]]:
    """Every month from ``start`` to ``end``, both included; BadInputError if ``end`` is earlier."""
    first, last = start[0] * 12 + start[1] - 1, end[0] * 12 + end[1] - 1
    if last < first:
        raise BadInputError(f"--to {end[0]:04d}-{end[1]:02d} is before --from {start[0]:04d}-{start[1]:02d}")
    return [(n // 12, n % 12 + 1) for n in range(first, last + 1)]


@dataclass
class Progress:
    """Days done (pulled and fused count half each), rate and ETA; ``line`` is what a terminal shows."""

    total_days: int
    clock: Callable[[], float] = time.monotonic
    done: float = 0.0
    started: float = field(default=0.0)

    def __post_init__(self):
        self.started = self.clock()

    def advance(self, days: float) -> None:
        self.done = min(self.total_days, self.done + days)

    def line(self, where: str) -> str:
        elapsed = max(self.clock() - self.started, 1e-9)
        rate = self.done / elapsed * 60.0
        left = (self.total_days - self.done) / (self.done / elapsed) if self.done else None
        eta = "?" if left is None else f"{int(left // 3600):02d}:{int(left % 3600 // 60):02d}:{int(left % 60):02d}"
        return f"backfill {self.done:.0f}/{self.total_days} days, {rate:.1f} days/min, ETA {eta}  {where}"


def backfill(settings: Settings, start: tuple[int, int], end: tuple[int, int], run, *, layers: list[str],
             today: date, method: str | None = None, jobs: int | None = None, executor: str = "process",
             scheduler: str | None = None, show: Callable[[str], None] | None = None) -> dict:
    """Pull then fuse each month from ``start`` to ``end``; returns the summary (also the run's)."""
    months = months_between(start, end)
    days_by_month = {ym: [d for d in month_days(*ym) if d <= today] for ym in months}
    progress = Progress(sum(len(days) for days in days_by_month.values()))
    summary = {"months": len(months), "days": progress.total_days, "pulled": 0, "pull_unchanged": 0,
               "pull_skipped": 0, "not_yet": 0, "fused": 0, "fuse_unchanged": 0, "no_inputs": 0, "monthly": {}}
    started = time.monotonic()
    workers = resolve_jobs(jobs)

    def tell(where: str) -> None:
        if show is not None:
            show(progress.line(where))

    for year, month in months:
        days = days_by_month[(year, month)]
        label = f"{year:04d}-{month:02d}"
        if not days:
            continue
        tell(f"{label} pull")
        plan, sources = ingest.build_plan(settings, layers, days, today, jobs=workers, log=run.log)
        per_item = 0.5 / max(1, len(layers))

        def pulled(item, outcome, label=label, per_item=per_item):
            progress.advance(per_item)
            tell(f"{label} pull {item.layer} {item.day} {outcome}")

        progress.advance(0.5 * sum(item.action != "fetch" for item in plan) / max(1, len(layers)))
        counts = ingest.execute_pull(settings, plan, sources, run, jobs=workers, executor=executor,
                                     scheduler=scheduler, progress=pulled)
        for key, source in (("pulled", "written"), ("pull_unchanged", "unchanged"), ("pull_skipped", "skipped"),
                            ("not_yet", "not_yet")):
            summary[key] += counts[source]
        run.summary = summary

        def fused(day, outcome, label=label):
            progress.advance(0.5)
            tell(f"{label} fuse {day} {outcome}")

        tell(f"{label} fuse")
        fuse_counts = fuse_month(settings, year, month, method, run, jobs=workers, executor=executor,
                                      scheduler=scheduler, progress=fused)
        summary["fused"] += fuse_counts["written"]
        summary["fuse_unchanged"] += fuse_counts["unchanged"]
        summary["no_inputs"] += fuse_counts["no-inputs"]
        summary["monthly"][label] = fuse_counts["monthly"]
        run.summary = summary
        run.log.info("backfill %s: pulled %s new, fused %s (%s unchanged)", label, counts["written"],
                     fuse_counts["written"], fuse_counts["unchanged"])
        tell(f"{label} done")
    summary["elapsed_s"] = round(time.monotonic() - started, 1)
    summary["status"] = "ok" if summary["pulled"] or summary["fused"] else "no_new_data"
    run.summary = summary
    return summary
