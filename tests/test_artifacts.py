import errno
import json
import os
from pathlib import Path

import jsonschema
import pytest

from arcticroute.errors import DiskFullError
from arcticroute.store import artifacts
from arcticroute.store.artifacts import (
    ArtifactSpec,
    artifact_meta_schema,
    current_meta,
    write_artifact,
)

from .conftest import tmpfs

RUN_ID = "20261128T120000Z-abcdef"


def _spec(**overrides) -> ArtifactSpec:
    values = dict(logical_id="ar://env/ice.sic@20260901?grid=3413-25km", root="data",
                  relpath="env/ice.sic/2026/09/ice_sic_20260901.nc", kind="env-layer", synthetic=True,
                  time_coverage={"start": "2026-09-01T00:00:00Z", "end": "2026-09-01T23:59:59Z"})
    values.update(overrides)
    return ArtifactSpec(**values)


@pytest.fixture
def tree(tmp_path):
    return {"data": tmp_path / "data", "reports": tmp_path / "reports", "outputs": tmp_path / "outputs"}


def _write(tree, payload: bytes, spec=None):
    return write_artifact(tree, spec or _spec(), lambda p: p.write_bytes(payload), run_id=RUN_ID, command="test")


def test_first_version_has_a_valid_sidecar_and_a_canonical_link(tree):
    meta = _write(tree, b"one")
    canonical = tree["data"] / "env/ice.sic/2026/09/ice_sic_20260901.nc"
    assert meta["version"] == 1 and meta["path"].endswith("ice_sic_20260901_adv_v1.nc")
    assert canonical.is_symlink() and canonical.read_bytes() == b"one"
    assert json.loads(artifacts.meta_path_for(canonical).read_text())["sha256"] == meta["sha256"]
    jsonschema.validate(meta, artifact_meta_schema())


def test_new_content_makes_a_new_version_and_moves_the_link(tree):
    _write(tree, b"one")
    meta = _write(tree, b"two")
    canonical = tree["data"] / meta["canonical"]
    assert meta["version"] == 2
    assert os.readlink(canonical) == "ice_sic_20260901_adv_v2.nc" and canonical.read_bytes() == b"two"
    assert (tree["data"] / "env/ice.sic/2026/09/ice_sic_20260901_adv_v1.nc").read_bytes() == b"one"
    assert current_meta(tree, "data", meta["canonical"])["version"] == 2


def test_identical_content_makes_no_new_version(tree):
    first = _write(tree, b"same")
    again = _write(tree, b"same")
    assert again == first
    assert sorted(p.name for p in (tree["data"] / "env/ice.sic/2026/09").iterdir()) == [
        ".ice_sic_20260901.nc.last-version", "ice_sic_20260901.nc", "ice_sic_20260901.nc.meta.json",
        "ice_sic_20260901_adv_v1.nc", "ice_sic_20260901_adv_v1.nc.meta.json"]


def test_a_failing_writer_leaves_no_partial_file_and_keeps_the_old_version(tree):
    _write(tree, b"good")

    def broken(path):
        path.write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_artifact(tree, _spec(), broken, run_id=RUN_ID, command="test")
    folder = tree["data"] / "env/ice.sic/2026/09"
    assert not [p for p in folder.iterdir() if p.name.startswith(".tmp-")]
    assert (folder / "ice_sic_20260901.nc").read_bytes() == b"good"
    assert not (folder / "ice_sic_20260901_adv_v2.nc").exists()


def test_copy_fallback_where_symbolic_links_are_not_permitted(tree, monkeypatch):
    def no_symlinks(*args, **kwargs):
        raise OSError(1314, "A required privilege is not held by the client")

    monkeypatch.setattr(os, "symlink", no_symlinks)
    _write(tree, b"one")
    meta = _write(tree, b"two")
    canonical = tree["data"] / meta["canonical"]
    assert meta["link"] == "copy"
    assert not canonical.is_symlink() and canonical.read_bytes() == b"two"
    assert json.loads(artifacts.meta_path_for(canonical).read_text())["version"] == 2
    assert current_meta(tree, "data", meta["canonical"])["version"] == 2


def test_version_names_parse_back():
    canonical = Path("risk/2026/09/risk_20260901.nc")
    assert artifacts.parse_version(artifacts.version_path(canonical, 12)) == ("risk_20260901", 12)
    assert artifacts.parse_version(canonical) is None


