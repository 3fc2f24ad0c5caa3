"""What a person reads when the disk is full, a root is read-only or a file is broken: the domain
error naming the path and the fix, exit 1, no traceback, no log line pointing at a log that
could not be written, and a run record that never stays ``running`` once its process ended.

Full and read-only filesystems are real (a small tmpfs, as root); elsewhere these tests skip
with the reason (CI runs them as root)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from arcticroute.cli import execute
from arcticroute.config import load_settings

from .conftest import Roots, build_month, make_roots, run_command, select_roots, tmpfs

GRID = "3413-25km"
DAY = "20260930"
NO_TRACE = ("Traceback", "Logging error", "unexpected")


def _clean(output: str) -> None:
    for text in NO_TRACE:
        assert text not in output, output


def _records(outputs: Path) -> list[dict]:
    paths = sorted((outputs / "runs").glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
    return [json.loads(p.read_text()) for p in paths]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Roots:
    made = make_roots(tmp_path_factory.mktemp("messages-chain"))
    build_month(made, "202609", "2026-09-30")
    return made


@pytest.fixture
def tree(built, tmp_path, monkeypatch) -> Roots:
    made = make_roots(tmp_path / "copy")
    for source, target in ((built.data, made.data), (built.outputs, made.outputs)):
        shutil.copytree(source, target, symlinks=True)
    made.reports.mkdir()
    select_roots(monkeypatch, made)
    return made


def _fill(folder: Path) -> Path:
    """Fill the filesystem holding ``folder`` to the last byte (unbuffered writes)."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        for size in (1 << 16, 1 << 12, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


# -- a full disk ----------------------------------------------------------------------------------

def test_a_full_data_disk_stops_the_pull_naming_the_path(tmp_path, monkeypatch):
    with tmpfs(tmp_path / "small", "2m") as small:
        roots = Roots(small / "data", tmp_path / "reports", tmp_path / "outputs")
        select_roots(monkeypatch, roots)
        result = run_command("ingest.nrt.pull", "--ym", "202609", "--since", "2026-09-20", env=roots.env)
        assert result.exit_code == 1, result.output
        _clean(result.output)
        assert "Error: no space left on the device (ENOSPC) writing ar://" in result.stderr
        assert f"in {small / 'data'}" in result.stderr and "Hint: free space on the filesystem holding" in result.stderr
        assert "could not be pulled" not in result.stderr  # the disk, not 30 "failed items"
        assert not list(small.rglob(".tmp-*"))
        record = _records(roots.outputs)[-1]
        assert record["status"] == "failed" and record["error"]["type"] == "DiskFullError"


def test_a_full_outputs_disk_warns_once_and_leaves_the_record_to_the_next_run(roots, tmp_path, monkeypatch, capfd):
    with tmpfs(tmp_path / "out", "1m") as out:
        monkeypatch.setenv("ARCTICROUTE_OUTPUTS", str(out))
        settings = load_settings()
        filled = []

        def body(run):
            filled.append(_fill(out))
            for number in range(200):  # more than the log file's last page holds
                run.log.warning("line %d the log file cannot take", number)
            return None

        with pytest.raises(SystemExit) as ended:
            execute(settings, "catalog.show", "catalog", body, lambda result, run: None)
        assert ended.value.code == 1
        err = capfd.readouterr().err
        _clean(err)
        assert err.count("cannot be written") == 1 and "logs to stderr only" in err
        assert "WARNING line 199 the log file cannot take" in err  # the lines still reach stderr
        assert "could not be completed (no space left on the device (ENOSPC) writing" in err
        (record,) = _records(out)
        assert record["status"] == "running"
        filled[0].unlink()
        again = run_command("catalog.show", env={**roots.env, "ARCTICROUTE_OUTPUTS": str(out)})
        assert again.exit_code == 0, again.output
        assert "was interrupted" in again.stderr
        assert json.loads((out / "runs" / f"{record['run_id']}.json").read_text())["status"] == "interrupted"


# -- read-only roots -------------------------------------------------------------------------------

def _read_only(mount_point: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(mount_point)], check=True)


