"""An artifact is what it says, and what is read is what was verified.

Swaps give every reader the right bytes of the wrong artifact: another day's file and sidecar,
canonical links pointed at another day's version, a sidecar of another grid, another file with
the sha256 and size edited into the sidecar. Route, fuse, report, health and the UI must refuse
each with the repair command, and catalog.verify must name it. Bit rot below the file system (a
byte flipped on the block device of a loop-mounted ext4, inode, size and times unchanged) must
be refused by route.plan --force, risk.fuse --force and health.check although the sha256 cache
knows the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from arcticroute.api import Endpoints
from arcticroute.grid import Grid
from arcticroute.layers import LAYERS, layer_logical_id, layer_relpath
from arcticroute.report.inputs import report_logical_id, report_relpath
from arcticroute.risk.fuse import (
    daily_logical_id,
    daily_relpath,
    model_logical_id,
    model_relpath,
    monthly_logical_id,
    monthly_relpath,
)
from arcticroute.route.planner import route_relpath
from arcticroute.static import STATIC_KIND, static_logical_id, static_relpath
from arcticroute.store import integrity
from arcticroute.store.identity import identity_of

from .conftest import REPO, Roots, build_month, make_roots, run_command, select_roots
from .test_deploy_tools import need, problem

GRID = "3413-25km"
DAY, OTHER = "20260930", "20260929"
ICE = f"ar://env/ice.sic@{DAY}?grid={GRID}"
SCENARIO = "murmansk_bering"


# -- the identity of a place, read off its path ---------------------------------------------------

@pytest.mark.parametrize("km", [25.0, 12.5, 6.25])
def test_every_producers_path_reads_back_as_its_logical_id_kind_grid_and_days(km):
    grid = Grid.from_km(km)
    day = date(2026, 2, 28)
    for layer in LAYERS:
        found = identity_of("data", layer_relpath(layer, day, grid.name))
        assert (found.logical_id, found.kind, found.grid, found.first, found.last) == (
            layer_logical_id(layer, day, grid), "env-layer", grid.name, day, day)
    daily = identity_of("data", daily_relpath(day, grid.name))
    assert (daily.logical_id, daily.kind, daily.first) == (daily_logical_id(day, grid.name), "risk-daily", day)
    monthly = identity_of("data", monthly_relpath(2026, 2, grid.name))
    assert (monthly.logical_id, monthly.kind, monthly.within) == (
        monthly_logical_id(2026, 2, grid.name), "risk-monthly", (date(2026, 2, 1), day))
    assert identity_of("data", model_relpath(2026, 2, grid.name)).logical_id == model_logical_id(2026, 2, grid.name)
    static = identity_of("data", static_relpath(grid))
    assert (static.logical_id, static.kind) == (static_logical_id(grid), STATIC_KIND)
    route = identity_of("outputs", route_relpath("a_b_c", day, grid.name))
    assert (route.logical_id, route.name, route.first) == (f"ar://route/a_b_c@20260228?grid={grid.name}", "a_b_c", day)
    report = identity_of("reports", report_relpath(2026, 2, grid.name))
    assert (report.logical_id, report.first, report.last) == (report_logical_id(2026, 2, grid.name),
                                                              date(2026, 2, 1), day)


@pytest.mark.parametrize("root, relpath", [
    ("data", "env/ice.sic/3413-25km/2026/09/wave_hs_20260930.nc"),  # another layer's name in this folder
    ("data", "env/ice.sic/3413-25km/2026/08/ice_sic_20260930.nc"),  # a day filed under another month
    ("data", "env/ice.sic/3413-25km/2026/09/ice_sic_20260931.nc"),  # no such day
    ("data", "risk/3413-25km/2026/09/risk_202608.nc"),
    ("reports", "3413-25km/202609/report_202608.html"),
    ("outputs", "env/ice.sic/3413-25km/2026/09/ice_sic_20260930.nc"),  # a data path under another root
    ("data", "env/ice.sic/2026/09/ice_sic_20260930.nc"),  # the 0.1.0 layout
])
def test_a_path_of_no_known_place_has_no_identity(root, relpath):
    assert identity_of(root, relpath) is None


# -- the swaps, on a demo chain ------------------------------------------------------------------

@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Roots:
    """Two days of the demo chain with a report, built once; each test works on a copy."""
    made = make_roots(tmp_path_factory.mktemp("identity"))
    build_month(made, "202609", "2026-09-29")
    assert run_command("report.build", "--ym", "202609", env=made.env).exit_code == 0
    return made


@pytest.fixture
def chain(pristine, tmp_path, monkeypatch) -> Roots:
    made = make_roots(tmp_path)
    for source, target in ((pristine.data, made.data), (pristine.outputs, made.outputs),
                           (pristine.reports, made.reports)):
        shutil.copytree(source, target, symlinks=True)
    (made.outputs / integrity.CACHE_RELPATH).unlink(missing_ok=True)
    select_roots(monkeypatch, made)
    return made


def _canonical(roots: Roots, layer: str = "ice.sic", day: str = DAY) -> Path:
    return roots.data / "env" / layer / GRID / day[:4] / day[4:6] / f"{layer.replace('.', '_')}_{day}.nc"


def _version(canonical: Path) -> Path:
    return canonical.parent / os.readlink(canonical)


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".meta.json")


def _copy_over_with_sidecar(roots: Roots) -> None:
    """Day 29's file and sidecar copied over day 30's (cp, as an operator restoring a backup might)."""
    source, target = _version(_canonical(roots, day=OTHER)), _version(_canonical(roots))
    shutil.copyfile(source, target)
    shutil.copyfile(_sidecar(source), _sidecar(target))


def _links_to_another_day(roots: Roots) -> None:
    """Day 30's canonical link and its sidecar link pointed at day 29's version."""
    canonical, other = _canonical(roots), _version(_canonical(roots, day=OTHER))
    for link, target in ((canonical, other.name), (_sidecar(canonical), _sidecar(other).name)):
        link.unlink()
        link.symlink_to(target)


def _sidecar_of_another_grid(roots: Roots) -> None:
    """The sidecar a 12.5 km run writes for day 30, its sha256, size and path fitted to the file."""
    sidecar = _sidecar(_version(_canonical(roots)))
    meta = json.loads(sidecar.read_text())
    meta["logical_id"] = meta["logical_id"].replace(GRID, "3413-12.5km")
    meta["grid"] = {**meta["grid"], "name": "3413-12.5km", "resolution_m": 12500.0}
    sidecar.write_text(json.dumps(meta))


def _edited_sha(roots: Roots, layer: str = "ice.sic", day: str = OTHER) -> None:
    """Another file (another day's, another layer's) put in day 30's place, the sidecar's sha256
    and size edited to match it: the sidecar is day 30's in every other word."""
    target = _version(_canonical(roots))
    data = _version(_canonical(roots, layer, day)).read_bytes()
    target.write_bytes(data)
    sidecar = _sidecar(target)
    meta = json.loads(sidecar.read_text())
    meta.update(sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data))
    sidecar.write_text(json.dumps(meta))