@pytest.fixture
def tiny_filesystem(tmp_path):
    """A real 256 KiB tmpfs."""
    with tmpfs(tmp_path / "tiny", "256k") as mount_point:
        yield mount_point


def test_a_full_disk_leaves_the_previous_version_and_no_partial_file(tiny_filesystem):
    tree = {"data": tiny_filesystem / "data"}
    _write(tree, b"small and fine")
    with pytest.raises(DiskFullError, match=r"no space left on the device \(ENOSPC\)") as info:
        _write(tree, os.urandom(1024 * 1024))
    assert isinstance(info.value.__cause__, OSError) and info.value.__cause__.errno == errno.ENOSPC
    assert "just gc" in info.value.hint
    folder = tree["data"] / "env/ice.sic/2026/09"
    assert sorted(p.name for p in folder.iterdir()) == [
        ".ice_sic_20260901.nc.last-version", "ice_sic_20260901.nc", "ice_sic_20260901.nc.meta.json",
        "ice_sic_20260901_adv_v1.nc", "ice_sic_20260901_adv_v1.nc.meta.json"]
    assert (folder / "ice_sic_20260901.nc").read_bytes() == b"small and fine"


def test_a_version_file_left_without_its_sidecar_keeps_its_number(tree):
    """It may be an intact version whose sidecar was lost: the next write never overwrites it."""
    first = _write(tree, b"one")
    folder = (tree["data"] / first["path"]).parent
    (folder / "ice_sic_20260901_adv_v2.nc").write_bytes(b"killed before its sidecar")
    second = _write(tree, b"two")
    assert second["version"] == 3 and (folder / "ice_sic_20260901_adv_v2.nc").read_bytes() == b"killed before its sidecar"


def test_version_numbers_are_never_reused_once_versions_are_gone(tree):
    _write(tree, b"one")
    second = _write(tree, b"two")
    folder = (tree["data"] / second["path"]).parent
    for path in folder.glob("ice_sic_20260901*"):
        path.unlink()  # every version, sidecar and link gone (quarantined, removed by hand)
    assert (folder / ".ice_sic_20260901.nc.last-version").read_text() == "2\n"
    third = _write(tree, b"three")
    assert third["version"] == 3 and third["path"].endswith("_adv_v3.nc")


def test_a_full_disk_hidden_by_the_writer_is_named_although_removing_the_partial_file_frees_it(tmp_path):
    """netCDF/HDF5 report ENOSPC as "NetCDF: HDF error": judged before the partial file goes
    (after, the 4 MiB it held are free again and the disk no longer looks full)."""
    with tmpfs(tmp_path / "small", "4m") as small:
        tree = {"data": small / "data"}

        def hdf5_like(path):
            try:
                with open(path, "wb") as handle:
                    handle.write(os.urandom(8 * 1024 * 1024))
            except OSError:
                raise RuntimeError("NetCDF: HDF error") from None

        with pytest.raises(DiskFullError, match=r"no space left on the device \(ENOSPC\)"):
            write_artifact(tree, _spec(), hdf5_like, run_id=RUN_ID, command="test")
        assert not list(small.rglob(".tmp-*"))


@pytest.mark.parametrize("left", ["file", "file+highwater", "file+sidecar"])
def test_a_version_a_killed_writer_left_is_published_under_its_own_number(tree, left):
    """Killed between its version file and its links, the writer's next run with the same bytes
    publishes that version: the work is not done twice under a second number."""
    first = _write(tree, b"one")
    folder = (tree["data"] / first["path"]).parent
    orphan = folder / "ice_sic_20260901_adv_v2.nc"
    orphan.write_bytes(b"two")
    if left == "file+highwater":
        (folder / ".ice_sic_20260901.nc.last-version").write_text("2\n")
    if left == "file+sidecar":
        sidecar = {**json.loads((folder / "ice_sic_20260901_adv_v1.nc.meta.json").read_text()),
                   "version": 2, "path": first["path"].replace("_v1", "_v2"),
                   "sha256": artifacts.atomic.sha256_file(orphan), "size_bytes": 3}
        (folder / "ice_sic_20260901_adv_v2.nc.meta.json").write_text(json.dumps(sidecar))
    second = _write(tree, b"two")
    assert second["version"] == 2 and not (folder / "ice_sic_20260901_adv_v3.nc").exists()
    assert current_meta(tree, "data", first["canonical"])["version"] == 2
    assert (folder / "ice_sic_20260901.nc").read_bytes() == b"two"
    assert _write(tree, b"three")["version"] == 3


