"""`just up` (and timers-install) create the data roots they mount and never re-own one they did
not create: ops/host_roots.py decides, deploy/prepare_roots.py carries it out, `just up` calls it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from arcticroute.errors import BadInputError
from arcticroute.ops import host_roots

from .conftest import REPO

OTHER = 12345  # a user that is neither root nor the container's
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="giving folders to other users needs root")


def values(data: str) -> dict[str, str]:
    return {"ARCTICROUTE_DATA": data}


@pytest.mark.parametrize("path, why", [
    ("/", "top-level system folder"),
    ("/etc", "system folder /etc"),
    ("/etc/arcticroute", "system folder /etc"),
    ("/usr/local/share/arctic", "system folder /usr"),
    ("/boot", "system folder /boot"),
    ("/proc/self", "system folder /proc"),
    ("/sys/kernel", "system folder /sys"),
    ("/dev/shm/x", "system folder /dev"),
    ("/bin", "inside the system folder /"),  # /usr/bin where /usr is merged
    ("/var", "/var or a folder right inside it"),
    ("/var/lib", "/var or a folder right inside it"),
    ("/home", "/home or a folder right inside it"),
    ("/home/alice", "/home or a folder right inside it"),
    ("/root", "top-level system folder"),
    ("/tmp", "top-level system folder"),
    ("/opt", "top-level system folder"),
])
def test_system_folders_and_home_roots_are_refused(tmp_path, path, why):
    with pytest.raises(BadInputError) as caught:
        host_roots.plan(values(path), tmp_path, 10001, 10001, is_root=True)
    assert why in str(caught.value) and "nothing was created or changed" in str(caught.value)


def test_a_link_into_a_system_folder_is_refused_by_where_it_leads(tmp_path):
    (tmp_path / "sneaky").symlink_to("/etc")
    with pytest.raises(BadInputError) as caught:
        host_roots.plan(values(str(tmp_path / "sneaky")), tmp_path, 10001, 10001, is_root=True)
    assert "(= /etc)" in str(caught.value)


def test_relative_paths_and_the_users_home_are_refused(tmp_path):
    with pytest.raises(BadInputError, match="must be an absolute path"):
        host_roots.plan(values("data"), tmp_path, 10001, 10001, is_root=True)
    with pytest.raises(BadInputError, match="your home folder"):
        host_roots.plan(values(str(tmp_path)), tmp_path, 10001, 10001, is_root=False, home=tmp_path)


def test_folders_deeper_in_shared_places_are_fine(tmp_path):
    plans = host_roots.plan({"ARCTICROUTE_DATA": "/var/lib/arcticroute/data", "ARCTICROUTE_REPORTS":
                             "/home/alice/arctic/reports"}, tmp_path, 10001, 10001, is_root=True)
    assert [p.path for p in plans] == [Path("/var/lib/arcticroute/data"), Path("/home/alice/arctic/reports"),
                                       tmp_path / "outputs"]
    assert all(p.create for p in plans)


def test_a_folder_the_user_cannot_create_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.geteuid() == 0:
        plan = host_roots.plan(values(str(locked / "data")), tmp_path, 10001, 10001, is_root=True)
        assert plan[0].create  # root can: the check is for everyone else
        return
    with pytest.raises(BadInputError, match="is not writable by you"):
        host_roots.plan(values(str(locked / "data")), tmp_path, 10001, 10001, is_root=False)


def _prepare(checkout: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    # `just up` runs it with the host's python3 and no .venv (the standard library only); the
    # timers' form (--for-user) reads the settings, so it runs in the project's environment
    python = sys.executable if "--for-user" in args else (shutil.which("python3") or sys.executable)
    return subprocess.run([python, "-I", str(REPO / "deploy" / "prepare_roots.py"), "--checkout", str(checkout), *args],
                          capture_output=True, text=True,
                          env={**{k: v for k, v in os.environ.items() if not k.startswith("ARCTICROUTE_")}, **env})


def _foreign_folder(path: Path) -> tuple[int, int, int]:
    """A folder (with a file) owned by another user, as an operator's existing data would be."""
    path.mkdir(parents=True)
    (path / "kept.nc").write_bytes(b"data")
    for item in (path, path / "kept.nc"):
        os.chown(item, OTHER, OTHER)
    path.chmod(0o750)
    info = path.stat()
    return info.st_uid, info.st_gid, info.st_mode