SWAPS = {
    "file and sidecar of another day": _copy_over_with_sidecar,
    "links to another day's version": _links_to_another_day,
    "sidecar of another grid": _sidecar_of_another_grid,
    "another day's file, sha256 edited": _edited_sha,
    "another layer's file, sha256 edited": lambda roots: _edited_sha(roots, "wave.hs", DAY),
}


def _refused(result, *needles: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "just repair" in result.stderr, result.stderr
    for needle in needles:
        assert needle in result.stderr, (needle, result.stderr)


@pytest.mark.slow
@pytest.mark.parametrize("swap", list(SWAPS))
def test_a_swap_is_refused_by_every_reader_and_named_by_verify(chain, swap, monkeypatch):
    SWAPS[swap](chain)
    routes_before = {p: p.read_bytes() for p in (chain.outputs / "routes").rglob("*_adv_v*")}

    _refused(run_command("route.plan", "--scenario", SCENARIO, "--date", "2026-09-30", "--force"), ICE)
    assert {p: p.read_bytes() for p in (chain.outputs / "routes").rglob("*_adv_v*")} == routes_before
    _refused(run_command("risk.fuse", "--ym", "202609", "--force"), ICE)
    _refused(run_command("report.build", "--ym", "202609", "--force"), ICE)

    out = chain.reports / "health" / "probe.json"
    health = run_command("health.check", "--out", str(out))
    body = json.loads(out.read_text())
    assert health.exit_code == 1 and body["status"] == "fail", body["warnings"]
    served = body["checks"]["data:ice.sic:verified"][0]
    assert served["status"] == "fail" and ICE in served["output"]
    assert "just repair" in next(w for w in body["warnings"] if w["check"] == "data:ice.sic:verified")["hint"]
    reply = Endpoints().health({})  # what /api/health answers
    assert reply.status == 503 and reply.body["checks"]["data:ice.sic:verified"][0]["status"] == "fail"

    layers = _ui_page("ui_pages/layers.py", chain, monkeypatch)  # ice.sic, the slider at its newest day
    assert any(ICE in e.value for e in layers.error), [e.value for e in layers.error]
    assert any("just repair" in i.value for i in layers.info)
    assert not layers.get("plotly_chart")

    verified = run_command("catalog.verify")
    assert verified.exit_code == 1, verified.output
    assert re.search(rf"FAIL {re.escape(ICE)}: ", verified.stdout), verified.stdout


def _ui_page(page: str, roots: Roots, monkeypatch) -> AppTest:
    for key, value in roots.env.items():
        monkeypatch.setenv(key, value)
    app = AppTest.from_file(str(REPO / "apps" / "app_min.py"), default_timeout=120)
    app.run()
    app.switch_page(page)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_verify_names_the_logical_id_another_days_copy_took_the_place_of(chain):
    before = json.loads(run_command("catalog.verify", "--json").stdout)
    _copy_over_with_sidecar(chain)
    result = run_command("catalog.verify", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["logical_ids"] == before["logical_ids"] - 1  # one fewer, and said so:
    assert any(p.startswith(f"{ICE}: missing from the catalog") for p in report["problems"]), report["problems"]
    copied = f"ar://env/ice.sic@{OTHER}?grid={GRID}"
    assert any(p.startswith(copied) and "the sidecar beside" in p for p in report["problems"]), report["problems"]


def test_verify_names_a_link_to_another_logical_ids_version(chain):
    _links_to_another_day(chain)
    result = run_command("catalog.verify")
    assert result.exit_code == 1
    assert f"FAIL {ICE}: canonical link" in result.stdout and f"another logical id (ar://env/ice.sic@{OTHER}" \
        in result.stdout, result.stdout


def test_verify_names_a_file_whose_own_id_and_time_axis_contradict_its_sidecar(chain):
    _edited_sha(chain)
    result = run_command("catalog.verify")
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if line.startswith(f"FAIL {ICE}: version 1: content")]
    assert any(f"the file's own id is ar://env/ice.sic@{OTHER}" in line for line in lines), result.stdout
    assert any("time axis covers 2026-09-29, its sidecar 2026-09-30" in line for line in lines), result.stdout


@pytest.mark.slow
def test_repair_puts_a_copied_over_day_aside_and_names_that_day_to_restore(chain):
    _copy_over_with_sidecar(chain)
    repaired = run_command("catalog.verify", "--repair", "--json")
    assert repaired.exit_code == 0, repaired.output
    to_restore = json.loads(repaired.stdout)["repair"]["to_restore"]
    assert {"logical_id": ICE, "command": "ingest.nrt.pull --ym 202609 --what ice --grid-km 25 (just pull)"} \
        in to_restore
    assert run_command("ingest.nrt.pull", "--ym", "202609", "--since", "2026-09-29").exit_code == 0
    assert run_command("risk.fuse", "--ym", "202609").exit_code == 0
    final = run_command("catalog.verify")
    assert final.exit_code == 0 and "WARN" not in final.stdout, final.output


def test_a_route_document_of_another_scenario_is_refused_by_the_route_page(chain, monkeypatch):
    folder = chain.outputs / "routes" / GRID
    target = _version(folder / f"{SCENARIO}_{DAY}.geojson")
    other = next(p for p in folder.glob(f"*_{DAY}.geojson") if not p.name.startswith(SCENARIO))
    data = _version(other).read_bytes()
    target.write_bytes(data)
    meta = json.loads(_sidecar(target).read_text())
    meta.update(sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data))
    _sidecar(target).write_text(json.dumps(meta))
    page = _ui_page("ui_pages/route.py", chain, monkeypatch)  # the first scenario: murmansk_bering
    errors = " ".join(e.value for e in page.error)
    assert f"ar://route/{SCENARIO}@{DAY}" in errors and "the document is the route of" in errors, errors
    assert any("just repair" in i.value for i in page.info) and not page.get("plotly_chart")


