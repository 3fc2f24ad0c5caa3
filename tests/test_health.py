"""health.check: each check on a condition built for real, the command's exit codes, alerts on
transitions, the /api/* endpoints over HTTP, and logs written by several processes at once."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from arcticroute.config import load_settings
from arcticroute.ops import health
from arcticroute.ops.runs import last_runs

from .browser import start_server, stop_server
from .conftest import REPO, build_month, config_copy, run_command, tmpfs

DAY = "20260930"
GRID = "3413-25km"


def _check(result: dict, name: str) -> dict:
    return result["checks"][name][0]


@pytest.fixture
def built(roots):
    """Two days of the demo chain (September 2026) in fresh roots."""
    build_month(roots, "202609", "2026-09-29")
    assert run_command("report.build", "--ym", "202609").exit_code == 0
    return roots


def _health(roots, *args, **env) -> tuple[int, dict, str]:
    out = roots.reports / "health" / "probe.json"
    result = run_command("health.check", "--out", str(out), *args, env={**roots.env, **env})
    return result.exit_code, json.loads(out.read_text()) if out.exists() else {}, result.output


def test_the_operators_smoke_command_writes_the_file(built):
    day = time.strftime("%Y%m%d", time.gmtime())
    out = built.reports / "health" / f"health_{day}.json"
    result = run_command("health.check", "--out", str(out))
    assert result.exit_code == 0, result.output
    body = json.loads(out.read_text())
    for key in ("ok", "status", "warnings", "checks", "disk_free_gb", "data_dirs", "git_sha", "last_runs", "version"):
        assert key in body, key
    assert body["ok"] is True and body["status"] == "warn"  # September's data are stale today
    assert {d["name"] for d in body["data_dirs"]} == {"data", "reports", "outputs"}
    assert all(d["exists"] and d["readable"] and d["writable"] for d in body["data_dirs"])
    assert body["last_runs"][0]["command"] and all(w["hint"] for w in body["warnings"])
    packages = _check(body, "python:packages")
    assert packages["status"] == "pass" and packages["packages"]["streamlit"]


def test_default_output_file_and_strict(built):
    code, _body, _ = _health(built)
    assert code == 0
    result = run_command("health.check")
    assert result.exit_code == 0
    assert (built.reports / "health" / f"health_{time.strftime('%Y%m%d', time.gmtime())}.json").is_file()
    strict = run_command("health.check", "--strict")
    assert strict.exit_code == 1 and "health is warn" in strict.stderr


def test_stale_data_warns_with_the_command_that_refreshes_it(built):
    _code, body, _ = _health(built)
    ice = _check(body, "data:ice.sic:age")
    assert ice["status"] == "warn" and ice["synthetic"] is True and "SYNTHETIC" in ice["output"]
    warning = next(w for w in body["warnings"] if w["check"] == "data:ice.sic:age")
    assert "ingest.nrt.pull" in warning["hint"]


def test_fresh_data_passes(roots):
    assert run_command("ingest.nrt.pull", "--ym", "current", "--since", "-P1D").exit_code == 0
    assert run_command("risk.fuse", "--ym", "current").exit_code == 0
    _code, body, _ = _health(roots)
    for layer in ("ice.sic", "wave.hs", "ais.density", "incidents", "risk"):
        assert _check(body, f"data:{layer}:age")["status"] == "pass", layer


def test_a_missing_folder_fails(built, tmp_path):
    code, body, _output = _health(built, ARCTICROUTE_REPORTS=str(tmp_path / "nowhere" / "reports"))
    assert code == 1 and body["status"] == "fail" and _check(body, "folder:reports")["status"] == "fail"
    assert "mkdir -p" in next(w for w in body["warnings"] if w["check"] == "folder:reports")["hint"]


@pytest.mark.parametrize("root", ["ARCTICROUTE_DATA", "ARCTICROUTE_OUTPUTS"])
def test_a_read_only_folder_fails(built, tmp_path, root):
    with tmpfs(tmp_path / "ro", "1m", "ro") as read_only:
        code, body, output = _health(built, **{root: str(read_only)})
    name = root.removeprefix("ARCTICROUTE_").lower()
    assert code == 1 and "Traceback" not in output
    observation = _check(body, f"folder:{name}")
    assert observation["status"] == "fail" and "not writable" in observation["output"]


def test_an_almost_full_disk_fails_and_a_fuller_than_watermark_one_warns(built, tmp_path):
    with tmpfs(tmp_path / "disk", "4m") as disk:
        data = disk / "data_processed"
        shutil.copytree(built.data / "static", data / "static")
        env = {"ARCTICROUTE_DATA": str(data)}
        filler = disk / "filler"
        usage = shutil.disk_usage(disk)
        filler.write_bytes(b"\0" * int(usage.total * 0.85 - usage.used))
        _code, body, _ = _health(built, **env)
        assert _check(body, "disk:utilization")["status"] == "warn"
        filler.write_bytes(b"\0" * int(shutil.disk_usage(disk).free * 0.9 + filler.stat().st_size))
        code, body, _ = _health(built, **env)
    assert code == 1 and _check(body, "disk:utilization")["status"] == "fail"
    assert "just gc" in next(w for w in body["warnings"] if w["check"] == "disk:utilization")["hint"]


def test_a_failed_last_run_warns_with_its_hint(built):
    assert run_command("route.plan", "--scenario", "all", "--date", "1999-01-01").exit_code == 1
    _code, body, _ = _health(built)
    route = _check(body, "runs:route.plan")
    assert route["status"] == "warn" and route["runStatus"] == "failed"
    assert "risk.fuse" in next(w for w in body["warnings"] if w["check"] == "runs:route.plan")["hint"]


def test_a_corrupted_artifact_fails_the_sample_verify(built):
    index = json.loads((built.outputs / "catalog" / "index.json").read_text())
    newest = max(index["entries"], key=lambda e: e["created_at"])
    root = {"data": built.data, "outputs": built.outputs, "reports": built.reports}[newest["root"]]
    with open(root / newest["path"], "r+b") as handle:
        handle.seek(40)
        handle.write(b"\x00corrupt\x00")
    code, body, _ = _health(built)
    assert code == 1 and _check(body, "catalog:sample-verify")["status"] == "fail"
    assert "just repair" in next(w for w in body["warnings"] if w["check"] == "catalog:sample-verify")["hint"]


def test_a_bad_config_fails_with_its_hint(built, tmp_path):
    config = tmp_path / "cfg"
    shutil.copytree(REPO / "config", config)
    (config / "runtime.yaml").write_text("logs: {level: LOUD}\n")
    out = tmp_path / "h.json"
    result = run_command("health.check", "--config-dir", str(config), "--out", str(out))
    assert result.exit_code == 1 and "Traceback" not in result.output
    body = json.loads(out.read_text())
    assert body["status"] == "fail" and _check(body, "config:valid")["status"] == "fail"
    assert "logs.level" in body["warnings"][0]["message"]


def test_a_transition_writes_one_alert_not_one_per_probe(built):
    alerts = built.outputs / "alerts"
    before = set(alerts.glob("*health.check*.json")) if alerts.is_dir() else set()
    for _ in range(3):
        _health(built)
    new = set(alerts.glob("*health.check*.json")) - before
    assert len(new) == 1
    alert = json.loads(next(iter(new)).read_text())
    assert alert["severity"] == "warning" and "to warn" in alert["what"] and alert["hint"]


def test_a_dead_running_record_is_shown_as_interrupted(roots):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    runs = roots.outputs / "runs"
    runs.mkdir(parents=True)
    (runs / "20261101T000000Z-0000aa.json").write_text(json.dumps(
        {"run_id": "20261101T000000Z-0000aa", "command": "ingest.nrt.pull", "status": "running",
         "pid": dead.pid, "host": socket.gethostname(), "start": "2026-11-01T00:00:00Z"}))
    (runs / "20261101T000001Z-0000bb.json").write_text(json.dumps(
        {"run_id": "20261101T000001Z-0000bb", "command": "risk.fuse", "status": "running",
         "pid": os.getpid(), "host": socket.gethostname(), "start": "2026-11-01T00:00:01Z"}))
    statuses = {r["run_id"]: r["status"] for r in last_runs(roots.outputs)}
    assert statuses == {"20261101T000000Z-0000aa": "interrupted", "20261101T000001Z-0000bb": "running"}


def test_a_crashing_check_is_that_checks_failure(built, monkeypatch):
    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr(health, "check_gpu", broken)
    result = health.health_check(settings=load_settings())
    assert _check(result, "gpu:present")["status"] == "fail" and "boom" in _check(result, "gpu:present")["output"]


# -- logs written by several processes at once -----------------------------------------------

WRITER = """
import logging, sys
from pathlib import Path
from arcticroute.ops.runs import shared_log_handler
handler = shared_log_handler(Path(sys.argv[1]), {"max_bytes": 20000, "backups": 50}, Path(sys.argv[2]))
handler.setFormatter(logging.Formatter("%(message)s"))
log = logging.getLogger("w"); log.addHandler(handler); log.setLevel(logging.INFO)
for i in range(int(sys.argv[4])):
    log.info("writer=%s line=%05d %s end", sys.argv[3], i, "x" * 60)