@as_root
def test_an_existing_folder_of_another_user_is_left_alone_and_the_note_says_how_to_grant_access(tmp_path):
    data = tmp_path / "their data"
    before = _foreign_folder(data)
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / ".env").write_text(f"ARCTICROUTE_DATA='{data}'\n")
    result = _prepare(checkout, {})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["10001", "10001"]  # root: the container runs as the image's user
    info = data.stat()
    assert (info.st_uid, info.st_gid, info.st_mode) == before
    assert (data / "kept.nc").stat().st_uid == OTHER
    assert f"belongs to uid {OTHER}" in result.stderr and "left as it is" in result.stderr
    assert f"sudo chown -R 10001:10001 '{data}'" in result.stderr and "setfacl -R -m u:10001:rwX" in result.stderr
    for created in (checkout / "reports", checkout / "outputs"):  # the defaults, missing: created and given
        assert created.is_dir() and (created.stat().st_uid, created.stat().st_gid) == (10001, 10001)


@as_root
def test_the_systemd_user_gets_only_the_roots_created_for_it(tmp_path):
    checkout = tmp_path / "checkout"
    shutil.copytree(REPO / "config", checkout / "config")
    outputs = checkout / "outputs"
    before = _foreign_folder(outputs)
    result = _prepare(checkout, {}, "--for-user", "nobody")
    assert result.returncode == 0, result.stderr
    nobody = int(subprocess.run(["id", "-u", "nobody"], capture_output=True, text=True).stdout)
    assert (checkout / "data_processed").stat().st_uid == nobody
    assert (outputs.stat().st_uid, outputs.stat().st_gid, outputs.stat().st_mode) == before
    assert f"sudo chown -R {nobody}:" in result.stderr


@pytest.mark.parametrize("root", ["/", "/etc", "/usr/lib", "/home"])
def test_the_script_refuses_a_system_folder_with_exit_2_and_touches_nothing(tmp_path, root):
    before = os.stat(root)
    result = _prepare(tmp_path, {"ARCTICROUTE_OUTPUTS": root})
    assert result.returncode == 2, result.stderr
    assert "cannot be a data root" in result.stderr and "Traceback" not in result.stderr
    after = os.stat(root)
    assert (after.st_uid, after.st_gid, after.st_mode) == (before.st_uid, before.st_gid, before.st_mode)
    assert not (tmp_path / "data_processed").exists()  # refused before anything was created


def test_a_bad_uid_in_dotenv_is_exit_2(tmp_path):
    (tmp_path / ".env").write_text("ARCTICROUTE_UID=root\n")
    result = _prepare(tmp_path, {})
    assert result.returncode == 2 and "ARCTICROUTE_UID='root' is not a numeric user or group id" in result.stderr


@as_root
def test_just_up_leaves_a_foreign_data_folder_as_it_is(tmp_path):
    just = shutil.which("just")
    if just is None:
        pytest.skip("`just` is not on PATH (pip install rust-just)")
    data = tmp_path / "their data"
    before = _foreign_folder(data)
    work = tmp_path / "work"
    work.mkdir()
    for name in (".venv", "deploy"):
        (work / name).symlink_to(REPO / name)
    (work / ".env").write_text(f"ARCTICROUTE_DATA={data}\n")
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for tool in ("docker", "docker-compose"):  # compose is where `up` stops here: no engine is needed
        (stubs / tool).write_text("#!/bin/sh\necho \"stub $0 $*\" >&2\nexit 1\n")
        (stubs / tool).chmod(0o755)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("ARCTICROUTE_")},
           "PATH": f"{stubs}:{os.environ['PATH']}"}
    result = subprocess.run([just, "--justfile", str(REPO / "justfile"), "--working-directory", str(work),
                             "--no-deps", "up"], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode != 0 and "stub" in result.stderr, result.stderr  # it got as far as compose
    info = data.stat()
    assert (info.st_uid, info.st_gid, info.st_mode) == before and (data / "kept.nc").stat().st_uid == OTHER
    assert "left as it is" in result.stderr
    (work / ".env").write_text("ARCTICROUTE_DATA=/\n")
    result = subprocess.run([just, "--justfile", str(REPO / "justfile"), "--working-directory", str(work),
                             "--no-deps", "up"], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 2 and "cannot be a data root" in result.stderr and "stub" not in result.stderr