def test_a_left_version_whose_sidecar_promised_other_bytes_is_not_adopted(tree):
    first = _write(tree, b"one")
    folder = (tree["data"] / first["path"]).parent
    (folder / "ice_sic_20260901_adv_v2.nc").write_bytes(b"two")
    sidecar = {**first, "version": 2, "sha256": "0" * 64}
    (folder / "ice_sic_20260901_adv_v2.nc.meta.json").write_text(json.dumps(sidecar))
    assert _write(tree, b"two")["version"] == 3
    assert (folder / "ice_sic_20260901_adv_v2.nc").read_bytes() == b"two"


_KILL_AT = {  # a step of write_artifact, and which of its calls is killed there
    "before the high-water mark": ("raise_highwater", 1),
    "before the sidecar": ("_write_sidecar_unsynced", 1),
    "before the canonical link": ("point_canonical", 1),
    "between the two links": ("point_canonical", 2),
}


@pytest.mark.skipif(not hasattr(__import__("signal"), "SIGKILL"), reason="SIGKILL is POSIX")
@pytest.mark.parametrize("step", sorted(_KILL_AT))
def test_a_writer_killed_at_any_step_is_completed_by_the_next_write_of_the_same_bytes(tree, step):
    """kill -9 of the writing process at each step of publishing a second version: the previous
    version (or the new one, once linked) stands, and writing the same bytes again leaves exactly
    two versions, both links on the second and a catalog that verifies."""
    import subprocess
    import sys

    from arcticroute.store.catalog import build_index, verify

    _write(tree, b"one")
    function, nth = _KILL_AT[step]
    child = f"""
import os, signal
from pathlib import Path
from arcticroute.store import artifacts
from tests.test_artifacts import _spec
calls = []
real = getattr(artifacts, {function!r})
def dying(*args, **kwargs):
    calls.append(1)
    if len(calls) == {nth}:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(*args, **kwargs)
setattr(artifacts, {function!r}, dying)
roots = {{k: Path(v) for k, v in {({k: str(v) for k, v in tree.items()})!r}.items()}}
artifacts.write_artifact(roots, _spec(), lambda p: p.write_bytes(b"two"), run_id={RUN_ID!r}, command="test")
"""
    died = subprocess.run([sys.executable, "-c", child], cwd=Path(__file__).resolve().parents[1])
    assert died.returncode == -9, "the writer was not killed at the step"
    assert current_meta(tree, "data", _spec().relpath)["version"] in (1, 2)

    again = _write(tree, b"two")
    folder = tree["data"] / "env/ice.sic/2026/09"
    assert again["version"] == 2
    assert sorted(p.name for p in folder.glob("ice_sic_20260901_adv_v*.nc")) == [
        "ice_sic_20260901_adv_v1.nc", "ice_sic_20260901_adv_v2.nc"]
    assert os.readlink(folder / "ice_sic_20260901.nc") == "ice_sic_20260901_adv_v2.nc"
    assert os.readlink(folder / "ice_sic_20260901.nc.meta.json") == "ice_sic_20260901_adv_v2.nc.meta.json"
    entries, unreadable = build_index(tree)
    assert unreadable == [] and verify(tree, entries) == []


def test_only_the_newest_unlinked_version_can_be_a_twin(tree):
    """An older leftover with the same bytes stays where it is (the link never moves back below
    a newer version), and a linked version refused as corrupt is not adopted either."""
    first = _write(tree, b"one")
    folder = (tree["data"] / first["path"]).parent
    _write(tree, b"two")
    (folder / "ice_sic_20260901_adv_v3.nc").write_bytes(b"three, left by a killed writer")
    fourth = _write(tree, b"one")
    assert fourth["version"] == 4 and current_meta(tree, "data", first["canonical"])["version"] == 4

    (folder / "ice_sic_20260901_adv_v4.nc.meta.json").write_text("{not json")  # the current, refused
    fifth = _write(tree, b"one")
    assert fifth["version"] == 5 and os.readlink(folder / "ice_sic_20260901.nc") == "ice_sic_20260901_adv_v5.nc"
