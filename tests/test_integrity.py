"""Integrity of the spine: verify on read, repair, grids side by side, interrupted runs,
degenerate routes, a full disk, and every exit 1 with its record and alert."""

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from arcticroute.errors import ArcticRouteError
from arcticroute.route.planner import check_route_document
from arcticroute.store import integrity

from .conftest import build_month, make_roots, run_command, select_roots, tmpfs

GRID = "3413-25km"
DAY = "20260930"


def _env_file(roots, layer: str, day: str = DAY, grid: str = GRID) -> Path:
    return roots.data / "env" / layer / grid / day[:4] / day[4:6] / f"{layer.replace('.', '_')}_{day}.nc"


def _version(canonical: Path) -> Path:
    """The version file a canonical link points to."""
    return canonical.parent / os.readlink(canonical)


def _records(roots) -> list[dict]:
    """Run records, the last completed last (run ids of one second do not sort by time)."""
    paths = sorted((roots.outputs / "runs").glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
    return [json.loads(p.read_text()) for p in paths]


def _chain(roots, *extra: str) -> None:
    build_month(roots, "202609", "2026-09-29")
    for name, *args in (("report.build", "--ym", "202609"),):
        result = run_command(name, *args, *extra, env=roots.env)
        assert result.exit_code == 0, result.output


@pytest.fixture
def chain(tmp_path, monkeypatch):
    """Two days of the demo chain with a report, in fresh roots (faults change them)."""
    made = make_roots(tmp_path)
    select_roots(monkeypatch, made)
    _chain(made)
    return made


def _assert_verifies(roots) -> None:
    result = run_command("catalog.verify", env=roots.env)
    assert result.exit_code == 0, result.output
    assert "WARN" not in result.stdout, result.stdout


# -- verify on read -------------------------------------------------------------------------------

def test_a_swapped_input_is_refused_by_route_and_report_naming_the_repair(chain):
    ice = _version(_env_file(chain, "ice.sic"))
    shutil.copyfile(_version(_env_file(chain, "ice.sic", "20260929")), ice)  # another day's real file
    routes_before = sorted((chain.outputs / "routes").rglob("*"))

    routed = run_command("route.plan", "--scenario", "all", "--force", env=chain.env)
    assert routed.exit_code == 1, routed.output
    assert f"ar://env/ice.sic@{DAY}?grid={GRID} version 1: size" in routed.stderr and "its sidecar" in routed.stderr
    assert "catalog.verify --repair" in routed.stderr and "ingest.nrt.pull --ym 202609 --what ice" in routed.stderr
    assert "Traceback" not in routed.output
    assert sorted((chain.outputs / "routes").rglob("*")) == routes_before
    assert list((chain.outputs / "alerts").glob("*_error_route.plan.json"))

    reported = run_command("report.build", "--ym", "202609", "--force", env=chain.env)
    assert reported.exit_code == 1 and f"ar://env/ice.sic@{DAY}" in reported.stderr


def test_the_sha256_recorded_as_input_is_that_of_the_bytes_read(chain):
    route = chain.outputs / "routes" / GRID / f"murmansk_bering_{DAY}.geojson"
    meta = json.loads(route.with_name(route.name + ".meta.json").read_text())
    by_id = {m["logical_id"]: m for m in (json.loads(p.read_text()) for p in chain.data.rglob("*_adv_v*.meta.json"))}
    for ref in meta["inputs"]:
        stored = chain.data / by_id[ref["logical_id"]]["path"]
        assert ref["sha256"] == hashlib.sha256(stored.read_bytes()).hexdigest()


def test_a_deleted_input_fails_fuse_with_a_hint_and_the_other_days_are_fused(chain):
    os.remove(_version(_env_file(chain, "wave.hs")))
    result = run_command("risk.fuse", "--ym", "202609", "--method", "max", env=chain.env)
    assert result.exit_code == 1, result.output
    assert f"ar://env/wave.hs@{DAY}?grid={GRID} version 1: file missing" in result.stderr
    assert "FileNotFoundError" not in result.output and "Traceback" not in result.output
    record = _records(chain)[-1]
    assert record["status"] == "failed" and record["summary"]["written"] == 1 and record["summary"]["refused"] == 1


def test_cache_is_keyed_on_file_identity(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"one")
    first, _ = integrity.cached_sha256(path)
    assert first == hashlib.sha256(b"one").hexdigest()
    stat = path.stat()
    path.write_bytes(b"two")  # same size; put the mtime back as an adversary would
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    second, _ = integrity.cached_sha256(path)
    assert second == hashlib.sha256(b"two").hexdigest()


# -- repair ---------------------------------------------------------------------------------------

def _corrupt(path: Path) -> None:
    with open(path, "r+b") as handle:
        handle.seek(300)
        handle.write(b"\x00corrupt\x00")


FAULTS = {
    "delete a layer": lambda r: os.remove(_version(_env_file(r, "ice.sic"))),
    "corrupt a layer": lambda r: _corrupt(_version(_env_file(r, "wave.hs"))),
    "delete a daily risk": lambda r: os.remove(_version(r.data / "risk" / GRID / "2026" / "09" / f"risk_{DAY}.nc")),
    "corrupt the monthly risk": lambda r: _corrupt(_version(r.data / "risk" / GRID / "2026" / "09" / "risk_202609.nc")),
    "delete a route": lambda r: os.remove(_version(r.outputs / "routes" / GRID / f"sabetta_rotterdam_{DAY}.geojson")),
    "corrupt the report": lambda r: _corrupt(_version(r.reports / GRID / "202609" / "report_202609.html")),
    "corrupt the static grid": lambda r: _corrupt(_version(r.data / "static" / f"grid_{GRID}.nc")),
    "delete a sidecar": lambda r: os.remove(
        _version(_env_file(r, "incidents")).with_name(_version(_env_file(r, "incidents")).name + ".meta.json")),
    "delete a canonical link": lambda r: os.remove(_env_file(r, "ais.density")),
}


@pytest.mark.slow
@pytest.mark.parametrize("fault", list(FAULTS))
def test_repair_then_the_chain_brings_verify_back_to_passing(chain, fault):
    FAULTS[fault](chain)
    repaired = run_command("catalog.verify", "--repair", env=chain.env)
    assert repaired.exit_code == 0, repaired.output
    assert "REPAIRED" in repaired.stdout or fault == "delete a canonical link"
    _chain(chain)
    _assert_verifies(chain)


def test_producers_regenerate_a_missing_or_corrupt_current_version_without_a_flag(chain):
    os.remove(_version(_env_file(chain, "ice.sic")))
    _corrupt(_version(chain.data / "risk" / GRID / "2026" / "09" / "risk_20260929.nc"))
    pulled = run_command("ingest.nrt.pull", "--ym", "202609", "--since", "2026-09-29", env=chain.env)
    assert pulled.exit_code == 0 and "pulled 1 new" in pulled.stdout, pulled.output
    fused = run_command("risk.fuse", "--ym", "202609", env=chain.env)
    # the corrupt day 29, and day 30: its restored ice file is a new version (its date_created
    # differs), so the risk made from it is made again and records that version as its input
    assert fused.exit_code == 0 and "2 days written" in fused.stdout, fused.output
    assert _version(_env_file(chain, "ice.sic")).is_file()


def test_repair_sets_orphans_aside_removes_temporary_files_and_lists_what_to_restore(chain):
    folder = _env_file(chain, "ice.sic").parent
    (folder / f"ice_sic_{DAY}_adv_v7.nc").write_bytes(b"orphan of a killed run")
    (folder / ".tmp-20260101T000000Z-abcdef-1234abcd-ice_sic_x.nc").write_bytes(b"partial")
    os.remove(_version(_env_file(chain, "ice.sic", "20260929")))
    before = run_command("catalog.verify", "--json", env=chain.env)
    assert before.exit_code == 1
    report = json.loads(before.stdout)
    assert any("version without a sidecar" in w for w in report["leftovers"])
    assert any("temporary file" in w for w in report["leftovers"])
    assert any("file missing" in p for p in report["problems"])

    repaired = run_command("catalog.verify", "--repair", "--json", env=chain.env)
    assert repaired.exit_code == 0, repaired.output
    outcome = json.loads(repaired.stdout)
    assert outcome["ok"] and outcome["leftovers"] == []
    assert {"logical_id": f"ar://env/ice.sic@20260929?grid={GRID}",
            "command": "ingest.nrt.pull --ym 202609 --what ice --grid-km 25 (just pull)"} in outcome["repair"]["to_restore"]
    assert not list(folder.glob(".tmp-*")) and not (folder / f"ice_sic_{DAY}_adv_v7.nc").exists()
    # garbage that cannot vouch for itself is set aside for inspection, never deleted
    (kept,) = (chain.data / ".quarantine").rglob(f"ice_sic_{DAY}_adv_v7.nc")
    assert kept.read_bytes() == b"orphan of a killed run"


def test_a_corrupt_newest_version_is_quarantined_and_the_previous_one_becomes_current(chain):
    canonical = chain.data / "risk" / GRID / "2026" / "09" / f"risk_{DAY}.nc"
    assert run_command("risk.fuse", "--ym", "202609", "--method", "max", env=chain.env).exit_code == 0
    assert _version(canonical).name.endswith("_adv_v2.nc")
    _corrupt(_version(canonical))
    assert run_command("catalog.verify", "--repair", env=chain.env).exit_code == 0
    assert _version(canonical).name.endswith("_adv_v1.nc")
    quarantined = list((chain.data / ".quarantine").rglob(f"risk_{DAY}_adv_v2.nc"))
    assert len(quarantined) == 1  # kept for inspection, not deleted
    _assert_verifies(chain)


# -- grids side by side, and the 0.1.0 layout --------------------------------------------------

@pytest.mark.slow
def test_two_grids_for_the_same_day_live_side_by_side(chain):
    fine = {**chain.env, "ARCTICROUTE_GRID_KM": "12.5"}
    for name, *args in (("ingest.nrt.pull", "--ym", "202609", "--since", "2026-09-30"), ("risk.fuse", "--ym", "202609"),
                        ("route.plan", "--scenario", "murmansk_bering")):
        result = run_command(name, *args, env=fine)
        assert result.exit_code == 0, result.output
    coarse = json.loads(_env_file(chain, "ice.sic").with_suffix(".nc.meta.json").read_text())
    assert coarse["grid"]["name"] == GRID and coarse["version"] == 1
    assert json.loads(_env_file(chain, "ice.sic", grid="3413-12.5km").with_suffix(".nc.meta.json").read_text())[
        "grid"]["name"] == "3413-12.5km"
    again = run_command("route.plan", "--scenario", "murmansk_bering", env=chain.env)
    assert again.exit_code == 0 and "[unchanged]" in again.stdout, again.output
    _assert_verifies(chain)


def _to_legacy_layout(roots) -> None:
    """Rewrite a tree into the 0.1.0 layout (no grid level), as that release wrote it."""
    for sidecar in [p for root in (roots.data, roots.outputs, roots.reports)
                    for p in root.rglob("*_adv_v*.meta.json")]:
        meta = json.loads(sidecar.read_text())
        parts = meta["canonical"].split("/")
        if meta["kind"] == "static-grid":
            continue
        legacy = "/".join(p for p in parts if p != GRID)
        root = {"data": roots.data, "outputs": roots.outputs, "reports": roots.reports}[meta["root"]]
        current = root / meta["canonical"]
        for link in (current, current.with_name(current.name + ".meta.json")):
            link.unlink(missing_ok=True)
        source = root / meta["path"]
        target = root / legacy
        target = target.with_name(source.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        os.replace(sidecar, target.with_name(target.name + ".meta.json"))
        meta.update(path=target.relative_to(root).as_posix(), canonical=legacy)
        if meta["kind"] == "report":
            meta["logical_id"] = meta["logical_id"].split("?")[0]
        target.with_name(target.name + ".meta.json").write_text(json.dumps(meta))
        canonical = root / legacy
        for link, name in ((canonical, target.name), (canonical.with_name(canonical.name + ".meta.json"),
                                                      target.name + ".meta.json")):
            link.unlink(missing_ok=True)
            link.symlink_to(name)
    for root in (roots.data / "env", roots.data / "risk", roots.outputs / "routes", roots.reports):
        for folder in sorted((p for p in root.rglob("*") if p.is_dir()), reverse=True):
            if GRID in folder.parts and not any(folder.iterdir()):
                folder.rmdir()


def test_a_tree_of_the_old_layout_is_refused_then_migrated_by_repair_losing_nothing(chain):
    shas = sorted(json.loads(p.read_text())["sha256"] for root in (chain.data, chain.outputs, chain.reports)
                  for p in root.rglob("*_adv_v*.meta.json"))
    _to_legacy_layout(chain)
    assert (chain.data / "env" / "ice.sic" / "2026" / "09").is_dir()
    refused = run_command("risk.fuse", "--ym", "202609", env=chain.env)
    assert refused.exit_code == 1 and "layout of release 0.1.0" in refused.stderr and "just repair" in refused.stderr

    repaired = run_command("catalog.verify", "--repair", env=chain.env)
    assert repaired.exit_code == 0, repaired.output
    assert not (chain.data / "env" / "ice.sic" / "2026").exists()
    after = sorted(json.loads(p.read_text())["sha256"] for root in (chain.data, chain.outputs, chain.reports)
                   for p in root.rglob("*_adv_v*.meta.json"))
    assert after == shas
    _chain(chain)
    assert sorted(json.loads(p.read_text())["sha256"] for root in (chain.data, chain.outputs, chain.reports)
                  for p in root.rglob("*_adv_v*.meta.json")) == shas  # nothing needed redoing
    _assert_verifies(chain)


# -- runs that die -----------------------------------------------------------------------------

def test_a_run_that_died_is_marked_interrupted_and_its_temporary_files_removed(chain):
    pull = subprocess.Popen(["sleep", "0"])  # stands for the killed process: its marker stays behind
    pull.wait()
    dead_run = "20260101T000000Z-dead00"
    record = chain.outputs / "runs" / f"{dead_run}.json"
    record.write_text(json.dumps({"run_id": dead_run, "command": "ingest.nrt.pull", "status": "running"}))
    (chain.outputs / "locks" / "pull.current").write_text(json.dumps({"run_id": dead_run, "record": str(record)}))
    leftover = _env_file(chain, "ice.sic").parent / f".tmp-{dead_run}-0badc0de-ice_sic_{DAY}_adv_v2.nc"
    leftover.write_bytes(b"half")
    other = _env_file(chain, "ice.sic").parent / ".tmp-20260101T000001Z-a1a1a1-0badc0de-x.nc"
    other.write_bytes(b"another run's")

    result = run_command("ingest.nrt.pull", "--ym", "202609", "--since", "2026-09-30", "--what", "ice", env=chain.env)
    assert result.exit_code == 0, result.output
    assert json.loads(record.read_text())["status"] == "interrupted"
    assert not leftover.exists() and other.exists()
    assert f"run {dead_run} was interrupted" in _records(chain)[-1]["warnings"][0]
    assert not (chain.outputs / "locks" / "pull.current").exists()


def test_a_run_record_exists_while_the_run_is_going(chain):
    from arcticroute.config import load_settings
    from arcticroute.ops.runs import Run

    with Run(load_settings(), "risk.fuse", family="fuse", argv=["risk.fuse"]) as run:
        assert json.loads(run.record_path.read_text())["status"] == "running"
    assert json.loads(run.record_path.read_text())["status"] == "ok"


# -- degenerate routes and every exit 1 with its record -------------------------------------------

@pytest.mark.parametrize("ends", [("75,40", "75,40"), ("75,40", "75.01,40.01"), ("80.0,-40.0", "80.02,-40.0")])
def test_start_and_end_in_one_cell_exit_2_and_catalogue_nothing(chain, ends):
    routes_before = sorted((chain.outputs / "routes").rglob("*"))
    result = run_command("route.plan", "--from", ends[0], "--to", ends[1], "--vessel", "arc7_lng", env=chain.env)
    assert result.exit_code == 2, result.output
    assert "same" in result.stderr and "cell" in result.stderr and "Traceback" not in result.output
    assert sorted((chain.outputs / "routes").rglob("*")) == routes_before


def test_a_route_document_is_checked_before_it_is_written():
    def doc(coordinates, **props):
        return {"type": "FeatureCollection", "arcticroute": {"scenario": "x"}, "features": [
            {"type": "Feature", "geometry": {"type": "LineString", "coordinates": coordinates},
             "properties": {"role": "route", **props}}]}

    check_route_document(doc([[10.0, 70.0], [11.0, 71.0]]))
    for bad in (doc([]), doc([[10.0, 70.0]]), doc([[10.0, 70.0], [10.0, 70.0]]), doc([[float("nan"), 70.0], [1, 2]]),
                doc([[10.0, 70.0], [11.0, 71.0]], distance_nm=float("inf")), doc([[200.0, 70.0], [11.0, 71.0]]),
                {"type": "FeatureCollection", "features": []}):
        with pytest.raises(ArcticRouteError, match="nothing was written"):
            check_route_document(bad)


def test_a_day_without_risk_exits_1_with_record_and_alert(chain):
    result = run_command("route.plan", "--scenario", "all", "--date", "1999-01-01", env=chain.env)
    assert result.exit_code == 1 and "no daily risk layer for 1999-01-01" in result.stderr
    assert _records(chain)[-1]["status"] == "failed"
    assert list((chain.outputs / "alerts").glob("*_error_route.plan.json"))


def test_catalog_show_refuses_an_unknown_kind_and_prints_one_json_document(chain):
    result = run_command("catalog.show", "--kind", "nosuch", env=chain.env)
    assert result.exit_code == 2 and "route" in result.stderr
    shown = run_command("catalog.show", "--verify", "--json", env=chain.env)
    assert shown.exit_code == 0, shown.output
    assert all(row["problems"] == [] for row in json.loads(shown.stdout))
    _corrupt(_version(_env_file(chain, "ice.sic")))
    failed = run_command("catalog.show", "--verify", "--json", env=chain.env)
    assert failed.exit_code == 1
    rows = {row["logical_id"]: row for row in json.loads(failed.stdout)}
    assert rows[f"ar://env/ice.sic@{DAY}?grid={GRID}"]["problems"]


# -- a full disk -----------------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    with tmpfs(tmp_path / "small", "8m") as mount_point:
        yield mount_point


# netCDF/HDF5 name a full disk by how much room is left: "HDF error" mid-write, EACCES when not
# even the file's header fits (under 4 KiB); both must read as a full disk
@pytest.mark.parametrize("room", [16 * 1024, 1024])
def test_a_full_disk_during_fuse_says_enospc_and_keeps_the_data_verifiable(chain, small_disk, room):
    data = small_disk / "data_processed"
    shutil.copytree(chain.data, data, symlinks=True)
    env = {**chain.env, "ARCTICROUTE_DATA": str(data)}
    free = shutil.disk_usage(small_disk).free
    (small_disk / "filler").write_bytes(b"\0" * (free - room))
    result = run_command("risk.fuse", "--ym", "202609", "--force", env=env)
    assert result.exit_code == 1, result.output
    assert "ENOSPC" in result.stderr and "just gc" in result.stderr and "PermissionError" not in result.output
    assert not list(data.rglob(".tmp-*"))
    assert _records(chain)[-1]["error"]["type"] == "DiskFullError"
    os.remove(small_disk / "filler")
    assert run_command("catalog.verify", env=env).exit_code == 0


def test_a_migration_cut_short_resumes_without_losing_a_version(chain):
    shas = sorted(json.loads(p.read_text())["sha256"] for p in chain.data.rglob("*_adv_v*.meta.json"))
    _to_legacy_layout(chain)
    # the process died right after moving one file to its new folder, before its sidecar followed
    legacy = chain.data / "env" / "ice.sic" / "2026" / "09" / f"ice_sic_{DAY}_adv_v1.nc"
    moved = _env_file(chain, "ice.sic").with_name(legacy.name)
    moved.parent.mkdir(parents=True, exist_ok=True)
    os.replace(legacy, moved)
    assert run_command("catalog.verify", "--repair", env=chain.env).exit_code == 0
    assert sorted(json.loads(p.read_text())["sha256"] for p in chain.data.rglob("*_adv_v*.meta.json")) == shas
    _assert_verifies(chain)


def test_a_sidecar_path_that_leaves_its_root_is_refused(chain, tmp_path):
    secret = tmp_path / "outside.nc"
    secret.write_bytes(b"not ours")
    sidecar = _version(_env_file(chain, "ice.sic")).with_suffix(".nc.meta.json")
    meta = json.loads(sidecar.read_text())
    meta.update(path=os.path.relpath(secret, chain.data), size_bytes=8,
                sha256=hashlib.sha256(b"not ours").hexdigest())
    sidecar.write_text(json.dumps(meta))
    result = run_command("route.plan", "--scenario", "murmansk_bering", "--force", env=chain.env)
    assert result.exit_code == 1 and "leaves the root" in result.stderr


def test_a_run_killed_between_a_sidecar_and_its_link_leaves_a_verifying_catalog(chain):
    canonical = _env_file(chain, "ice.sic")
    v1 = _version(canonical)
    v2 = v1.with_name(v1.name.replace("_adv_v1", "_adv_v2"))
    shutil.copyfile(v1, v2)  # the new version and its sidecar were written; the link was not swapped
    meta = json.loads(v1.with_name(v1.name + ".meta.json").read_text())
    meta.update(version=2, path=meta["path"].replace("_adv_v1", "_adv_v2"))
    v2.with_name(v2.name + ".meta.json").write_text(json.dumps(meta))
    verify = run_command("catalog.verify", env=chain.env)
    assert verify.exit_code == 0, verify.output
    assert "WARN a newer version than the one" in verify.stdout
    assert run_command("catalog.verify", "--repair", env=chain.env).exit_code == 0
    assert _version(canonical) == v2
    _assert_verifies(chain)