@pytest.mark.parametrize("command", [
    ("ingest.nrt.pull", "--ym", "202609", "--since", "2026-09-30", "--force"),
    ("risk.fuse", "--ym", "202609", "--force"),
    ("catalog.verify", "--repair"),
])
def test_a_read_only_data_root_names_the_path_and_the_variable(tree, tmp_path, monkeypatch, command):
    with tmpfs(tmp_path / "ro", "64m") as mount:
        data = mount / "data_processed"
        shutil.copytree(tree.data, data, symlinks=True)
        (data / "static" / ".tmp-20260101T000000Z-abcdef-1234abcd-x.nc").write_bytes(b"left by a dead run")
        _read_only(mount)  # so that repair has something to remove
        roots = Roots(data, tree.reports, tree.outputs)
        select_roots(monkeypatch, roots)
        result = run_command(*command, env=roots.env)
        assert result.exit_code == 1, result.output
        _clean(result.output)
        assert "Error: read-only file system (EROFS) writing" in result.stderr and str(data) in result.stderr
        assert "Hint: remount the filesystem holding" in result.stderr and "ARCTICROUTE_DATA" in result.stderr
        assert _records(tree.outputs)[-1]["error"]["type"] == "NotWritableError"


@pytest.mark.parametrize("command", [("catalog.show",), ("risk.fuse", "--ym", "202609"),
                                     ("ingest.nrt.pull", "--ym", "202609", "--since", "2026-09-30"),
                                     ("cache.gc",)])
def test_a_read_only_outputs_root_fails_every_command_without_pointing_at_a_log(tree, tmp_path, monkeypatch, command):
    with tmpfs(tmp_path / "ro", "8m") as mount:
        outputs = mount / "outputs"
        outputs.mkdir()
        _read_only(mount)
        roots = Roots(tree.data, tree.reports, outputs)
        select_roots(monkeypatch, roots)
        result = run_command(*command, env=roots.env)
        assert result.exit_code == 1, result.output
        _clean(result.output)
        assert f"Error: read-only file system (EROFS) writing {outputs}" in result.stderr
        assert "ARCTICROUTE_OUTPUTS" in result.stderr and ".log" not in result.stderr


# -- a broken file names itself --------------------------------------------------------------------

def _current(canonical: Path) -> Path:
    return canonical.parent / os.readlink(canonical)


def _replace_keeping_the_sidecar_consistent(version: Path, data: bytes) -> None:
    """New bytes whose sidecar matches them: only their content is wrong, not their checksum."""
    version.write_bytes(data)
    sidecar = version.with_name(version.name + ".meta.json")
    meta = json.loads(sidecar.read_text())
    meta.update(sha256=__import__("hashlib").sha256(data).hexdigest(), size_bytes=len(data))
    sidecar.write_text(json.dumps(meta))


def _ice(tree: Roots) -> Path:
    return _current(tree.data / "env" / "ice.sic" / GRID / "2026" / "09" / f"ice_sic_{DAY}.nc")


def test_a_layer_that_is_not_netcdf_is_refused_naming_its_file(tree):
    version = _ice(tree)
    _replace_keeping_the_sidecar_consistent(version, b"\x89HDF\r\n\x1a\n" + b"\xff" * 4096)
    result = run_command("risk.fuse", "--ym", "202609", "--force", env=tree.env)
    assert result.exit_code == 1, result.output
    _clean(result.output)
    assert f"({version}) cannot be read as netCDF" in result.stderr
    assert "--force" in result.stderr  # the hint: write a good version


def test_a_layer_of_another_shape_is_refused_naming_its_file_and_both_shapes(tree, tmp_path):
    version = _ice(tree)
    small = tmp_path / "small.nc"
    xr.Dataset({"sic": (("time", "y", "x"), np.zeros((1, 10, 12), dtype=np.float32))}).to_netcdf(small)
    _replace_keeping_the_sidecar_consistent(version, small.read_bytes())
    result = run_command("route.plan", "--scenario", "all", "--date", "2026-09-30", "--force", env=tree.env)
    assert result.exit_code == 1, result.output
    _clean(result.output)
    assert f"({version}) variable 'sic' has shape 10 x 12, its sidecar's grid {GRID} is 448 x 304" in result.stderr