"""


def test_concurrent_writers_lose_no_line_and_mix_none(tmp_path):
    log, locks = tmp_path / "logs" / "cmd.log", tmp_path / "locks"
    log.parent.mkdir()
    writers, lines = 4, 400
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(log), str(locks), str(w), str(lines)])
             for w in range(writers)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    seen = [line for path in log.parent.glob("cmd.log*") for line in path.read_text().splitlines()]
    assert len(seen) == writers * lines
    assert all(line.startswith("writer=") and line.endswith(" end") and len(line) == len(seen[0]) for line in seen)
    assert len(set(seen)) == writers * lines
    assert len(list(log.parent.glob("cmd.log.*"))) > 1  # it really rotated meanwhile


# -- the endpoints over HTTP ------------------------------------------------------------------

@pytest.fixture
def server(built, tmp_path):
    """The UI server (serve) on a free loopback port, with the roots of ``built`` and health
    results reused for one second only."""
    config = config_copy(tmp_path / "config", {"cache_seconds: 15": "cache_seconds: 1"})
    proc, base = start_server({**built.env, "ARCTICROUTE_CONFIG_DIR": str(config)})
    yield base
    stop_server(proc)


def _get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.slow
def test_endpoints_answer_over_http(server, built):
    status, headers, body = _get(server + "/api/health")
    result = json.loads(body)
    assert status == 200 and result["status"] == "warn"
    assert headers["content-type"].startswith("application/health+json") and "no-cache" in headers["cache-control"]

    status, _headers, body = _get(server + "/api/runs?limit=2")
    assert status == 200 and len(json.loads(body)["runs"]) == 2
    assert _get(server + "/api/runs?limit=lots")[0] == 400

    status, _headers, body = _get(server + "/api/catalog?prefix=ar://env/ice.sic&limit=5")
    entries = json.loads(body)["entries"]
    assert status == 200 and entries and all(e["logical_id"].startswith("ar://env/ice.sic") for e in entries)

    # Streamlit answers an unknown path with 200 and its page: a probe must check the body
    status, headers, body = _get(server + "/api/nosuch")
    assert status == 200 and "text/html" in headers["content-type"] and b'"status"' not in body


@pytest.mark.slow
def test_health_endpoint_is_503_on_fail(server, built):
    shutil.rmtree(built.reports)
    time.sleep(1.5)  # the server reuses a result for one second
    status, _headers, body = _get(server + "/api/health")
    assert status == 503 and json.loads(body)["status"] == "fail"
