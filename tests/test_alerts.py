"""Alert files always; the webhook copy never raises, never hides the run's error, never leaks its URL."""

import dataclasses
import json
import logging
import shutil
import socket
import time
from pathlib import Path

import pytest
from werkzeug import Response

from arcticroute.config import load_settings
from arcticroute.errors import ArcticRouteError, ConfigError
from arcticroute.ops.alerts import WEBHOOK_ENV, post_webhook, write_alert
from arcticroute.ops.runs import Run

REPO_CONFIG = Path(__file__).resolve().parents[1] / "config"
SECRET_PATH = "/services/T000/B000/XXXXSECRET"
PAYLOAD = {"severity": "error", "what": "x failed"}


def free_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def logged(caplog) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.name == "arcticroute.ops.alerts")


def alert(tmp_path: Path, webhook: str, timeout_s: float = 2.0) -> Path:
    return write_alert(tmp_path / "outputs", severity="error", command="risk.fuse", what="risk.fuse failed",
                       why="boom", hint=None, run_id="r1", env={WEBHOOK_ENV: webhook}, secrets=[webhook],
                       timeout_s=timeout_s)


def test_webhook_receives_the_alert_json(httpserver):
    httpserver.expect_request(SECRET_PATH, method="POST").respond_with_data("ok")
    assert post_webhook(httpserver.url_for(SECRET_PATH), PAYLOAD, 2.0) is True
    request, _response = httpserver.log[0]
    assert json.loads(request.data) == PAYLOAD


def test_webhook_answering_500_is_a_warning_naming_only_the_host(httpserver, tmp_path, caplog):
    httpserver.expect_request(SECRET_PATH).respond_with_data("down", status=500)
    caplog.set_level(logging.WARNING, logger="arcticroute.ops.alerts")
    path = alert(tmp_path, httpserver.url_for(SECRET_PATH))
    assert path.is_file() and json.loads(path.read_text())["why"] == "boom"
    text = logged(caplog)
    assert "HTTP 500" in text and "http://localhost/…" in text
    assert "XXXXSECRET" not in text and "services" not in text


def test_webhook_on_a_port_nobody_listens_on_is_a_warning(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="arcticroute.ops.alerts")
    url = f"http://127.0.0.1:{free_port()}{SECRET_PATH}"
    assert post_webhook(url, PAYLOAD, 2.0) is False
    assert alert(tmp_path, url).is_file()
    text = logged(caplog)
    assert "http://127.0.0.1/…" in text and "XXXXSECRET" not in text


def test_webhook_that_does_not_answer_in_time_is_a_warning(httpserver, caplog):
    def slow(_request):
        time.sleep(1.0)
        return Response("late")

    httpserver.expect_request(SECRET_PATH).respond_with_handler(slow)
    caplog.set_level(logging.WARNING, logger="arcticroute.ops.alerts")
    assert post_webhook(httpserver.url_for(SECRET_PATH), PAYLOAD, 0.2) is False
    assert "timed out" in logged(caplog) and "XXXXSECRET" not in logged(caplog)


@pytest.mark.parametrize(
    "url",
    ["https://user:pass@host:port-not-number/x", "https://host:99999/x", "hooks.example.org/services/XXXXSECRET",
     "https://hooks example.org/XXXXSECRET", "file:///etc/XXXXSECRET", "https:///XXXXSECRET", "http://[::1/XXXXSECRET"],
)
def test_malformed_webhook_never_raises_and_never_logs_its_value(tmp_path, caplog, url):
    caplog.set_level(logging.WARNING, logger="arcticroute.ops.alerts")
    assert post_webhook(url, PAYLOAD, 1.0) is False
    assert alert(tmp_path, url).is_file()
    text = logged(caplog)
    assert text and "XXXXSECRET" not in text and "pass" not in text and "port-not-number" not in text


def test_a_webhook_that_raises_anything_cannot_break_write_alert(tmp_path, monkeypatch, caplog):
    def explode(*_args, **_kwargs):
        raise RuntimeError("webhook client bug at https://hooks.example.org" + SECRET_PATH)

    monkeypatch.setattr("arcticroute.ops.alerts.post_webhook", explode)
    caplog.set_level(logging.WARNING, logger="arcticroute.ops.alerts")
    assert alert(tmp_path, "https://hooks.example.org" + SECRET_PATH).is_file()
    assert "RuntimeError" in logged(caplog) and "XXXXSECRET" not in logged(caplog)


@pytest.mark.parametrize("webhook", [f"http://127.0.0.1:{free_port()}{SECRET_PATH}",
                                     "https://user:pass@host:port-not-number" + SECRET_PATH,
                                     "hooks.example.org" + SECRET_PATH])
def test_a_failing_webhook_does_not_replace_the_runs_own_error(tmp_path, webhook):
    shutil.copytree(REPO_CONFIG, tmp_path / "config")
    settings = load_settings(tmp_path / "config", environ={})
    settings = dataclasses.replace(settings, env={**settings.env, WEBHOOK_ENV: webhook})  # as if unchecked
    with pytest.raises(ArcticRouteError, match="the run's own failure"):
        with Run(settings, "test.alerts", family="test-alerts", argv=["test"]):
            raise ArcticRouteError("the run's own failure")
    alerts = list((settings.outputs_root / "alerts").glob("*_error_test.alerts.json"))
    assert len(alerts) == 1 and "the run's own failure" in alerts[0].read_text()
    for log in (settings.outputs_root / "logs").glob("*.log"):
        assert "XXXXSECRET" not in log.read_text()


@pytest.mark.parametrize(
    "url",
    ["https://user:pass@host:port-not-number/x", "hooks.example.org/services/XXXXSECRET",
     "https://hooks.example.org/has space/XXXXSECRET", "ftp://hooks.example.org/XXXXSECRET", "https:///XXXXSECRET"],
)
def test_malformed_webhook_is_a_config_error_naming_the_variable_not_the_value(tmp_path, url):
    shutil.copytree(REPO_CONFIG, tmp_path / "config")
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path / "config", environ={WEBHOOK_ENV: url})
    message = str(info.value)
    assert f"environment variable {WEBHOOK_ENV}: not a usable webhook URL" in message
    assert "XXXXSECRET" not in message and "pass" not in message
    assert "port-not-number" not in message and "example.org" not in message


def test_malformed_webhook_in_dotenv_names_the_file_and_line(tmp_path):
    shutil.copytree(REPO_CONFIG, tmp_path / "config")
    (tmp_path / ".env").write_text(f"# alerts\n{WEBHOOK_ENV}=https://u:p@hooks.example.org:x/XXXXSECRET\n")
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path / "config", environ={})
    message = str(info.value)
    assert f".env file {tmp_path / '.env'} (line 2: {WEBHOOK_ENV})" in message and "XXXXSECRET" not in message
