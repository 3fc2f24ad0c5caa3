"""cache.gc and catalog.gc: retention decisions, TTL and watermark on a real filesystem of fixed
size, dry runs that change nothing, hostile trees, races with other processes, and GCs killed
with SIGKILL half-way."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from filelock import FileLock

from arcticroute import config_schema
from arcticroute.gc import disk, fs, policy, retention, versions
from arcticroute.gc.retention import VersionInfo, months_back, plan_eviction, plan_retention
from arcticroute.ops.runs import FAMILIES
from arcticroute.store import catalog
from arcticroute.store.artifacts import KINDS, ArtifactSpec, meta_path_for, write_artifact

from .conftest import REPO, make_roots, run_command, tmpfs

GRID = "3413-25km"
RUN = "20260101T000000Z-abcdef"
DEAD_RUN = "20260102T000000Z-dead00"
DAY = 86_400.0
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


# -- helpers ----------------------------------------------------------------------------------

def _roots(made) -> dict[str, Path]:
    return {"data": made.data, "reports": made.reports, "outputs": made.outputs}


def _day(days_ago: float, now: datetime = NOW) -> str:
    return (now - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _artifact(made, stem: str, created: list[str], *, kind: str = "risk-daily", tags=("risk",),
              size: int = 64, folder: str = f"risk/{GRID}/2026/09") -> list[Path]:
    """A logical id with one version per ``created`` date (its sidecar's created_at); the version
    files' mtimes are set back a year so that only their sidecars say how old they are."""
    spec = ArtifactSpec(logical_id=f"ar://risk/daily@{stem}?grid={GRID}", root="data", relpath=f"{folder}/{stem}.nc",
                        kind=kind, synthetic=True, grid={"name": GRID}, tags=list(tags),
                        time_coverage={"start": "2026-09-01T00:00:00Z", "end": "2026-09-01T23:59:59Z"})
    files = []
    for number, when in enumerate(created, 1):
        body = (f"{stem} version {number} ".encode() * (size // 16 + 1))[:size]
        meta = write_artifact(_roots(made), spec, lambda p, b=body: p.write_bytes(b), run_id=RUN, command="test")
        path = made.data / meta["path"]
        sidecar = meta_path_for(path)
        sidecar.write_text(json.dumps({**meta, "created_at": when}, indent=2) + "\n")
        year_ago = time.time() - 365 * DAY
        os.utime(path, (year_ago, year_ago))
        files.append(path)
    return files


def _cache_file(path: Path, days_old: float, size: int = 100) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"c" * size)
    _age(path, days_old)
    return path


def _age(path: Path, days_old: float) -> None:
    then = time.time() - days_old * DAY
    os.utime(path, (then, then), follow_symlinks=False)


def _tree(*tops: Path) -> dict:
    """Every name under ``tops`` with its type, size, mtime and content (links: their target)."""
    found = {}
    for top in tops:
        for dirpath, dirnames, filenames in os.walk(top):
            for name in dirnames + filenames:
                path = os.path.join(dirpath, name)
                st = os.lstat(path)
                if stat.S_ISLNK(st.st_mode):
                    found[path] = ("link", os.readlink(path))
                elif stat.S_ISDIR(st.st_mode):
                    found[path] = ("dir", st.st_mtime_ns)
                else:  # read without touching the access time, which GC counts as use
                    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOATIME", 0))
                    with os.fdopen(fd, "rb") as handle:
                        found[path] = ("file", st.st_size, st.st_mtime_ns, hashlib.sha256(handle.read()).hexdigest())
    return found


def _versions_on_disk(made, stem: str) -> list[int]:
    folder = made.data / "risk" / GRID / "2026" / "09"
    return sorted(int(p.name.split("_adv_v")[1].split(".")[0]) for p in folder.glob(f"{stem}_adv_v*.nc"))


def _canonicals_resolve(made) -> None:
    for link in made.data.rglob("*.nc"):
        if link.is_symlink():
            assert link.exists(), f"canonical link {link} points to nothing"


def _verifies(made) -> None:
    result = run_command("catalog.verify", env=made.env)
    assert result.exit_code == 0, result.output
    assert "WARN" not in result.stdout, result.stdout


@pytest.fixture
def fixed_clock(monkeypatch):
    monkeypatch.setattr(policy, "clock", lambda: NOW.timestamp())


# -- retention as data ------------------------------------------------------------------------

def _v(version: int, created: str | None, lid: str = "ar://risk/daily@x", kind: str = "risk-daily",
       tags=("risk",), problem: str | None = None) -> VersionInfo:
    return VersionInfo(logical_id=lid, version=version, kind=kind, tags=tuple(tags),
                       created_at=retention.parse_created(created), root="data",
                       relpath=f"risk/x_adv_v{version}.nc", canonical="risk/x.nc", size_bytes=10, problem=problem)


# name: (versions, options, versions kept)
RETENTION_CASES = {
    "history inside the window stays": ([_v(1, _day(40)), _v(2, _day(20)), _v(3, _day(1))], {}, [1, 2, 3]),
    "history before the window goes": ([_v(1, _day(300)), _v(2, _day(200)), _v(3, _day(120)), _v(4, _day(1))],
                                       {}, [3, 4]),
    "a version current until inside the window stays": ([_v(1, _day(400)), _v(2, _day(80))], {}, [1, 2]),
    "a canonical link target stays however old": ([_v(1, _day(400)), _v(2, _day(300)), _v(3, _day(200))],
                                                  {"targets": {("data", "risk/x_adv_v1.nc")}}, [1, 3]),
    "the kind's floor keeps the newest two": ([_v(1, _day(400), kind="env-layer"), _v(2, _day(300), kind="env-layer"),
                                              _v(3, _day(200), kind="env-layer")],
                                             {"floors": {"default": 2, "risk-daily": 1}}, [2, 3]),
    "a damaged newest keeps everything": ([_v(1, _day(400)), _v(2, _day(300))],
                                          {"damaged": {"ar://risk/daily@x": "its file is missing"}}, [1, 2]),
    "a sidecar lying elsewhere is left alone": ([_v(1, _day(400), problem="elsewhere"), _v(2, _day(300))], {}, [1, 2]),
    "an undated version stays": ([_v(1, None), _v(2, _day(300))], {}, [1, 2]),
    "an undated successor keeps its predecessor": ([_v(1, _day(400)), _v(2, "yesterday"), _v(3, _day(1))], {},
                                                   [1, 2, 3]),
    "zero months keep only the newest": ([_v(1, _day(3)), _v(2, _day(2)), _v(3, _day(1))], {"keep_months": 0}, [3]),
    "a future created_at stays": ([_v(1, _day(400)), _v(2, _day(-30))], {}, [1, 2]),
    "tags leave other logical ids out": ([_v(1, _day(400), tags=("route",)), _v(2, _day(300), tags=("route",))],
                                         {"tags": ("risk",)}, []),
}


@pytest.mark.parametrize("case", list(RETENTION_CASES))
def test_retention_keeps_and_removes_with_a_reason_each(case):
    versions, options, kept = RETENTION_CASES[case]
    plan = plan_retention(versions, **{"keep_months": 3, "now": NOW, **options})
    assert sorted(d.version.version for d in plan.keep) == kept
    selected = 0 if options.get("tags") else len(versions)
    assert len(plan.keep) + len(plan.remove) == selected and plan.not_selected == len(versions) - selected
    assert all(d.reason and d.rule for d in plan.decisions)
    if selected:
        assert max(v.version for v in versions) in kept  # the newest, always
    for _root, relpath in options.get("targets", ()):
        assert any(d.version.relpath == relpath for d in plan.keep)


def test_removing_all_history_is_flagged_and_keeping_some_is_not():
    old = [_v(1, _day(400)), _v(2, _day(300)), _v(3, _day(200))]
    assert plan_retention(old, keep_months=3, now=NOW).removes_all_history
    some = old + [_v(1, _day(400), lid="b"), _v(2, _day(10), lid="b"), _v(3, _day(1), lid="b")]
    assert not plan_retention(some, keep_months=3, now=NOW).removes_all_history
    assert not plan_retention([_v(1, _day(1))], keep_months=3, now=NOW).removes_all_history


@pytest.mark.parametrize("now, months, expected", [
    (datetime(2026, 3, 31, tzinfo=UTC), 1, datetime(2026, 2, 28, tzinfo=UTC)),
    (datetime(2026, 3, 31, tzinfo=UTC), 12, datetime(2025, 3, 31, tzinfo=UTC)),
    (datetime(2026, 1, 15, tzinfo=UTC), 3, datetime(2025, 10, 15, tzinfo=UTC)),
    (datetime(2024, 5, 29, tzinfo=UTC), 3, datetime(2024, 2, 29, tzinfo=UTC)),
])
def test_months_back_clamps_to_the_end_of_the_month(now, months, expected):
    assert months_back(now, months) == expected


def test_eviction_follows_each_kinds_policy_oldest_first():
    kinds = policy.load_policy(_settings_stub()).kinds
    versions = [_v(1, _day(60)), _v(2, _day(50)), _v(3, _day(2)), _v(4, _day(1)),  # risk-daily: keep 1, after 3 days
                _v(1, _day(90), lid="r", kind="report"), _v(2, _day(1), lid="r", kind="report"),  # never evicted
                _v(1, _day(90), lid="e", kind="env-layer"), _v(2, _day(80), lid="e", kind="env-layer"),
                _v(3, _day(70), lid="e", kind="env-layer")]  # keep 2: only version 1
    out = plan_eviction(versions, now=NOW, kinds=kinds)
    assert [(d.version.logical_id, d.version.version) for d in out] == [
        ("e", 1), ("ar://risk/daily@x", 1)]  # version 2 was superseded 2 days ago: too recent
    assert all(not d.keep and "superseded" in d.reason for d in out)


def _settings_stub(gc: dict | None = None, config_dir: Path = Path("config")):
    class Stub:
        runtime = {"gc": gc} if gc is not None else {}
    stub = Stub()
    stub.config_dir = config_dir
    return stub


# -- configuration ------------------------------------------------------------------------------

def test_config_defaults_match_the_policy_and_the_schema_lists_match_the_code():
    from arcticroute.config import load_settings
    assert policy.merged(load_settings().runtime["gc"]) == policy.merged(None)
    assert config_schema.GC_OWNERS == list(FAMILIES)
    assert config_schema.GC_KINDS == list(KINDS)


@pytest.mark.parametrize("path, why", [("env", "inside env/"), ("*", "ends in '*'"), ("a/../b", "not a relative"),
                                       ("runs", "inside runs/")])
def test_a_cache_folder_that_holds_artifacts_or_records_is_refused(path, why):
    root = "outputs" if path == "runs" else "data"
    with pytest.raises(Exception, match=why) as raised:
        policy.load_policy(_settings_stub({"cache_folders": [{"root": root, "path": path}]}))
    assert "gc.cache_folders[0].path" in str(raised.value)


def test_a_bad_gc_value_in_runtime_yaml_exits_2_naming_the_key(roots, tmp_path):
    config = tmp_path / "config"
    shutil.copytree(REPO / "config", config)
    text = (config / "runtime.yaml").read_text().replace("watermark_disk: 0.85", "watermark_disk: 1.5")
    (config / "runtime.yaml").write_text(text)
    result = run_command("cache.gc", "--config-dir", str(config), env=roots.env)
    assert result.exit_code == 2 and "gc.watermark_disk" in result.stderr and "Traceback" not in result.output
    (config / "runtime.yaml").write_text(text.replace("watermark_disk: 1.5", "watermark_disk: 0.85")
                                         .replace("path: cache, owner: pull", "path: env, owner: pull"))
    result = run_command("cache.gc", "--config-dir", str(config), env=roots.env)
    assert result.exit_code == 2 and "gc.cache_folders[0].path: 'env' is inside env/" in result.stderr


@pytest.mark.parametrize("args, message", [
    (("cache.gc", "--watermark-disk", "0"), "--watermark-disk"), (("cache.gc", "--watermark-disk", "1.2"), "--watermark-disk"),
    (("cache.gc", "--ttl-days", "-1"), "--ttl-days"), (("catalog.gc", "--keep-months", "-1"), "--keep-months"),
    (("catalog.gc", "--keep-months", "0"), "--allow-remove-all"), (("catalog.gc", "--tags", " , "), "names no tag"),
])
def test_bad_options_exit_2_and_change_nothing(roots, args, message):
    roots.data.mkdir(parents=True)
    before = _tree(roots.data)
    result = run_command(*args, env=roots.env)
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.output
    assert _tree(roots.data) == before and not roots.outputs.exists()


# -- catalog.gc ---------------------------------------------------------------------------------

@pytest.fixture
def history(roots, fixed_clock):
    """Three logical ids with histories of different ages (risk-daily keeps 1, env-layer 2)."""
    _artifact(roots, "risk_a", [_day(300), _day(200), _day(150), _day(2)])  # 1, 2 go; 3 was current until 2 days ago
    _artifact(roots, "risk_b", [_day(30), _day(20)])  # all inside the window
    _artifact(roots, "env_c", [_day(400), _day(300), _day(200)], kind="env-layer", tags=("ice.sic",))  # 1 goes
    return roots


def test_catalog_gc_dry_run_lists_and_changes_nothing(history):
    before = _tree(history.data, history.outputs.parent)
    listed = run_command("catalog.gc", "--dry-run", env=history.env)
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.count("WOULD REMOVE") == 3 and "risk_a_adv_v1.nc" in listed.stdout
    assert "would remove 3 of 9 versions" in listed.stdout
    assert _tree(history.data, history.outputs.parent) == before  # no record, no lock, no index either
    as_json = json.loads(run_command("catalog.gc", "--dry-run", "--json", env=history.env).stdout)
    assert len(as_json["remove"]) == 3 and len(as_json["remove"]) + len(as_json["keep"]) == 9
    assert all(item["reason"] for item in as_json["remove"] + as_json["keep"])
    plan = versions.gc_list(fs.resolve_roots(_roots(history)), 3, floors={"default": 2, "risk-daily": 1}, now=NOW)
    assert sorted(d.as_dict()["path"] for d in plan.remove) == sorted(i["path"] for i in as_json["remove"])


def test_catalog_gc_removes_old_history_with_sidecars_and_keeps_links_resolving(history):
    result = run_command("catalog.gc", env=history.env)
    assert result.exit_code == 0, result.output
    assert result.stdout.count("REMOVED") == 3
    assert _versions_on_disk(history, "risk_a") == [3, 4] and _versions_on_disk(history, "risk_b") == [1, 2]
    assert _versions_on_disk(history, "env_c") == [2, 3]
    folder = history.data / "risk" / GRID / "2026" / "09"
    assert not list(folder.glob("risk_a_adv_v1.nc*")) and not list(folder.glob("env_c_adv_v1.nc*"))
    _canonicals_resolve(history)
    _verifies(history)
    index = json.loads((history.outputs / "catalog" / "index.json").read_text())
    assert {e["logical_id"]: e["versions"] for e in index["entries"]}[f"ar://risk/daily@risk_a?grid={GRID}"] == [3, 4]
    records = [json.loads(p.read_text()) for p in (history.outputs / "runs").glob("*.json")]
    record = next(r for r in records if r["command"] == "catalog.gc")
    assert record["status"] == "ok" and record["summary"]["versions"] == 3 and len(record["summary"]["removed"]) == 3
    again = run_command("catalog.gc", env=history.env)
    assert again.exit_code == 0 and "REMOVED" not in again.stdout


def test_tags_select_the_logical_ids_gc_considers(history):
    result = run_command("catalog.gc", "--tags", "ice.sic,nosuch", env=history.env)
    assert result.exit_code == 0, result.output
    assert _versions_on_disk(history, "env_c") == [2, 3] and _versions_on_disk(history, "risk_a") == [1, 2, 3, 4]


def test_keep_months_zero_needs_the_override(history):
    refused = run_command("catalog.gc", "--keep-months", "0", env=history.env)
    assert refused.exit_code == 2 and "--allow-remove-all" in refused.stderr
    assert _versions_on_disk(history, "risk_b") == [1, 2]
    allowed = run_command("catalog.gc", "--keep-months", "0", "--allow-remove-all", env=history.env)
    assert allowed.exit_code == 0, allowed.output
    assert _versions_on_disk(history, "risk_a") == [4] and _versions_on_disk(history, "risk_b") == [2]
    assert _versions_on_disk(history, "env_c") == [2, 3]  # the env-layer floor of 2 still holds
    _verifies(history)


def test_a_policy_that_would_remove_all_history_is_refused_with_an_alert(roots, fixed_clock):
    _artifact(roots, "risk_old", [_day(400), _day(300), _day(200)])
    before = _tree(roots.data)
    dry = run_command("catalog.gc", "--dry-run", env=roots.env)
    assert dry.exit_code == 0 and "refuses it" in dry.stdout
    refused = run_command("catalog.gc", env=roots.env)
    assert refused.exit_code == 1 and "would remove all 2 superseded versions" in refused.stderr
    assert "check the clock" in refused.stderr and "nothing was removed" in refused.stderr
    assert list((roots.outputs / "alerts").glob("*_error_catalog.gc.json"))
    assert _tree(roots.data) == before
    assert run_command("catalog.gc", "--allow-remove-all", env=roots.env).exit_code == 0
    assert _versions_on_disk(roots, "risk_old") == [3]


def test_a_damaged_newest_version_keeps_its_history(roots, fixed_clock):
    files = _artifact(roots, "risk_bad", [_day(400), _day(300), _day(200)])
    _artifact(roots, "risk_ok", [_day(400), _day(300), _day(20)])
    files[-1].write_bytes(files[-1].read_bytes()[::-1])  # same size, other bytes: only sha256 tells
    result = run_command("catalog.gc", env=roots.env)
    assert result.exit_code == 0, result.output
    assert _versions_on_disk(roots, "risk_bad") == [1, 2, 3] and "fails verification" in result.stdout
    assert _versions_on_disk(roots, "risk_ok") == [2, 3]
    files[-1].write_bytes(b"short")  # another size: the dry run sees it too
    assert "WOULD REMOVE" not in run_command("catalog.gc", "--dry-run", env=roots.env).stdout
    repaired = run_command("catalog.verify", "--repair", env=roots.env)
    assert repaired.exit_code == 0 and os.readlink(files[-1].with_name("risk_bad.nc")) == "risk_bad_adv_v2.nc"


def test_the_disk_is_checked_again_right_before_each_removal(roots, fixed_clock):
    """A canonical link moved between planning and removing keeps its new target."""
    files = _artifact(roots, "risk_moved", [_day(400), _day(300), _day(200), _day(100)])
    made = fs.resolve_roots(_roots(roots))
    plan = versions.gc_list(made, 1, floors={"default": 1}, now=NOW)
    assert {d.version.version for d in plan.remove} == {1, 2, 3}
    link = files[0].with_name("risk_moved.nc")
    link.unlink()
    link.symlink_to(files[1].name)  # as a repair would, had version 4 been corrupt
    report = versions.apply_retention(made, plan, safety_age_s=0, now=NOW.timestamp(), dry_run=False,
                                      allow_remove_all=True)
    assert _versions_on_disk(roots, "risk_moved") == [2, 4] and any("points to it now" in n for n in report.outcome.left)


def test_leftover_versions_without_a_sidecar_go_but_never_the_highest(roots, fixed_clock):
    files = _artifact(roots, "risk_left", [_day(30), _day(20), _day(10)])
    meta_path_for(files[0]).unlink()  # as a GC or run killed between its two steps leaves it
    highest = files[0].with_name("risk_left_adv_v9.nc")
    highest.write_bytes(b"a run writing its version right now")
    _age(highest, 30)
    result = run_command("catalog.gc", env=roots.env)
    assert result.exit_code == 0, result.output
    assert not files[0].exists() and highest.exists() and "without its sidecar" in result.stdout
    assert _versions_on_disk(roots, "risk_left") == [2, 3, 9]


def test_verify_logical_id_checks_one_artifact(roots):
    files = _artifact(roots, "risk_v", [_day(2), _day(1)])
    made = _roots(roots)
    assert catalog.verify_logical_id(made, f"ar://risk/daily@risk_v?grid={GRID}") == []
    files[0].write_bytes(b"changed")
    problems = catalog.verify_logical_id(made, f"ar://risk/daily@risk_v?grid={GRID}")
    assert len(problems) == 1 and "version 1: size" in str(problems[0])
    assert "not in the catalog" in str(catalog.verify_logical_id(made, "ar://risk/daily@nosuch")[0])


def test_gc_waits_for_no_one_and_repair_locks_gc_out(history):
    history.outputs.joinpath("locks").mkdir(parents=True, exist_ok=True)
    with FileLock(history.outputs / "locks" / "gc.lock", timeout=0):
        assert run_command("catalog.gc", env=history.env).exit_code == 75
        assert run_command("cache.gc", env=history.env).exit_code == 75
        assert run_command("catalog.verify", "--repair", env=history.env).exit_code == 75
    assert "gc" in FAMILIES


# -- cache.gc -----------------------------------------------------------------------------------

def test_cache_gc_removes_by_age_and_keeps_what_is_young_locked_or_live(roots):
    data, outputs = roots.data, roots.outputs
    old = [_cache_file(data / "cache" / "src" / name, 40) for name in ("a.nc", "two words é.nc", "ü/deep/b.bin")]
    young = _cache_file(data / "cache" / "src" / "fresh.nc", 2)
    just_written = _cache_file(data / "cache" / "src" / "new.nc", 0.01)  # within the safety age
    lock_file = _cache_file(data / "cache" / "src" / "held.nc.lock", 40)
    held = _cache_file(data / "cache" / "src" / "held.nc", 40)
    unheld = _cache_file(data / "cache" / "src" / "free.nc", 40)
    _cache_file(data / "cache" / "src" / "free.nc.lock", 40)
    partial = _cache_file(data / "cache" / "dl" / "x.nc.partial", 1)
    cv = _cache_file(data / "risk" / "cv_cache" / "fold1.npz", 20)
    quarantined = _cache_file(data / ".quarantine" / "20260101T000000Z" / "x_adv_v1.nc", 400)  # moved now: ctime new
    tile = _cache_file(outputs / "cache" / "tiles" / "3413-25km" / "0_0.png", 20)
    folder = data / "risk" / GRID / "2026" / "09"
    dead_tmp = _cache_file(folder / f".tmp-{DEAD_RUN}-0badc0de-risk_x.nc", 1)
    live_tmp = _cache_file(folder / ".tmp-20260103T000000Z-a1a1a1-0badc0de-risk_y.nc", 1)
    young_tmp = _cache_file(folder / ".tmp-20260104T000000Z-b2b2b2-0badc0de-risk_z.nc", 0.01)
    lookalike = _cache_file(folder / ".tmp-notours.nc", 40)
    for folder in (data / "cache" / "src" / "ü" / "deep", data / "cache" / "src" / "ü"):
        _age(folder, 40)  # as old as what is in them
    (outputs / "locks").mkdir(parents=True)
    (outputs / "locks" / "fuse.current").write_text(json.dumps({"run_id": "20260103T000000Z-a1a1a1", "record": "x"}))
    with FileLock(str(lock_file), timeout=0):
        result = run_command("cache.gc", env=roots.env)
    assert result.exit_code == 0, result.output
    gone = [*old, unheld, partial, cv, tile, dead_tmp]
    kept = [young, just_written, lock_file, held, quarantined, live_tmp, young_tmp, lookalike]
    assert [p for p in gone if p.exists()] == [] and [p for p in kept if not p.exists()] == []
    assert not (data / "cache" / "src" / "ü").exists()  # emptied folders go
    assert "REMOVED ttl" in result.stdout and "two words é.nc" in result.stdout
    record = json.loads(sorted((outputs / "runs").glob("*.json"))[-1].read_text())
    assert record["summary"]["files"] == len(gone) and record["summary"]["usage_after"] is not None


def test_quarantine_ages_from_when_it_was_set_aside(roots, monkeypatch):
    item = _cache_file(roots.data / ".quarantine" / "20260101T000000Z" / "risk" / "x_adv_v1.nc", 400)
    assert run_command("cache.gc", env=roots.env).exit_code == 0 and item.exists()
    monkeypatch.setattr(policy, "clock", lambda: time.time() + 31 * DAY)
    assert run_command("cache.gc", env=roots.env).exit_code == 0 and not item.exists()


def test_cache_gc_dry_run_changes_nothing(roots):
    _cache_file(roots.data / "cache" / "a.nc", 40)
    _cache_file(roots.data / "risk" / f".tmp-{DEAD_RUN}-0badc0de-x.nc", 1)
    _artifact(roots, "risk_d", [_day(400), _day(300)])
    before = _tree(roots.data, roots.outputs.parent)
    result = run_command("cache.gc", "--dry-run", "--watermark-disk", "0.0001", env=roots.env)
    assert result.exit_code == 0, result.output
    assert "WOULD REMOVE ttl" in result.stdout and "WOULD REMOVE temporary" in result.stdout
    assert "WOULD FAIL" in result.stdout
    assert _tree(roots.data, roots.outputs.parent) == before
    as_json = json.loads(run_command("cache.gc", "--dry-run", "--json", env=roots.env).stdout)
    assert as_json["dry_run"] and as_json["removed"]["files"] == 2
    assert _tree(roots.data, roots.outputs.parent) == before


def test_a_family_in_progress_keeps_gc_out_of_its_cache_folders(roots):
    pulled = _cache_file(roots.data / "cache" / "src" / "a.nc", 40)
    other = _cache_file(roots.outputs / "cache" / "tiles" / "t.png", 40)
    (roots.outputs / "locks").mkdir(parents=True)
    (roots.outputs / "locks" / "pull.current").write_text(json.dumps({"run_id": "20260105T000000Z-c3c3c3"}))
    with FileLock(roots.outputs / "locks" / "pull.lock", timeout=0):
        result = run_command("cache.gc", env=roots.env)
    assert result.exit_code == 0, result.output
    assert pulled.exists() and not other.exists()
    assert "SKIPPED" in result.stdout and "a pull run (20260105T000000Z-c3c3c3) is in progress" in result.stdout
    (roots.outputs / "locks" / "pull.current").unlink()
    assert run_command("cache.gc", env=roots.env).exit_code == 0 and not pulled.exists()
    with FileLock(roots.outputs / "locks" / "pull.lock", timeout=0):
        pass  # GC let go of the pull lock it took


@pytest.mark.parametrize("mode", ["descriptors", "paths"])
def test_hostile_trees_are_cleaned_without_following_a_link(roots, tmp_path, monkeypatch, mode):
    if mode == "paths":
        monkeypatch.setattr(fs, "FD_BASED", False)  # what Windows does
    outside = tmp_path / "outside"
    precious = [_cache_file(outside / name, 400) for name in ("precious.txt", f".tmp-{DEAD_RUN}-0badc0de-p.nc")]
    real = tmp_path / "real"
    made = make_roots(real)
    link_root = tmp_path / "data-link"
    link_root.symlink_to(real / "data_processed", target_is_directory=True)
    env = {**made.env, "ARCTICROUTE_DATA": str(link_root)}
    cache_dir = made.data / "cache"
    old = [_cache_file(cache_dir / name, 40) for name in ("sp ace é.nc", "日本/x.bin")]
    bad_name = Path(os.fsdecode(bytes(cache_dir) + b"/bad\xff\xfename.nc"))
    _cache_file(bad_name, 40)
    (cache_dir / "to-outside").symlink_to(outside, target_is_directory=True)
    (cache_dir / "to-file").symlink_to(outside / "precious.txt")
    (cache_dir / "loop-a").symlink_to(cache_dir / "loop-b")
    (cache_dir / "loop-b").symlink_to(cache_dir / "loop-a")
    young_link = cache_dir / "young-link"
    young_link.symlink_to(outside)
    for name in ("to-outside", "to-file", "loop-a", "loop-b"):
        _age(cache_dir / name, 40)
    (made.data / "env" / "ice.sic").mkdir(parents=True)
    (made.data / "env" / "ice.sic" / "evil").symlink_to(outside, target_is_directory=True)
    made.outputs.mkdir(parents=True)
    (made.outputs / "cache").symlink_to(outside, target_is_directory=True)  # a cache folder that is a link
    lookalike = [_cache_file(cache_dir / name, 40) for name in ("x_adv_v1.nc", "x_adv_v1.nc.meta.json")]
    before_outside = _tree(outside)

    result = run_command("cache.gc", env=env)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert _tree(outside) == before_outside and all(p.exists() for p in precious)
    assert not any(p.exists() for p in old) and not os.path.lexists(bad_name)
    assert not any(os.path.lexists(cache_dir / n) for n in ("to-outside", "to-file", "loop-a", "loop-b"))
    assert young_link.is_symlink() and (made.data / "env" / "ice.sic" / "evil").is_symlink()
    assert all(p.exists() for p in lookalike) and "look like catalogued artifacts" in result.stdout
    assert "a cache folder that is a symbolic link is not followed" in result.stdout
    assert "bad\\xff\\xfename.nc" in result.stdout  # undecodable bytes shown, not a crash


def test_a_filesystem_mounted_below_a_cache_folder_is_not_entered(roots, tmp_path):
    (roots.data / "cache").mkdir(parents=True)
    with tmpfs(roots.data / "cache" / "mnt", "1m") as mounted:
        inside = _cache_file(mounted / "old.nc", 40)
        beside = _cache_file(roots.data / "cache" / "old.nc", 40)
        result = run_command("cache.gc", env=roots.env)
        assert result.exit_code == 0, result.output
        assert inside.exists() and not beside.exists() and "another filesystem is mounted there" in result.stdout


def test_files_removed_between_listing_and_looking_are_not_an_error(roots, monkeypatch):
    """Another process removes files (and a folder) right after GC listed a folder."""
    cache_dir = roots.data / "cache"
    files = [_cache_file(cache_dir / f"d{i % 3}" / f"f{i}.nc", 40) for i in range(30)]
    _cache_file(cache_dir / "doomed" / "sub" / "x.nc", 40)
    real_scandir = os.scandir
    inside = threading.local()

    class Stale:
        def __init__(self, entries):
            self.entries = entries

        def __enter__(self):
            return iter(self.entries)

        def __exit__(self, *exc):
            return False

        def __iter__(self):
            return iter(self.entries)

    def racing_scandir(target=None):
        with real_scandir(target) as listing:
            entries = list(listing)
        where = os.readlink(f"/proc/self/fd/{target}") if isinstance(target, int) else str(target)
        if where.startswith(str(cache_dir)) and not getattr(inside, "busy", False):
            inside.busy = True  # the other process's own listings are not raced
            for entry in entries[::2]:  # the other process
                shutil.rmtree(entry.path if not isinstance(target, int) else os.path.join(where, entry.name),
                              ignore_errors=True)
                if os.path.lexists(os.path.join(where, entry.name)):
                    os.unlink(os.path.join(where, entry.name))
            inside.busy = False
        return Stale(entries)

    monkeypatch.setattr(os, "scandir", racing_scandir)
    result = run_command("cache.gc", env=roots.env)
    monkeypatch.undo()
    assert result.exit_code == 0, result.output
    assert "could not remove" not in result.output and "Traceback" not in result.output
    assert not any(p.exists() for p in files)


def test_a_process_deleting_files_during_the_scan_is_harmless(roots):
    cache_dir = roots.data / "cache"
    files = [_cache_file(cache_dir / f"d{i % 20}" / f"f{i}.nc", 40, size=10) for i in range(3000)]
    stop = threading.Event()

    def other_process():
        for path in random.Random(7).sample(files, len(files)):
            if stop.is_set():
                return
            path.unlink(missing_ok=True)

    thread = threading.Thread(target=other_process)
    thread.start()
    try:
        result = run_command("cache.gc", env=roots.env)
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output
    assert "ERROR" not in result.stdout and not any(p.exists() for p in files)


def test_names_are_shown_on_one_line_whatever_bytes_they_hold():
    assert fs.shown("/d/two\nlines\t.nc") == "/d/two\\nlines\\t.nc"
    assert fs.shown(os.fsdecode(b"/d/bad\xff.nc")) == "/d/bad\\xff.nc"
    assert fs.shown("/d/é 日本.nc") == "/d/é 日本.nc"


@pytest.mark.skipif(shutil.which("just") is None, reason="`just` is not on PATH (pip install rust-just)")
@pytest.mark.parametrize("exits, expected", [({}, 0), ({"catalog_gc": 1}, 1), ({"cache_gc": 75}, 75),
                                             ({"catalog_gc": 2, "cache_gc": 1}, 2)])
def test_just_gc_runs_both_and_keeps_the_first_failure(tmp_path, exits, expected):
    work = tmp_path / "work"
    (work / ".venv" / "bin").mkdir(parents=True)
    log = tmp_path / "argv.jsonl"
    fake = work / ".venv" / "bin" / "python"  # records its arguments, exits as FAKE_EXIT_<script> says
    fake.write_text(f"#!{sys.executable}\nimport json, os, sys\n"
                    f"open({str(log)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n"
                    "sys.exit(int(os.environ.get('FAKE_EXIT_' + os.path.basename(sys.argv[1])[:-3], '0')))\n")
    fake.chmod(0o755)
    env = {**os.environ, **{f"FAKE_EXIT_{script}": str(code) for script, code in exits.items()}}
    done = subprocess.run(["just", "--justfile", str(REPO / "justfile"), "--working-directory", str(work), "--no-deps",
                           "gc", "--dry-run", "two words"], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == expected, done.stderr
    assert [json.loads(line) for line in log.read_text().splitlines()] == [
        ["scripts/catalog_gc.py", "--dry-run", "two words"], ["scripts/cache_gc.py", "--dry-run", "two words"]]


# -- the watermark, on a real filesystem of fixed size ---------------------------------------------

@pytest.fixture
def small_disk(tmp_path, monkeypatch):
    with tmpfs(tmp_path / "disk", "32m") as mounted:
        made = make_roots(mounted)
        for key, value in made.env.items():
            monkeypatch.setenv(key, value)
        yield made


def _fill(made) -> dict[str, list[Path]]:
    """~28 MB on a 32 MB disk: 10 MB of cache within its TTL, 18 MB of risk versions of which the
    superseded ones are old enough for gc.versions to let them go."""
    caches = [_cache_file(made.data / "cache" / "src" / f"c{i}.nc", 2 + i, size=1_000_000) for i in range(10)]
    now = datetime.now(UTC)
    versions = {stem: _artifact(made, stem, [_day(60 - i, now), _day(40 - i, now), _day(20 - i, now)], size=1_500_000)
                for i, stem in enumerate(("risk_w", "risk_x", "risk_y", "risk_z"))}
    return {"caches": caches, "newest": [files[-1] for files in versions.values()]}


def test_cache_gc_evicts_caches_then_superseded_versions_to_below_the_watermark(small_disk):
    filled = _fill(small_disk)
    assert shutil.disk_usage(small_disk.data).used / shutil.disk_usage(small_disk.data).total > 0.8
    result = run_command("cache.gc", "--watermark-disk", "0.5", env=small_disk.env)
    assert result.exit_code == 0, result.output
    usage = disk.disk_usage(small_disk.data)
    assert usage.fraction < 0.5
    assert not any(p.exists() for p in filled["caches"])  # all cache first
    assert "REMOVED watermark" in result.stdout and "REMOVED version" in result.stdout
    assert all(p.exists() for p in filled["newest"])
    assert _versions_on_disk(small_disk, "risk_w")[0] > 1  # the oldest superseded version went first
    _canonicals_resolve(small_disk)
    _verifies(small_disk)


def test_cache_gc_that_cannot_reach_the_watermark_says_why_and_alerts(small_disk):
    filled = _fill(small_disk)
    dry = run_command("cache.gc", "--watermark-disk", "0.05", "--dry-run", env=small_disk.env)
    assert dry.exit_code == 0 and "WOULD FAIL" in dry.stdout
    result = run_command("cache.gc", "--watermark-disk", "0.05", env=small_disk.env)
    assert result.exit_code == 1
    assert "not below the watermark 5%" in result.stderr and "current versions" in result.stderr
    assert "never removed" in result.stderr and "gc.watermark_disk" in result.stderr
    assert list((small_disk.outputs / "alerts").glob("*_error_cache.gc.json"))
    assert all(p.exists() for p in filled["newest"])
    _verifies(small_disk)


def test_cache_gc_runs_on_a_full_disk(small_disk):
    assert run_command("cache.gc", env=small_disk.env).exit_code == 0  # sets its reserve aside
    old = [_cache_file(small_disk.data / "cache" / f"old{i}.nc", 40, size=1_000_000) for i in range(4)]
    filler = small_disk.data.parent / "filler"
    with open(filler, "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
        except OSError:
            pass
    assert shutil.disk_usage(small_disk.data).free < 65536
    result = run_command("cache.gc", "--watermark-disk", "0.99", env=small_disk.env)
    assert result.exit_code == 0, result.output
    assert not any(p.exists() for p in old)


# -- killed half-way ----------------------------------------------------------------------------------

def _prepared(tmp_path) -> tuple[Path, dict]:
    """150 logical ids of 4 versions (2 of them too old to keep) and 2 000 old cache files."""
    made = make_roots(tmp_path / "prepared")
    now = datetime.now(UTC)
    template = _artifact(made, "risk_0000", [_day(400, now), _day(300, now), _day(200, now), _day(10, now)])
    folder = template[0].parent
    metas = [json.loads(meta_path_for(p).read_text()) for p in template]
    for i in range(1, 150):
        stem = f"risk_{i:04d}"
        for meta in metas:
            name = f"{stem}_adv_v{meta['version']}.nc"
            body = f"{stem} {meta['version']}".encode()
            (folder / name).write_bytes(body)
            os.utime(folder / name, (time.time() - 365 * DAY,) * 2)
            side = {**meta, "logical_id": f"ar://risk/daily@{stem}?grid={GRID}", "path": f"risk/{GRID}/2026/09/{name}",
                    "canonical": f"risk/{GRID}/2026/09/{stem}.nc", "sha256": hashlib.sha256(body).hexdigest(),
                    "size_bytes": len(body)}
            (folder / (name + ".meta.json")).write_text(json.dumps(side, indent=2) + "\n")
        (folder / f"{stem}.nc").symlink_to(f"{stem}_adv_v4.nc")
        (folder / f"{stem}.nc.meta.json").symlink_to(f"{stem}_adv_v4.nc.meta.json")
    for i in range(2000):
        _cache_file(made.data / "cache" / f"d{i % 40}" / f"f{i}.nc", 40, size=10)
    return made.data.parent, made.env


def _kill_when(process: subprocess.Popen, folder: Path, fewer_by: int, timeout: float = 30) -> None:
    """SIGKILL ``process`` as soon as ``folder`` holds ``fewer_by`` entries fewer than now."""
    start = len(os.listdir(folder))
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        if start - len(os.listdir(folder)) >= fewer_by:
            break
        time.sleep(0.0005)
    process.send_signal(signal.SIGKILL)
    process.wait()


COMMANDS = {"catalog_gc.py": "catalog.gc", "cache_gc.py": "cache.gc"}


@pytest.mark.slow
@pytest.mark.parametrize("script", list(COMMANDS))
def test_a_gc_killed_at_random_points_leaves_a_catalog_that_verifies_or_repairs(tmp_path, script):
    prepared, _ = _prepared(tmp_path)
    rng = random.Random(script)
    killed = 0
    for attempt in range(4):
        base = tmp_path / f"attempt{attempt}"
        shutil.copytree(prepared, base, symlinks=True)
        made = make_roots(base)
        for path in (made.data / "cache").rglob("*.nc"):
            _age(path, 40)  # copying read the originals: their access time, which GC counts as use, is now
        process = subprocess.Popen([sys.executable, str(REPO / "scripts" / script)], env={**os.environ, **made.env},
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if attempt == 0:
            time.sleep(rng.uniform(0.05, 0.5))  # anywhere: start-up, the scan, the removals
            process.send_signal(signal.SIGKILL)
            process.wait()
        elif script == "catalog_gc.py":  # while it removes versions (two files each)
            _kill_when(process, made.data / "risk" / GRID / "2026" / "09", rng.choice([1, 2, 41, 201]))
        else:  # while it cleans one of the cache's folders
            _kill_when(process, made.data / "cache" / f"d{rng.randrange(40)}", rng.randrange(1, 50))
        killed += process.returncode == -signal.SIGKILL
        verified = run_command("catalog.verify", env=made.env)
        if verified.exit_code != 0 or "WARN" in verified.stdout:
            assert verified.exit_code in (0, 1), verified.output
            repaired = run_command("catalog.verify", "--repair", env=made.env)
            assert repaired.exit_code == 0, repaired.output
            assert "RESTORE" not in repaired.stdout  # nothing was lost that a producer must bring back
            _verifies(made)
        _canonicals_resolve(made)
        finished = run_command(COMMANDS[script], env=made.env)
        assert finished.exit_code == 0, finished.output
        _verifies(made)
        records = [json.loads(p.read_text()) for p in (made.outputs / "runs").glob("*.json")]
        assert {r["status"] for r in records} <= {"ok", "interrupted"}  # the killed run's record is marked
    assert killed >= 3  # most attempts did die half-way
