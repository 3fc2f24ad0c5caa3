"""A soak of the scheduled jobs: N simulated days on the live profile against loopback replicas
of the providers, with faults injected at seeded random points, then the invariants checked.

Each simulated day D the providers publish day D-1 (the replica site serves Uni Bremen's ASI
netCDF, OSI SAF's ice type and NOAA's AIS zips; a drop-folder incidents table grows by a day;
a stand-in for the Copernicus Marine toolbox, the edge of the outside world, writes the wave
files and the ice analysis-forecast). Then the jobs of config/runtime.yaml's ``schedule:`` run
at their times, as the timers run them: each step a new process (``python -m arcticroute …``)
under libfaketime (Debian ``faketime``) at the simulated time, the first failing step ending its
job (exit 75 counts as success); then a health probe at noon. Files written during the day are stamped with the
simulated time afterwards, so the GC sees the ages it would see in real life.

Faults (``FAULT_KINDS``) are drawn from a seeded ``random.Random``: bursts of HTTP 500 (some
longer than the retries), truncated bodies, trickling bodies, a provider that never publishes
a day, ``kill -9`` of a command's process group at a random moment, a full disk for a day (a
tmpfs of fixed size, as root; without root this fault is left out and the report says so), two
copies of a command started at once, and a step of the clock. ``check`` then states what must
hold whatever happened; ``bench/soak.py`` runs 30 days, ``tests/test_soak.py`` a few.
"""

from __future__ import annotations

import json
import os
import random
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import yaml

from .conftest import REPO
from .replicas.config import live_config
from .replicas.files import ais_tracks, bremen_asi, incidents_csv, noaa_ais_zip, osisaf_type
from .replicas.server import ReplicaSite

FAKETIME_LIB = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
FAULT_KINDS = ("5xx-burst", "truncated", "trickle", "missing-day", "kill-9", "disk-full", "concurrent", "clock-step")
# The HTTP providers of the live profile, and where each one's file for a day lives on the site.
PROVIDERS = {
    "bremen-asi-amsr2": lambda d: f"data.seaice.uni-bremen.de/amsr2/asi_daygrid_swath/n6250/netcdf/{d:%Y}/"
                                  f"asi-AMSR2-n6250-{d:%Y%m%d}-v5.4.nc",
    "osisaf-ice-type": lambda d: f"thredds.met.no/thredds/fileServer/osisaf/met.no/ice/type/{d:%Y/%m}/"
                                 f"ice_type_nh_polstere-100_multi_{d:%Y%m%d}1200.nc",
    "noaa-marinecadastre": lambda d: f"coast.noaa.gov/htdata/CMSP/AISDataHandler/{d:%Y}/AIS_{d:%Y_%m_%d}.zip",
}
PROVIDER_LAYER = {"bremen-asi-amsr2": "ice.sic", "osisaf-ice-type": "ice.type", "noaa-marinecadastre": "ais.density"}
DAY_LAYERS = ("ice.sic", "ice.type", "wave.hs", "ais.density", "incidents")
FAILED = ("failed", "interrupted", "bad-input")
HTTP = {"retries": 3, "backoff_s": 0.05, "backoff_max_s": 0.2, "timeout_s": 10, "rate_limit_per_s": 0}
TOOLBOX = '''"""Stand-in for the Copernicus Marine toolbox (the edge of the outside world) in the soak."""
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, {repo!r})
from tests.replicas.files import cmems_arctic_ice, cmems_wave  # noqa: E402


def subset(**kwargs):
    day = date.fromisoformat(kwargs["start_datetime"][:10])
    target = Path(kwargs["output_directory"]) / kwargs["output_filename"]
    if kwargs["dataset_id"].startswith("cmems_mod_arc_phy_anfc"):  # the ice analysis-forecast (--forecast)
        cmems_arctic_ice(target, day)
    else:
        cmems_wave(target, day)
'''


@dataclass
class Fault:
    day: date
    kind: str
    detail: dict = field(default_factory=dict)
    outcome: str = "not injected"

    def describe(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.detail.items())


@dataclass
class Step:
    day: date
    job: str
    argv: list[str]
    started: datetime  # simulated
    exit_code: int | None
    seconds: float
    note: str = ""