def test_a_sidecar_that_is_not_json_is_named_with_the_repair(tree):
    version = _current(tree.data / "risk" / GRID / "2026" / "09" / f"risk_{DAY}.nc")
    sidecar = version.with_name(version.name + ".meta.json")
    sidecar.write_text('{"logical_id": ')
    result = run_command("route.plan", "--scenario", "all", "--date", "2026-09-30", "--force", env=tree.env)
    assert result.exit_code == 1, result.output
    _clean(result.output)
    assert f"sidecar {tree.data / 'risk' / GRID / '2026' / '09' / f'risk_{DAY}.nc.meta.json'} is not valid JSON" \
        in result.stderr or f"sidecar {sidecar} is not valid JSON" in result.stderr
    assert "just repair" in result.stderr


def test_health_names_a_broken_sidecar_and_its_repair_not_a_bug(tree):
    version = _ice(tree)
    version.with_name(version.name + ".meta.json").write_text("{")
    result = run_command("health.check", "--json", env=tree.env)
    assert result.exit_code == 1, result.output
    assert "is not valid JSON" in result.stdout and "just repair" in result.stdout
    assert "report this as a bug" not in result.stdout and "check crashed" not in result.stdout


@pytest.mark.parametrize("shape", [(1, 2, 448, 304), (1, 304, 448)])
def test_a_layer_with_extra_or_swapped_axes_is_refused_naming_its_file(tree, tmp_path, shape):
    version = _ice(tree)
    other = tmp_path / "other.nc"
    dims = ("time", "z", "y", "x")[-len(shape):] if len(shape) == 4 else ("time", "y", "x")
    xr.Dataset({"sic": (dims, np.zeros(shape, dtype=np.float32))}).to_netcdf(other)
    _replace_keeping_the_sidecar_consistent(version, other.read_bytes())
    result = run_command("risk.fuse", "--ym", "202609", "--force", env=tree.env)
    assert result.exit_code == 1, result.output
    _clean(result.output)
    assert f"({version}) variable 'sic' has shape {' x '.join(map(str, shape[1:]))}" in result.stderr


# -- the classification itself (errors a root user cannot provoke here) ----------------------------

@pytest.mark.parametrize("code, kind, words", [
    (errno.EACCES, "NotWritableError", "permission denied (EACCES) writing"),
    (errno.EPERM, "NotWritableError", "permission denied (EPERM) writing"),
    (errno.EDQUOT, "DiskFullError", "no space left on the device (ENOSPC) writing"),
    (errno.EROFS, "NotWritableError", "read-only file system (EROFS) writing"),
])
def test_an_oserror_of_writing_becomes_the_domain_error_naming_path_and_variable(tmp_path, code, kind, words):
    from arcticroute.store.oserrors import storage_error

    roots = {"data": tmp_path / "data", "reports": tmp_path / "reports", "outputs": tmp_path / "outputs"}
    target = roots["reports"] / "3413-25km" / "202609" / "report_202609_adv_v2.html"
    target.parent.mkdir(parents=True)
    error = storage_error(OSError(code, os.strerror(code), str(target)), roots=roots)
    assert type(error).__name__ == kind and words in str(error) and str(target) in str(error)
    if kind == "NotWritableError":
        assert "ARCTICROUTE_REPORTS" in error.hint
    assert storage_error(OSError(errno.ENOENT, "No such file", str(target)), roots=roots) is None


@pytest.mark.parametrize("code", [errno.EACCES, errno.EPERM])
def test_a_writer_denied_on_a_disk_that_had_no_room_is_a_full_disk(tmp_path, code):
    """HDF5 may report running out of space as EACCES: judged by the room there was when it failed
    (noted before the partial file was removed), not by the name the library gave it."""
    from arcticroute.store.atomic import note_disk_full
    from arcticroute.store.oserrors import storage_error

    roots = {"data": tmp_path / "data", "reports": tmp_path / "reports", "outputs": tmp_path / "outputs"}
    target = roots["data"] / "risk" / "3413-25km" / "2026" / "09" / "risk_20260930_adv_v2.nc"
    target.parent.mkdir(parents=True)
    full = PermissionError(code, os.strerror(code), str(target))
    full.disk_full = True  # what note_disk_full records on a disk with no room left
    error = storage_error(full, roots=roots)
    assert type(error).__name__ == "DiskFullError" and "ENOSPC" in str(error) and "just gc" in error.hint
    roomy = PermissionError(code, os.strerror(code), str(target))
    note_disk_full(roomy, target.parent)  # this disk has room: a denial stays a denial
    assert type(storage_error(roomy, roots=roots)).__name__ == "NotWritableError"
