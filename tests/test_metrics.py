"""Prometheus metrics (ops/metrics.py): /metrics and the node_exporter textfile, parsed back with
prometheus-client's own parser and checked by promtool where it is installed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from datetime import datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families

from arcticroute import __version__
from arcticroute.api import Endpoints
from arcticroute.config import load_settings
from arcticroute.ops import metrics
from arcticroute.ops.runs import all_runs
from arcticroute.provenance import git_sha

from .browser import start_server, stop_server
from .conftest import REPO, build_month, config_copy, make_roots, run_command, select_roots
from .test_deploy_tools import need

SCHEDULED = ("ingest.nrt.pull", "risk.fuse", "route.plan", "report.build")
FAMILIES = {
    "arcticroute_build_info": "gauge", "arcticroute_health_status": "gauge", "arcticroute_health_warnings": "gauge",
    "arcticroute_runs": "counter", "arcticroute_command_last_run_status": "gauge",
    "arcticroute_command_last_run_duration_seconds": "gauge",
    "arcticroute_command_last_run_end_timestamp_seconds": "gauge",
    "arcticroute_command_last_success_timestamp_seconds": "gauge", "arcticroute_layer_age_seconds": "gauge",
    "arcticroute_layer_synthetic": "gauge", "arcticroute_disk_used_ratio": "gauge",
    "arcticroute_disk_gc_watermark_ratio": "gauge", "arcticroute_disk_fail_ratio": "gauge",
    "arcticroute_disk_used_bytes": "gauge", "arcticroute_disk_size_bytes": "gauge",
    "arcticroute_disk_available_bytes": "gauge", "arcticroute_catalog_logical_ids": "gauge",
    "arcticroute_catalog_versions": "gauge", "arcticroute_catalog_current_bytes": "gauge",
    "arcticroute_catalog_problems": "gauge",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    made = make_roots(tmp_path_factory.mktemp("metrics"))
    build_month(made, "202609", "2026-09-29")
    assert run_command("report.build", "--ym", "202609", env=made.env).exit_code == 0
    return made


@pytest.fixture
def endpoints(demo, monkeypatch):
    select_roots(monkeypatch, demo)
    return Endpoints()


def parse(text: str) -> dict[str, dict]:
    """``{family: {"type": ..., "samples": {(sample name, sorted labels): value}}}``."""
    found = {}
    for family in text_string_to_metric_families(text):
        assert family.name not in found, f"family {family.name} twice"
        found[family.name] = {"type": family.type, "samples": {
            (s.name, tuple(sorted(s.labels.items()))): s.value for s in family.samples}}
    return found


def value(families: dict, family: str, sample: str | None = None, **labels) -> float:
    return families[family]["samples"][(sample or family, tuple(sorted(labels.items())))]


def scrape(endpoints: Endpoints) -> dict[str, dict]:
    reply = endpoints.metrics({})
    assert reply.status == 200 and reply.media_type == "text/plain; version=0.0.4; charset=utf-8"
    return parse(reply.text())


def test_every_family_is_there_with_sane_values_after_a_demo(endpoints, demo):
    families = scrape(endpoints)
    assert {name: f["type"] for name, f in families.items()} == FAMILIES
    assert value(families, "arcticroute_build_info", version=__version__, git_sha=git_sha()) == 1
    health = endpoints.health({}).body
    assert value(families, "arcticroute_health_status") == {"pass": 0, "warn": 1, "fail": 2}[health["status"]]
    assert value(families, "arcticroute_health_warnings") == len(health["warnings"])
    records = all_runs(demo.outputs)
    now = time.time()
    for command in SCHEDULED:
        ran = [r for r in records if r["command"] == command]
        assert value(families, "arcticroute_runs", "arcticroute_runs_total", command=command, status="ok") == len(ran)
        assert value(families, "arcticroute_runs", "arcticroute_runs_total", command=command, status="failed") == 0
        assert value(families, "arcticroute_command_last_run_status", command=command, status="ok") == 1
        assert value(families, "arcticroute_command_last_run_status", command=command, status="failed") == 0
        ended = value(families, "arcticroute_command_last_run_end_timestamp_seconds", command=command)
        assert ended == datetime.fromisoformat(ran[-1]["end"].replace("Z", "+00:00")).timestamp()
        assert now - 3600 < ended <= now
        assert value(families, "arcticroute_command_last_success_timestamp_seconds", command=command) == ended
        assert value(families, "arcticroute_command_last_run_duration_seconds", command=command) == ran[-1]["duration_s"] > 0
    for layer in ("ice.sic", "ice.type", "wave.hs", "ais.density", "incidents", "risk"):
        age = value(families, "arcticroute_layer_age_seconds", layer=layer, grid="3413-25km")
        # the demo month ends 2026-09-30T23:59:59Z: its age is the time since then
        assert abs(age - (now - datetime.fromisoformat("2026-10-01T00:00:00+00:00").timestamp())) < 3600
        assert value(families, "arcticroute_layer_synthetic", layer=layer, grid="3413-25km") == 1
    (mount,) = {dict(k[1])["mount"] for k in families["arcticroute_disk_used_ratio"]["samples"]}
    used = value(families, "arcticroute_disk_used_ratio", mount=mount)
    assert 0 < used < 1 and value(families, "arcticroute_disk_gc_watermark_ratio", mount=mount) == 0.85
    assert value(families, "arcticroute_disk_used_bytes", mount=mount) < value(families, "arcticroute_disk_size_bytes",
                                                                              mount=mount)
    kinds = {dict(k[1])["kind"]: v for k, v in families["arcticroute_catalog_logical_ids"]["samples"].items()}
    assert kinds["env-layer"] == 2 * 5 and kinds["risk-daily"] == 2 and kinds["route"] >= 1 and kinds["report"] == 1
    assert value(families, "arcticroute_catalog_problems") == 0
    assert all(v > 0 for v in families["arcticroute_catalog_current_bytes"]["samples"].values())


def test_a_failed_run_moves_the_counter_and_the_last_status(endpoints, demo):
    before = scrape(endpoints)
    ok_before = value(before, "arcticroute_command_last_success_timestamp_seconds", command="report.build")
    html = next(demo.reports.rglob("report_202609_adv_v*.html"))
    original = html.read_bytes()
    try:
        html.write_bytes(original.replace(b"<html", b"<HTML", 1))
        assert run_command("catalog.verify", env=demo.env).exit_code == 1
    finally:
        html.write_bytes(original)
    after = scrape(endpoints)
    runs = ("arcticroute_runs", "arcticroute_runs_total")
    failed = {"command": "catalog.verify", "status": "failed"}
    assert ("arcticroute_runs_total", tuple(sorted(failed.items()))) not in before["arcticroute_runs"]["samples"]
    assert value(after, *runs, **failed) == 1
    assert value(after, "arcticroute_command_last_run_status", **failed) == 1
    assert value(after, "arcticroute_command_last_run_status", command="catalog.verify", status="ok") == 0
    assert ("arcticroute_command_last_success_timestamp_seconds", (("command", "catalog.verify"),)) not in \
        after["arcticroute_command_last_success_timestamp_seconds"]["samples"]
    assert value(after, "arcticroute_command_last_success_timestamp_seconds", command="report.build") == ok_before
    assert run_command("catalog.verify", env=demo.env).exit_code == 0
    again = scrape(endpoints)
    assert value(again, "arcticroute_command_last_run_status", command="catalog.verify", status="ok") == 1
    assert value(again, *runs, **failed) == value(after, *runs, **failed)  # a counter never goes down


def test_a_timer_style_run_writes_the_textfile_atomically(roots, tmp_path):
    """A command started as the timers start it (a new process, nothing else running) leaves the
    textfile; it says what the run records say, and no temporary file is left beside it."""
    result = subprocess.run([sys.executable, "-m", "arcticroute", "ingest.nrt.pull", "--ym", "202609",
                             "--since", "2026-09-30"], env={**os.environ, **roots.env}, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    textfile = roots.outputs / "metrics" / "arcticroute.prom"
    families = parse(textfile.read_text())
    assert set(families) == set(FAMILIES)
    (record,) = all_runs(roots.outputs)
    assert value(families, "arcticroute_runs", "arcticroute_runs_total", command="ingest.nrt.pull", status="ok") == 1
    assert value(families, "arcticroute_command_last_run_duration_seconds", command="ingest.nrt.pull") \
        == record["duration_s"]
    assert [p.name for p in textfile.parent.iterdir()] == ["arcticroute.prom"]

    # another folder (absolute path in config), and "" switches the file off
    elsewhere = tmp_path / "collector" / "arcticroute.prom"
    config = config_copy(tmp_path / "config", {"textfile: metrics/arcticroute.prom": f"textfile: {elsewhere}"})
    assert run_command("catalog.show", env={**roots.env, "ARCTICROUTE_CONFIG_DIR": str(config)}).exit_code == 0
    assert value(parse(elsewhere.read_text()), "arcticroute_runs", "arcticroute_runs_total", command="catalog.show",
                 status="ok") == 1
    off = config_copy(tmp_path / "off", {"textfile: metrics/arcticroute.prom": 'textfile: ""'})
    textfile.unlink()
    assert run_command("catalog.show", env={**roots.env, "ARCTICROUTE_CONFIG_DIR": str(off)}).exit_code == 0
    assert not textfile.exists()


def test_a_textfile_path_that_is_not_prom_is_a_config_error(roots, tmp_path):
    config = config_copy(tmp_path / "config", {"textfile: metrics/arcticroute.prom": "textfile: metrics/out.txt"})
    result = run_command("catalog.show", env={**roots.env, "ARCTICROUTE_CONFIG_DIR": str(config)})
    assert result.exit_code == 2 and "metrics.textfile" in result.stderr and ".prom" in result.stderr


def test_a_textfile_that_cannot_be_written_costs_the_run_nothing(roots, tmp_path):
    blocker = roots.outputs / "metrics"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("a file where the folder should be")
    result = run_command("catalog.show", env=roots.env)
    assert result.exit_code == 0
    assert "metrics textfile not written" in (roots.outputs / "logs" / "catalog.show.log").read_text()


def test_the_playbooks_scrape_config_and_alert_rules_pass_promtool(tmp_path):
    promtool = shutil.which("promtool")
    need("promtool", None if promtool else "promtool is not installed (Debian package prometheus)")
    blocks = re.findall(r"```yaml\n(.*?)```", (REPO / "docs" / "playbook.md").read_text(), re.S)
    (rules,) = [b for b in blocks if "groups:" in b and "arcticroute_" in b]
    (scrape,) = [b for b in blocks if "scrape_configs:" in b]
    assert set(re.findall(r"arcticroute_[a-z_]+", rules)) <= {f + "_total" if t == "counter" else f
                                                              for f, t in FAMILIES.items()}
    for kind, text in (("rules", rules), ("config", scrape)):
        path = tmp_path / f"{kind}.yml"
        path.write_text(text)
        checked = subprocess.run([promtool, "check", kind, str(path)], capture_output=True, text=True, timeout=60)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_promtool_accepts_the_names_and_units(endpoints):
    promtool = shutil.which("promtool")
    need("promtool", None if promtool else "promtool is not installed (Debian package prometheus)")
    checked = subprocess.run([promtool, "check", "metrics"], input=endpoints.metrics({}).text(), text=True,
                             capture_output=True, timeout=60)
    assert checked.returncode == 0 and not checked.stdout.strip() and not checked.stderr.strip(), \
        checked.stdout + checked.stderr


@pytest.mark.slow
def test_the_ui_server_serves_metrics(demo, tmp_path):
    config = config_copy(tmp_path / "config")
    proc, base = start_server({**demo.env, "ARCTICROUTE_CONFIG_DIR": str(config)})
    try:
        with urllib.request.urlopen(base + "/metrics", timeout=60) as response:
            assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
            families = parse(response.read().decode())
    finally:
        stop_server(proc)
    assert set(families) == set(FAMILIES)
    assert value(families, "arcticroute_runs", "arcticroute_runs_total", command="risk.fuse", status="ok") >= 1



def test_the_default_registry_stays_empty_and_the_config_names_the_textfile():
    from prometheus_client import REGISTRY

    assert not [m for m in REGISTRY.collect() if m.name.startswith("arcticroute")]
    assert load_settings(REPO / "config").runtime["metrics"]["textfile"] == "metrics/arcticroute.prom"
    assert metrics.CONTENT_TYPE.startswith("text/plain; version=0.0.4")