# Faults that can stop a day's jobs get days of their own, so the others on a day are reached.
DISRUPTIVE = ("disk-full", "kill-9", "5xx-burst")


def plan_faults(rng: random.Random, days: list[date], kinds: tuple[str, ...]) -> list[Fault]:
    """Each kind on ``max(1, (len(days) - 1) // 10)`` days drawn from all but the first (a clean
    baseline): the disruptive kinds on days of their own, the others on the days left (a
    missing day not on the last day: it is a gap only once the next run finds it still
    missing); the details (provider, burst length, victim, moment, clock step) drawn too."""
    per_kind = max(1, (len(days) - 1) // 10)
    free = list(days[1:])
    chosen: list[tuple[date, str]] = []
    for kind in (k for k in DISRUPTIVE if k in kinds):
        for day in rng.sample(free[:-1] or free, min(per_kind, max(len(free) - 1, 1))):
            free.remove(day)
            chosen.append((day, kind))
    for kind in (k for k in kinds if k not in DISRUPTIVE):
        pool = [d for d in free if d != days[-1]] if kind == "missing-day" else free
        chosen += [(day, kind) for day in rng.sample(pool, min(per_kind, len(pool)))]
    faults: list[Fault] = []
    for day, kind in sorted(chosen, key=lambda c: (c[0], FAULT_KINDS.index(c[1]))):
        detail: dict = {}
        if kind in ("5xx-burst", "truncated", "trickle", "missing-day"):
            taken = {f.detail.get("provider") for f in faults if f.day == day}
            detail["provider"] = rng.choice(sorted(set(PROVIDERS) - taken) or sorted(PROVIDERS))
        if kind == "5xx-burst":
            detail["errors"] = rng.randint(2, 2 * HTTP["retries"])  # more than retries + 1: the item fails
        if kind == "kill-9":
            detail["command"] = rng.choice(["ingest.nrt.pull", "risk.fuse", "route.plan", "report.build"])
            detail["after_s"] = round(rng.uniform(2.0, 12.0), 2)  # imports take ~2 s: mostly mid-run
        if kind == "concurrent":
            detail["command"] = rng.choice(["ingest.nrt.pull", "risk.fuse", "catalog.gc"])
        if kind == "clock-step":
            detail["hours"] = rng.choice([-3, -2, -1, 1, 2, 5])
        faults.append(Fault(day, kind, detail))
    return faults


class Soak:
    """The soak's world: replica site, config, roots (on a tmpfs of ``disk_mb`` if possible)."""

    def __init__(self, base: Path, days: int, seed: int, start: date, *, disk_mb: int | None = 400,
                 log=None):
        self.base = base
        self.days = [start + timedelta(days=i) for i in range(days)]
        self.seed = seed
        self.rng = random.Random(seed)
        self.log = log or (lambda message: None)
        self.fs = base / "fs"
        self.mounted = self._mount(disk_mb) if disk_mb else False
        if not self.mounted:
            self.fs.mkdir(parents=True, exist_ok=True)
        kinds = tuple(k for k in FAULT_KINDS if k != "disk-full" or self.mounted)
        self.faults = plan_faults(self.rng, self.days, kinds)
        self.roots = {"data": self.fs / "data", "reports": self.fs / "reports", "outputs": self.fs / "outputs"}
        self.site = ReplicaSite(base / "site").start()
        self.config = live_config(base, self.site.url(), http=HTTP)
        runtime = yaml.safe_load((self.config / "runtime.yaml").read_text())
        self.jobs = sorted(runtime["schedule"].items(), key=lambda job: job[1]["at"])
        self.watermark = float(runtime["gc"]["watermark_disk"])
        toolbox = base / "toolbox"
        toolbox.mkdir()
        (toolbox / "copernicusmarine.py").write_text(TOOLBOX.format(repo=str(REPO)))
        self.env = {**os.environ, "ARCTICROUTE_DATA": str(self.roots["data"]),
                    "ARCTICROUTE_REPORTS": str(self.roots["reports"]), "ARCTICROUTE_OUTPUTS": str(self.roots["outputs"]),
                    "ARCTICROUTE_PROFILE": "live", "ARCTICROUTE_CONFIG_DIR": str(self.config),
                    "PYTHONPATH": str(toolbox), "TZ": "UTC", "COPERNICUSMARINE_SERVICE_USERNAME": "soak",
                    "COPERNICUSMARINE_SERVICE_PASSWORD": "soak-password", "LD_PRELOAD": str(FAKETIME_LIB),
                    "NO_FAKE_STAT": "1"}  # CLOCK_MONOTONIC is faked too: with it real, sleep() fails (EINVAL)
        for key in ("ARCTICROUTE_GRID_KM", "ARCTICROUTE_ALERT_WEBHOOK", "ARCTICROUTE_ENV_FILE"):
            self.env.pop(key, None)
        for root in self.roots.values():  # as `just timers-install` does before the first run
            root.mkdir(parents=True, exist_ok=True)
        self.steps: list[Step] = []
        self.disk: dict[date, float] = {}
        self.clock_offset = timedelta(0)
        self.incidents: list[dict] = []

    # -- the world ---------------------------------------------------------------------------
    def _mount(self, disk_mb: int) -> bool:
        self.fs.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={disk_mb}m", "tmpfs", str(self.fs)],
                              capture_output=True, text=True)
        return done.returncode == 0

    def close(self) -> None:
        self.site.stop()
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.fs)], check=False)

    def faults_on(self, day: date, kind: str) -> list[Fault]:
        return [f for f in self.faults if f.day == day and f.kind == kind]

    def publish(self, day: date) -> None:
        """The providers publish ``day`` (unless a missing-day fault says one does not)."""
        skipped = {f.detail["provider"] for f in self.faults_on(day + timedelta(days=1), "missing-day")}
        for name, where in PROVIDERS.items():
            if name in skipped:
                continue
            path = self.site.root / where(day)
            path.parent.mkdir(parents=True, exist_ok=True)
            {"bremen-asi-amsr2": lambda p: bremen_asi(p, day),
             "osisaf-ice-type": lambda p: osisaf_type(p, day),
             "noaa-marinecadastre": lambda p: noaa_ais_zip(p, day, ais_tracks(day))}[name](path)
        self.incidents += [{"time_utc": f"{day}T{6 + k:02d}:00:00Z", "lat": 70.0 + k, "lon": 20.0 + 7 * k,
                            "type": "ice damage", "severity": 1 + k % 3, "source": "soak"} for k in range(2)]
        table = self.roots["data"] / "incoming" / "incidents.csv"
        table.parent.mkdir(parents=True, exist_ok=True)
        incidents_csv(table, self.incidents)

    def arm_network_faults(self, day: date) -> None:
        """Faults on the site for the file of ``day - 1`` that the day's pull fetches."""
        published = day - timedelta(days=1)
        for kind, fault in (("500", "5xx-burst"), ("truncate", "truncated"), ("trickle", "trickle")):
            for armed in self.faults_on(day, fault):
                count = armed.detail.get("errors", 1)
                self.site.fail(PROVIDERS[armed.detail["provider"]](published), *[kind] * count)

    # -- running commands --------------------------------------------------------------------
    def command(self, argv: list[str], when: datetime) -> subprocess.Popen:
        env = {**self.env, "FAKETIME": f"@{(when + self.clock_offset):%Y-%m-%d %H:%M:%S}"}
        return subprocess.Popen([sys.executable, "-m", "arcticroute", *argv], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)

    def run_step(self, day: date, job: str, argv: list[str], when: datetime, timeout_s: float) -> Step:
        started = time.monotonic()
        kill = next((f for f in self.faults_on(day, "kill-9") if f.detail["command"] == argv[0]
                     and f.outcome == "not injected"), None)
        twin = next((f for f in self.faults_on(day, "concurrent") if f.detail["command"] == argv[0]
                     and f.outcome == "not injected"), None)
        process = self.command(argv, when)
        note = ""
        if twin is not None:
            second = self.command(argv, when)
            codes = sorted([second.wait(timeout=timeout_s), process.wait(timeout=timeout_s)])
            twin.outcome = f"exit codes {codes[0]} and {codes[1]}" + (
                ": one ran, the other found the lock held (75)" if 75 in codes else "")
            note = twin.outcome
        if kill is not None:
            try:
                process.wait(timeout=kill.detail["after_s"])
                kill.outcome = f"{argv[0]} finished within {kill.detail['after_s']} s: nothing to kill"
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                kill.outcome = f"{argv[0]} killed (SIGKILL to its process group) after {kill.detail['after_s']} s"
                note = kill.outcome
        try:
            code = process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            code = process.wait()
            note = f"stopped after the job's timeout ({timeout_s:.0f} s)"
        out, err = process.communicate()
        step = Step(day, job, argv, when + self.clock_offset, code, round(time.monotonic() - started, 2), note)
        if code not in (0, 75):
            step.note = (step.note + "; " if step.note else "") + (err.strip().splitlines() or ["(no output)"])[-1][:300]
        self.steps.append(step)
        self.log(f"{day} {job:6} {' '.join(argv)[:60]:60} exit {code} {step.seconds:6.1f} s {step.note[:120]}")
        return step

    def run_job(self, day: date, name: str, job: dict) -> None:
        hour, minute = (int(v) for v in job["at"].split(":"))
        when = datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
        for raw in job["steps"]:
            argv = shlex.split(raw)
            step = self.run_step(day, name, argv, when, float(job.get("timeout_minutes", 60)) * 60)
            when = step.started - self.clock_offset + timedelta(seconds=max(step.seconds, 1))
            if step.exit_code not in (0, 75):  # as the timers: the first failing step ends the job, and
                self.job_alert(name, step, when)  # OnFailure= (the task's catch) writes the job's alert
                break
            if argv[0] == "ingest.nrt.pull":
                for fault in self.faults_on(day, "clock-step"):
                    self.clock_offset = timedelta(hours=fault.detail["hours"])
                    fault.outcome = f"clock stepped {fault.detail['hours']:+d} h after the pull, for the rest of the day"

    def run_leftover_faults(self, day: date) -> None:
        """A kill or a double start whose command the jobs did not reach (an earlier step failed)
        happens to a run an operator starts by hand at 14:00 instead."""
        defaults = {"ingest.nrt.pull": ["--ym", "-P1D", "--since", "-P3D"], "risk.fuse": ["--ym", "-P1D"],
                    "report.build": ["--ym", "-P1D"], "route.plan": ["--scenario", "all", "--date", "latest"]}
        for fault in self.faults_on(day, "kill-9") + self.faults_on(day, "concurrent"):
            if fault.outcome == "not injected":
                command = fault.detail["command"]
                self.run_step(day, "manual", [command, *defaults.get(command, [])],
                              datetime(day.year, day.month, day.day, 14, tzinfo=UTC), 3600)
                if fault.outcome != "not injected":
                    fault.outcome += " (a run started by hand at 14:00)"

    def job_alert(self, name: str, step: Step, when: datetime) -> None:
        why = f"step arcticroute {' '.join(step.argv)} exited {step.exit_code}"
        env = {**self.env, "FAKETIME": f"@{(when + self.clock_offset):%Y-%m-%d %H:%M:%S}"}
        subprocess.run([sys.executable, str(REPO / "deploy" / "job_alert.py"), "--job", name, "--why", why],
                       env=env, capture_output=True, timeout=300, check=True)

    # -- the days ----------------------------------------------------------------------------
    def fill_disk(self) -> Path:
        ballast = self.fs / "ballast"
        free = os.statvfs(self.fs).f_bavail * os.statvfs(self.fs).f_frsize
        with open(ballast, "wb") as handle:
            handle.truncate(0)
            chunk = b"\0" * (1 << 20)
            left = max(free - (256 << 10), 0)
            while left > 0:
                handle.write(chunk[: min(len(chunk), left)])
                left -= min(len(chunk), left)
        return ballast

    def stamp(self, since: float, day: date) -> None:
        """Files written during the day get the simulated day's time (the GC ages files by mtime)."""
        moment = datetime(day.year, day.month, day.day, 6, tzinfo=UTC).timestamp()
        for root in self.roots.values():
            for dirpath, _dirnames, filenames in os.walk(root):
                for name in filenames:
                    path = os.path.join(dirpath, name)
                    try:
                        if os.lstat(path).st_mtime >= since:
                            os.utime(path, (moment, moment), follow_symlinks=False)
                    except OSError:
                        continue

    def usage(self) -> float:
        stat = os.statvfs(self.roots["data"])
        used = (stat.f_blocks - stat.f_bfree) * stat.f_frsize
        return used / (used + stat.f_bavail * stat.f_frsize)

    def run_day(self, day: date) -> None:
        real_start = time.time() - 1
        hits_before = len(self.site.hits)
        self.clock_offset = timedelta(0)
        self.publish(day - timedelta(days=1))
        self.arm_network_faults(day)
        for fault in self.faults_on(day, "missing-day"):
            fault.outcome = f"{fault.detail['provider']} never published {day - timedelta(days=1)}"
        ballast = None
        for fault in self.faults_on(day, "disk-full"):
            ballast = self.fill_disk()
            fault.outcome = f"disk filled to {self.usage():.1%} for the day"
        for name, job in self.jobs:
            self.run_job(day, name, job)
        self.run_leftover_faults(day)
        self.run_step(day, "probe", ["health.check"], datetime(day.year, day.month, day.day, 16, tzinfo=UTC), 600)
        if ballast is not None:
            ballast.unlink()
        else:
            self.disk[day] = self.usage()
        for armed in ("5xx-burst", "truncated", "trickle"):
            for fault in self.faults_on(day, armed):
                path = "/" + PROVIDERS[fault.detail["provider"]](day - timedelta(days=1))
                left = len(self.site.faults.get(path, []))
                served = [h for h in self.site.hits[hits_before:] if h.path == path and h.method == "GET"]
                answers = ", ".join(str(h.status) for h in served) or "none"
                pull = next((st for st in reversed(self.steps) if st.day == day and st.argv[0] == "ingest.nrt.pull"),
                            None)
                fault.outcome = (f"GETs answered {answers}" + (f" ({left} fault(s) not reached)" if left else "")
                                 + f"; the pull exited {pull.exit_code if pull else 'never ran'}")
                self.site.faults.pop(path, None)
        self.stamp(real_start, day)

    def run(self) -> None:
        for day in self.days:
            self.run_day(day)
        last = self.days[-1]
        self.clock_offset = timedelta(0)
        self.final_verify = self.run_step(last, "final", ["catalog.verify"],
                                          datetime(last.year, last.month, last.day, 23, tzinfo=UTC), 600)

    # -- what must hold ----------------------------------------------------------------------
    def records(self, effective: bool = True) -> list[dict]:
        """The run records, a ``running`` one whose process is gone shown as ``interrupted``."""
        from arcticroute.ops.interrupted import effective_status

        folder = self.roots["outputs"] / "runs"
        records = []
        for path in sorted(folder.glob("*.json")):
            record = json.loads(path.read_text())
            record["_mtime"] = path.stat().st_mtime_ns
            if effective:
                record["status"] = effective_status(record)
            records.append(record)
        return records

    def alerts(self) -> list[dict]:
        folder = self.roots["outputs"] / "alerts"
        return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []

    def day_artifacts(self, data_day: date) -> dict[str, bool]:
        from arcticroute.layers import layer_relpath
        from arcticroute.risk.fuse import daily_relpath

        grid = "3413-25km"
        found = {layer: (self.roots["data"] / layer_relpath(layer, data_day, grid)).exists() for layer in DAY_LAYERS}
        found["risk"] = (self.roots["data"] / daily_relpath(data_day, grid)).exists()
        return found

    def check(self) -> dict:
        """The invariants; returns them as ``{name: (ok, detail)}`` plus the per-day table."""
        records, alerts = self.records(), self.alerts()
        alerted_runs = {a.get("run_id") for a in alerts}
        days = []
        for day in self.days:
            have = self.day_artifacts(day - timedelta(days=1))
            failures = [r for r in records if r["status"] in FAILED and (r.get("start") or "")[:10] == day.isoformat()]
            job_alerts = [a for a in alerts if a["command"].startswith("schedule.")
                          and a["created_at"][:10] == day.isoformat()]
            with_alert = [r for r in failures if r["run_id"] in alerted_runs]
            data_day = (day - timedelta(days=1)).isoformat()
            gap_alerts = [a for a in alerts if a["command"] != "health.check" and data_day in a["why"]]
            missing = sorted(k for k, v in have.items() if not v)
            accounted = with_alert or job_alerts or gap_alerts
            verdict = "artifacts" if not missing else ("failure+alert" if accounted else "UNACCOUNTED")
            days.append({"day": day.isoformat(), "data_day": (day - timedelta(days=1)).isoformat(),
                         "missing": missing, "failures": [f"{r['command']} {r['status']}" for r in failures],
                         "alerted": len(with_alert) + len(job_alerts) + len(gap_alerts), "verdict": verdict})
        running = [r["run_id"] for r in self.records(effective=False) if r["status"] == "running"]
        leftovers = sorted(str(p) for root in self.roots.values() if root.exists()
                           for p in root.rglob("*") if p.name.startswith(".tmp-") or p.name.endswith(".partial"))
        over = {d.isoformat(): round(u, 4) for d, u in self.disk.items() if u >= self.watermark}
        probes = [r for r in sorted(records, key=lambda r: r["run_id"]) if r["command"] == "health.check"]
        statuses = [r["summary"].get("status") for r in probes if r.get("summary", {}).get("status")]
        transitions = [b for a, b in zip([None, *statuses], statuses, strict=False) if a != b]
        health_alerts = [a for a in alerts if a["command"] == "health.check"]
        expected = [t for t in transitions if t in ("warn", "fail")]
        metrics = self.metrics_agree(records)
        return {
            "catalog.verify passes": (self.final_verify.exit_code == 0, self.final_verify.note or "exit 0"),
            "every day has its artifacts or a failure with an alert":
                (all(d["verdict"] != "UNACCOUNTED" for d in days),
                 ", ".join(f"{d['day']} missing {d['missing']}" for d in days if d["verdict"] == "UNACCOUNTED") or "yes"),
            "no run left running": (not running, ", ".join(running) or "none"),
            "no temporary file left": (not leftovers, ", ".join(leftovers[:5]) or "none"),
            "disk under the watermark": (not over, json.dumps(over) if over else
                                         f"max {max(self.disk.values(), default=0):.1%} < {self.watermark:.0%}"),
            "one alert per health transition": (len(health_alerts) == len(expected),
                                                f"{len(expected)} transitions to warn/fail "
                                                f"({' -> '.join(map(str, transitions))}), {len(health_alerts)} alerts"),
            "metrics agree with the run records": metrics,
            "days": days,
        }

    def metrics_agree(self, records: list[dict]) -> tuple[bool, str]:
        from collections import Counter

        from prometheus_client.parser import text_string_to_metric_families

        textfile = self.roots["outputs"] / "metrics" / "arcticroute.prom"
        families = {f.name: f for f in text_string_to_metric_families(textfile.read_text())}
        counted = {(s.labels["command"], s.labels["status"]): int(s.value) for s in families["arcticroute_runs"].samples
                   if s.value}
        # the textfile was written as the last run ended: the records as they were then
        expected = Counter((r["command"], r["status"]) for r in records)
        last = {s.labels["command"]: s.labels["status"] for s in families["arcticroute_command_last_run_status"].samples
                if s.value == 1}
        newest = {}
        for record in sorted(records, key=lambda r: (r["run_id"][:16], r["_mtime"])):
            newest[record["command"]] = record["status"]
        problems = [f"{k}: metrics {counted.get(k, 0)}, records {v}" for k, v in expected.items() if counted.get(k, 0) != v]
        problems += [f"{k}: metrics {v}, no records" for k, v in counted.items() if k not in expected]
        problems += [f"last {c}: metrics {last.get(c)}, records {s}" for c, s in newest.items() if last.get(c) != s]
        return (not problems, "; ".join(problems[:5]) or f"{sum(expected.values())} runs in {len(newest)} commands agree")


def table(soak: Soak, verdict: dict) -> str:
    """The faults injected and their outcomes, then the invariants, as Markdown."""
    verdicts = {d["day"]: d["verdict"] for d in verdict["days"]}
    lines = ["| day | fault | details | outcome | the day ended with |", "|---|---|---|---|---|"]
    for fault in soak.faults:
        lines.append(f"| {fault.day} | {fault.kind} | {fault.describe()} | {fault.outcome} | "
                     f"{verdicts.get(fault.day.isoformat(), '')} |")
    lines += ["", "| invariant | holds | detail |", "|---|---|---|"]
    for name, value in verdict.items():
        if name != "days":
            lines.append(f"| {name} | {'yes' if value[0] else 'NO'} | {value[1]} |")
    return "\n".join(lines)