def test_the_route_page_shows_a_corrupt_route_file_with_its_repair_command(chain, monkeypatch):
    target = _version(chain.outputs / "routes" / GRID / f"{SCENARIO}_{DAY}.geojson")
    with open(target, "r+b") as handle:
        handle.seek(20)
        handle.write(b"\x00")
    page = _ui_page("ui_pages/route.py", chain, monkeypatch)
    errors = " ".join(e.value for e in page.error)
    assert f"ar://route/{SCENARIO}@{DAY}" in errors and "sha256" in errors, errors
    assert any(f"route.plan --scenario {SCENARIO} --date 2026-09-30" in i.value for i in page.info)


def test_the_sha256_cited_is_that_of_the_bytes_read_even_when_the_cache_says_otherwise(chain):
    """The cache is told a wrong sha256 for the file's identity (what bit rot looks like to it):
    the reader hashes the bytes anyway and refuses them."""
    from arcticroute.store.integrity import file_identity

    version = _version(_canonical(chain))
    key = str(version.resolve())
    meta = json.loads(_sidecar(version).read_text())
    with open(version, "r+b") as handle:
        handle.seek(version.stat().st_size // 2)
        byte = handle.read(1)
        handle.seek(-1, 1)
        handle.write(bytes([byte[0] ^ 0xFF]))
    integrity.clear_memory()
    integrity._memory[key] = (file_identity(version.stat()), meta["sha256"])  # the cache vouches for it
    integrity._dirty = True
    integrity.save_cache(chain.outputs)
    roots = {"data": chain.data, "outputs": chain.outputs, "reports": chain.reports}
    assert integrity.is_intact(roots, meta)  # the cache's word, for decisions that use no bytes
    _refused(run_command("route.plan", "--scenario", SCENARIO, "--date", "2026-09-30", "--force"), ICE, "sha256")


# -- bit rot below the file system ---------------------------------------------------------------

def _physical_offset(path: Path, offset: int) -> int:
    """Byte offset on the block device of byte ``offset`` of ``path`` (``filefrag -v``)."""
    report = subprocess.run(["filefrag", "-v", "-b1", str(path)], capture_output=True, text=True, check=True).stdout
    for line in report.splitlines():
        match = re.match(r"\s*\d+:\s*(\d+)\.\.\s*(\d+):\s*(\d+)\.\.\s*(\d+):", line)
        if match:
            logical, logical_end, physical = int(match[1]), int(match[2]), int(match[3])
            if logical <= offset <= logical_end:
                return physical + offset - logical
    raise AssertionError(f"byte {offset} of {path} is in no extent:\n{report}")


@pytest.fixture
def loop_root(tmp_path):
    """A 96 MiB ext4 image mounted through a loop device; yields (mount point, remount)."""
    need("loopfs", problem("loopfs"))
    image, mount_point = tmp_path / "disk.img", tmp_path / "mnt"
    mount_point.mkdir()
    with open(image, "wb") as handle:
        handle.truncate(96 << 20)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-O", "^has_journal", str(image)], check=True)
    mounted = subprocess.run(["mount", "-o", "loop", str(image), str(mount_point)], capture_output=True, text=True)
    if mounted.returncode != 0:
        need("loopfs", f"mount -o loop failed: {mounted.stderr.strip()}")
    device = subprocess.run(["findmnt", "-n", "-o", "SOURCE", str(mount_point)], capture_output=True, text=True,
                            check=True).stdout.strip()

    def remount() -> None:
        subprocess.run(["umount", str(mount_point)], check=True)  # drops the file system's cached pages
        subprocess.run(["mount", "-o", "loop", str(image), str(mount_point)], check=True)

    try:
        yield mount_point, device, remount
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.mark.slow
def test_bit_rot_on_the_block_device_is_refused_by_route_fuse_and_health(loop_root, monkeypatch):
    mount_point, device, remount = loop_root
    roots = make_roots(mount_point)
    select_roots(monkeypatch, roots)
    build_month(roots, "202609", "2026-09-29")
    assert run_command("catalog.show", "--verify").exit_code == 0  # every file hashed: the cache knows them all
    version = _version(_canonical(roots))
    meta = json.loads(_sidecar(version).read_text())
    cache = json.loads((roots.outputs / integrity.CACHE_RELPATH).read_text())["entries"]
    assert cache[str(version.resolve())][1] == meta["sha256"]

    before = os.stat(version)
    offset = before.st_size // 2
    at = _physical_offset(version, offset)
    remount()  # nothing of the file is cached in memory; the write below goes to the device alone
    with open(device, "r+b", buffering=0) as disk:
        disk.seek(at)
        original = disk.read(1)
        disk.seek(at)
        disk.write(bytes([original[0] ^ 0x01]))
        os.fsync(disk.fileno())
    remount()
    after = os.stat(version)
    identity = ("st_ino", "st_size", "st_mtime_ns", "st_ctime_ns")
    assert [getattr(after, k) for k in identity] == [getattr(before, k) for k in identity]
    rotten = version.read_bytes()
    assert rotten[offset] == original[0] ^ 0x01 and hashlib.sha256(rotten).hexdigest() != meta["sha256"]

    risk = roots.data / "risk" / GRID / "2026" / "09" / f"risk_{DAY}.nc"
    risk_version = _version(risk)
    _refused(run_command("route.plan", "--scenario", "all", "--date", "2026-09-30", "--force"), ICE, "sha256")
    _refused(run_command("risk.fuse", "--ym", "202609", "--force"), ICE, "sha256")
    assert _version(risk) == risk_version  # no risk of day 30 made from, or citing, the rotten bytes

    out = roots.reports / "health" / "probe.json"
    health = run_command("health.check", "--out", str(out))
    body = json.loads(out.read_text())
    assert health.exit_code == 1 and body["checks"]["data:ice.sic:verified"][0]["status"] == "fail"
    assert "sha256" in body["checks"]["data:ice.sic:verified"][0]["output"]
