"""catalog.verify --repair loses nothing silently: a version without a (readable) sidecar gets it
back when its file proves to be what its path says, else is quarantined with a RESTORE line;
version numbers are never reused; nothing is written outside the roots."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from .conftest import Roots, build_month, make_roots, run_command, select_roots

GRID = "3413-25km"
DAY = "20260930"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Roots:
    """One demo day pulled, fused, routed and reported, built once; each test works on a copy."""
    made = make_roots(tmp_path_factory.mktemp("repair-chain"))
    build_month(made, "202609", "2026-09-30")
    result = run_command("report.build", "--ym", "202609", env=made.env)
    assert result.exit_code == 0, result.output
    return made


@pytest.fixture
def tree(built, tmp_path, monkeypatch) -> Roots:
    made = make_roots(tmp_path)
    for source, target in ((built.data, made.data), (built.reports, made.reports), (built.outputs, made.outputs)):
        shutil.copytree(source, target, symlinks=True)
    select_roots(monkeypatch, made)
    return made


CANONICALS = {
    "ice layer": ("data", f"env/ice.sic/{GRID}/2026/09/ice_sic_{DAY}.nc"),
    "incidents layer": ("data", f"env/incidents/{GRID}/2026/09/incidents_{DAY}.nc"),
    "daily risk": ("data", f"risk/{GRID}/2026/09/risk_{DAY}.nc"),
    "monthly risk": ("data", f"risk/{GRID}/2026/09/risk_202609.nc"),
    "static grid": ("data", f"static/grid_{GRID}.nc"),
    "report": ("reports", f"{GRID}/202609/report_202609.html"),
}


def _root(tree: Roots, name: str) -> Path:
    return {"data": tree.data, "reports": tree.reports, "outputs": tree.outputs}[name]


def _route(tree: Roots) -> Path:
    (canonical,) = sorted((tree.outputs / "routes" / GRID).glob(f"*_{DAY}.geojson"))[:1]
    return canonical


def _current(canonical: Path) -> Path:
    return canonical.parent / os.readlink(canonical)


def _verify(tree: Roots) -> dict:
    result = run_command("catalog.verify", "--json", env=tree.env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _repair(tree: Roots) -> tuple[dict, str]:
    result = run_command("catalog.verify", "--repair", "--json", env=tree.env)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return json.loads(result.stdout), result.output


def _cases(tree: Roots) -> list[Path]:
    return [_root(tree, root) / relpath for root, relpath in CANONICALS.values()] + [_route(tree)]


def test_a_deleted_sidecar_is_rebuilt_from_a_file_that_proves_what_it_is(tree):
    before = _verify(tree)
    versions = {}
    for canonical in _cases(tree):
        version = _current(canonical)
        versions[version] = json.loads(version.with_name(version.name + ".meta.json").read_text())
        version.with_name(version.name + ".meta.json").unlink()
    outcome, output = _repair(tree)
    for version, original in versions.items():
        rebuilt = json.loads(version.with_name(version.name + ".meta.json").read_text())
        for key in ("logical_id", "version", "path", "canonical", "sha256", "size_bytes", "kind", "synthetic",
                    "time_coverage", "grid"):
            assert rebuilt[key] == original[key], (version, key)
        assert "sidecar-rebuilt" in rebuilt["tags"] and rebuilt["params"]["rebuilt"]["reason"] == "its sidecar is missing"
        assert "sidecar rebuilt by catalog.verify --repair" in rebuilt["warnings"][0]
        assert f"rebuilt the sidecar of {original['logical_id']}" in output
    after = _verify(tree)
    assert (after["logical_ids"], after["versions"]) == (before["logical_ids"], before["versions"])
    assert outcome["repair"]["to_restore"] == []
    assert all(_current(c) in versions for c in _cases(tree))  # still the current versions


def test_an_unreadable_sidecar_is_set_aside_and_rebuilt(tree):
    before = _verify(tree)
    canonical = tree.data / CANONICALS["ice layer"][1]
    sidecar = _current(canonical).with_name(_current(canonical).name + ".meta.json")
    sidecar.write_text('{"logical_id": "ar://env/ice.sic@2026')  # cut short
    outcome, output = _repair(tree)
    assert "quarantined the unreadable sidecar" in output
    (kept,) = (tree.data / ".quarantine").rglob(sidecar.name)
    assert kept.read_text().startswith('{"logical_id"')
    assert json.loads(sidecar.read_text())["params"]["rebuilt"]["reason"].startswith("its sidecar was unreadable")
    after = _verify(tree)
    assert (after["logical_ids"], after["versions"]) == (before["logical_ids"], before["versions"])


def test_a_file_whose_content_contradicts_its_path_is_quarantined_with_restore(tree):
    """The wave layer's bytes under the ice layer's name, its sidecar gone: not adopted as ice."""
    canonical = tree.data / CANONICALS["ice layer"][1]
    version = _current(canonical)
    other = _current(tree.data / f"env/wave.hs/{GRID}/2026/09/wave_hs_{DAY}.nc")
    shutil.copyfile(other, version)
    version.with_name(version.name + ".meta.json").unlink()
    outcome, output = _repair(tree)
    assert f"its global attribute id is 'ar://env/wave.hs@{DAY}" in output
    assert {"logical_id": f"ar://env/ice.sic@{DAY}?grid={GRID}",
            "command": "ingest.nrt.pull --ym 202609 --what ice --grid-km 25 (just pull)"} in outcome["repair"]["to_restore"]
    assert list((tree.data / ".quarantine").rglob(version.name))
    _verify(tree)  # the catalog verifies; the day is listed to restore, not silently gone


@pytest.mark.parametrize("garbage", [b"\x89HDF\r\n\x1a\n" + b"\0" * 64, b"not a netCDF file"])
def test_a_file_that_does_not_open_is_quarantined(tree, garbage):
    canonical = tree.data / CANONICALS["daily risk"][1]
    version = _current(canonical)
    version.write_bytes(garbage)
    version.with_name(version.name + ".meta.json").unlink()
    outcome, output = _repair(tree)
    assert "it does not open as netCDF" in output
    assert f"ar://risk/daily@{DAY}?grid={GRID}" in {r["logical_id"] for r in outcome["repair"]["to_restore"]}
    assert not canonical.exists() and not canonical.is_symlink()


def test_version_numbers_are_not_reused_after_quarantine(tree):
    canonical = tree.data / CANONICALS["ice layer"][1]
    version = _current(canonical)
    assert version.name.endswith("_adv_v1.nc")
    version.write_bytes(version.read_bytes()[:-10] + b"0123456789")  # corrupt: quarantined by repair
    outcome, _output = _repair(tree)
    assert not canonical.exists()
    pulled = run_command("ingest.nrt.pull", "--ym", "202609", "--since", "2026-09-30", env=tree.env)
    assert pulled.exit_code == 0, pulled.output
    assert _current(canonical).name == f"ice_sic_{DAY}_adv_v2.nc"  # never v1 again
    _verify(tree)


def test_numbers_quarantined_before_high_water_marks_existed_are_remembered(tree):
    canonical = tree.data / CANONICALS["ice layer"][1]
    version = _current(canonical)
    sidecar = version.with_name(version.name + ".meta.json")
    stash = tree.data / ".quarantine" / "20250101T000000Z" / version.relative_to(tree.data).parent
    stash.mkdir(parents=True)
    for path in (version, sidecar):
        os.replace(path, stash / path.name)  # as an older release quarantined it
    for path in (canonical, canonical.with_name(canonical.name + ".meta.json"),
                 canonical.with_name(f".{canonical.name}.last-version")):
        path.unlink()
    _repair(tree)
    pulled = run_command("ingest.nrt.pull", "--ym", "202609", "--since", "2026-09-30", env=tree.env)
    assert pulled.exit_code == 0, pulled.output
    assert _current(canonical).name == f"ice_sic_{DAY}_adv_v2.nc"


def test_a_quarantine_that_is_a_link_is_refused_and_nothing_is_written_outside(tree, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (tree.data / ".quarantine").symlink_to(outside)
    version = _current(tree.data / CANONICALS["daily risk"][1])
    version.write_bytes(b"corrupt")  # repair would move it to the quarantine
    files = sorted(p for p in tree.data.rglob("*"))
    result = run_command("catalog.verify", "--repair", env=tree.env)
    assert result.exit_code == 1
    assert f"{tree.data / '.quarantine'} is a symbolic link to {outside}" in result.stderr
    assert "nothing was changed" in result.stderr and "Traceback" not in result.output
    assert list(outside.iterdir()) == [] and sorted(p for p in tree.data.rglob("*")) == files
    assert version.read_bytes() == b"corrupt"


def test_a_link_below_the_quarantine_is_refused(tree, tmp_path):
    from arcticroute.errors import ArcticRouteError
    from arcticroute.store.repair import _real_folder

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (tree.data / ".quarantine" / "stamp").mkdir(parents=True)
    (tree.data / ".quarantine" / "stamp" / "env").symlink_to(outside)
    with pytest.raises(ArcticRouteError, match="is a symbolic link or not a folder"):
        _real_folder(tree.data, (".quarantine", "stamp", "env", "ice.sic"))
    assert list(outside.iterdir()) == []


def test_what_cannot_vouch_for_itself_is_quarantined_with_the_command_or_the_place(tree):
    models = tree.data / "risk" / GRID / "models"
    models.mkdir(parents=True)
    (models / "stacking_202609_adv_v1.json").write_text('{"coefficients": [1, 2]}')  # a model lost its sidecar
    stray = tree.data / "env" / "misc" / "notes_adv_v1.nc"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"not ours")
    outcome, output = _repair(tree)
    restore = {r["logical_id"]: r["command"] for r in outcome["repair"]["to_restore"]}
    assert restore[f"ar://risk/model@202609?grid={GRID}"] == \
        "risk.fuse --ym 202609 --method stacking --grid-km 25 (just fuse)"
    assert restore[str(stray)].startswith("nothing known makes it; inspect it in")
    assert {p.name for p in (tree.data / ".quarantine").rglob("*_adv_v1.*")} == {
        "stacking_202609_adv_v1.json", "notes_adv_v1.nc"}
    assert "cannot vouch for itself" in output and "its path is not that of any artifact" in output
    _verify(tree)


def test_a_superseded_version_a_killed_gc_left_without_its_sidecar_is_no_loss(tree):
    """GC removes a superseded version's sidecar, then its file: killed between the two, the file
    stays alone. Where its path names no known artifact, its newer sibling's sidecar says what it
    was; that sibling stands for it, so it is quarantined without a RESTORE line."""
    folder = (tree.data / CANONICALS["daily risk"][1]).parent
    template = json.loads(_current(folder / f"risk_{DAY}.nc").with_name(
        _current(folder / f"risk_{DAY}.nc").name + ".meta.json").read_text())
    lid = f"ar://risk/daily@extra?grid={GRID}"
    for version in (1, 2):
        name = f"risk_extra_adv_v{version}.nc"
        body = f"extra {version}".encode()
        (folder / name).write_bytes(body)
        side = {**template, "logical_id": lid, "version": version, "path": f"risk/{GRID}/2026/09/{name}",
                "canonical": f"risk/{GRID}/2026/09/risk_extra.nc", "sha256": hashlib.sha256(body).hexdigest(),
                "size_bytes": len(body), "link": "symlink"}
        (folder / (name + ".meta.json")).write_text(json.dumps(side))
    (folder / "risk_extra.nc").symlink_to("risk_extra_adv_v2.nc")
    (folder / "risk_extra.nc.meta.json").symlink_to("risk_extra_adv_v2.nc.meta.json")
    _verify(tree)
    (folder / "risk_extra_adv_v1.nc.meta.json").unlink()  # GC killed after the first of its two removals
    outcome, output = _repair(tree)
    assert "RESTORE" not in output and outcome["repair"]["to_restore"] == []
    assert list((tree.data / ".quarantine").rglob("risk_extra_adv_v1.nc"))
    assert _current(folder / "risk_extra.nc").name == "risk_extra_adv_v2.nc"
    _verify(tree)
    (folder / "risk_extra_adv_v2.nc").unlink()  # the last version gone: the sibling's id must be restored
    outcome, output = _repair(tree)
    assert lid in {r["logical_id"] for r in outcome["repair"]["to_restore"]}


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the data, past the header: the file still opens
    path.write_bytes(bytes(data))


def test_bytes_changed_since_the_catalog_recorded_them_are_not_adopted(tree):
    version = _current(tree.data / CANONICALS["ice layer"][1])
    _flip_a_byte(version)
    version.with_name(version.name + ".meta.json").unlink()
    outcome, output = _repair(tree)
    assert "differs from the" in output and "the catalog index recorded" in output
    assert list((tree.data / ".quarantine").rglob(version.name))
    assert f"ar://env/ice.sic@{DAY}?grid={GRID}" in {r["logical_id"] for r in outcome["repair"]["to_restore"]}


def test_an_unreadable_sidecar_still_vouches_with_the_sha256_it_shows(tree):
    version = _current(tree.data / CANONICALS["daily risk"][1])
    sidecar = version.with_name(version.name + ".meta.json")
    sidecar.write_text(sidecar.read_text()[:700])  # cut short after its sha256
    assert '"sha256"' in sidecar.read_text()
    _flip_a_byte(version)
    outcome, output = _repair(tree)
    assert "its unreadable sidecar recorded" in output
    assert not version.exists() and list((tree.data / ".quarantine").rglob(version.name))
