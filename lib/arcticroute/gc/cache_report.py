"""What one cache.gc run did or would do: removals by reason, disk usage before and after, and
why the watermark could not be reached; printed, written to the run record, returned as JSON."""

from __future__ import annotations

from dataclasses import dataclass, field

from .disk import Usage
from .fs import size_text
from .policy import GcPolicy
from .versions import Outcome


@dataclass
class CacheReport:
    dry_run: bool
    policy: GcPolicy
    usage_before: Usage | None = None
    usage_after: Usage | None = None
    outcome: Outcome = field(default_factory=Outcome)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dirs_removed: int = 0
    error: str | None = None
    hint: str | None = None

    @property
    def below_watermark(self) -> bool:
        return self.usage_after is None or self.usage_after.fraction < self.policy.watermark

    def headline(self) -> str:
        counts = self.outcome.counts
        parts = ", ".join(f"{what} {counts[what][0]}" for what in ("ttl", "temporary", "watermark", "version")
                          if what in counts) or "nothing"
        removed = (f"{self.outcome.files} files, {size_text(self.outcome.bytes)} ({parts})"
                   + (f", {self.dirs_removed} emptied folders" if self.dirs_removed else ""))
        usage = ""
        if self.usage_before and self.usage_after:
            about = "about " if self.dry_run else ""
            usage = (f"; disk usage of {self.usage_after.mount} {self.usage_before.fraction:.1%} -> "
                     f"{about}{self.usage_after.fraction:.1%} (watermark {self.policy.watermark:.0%})")
        if self.dry_run:
            return f"cache.gc (dry run, nothing changed): would remove {removed}{usage}"
        return f"cache.gc: removed {removed}{usage}"

    def lines(self) -> list[str]:
        """The report as the command prints it; the first MAX_LISTED removals one by one."""
        verb = "WOULD REMOVE" if self.dry_run else "REMOVED"
        out = [f"{verb} {r.what:9} {r.path} ({size_text(r.bytes)}): {r.reason}" for r in self.outcome.listed]
        if self.outcome.files > len(self.outcome.listed):
            out.append(f"... and {self.outcome.files - len(self.outcome.listed)} more, counted below")
        out += [f"SKIPPED {s}" for s in self.skipped] + [f"KEPT {n}" for n in self.outcome.left]
        out += [f"ERROR {e}" for e in self.outcome.errors] + [f"WARN {w}" for w in self.warnings]
        out.append(self.headline())
        if self.dry_run and self.error:
            out.append(f"WOULD FAIL: {self.error}")
        return out

    def summary(self) -> dict:
        """For the run record: counts, bytes, usage, and the removals listed one by one."""
        return {"files": self.outcome.files, "bytes": self.outcome.bytes,
                "by_reason": self.as_dict()["removed"]["by_reason"], "folders_removed": self.dirs_removed,
                "usage_before": self.usage_before.fraction if self.usage_before else None,
                "usage_after": self.usage_after.fraction if self.usage_after else None,
                "watermark": self.policy.watermark, "below_watermark": self.below_watermark,
                "skipped": self.skipped, "errors": len(self.outcome.errors),
                "removed": [f"{r.path} ({r.what})" for r in self.outcome.listed]}

    def as_dict(self) -> dict:
        p = self.policy
        return {
            "ok": self.error is None and not self.outcome.errors, "dry_run": self.dry_run,
            "policy": {"ttl_days": p.ttl_days, "watermark_disk": p.watermark,
                       "safety_age_minutes": p.safety_age_s / 60, "evict_versions": p.evict_versions,
                       "cache_folders": [{"folder": f.label, "ttl_days": f.ttl_days, "owner": f.owner, "age": f.age}
                                         for f in p.folders]},
            "usage_before": self.usage_before.as_dict() if self.usage_before else None,
            ("usage_after_estimated" if self.dry_run else "usage_after"):
                self.usage_after.as_dict() if self.usage_after else None,
            "below_watermark": self.below_watermark,
            "removed": self.outcome.as_dict(), "folders_removed": self.dirs_removed,
            "skipped": self.skipped, "warnings": self.warnings, "error": self.error, "hint": self.hint,
        }
