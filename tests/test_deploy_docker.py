"""The image and compose: lint, schema, and a real container on a real Docker engine.

The smoke test builds the unchanged Dockerfile with the classic builder, starts the compose
service with `just up` (which waits for the container's own HEALTHCHECK to say healthy),
checks /api/health and the UI page, runs a command in a one-off container that writes to the
bind mounts as the non-root user, and takes it all down. CI starts an engine with
../shared/ci/docker-engine.sh; elsewhere the test skips without one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import pytest
import yaml

from arcticroute import __version__

from .conftest import REPO
from .test_deploy_tools import docker_env, executable, need, problem

COMPOSE_FILE = REPO / "deploy" / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
IMAGE = f"arcticroute:{__version__}"
# 788 MB before the image kept its bytecode (issue 22), 920 MB with it: a larger image is better than
# commands that compile ~1,000 modules from source at every start. numba's LLVM (llvmlite, ~180 MB:
# the compiled time-dependent route search, issue 23) adds the rest.
MAX_IMAGE_BYTES = 1_200_000_000
UID = 10001


# -- static ---------------------------------------------------------------------------------------

def test_hadolint_finds_nothing_in_the_dockerfile():
    need("hadolint", problem("hadolint"))
    result = subprocess.run([executable("hadolint"), "--no-color", str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr


def test_compose_file_is_valid_against_the_compose_specification():
    need("jsonschema", problem("jsonschema"))
    result = subprocess.run([executable("check-jsonschema"), "--builtin-schema", "vendor.compose-spec",
                             str(COMPOSE_FILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_builds_with_the_classic_builder_and_runs_as_a_fixed_non_root_user():
    text = DOCKERFILE.read_text()
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    for buildkit_only in ("RUN --mount", "COPY --chmod", "COPY --link", "ADD --chmod", "<<EOF", "# syntax="):
        assert buildkit_only not in code, buildkit_only
    base = re.search(r"^ARG BASE_IMAGE=(python:3\.11-slim@sha256:[0-9a-f]{64})$", text, re.M)
    assert base, "the base image pinned by digest, its tag kept"
    assert len(re.findall(r"^FROM \$\{BASE_IMAGE\}", text, re.M)) == 2, "multi-stage from the pinned base"
    compose_arg = yaml.safe_load(COMPOSE_FILE.read_text())["services"]["ui"]["build"]["args"]["BASE_IMAGE"]
    assert compose_arg == f"${{ARCTICROUTE_BASE_IMAGE:-{base.group(1)}}}", "compose builds from the same digest"
    assert "chmod 1777" not in code and re.search(r"chmod 0755 /home/arcticroute", code)
    assert re.search(rf"^USER {UID}:{UID}$", text, re.M)
    assert re.search(r"^HEALTHCHECK .*\n\s+CMD \[\"python\", \"/app/deploy/docker/healthcheck.py\"\]", text, re.M)
    assert 'VOLUME ["/data", "/reports", "/outputs"]' in text
    assert "ENTRYPOINT [\"arcticroute\"]" in text and "CMD [\"ui\"]" in text
    assert "--require-hashes" in text and "requirements-dev" not in text  # the runtime lock only
    ignored = (REPO / ".dockerignore").read_text().split()
    for path in (".env", ".git", "data_processed", "reports", "outputs", ".venv", "**/__pycache__"):
        assert path in ignored, path


def test_compose_runs_the_ui_only_on_localhost_by_default():
    spec = yaml.safe_load(COMPOSE_FILE.read_text())
    assert list(spec["services"]) == ["ui"]
    ui = spec["services"]["ui"]
    assert ui["image"] == IMAGE and ui["build"]["args"]["VERSION"] == __version__
    assert ui["ports"] == ["${ARCTICROUTE_UI_BIND:-127.0.0.1}:${ARCTICROUTE_PORT:-8501}:8501"]
    assert ui["init"] is True and ui["restart"] == "unless-stopped" and ui["env_file"] == ["../.env"]
    assert ui["logging"]["options"] == {"max-size": "10m", "max-file": "3"}
    assert ui["healthcheck"]["test"] == ["CMD", "python", "/app/deploy/docker/healthcheck.py"]
    assert [v.split(":")[-1] for v in ui["volumes"]] == ["/data", "/reports", "/outputs"]


def test_the_health_probe_reads_the_body_not_the_status(tmp_path):
    """Against a server that answers 200 with a page for every path, as Streamlit does."""
    import http.server
    import threading

    bodies = {"/api/health": b'{"status": "warn", "warnings": []}'}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            body = bodies.get(self.path, b"<!doctype html><title>Streamlit</title>")
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    probe = [sys.executable, str(REPO / "deploy" / "docker" / "healthcheck.py")]
    try:
        env = {**os.environ, "ARCTICROUTE_PORT": str(server.server_port)}
        assert subprocess.run(probe, env=env, capture_output=True).returncode == 0
        bodies["/api/health"] = b"<!doctype html><title>Streamlit</title>"  # the route is gone: a page
        assert subprocess.run(probe, env=env, capture_output=True).returncode == 1
        bodies["/api/health"] = b'{"status": "fail", "warnings": [{"message": "disk full"}]}'
        failing = subprocess.run(probe, env=env, capture_output=True, text=True)
        assert failing.returncode == 1 and "disk full" in failing.stdout
    finally:
        server.shutdown()


# -- a real container -----------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _stand_in_base(env: dict) -> dict:
    """ARCTICROUTE_BASE_IMAGE for a machine without a registry, where ../shared/ci/docker-engine.sh
    built a local python:3.11-slim: it has no registry digest, so the pinned one cannot be had."""
    digests = subprocess.run(["docker", "image", "inspect", "-f", "{{json .RepoDigests}}", "python:3.11-slim"],
                             env=env, capture_output=True, text=True)
    if digests.returncode == 0 and json.loads(digests.stdout or "null") in ([], None):
        return {"ARCTICROUTE_BASE_IMAGE": "python:3.11-slim"}
    return {}


@pytest.mark.slow
def test_the_image_builds_starts_healthy_serves_and_runs_a_command_as_non_root(tmp_path, capsys):
    need("docker", problem("docker"))
    need("compose", problem("compose"))
    need("just", problem("just"))
    env = {**docker_env(), "COMPOSE_PROJECT_NAME": f"artest{uuid.uuid4().hex[:8]}", **_stand_in_base(docker_env())}
    roots = {name: tmp_path / name for name in ("data", "reports", "outputs")}
    port = _free_port()
    env.update({"ARCTICROUTE_DATA": str(roots["data"]), "ARCTICROUTE_REPORTS": str(roots["reports"]),
                "ARCTICROUTE_OUTPUTS": str(roots["outputs"]), "ARCTICROUTE_PORT": str(port),
                "ARCTICROUTE_UI_BIND": "127.0.0.1"})
    if os.getuid() != 0:  # as a user the container runs with the user's ids, like `just up` does
        env.update({"ARCTICROUTE_UID": str(os.getuid()), "ARCTICROUTE_GID": str(os.getgid())})
    uid, gid = (UID, UID) if os.getuid() == 0 else (os.getuid(), os.getgid())
    dotenv = REPO / ".env"
    made_dotenv = not dotenv.exists()
    compose = ["docker-compose", "-p", env["COMPOSE_PROJECT_NAME"], "-f", str(COMPOSE_FILE), "--env-file", str(dotenv)]
    def head() -> str:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()

    built_from = head()
    started = time.monotonic()
    try:
        up = subprocess.run([shutil.which("just"), "up"], cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        assert f"ArcticRoute UI: http://127.0.0.1:{port}/" in up.stdout
        took = time.monotonic() - started

        container = subprocess.run([*compose, "ps", "-q", "ui"], env=env, capture_output=True, text=True, cwd=REPO).stdout.strip()
        state = json.loads(subprocess.run(["docker", "inspect", container], env=env, capture_output=True, text=True).stdout)[0]
        assert state["State"]["Health"]["Status"] == "healthy"  # the container's own HEALTHCHECK said so
        assert state["Config"]["User"] == f"{uid}:{gid}"
        ports = state["HostConfig"]["PortBindings"]["8501/tcp"]
        assert ports == [{"HostIp": "127.0.0.1", "HostPort": str(port)}]

        status, body = _get(f"http://127.0.0.1:{port}/api/health")
        health = json.loads(body)
        assert status == 200 and health["status"] in ("pass", "warn")
        assert health["git_sha"] in (built_from, head())  # baked in at build time
        assert {d["path"] for d in health["data_dirs"]} == {"/data", "/reports", "/outputs"}
        status, page = _get(f"http://127.0.0.1:{port}/")
        assert status == 200 and b"<title>Streamlit</title>" in page

        # `just container pull ...` = `docker-compose run --rm ui ingest.nrt.pull ...` on the same folders
        one_off = subprocess.run([shutil.which("just"), "container", "pull", "--ym", "202611", "--since", "2026-11-27",
                                  "--what", "ice"], env=env, capture_output=True, text=True, timeout=600, cwd=REPO)
        assert one_off.returncode == 0, one_off.stdout[-2000:] + one_off.stderr[-2000:]
        written = [p for p in roots["data"].rglob("*.nc") if not p.is_symlink()]
        assert written, "the one-off container wrote nothing to the bind mount"
        assert {p.stat().st_uid for p in written} == {uid} and uid != 0
        assert list((roots["outputs"] / "runs").glob("*.json"))

        image = json.loads(subprocess.run(["docker", "image", "inspect", IMAGE], env=env, capture_output=True,
                                          text=True).stdout)[0]
        assert image["Config"]["User"] == f"{UID}:{UID}" and image["Config"]["Healthcheck"]["Test"][0] == "CMD"
        assert image["Config"]["Entrypoint"] == ["arcticroute"] and image["Config"]["Cmd"] == ["ui"]
        home = subprocess.run(["docker", "run", "--rm", "--entrypoint", "stat", IMAGE, "-c", "%a %u", "/home/arcticroute"],
                              env=env, capture_output=True, text=True)
        assert home.stdout.split() == ["755", str(UID)], home.stdout + home.stderr  # not world-writable
        size = image["Size"]
        with capsys.disabled():  # shown in CI's log, not captured
            print(f"\nimage {IMAGE}: {size / 1e6:.0f} MB; just up (build + healthy) took {took:.0f} s")
        assert size < MAX_IMAGE_BYTES, f"the image is {size / 1e6:.0f} MB, over {MAX_IMAGE_BYTES / 1e6:.0f} MB"
    finally:
        down = subprocess.run([shutil.which("just"), "down", "--volumes"], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=300)
        if made_dotenv:
            dotenv.unlink(missing_ok=True)
        if os.getuid() == 0:  # hand the folders back so tmp_path can be cleaned
            subprocess.run(["chown", "-R", "0:0", str(tmp_path)], check=False)
    assert down.returncode == 0, down.stderr
    leftover = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={env['COMPOSE_PROJECT_NAME']}"],
                              env=env, capture_output=True, text=True).stdout.strip()
    assert leftover == ""


def test_the_one_off_image_command_form(tmp_path):
    """`docker run IMAGE <command>`: the entrypoint takes any command name (needs the image built above)."""
    need("docker", problem("docker"))
    env = docker_env()
    if subprocess.run(["docker", "image", "inspect", IMAGE], env=env, capture_output=True).returncode != 0:
        pytest.skip(f"{IMAGE} is not built here (the smoke test builds it)")
    result = subprocess.run(["docker", "run", "--rm", IMAGE, "--help"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "health.check" in result.stdout and "ui " in result.stdout
    bad = subprocess.run(["docker", "run", "--rm", IMAGE, "nope"], env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "No such command 'nope'" in bad.stderr
    whoami = subprocess.run(["docker", "run", "--rm", "--entrypoint", "id", IMAGE, "-u"], env=env, capture_output=True,
                            text=True, timeout=120)
    assert whoami.stdout.strip() == str(UID)


def test_commands_in_the_image_import_from_bytecode():
    """The image ships compiled bytecode and sets PYTHONDONTWRITEBYTECODE: what the commands and the
    UI import is read from it, nothing is compiled from source (needs the image built above)."""
    need("docker", problem("docker"))
    env = docker_env()
    if subprocess.run(["docker", "image", "inspect", IMAGE], env=env, capture_output=True).returncode != 0:
        pytest.skip(f"{IMAGE} is not built here (the smoke test builds it)")
    probe = (REPO / "tests" / "bytecode_probe.py").read_text()
    result = subprocess.run(["docker", "run", "--rm", "--entrypoint", "python", IMAGE, "-c", probe], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    found = json.loads(result.stdout.splitlines()[-1])
    assert found["dont_write_bytecode"] is True and found["modules"] > 500
    assert found["compiled"] == []
