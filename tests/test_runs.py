import json
import logging

import pytest
from filelock import FileLock

from arcticroute.config import load_settings
from arcticroute.errors import ArcticRouteError, LockHeldError
from arcticroute.ops.runs import Run, last_runs

SECRET = "pa55word-xyz"


@pytest.fixture
def settings(roots, monkeypatch):
    monkeypatch.setenv("COPERNICUSMARINE_SERVICE_PASSWORD", SECRET)
    return load_settings()


def test_successful_run_writes_a_record_with_redacted_argv(settings):
    argv = ["pull", "--password", SECRET, "--url=https://u:p@host/x"]
    with Run(settings, "test.cmd", family="test", argv=argv) as run:
        run.log.info("talking to https://host/x?token=abc with %s", SECRET)
        run.warn("something odd")
    record = json.loads(run.record_path.read_text())
    assert record["status"] == "ok" and record["exit_code"] == 0
    assert record["warnings"] == ["something odd"]
    assert record["run_id"] == run.run_id and record["command"] == "test.cmd"
    text = run.record_path.read_text() + (settings.outputs_root / "logs" / "test.cmd.log").read_text()
    assert SECRET not in text and "u:p@" not in text and "token=abc" not in text


def test_failed_run_records_the_error_and_writes_an_alert(settings):
    with pytest.raises(ArcticRouteError), Run(settings, "test.cmd", family="test", argv=[]) as run:
        raise ArcticRouteError(f"provider refused {SECRET}", hint="check the account")
    record = json.loads(run.record_path.read_text())
    assert record["status"] == "failed" and record["exit_code"] == 1
    alerts = list((settings.outputs_root / "alerts").glob("*_error_test.cmd.json"))
    assert len(alerts) == 1
    alert = json.loads(alerts[0].read_text())
    assert alert["hint"] == "check the account" and SECRET not in alerts[0].read_text()
    assert {"what", "why", "hint", "severity", "command", "run_id"} <= alert.keys()


def test_bad_input_inside_a_run_exits_2_without_an_alert(settings):
    from arcticroute.errors import BadInputError

    with pytest.raises(BadInputError), Run(settings, "test.cmd", family="test", argv=[]) as run:
        raise BadInputError("no such scenario")
    assert json.loads(run.record_path.read_text())["exit_code"] == 2
    assert not (settings.outputs_root / "alerts").exists()


def test_a_second_run_of_the_same_family_is_refused_with_exit_75(settings):
    lock = FileLock(settings.outputs_root / "locks" / "test.lock")
    (settings.outputs_root / "locks").mkdir(parents=True)
    with lock:
        with pytest.raises(LockHeldError) as info, Run(settings, "test.cmd", family="test", argv=[]):
            pass
    assert info.value.exit_code == 75 and "another test run is in progress" in str(info.value)
    with Run(settings, "test.cmd", family="test", argv=[]):
        pass  # free again once the holder let go


def test_webhook_receives_the_alert_json(settings, httpserver, monkeypatch):
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    monkeypatch.setitem(settings.env, "ARCTICROUTE_ALERT_WEBHOOK", httpserver.url_for("/hook"))
    with pytest.raises(ArcticRouteError), Run(settings, "test.cmd", family="test", argv=[]):
        raise ArcticRouteError("boom")
    (request, _response), = httpserver.log
    assert request.get_json()["why"] == "boom"


def test_unreachable_webhook_still_leaves_the_alert_file(settings, monkeypatch):
    monkeypatch.setitem(settings.env, "ARCTICROUTE_ALERT_WEBHOOK", "http://127.0.0.1:9/hook?token=zzz")
    with pytest.raises(ArcticRouteError), Run(settings, "test.cmd", family="test", argv=[]) as run:
        raise ArcticRouteError("boom")
    assert list((settings.outputs_root / "alerts").glob("*.json"))
    assert "token=zzz" not in (settings.outputs_root / "logs" / "test.cmd.log").read_text()
    assert run.exit_code == 1


def test_logs_rotate_at_the_configured_size(settings):
    settings.runtime["logs"].update(max_bytes=2048, backups=2)
    for _ in range(6):
        with Run(settings, "test.cmd", family="test", argv=[]) as run:
            for n in range(20):
                run.log.info("line %d %s", n, "x" * 40)
    logs = sorted(p.name for p in (settings.outputs_root / "logs").iterdir())
    assert logs == ["test.cmd.log", "test.cmd.log.1", "test.cmd.log.2"]
    assert not logging.getLogger("arcticroute").handlers


def test_last_runs_lists_newest_first(settings):
    ids = []
    for _ in range(3):
        with Run(settings, "test.cmd", family="test", argv=[]) as run:
            ids.append(run.run_id)
    # newest first, also within one second (run ids alone sort by the second, then at random)
    assert [r["run_id"] for r in last_runs(settings.outputs_root)] == list(reversed(ids))
