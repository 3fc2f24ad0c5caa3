import json
import shutil
from pathlib import Path

import pytest

from arcticroute.cli import fail
from arcticroute.config import load_settings
from arcticroute.redact import (
    MASK,
    forget_secrets,
    redact_argv,
    redact_known,
    redact_text,
    redact_url,
    remember_secrets,
    secret_values,
    short_secret_names,
    url_origin,
)

from .conftest import run_command

REPO_CONFIG = Path(__file__).resolve().parents[1] / "config"


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://user:pw@host.org/a.nc", f"https://{MASK}@host.org/a.nc"),
        ("https://host.org/a.nc?token=abc&day=1", f"https://host.org/a.nc?token={MASK}&day=1"),
        ("https://host.org/a?API_KEY=zz", f"https://host.org/a?API_KEY={MASK}"),
        ("https://host.org/plain.nc", "https://host.org/plain.nc"),
    ],
)
def test_redact_url_strips_userinfo_and_credential_parameters(url, expected):
    assert redact_url(url) == expected


def test_redact_text_masks_known_secret_values_and_urls():
    text = "login failed for hunter22 at https://u:p@x.org/y?sig=1"
    out = redact_text(text, ["hunter22"])
    assert "hunter22" not in out and "u:p@" not in out and "sig=1" not in out


def test_redact_argv_masks_secret_options_in_both_spellings():
    argv = ["pull", "--token", "abc", "--password=xyz", "--ym", "202609"]
    assert redact_argv(argv) == ["pull", "--token", MASK, f"--password={MASK}", "--ym", "202609"]


def test_secret_values_come_from_secret_looking_variable_names():
    env = {"COPERNICUSMARINE_SERVICE_PASSWORD": "s3cret!x", "HOME": "/root", "EARTHDATA_TOKEN": "tok123456"}
    assert set(secret_values(env)) == {"s3cret!x", "tok123456"}


@pytest.mark.parametrize("value", ["demo", "live", "abc1234", "x"])
def test_a_secret_shorter_than_8_characters_is_not_masked_but_named(value):
    env = {"EARTHDATA_TOKEN": value, "HOME": "/root"}
    assert secret_values(env) == [] and short_secret_names(env) == ["EARTHDATA_TOKEN"]
    assert short_secret_names({"EARTHDATA_TOKEN": "a-real-token-value"}) == []


def test_a_short_secret_gives_a_config_warning_and_masks_no_common_word(roots, tmp_path, monkeypatch):
    """EARTHDATA_TOKEN=demo must not turn the profile name "demo" into *** in run records."""
    forget_secrets()
    env = {**roots.env, "EARTHDATA_TOKEN": "demo"}
    result = run_command("catalog.show", env=env)
    assert result.exit_code == 0, result.output
    assert "EARTHDATA_TOKEN looks like a secret but its value has fewer than 8 characters" in result.stderr
    (record,) = [json.loads(p.read_text()) for p in (roots.outputs / "runs").glob("*.json")]
    assert record["profile"] == "demo" and MASK not in json.dumps(record)
    forget_secrets()


@pytest.mark.parametrize(
    "name", ["AWS_SECRET_ACCESS_KEY", "ACCESS_KEY", "private_key", "DB_PASSWD", "SLACK_WEBHOOK_URL",
             "GOOGLE_APPLICATION_CREDENTIALS", "ARCTICROUTE_ALERT_WEBHOOK", "MyApiToken"],
)
def test_every_secret_looking_name_is_masked_by_value(name):
    assert secret_values({name: "v4lue-of-a-secret"}) == ["v4lue-of-a-secret"]


@pytest.mark.parametrize("name", ["XDG_SESSION_TYPE", "SSH_AUTH_SOCK", "HOME", "ARCTICROUTE_GRID_KM", "KEYBOARD_LAYOUT"])
def test_plumbing_variables_are_not_secrets(name):
    assert secret_values({name: "wayland"}) == []


def test_escaped_forms_of_a_secret_are_masked_too():
    secret = 'pa"ss\\wörd'
    text = json.dumps({"error": f"login with {secret} refused"}) + repr(secret)
    out = redact_text(text, secret_values({"SERVICE_PASSWORD": secret}))
    assert "pa" not in out.replace("***", "")


def test_redact_known_masks_remembered_and_environment_secrets_and_url_credentials(monkeypatch):
    remember_secrets(["remembered-from-dotenv"])
    monkeypatch.setenv("SOME_API_KEY", "env-key-value-123")
    text = "a remembered-from-dotenv b env-key-value-123 c https://u:pw@host.org/x?token=t0k"
    out = redact_known(text)
    assert "remembered-from-dotenv" not in out and "env-key-value-123" not in out
    assert "u:pw" not in out and "t0k" not in out and out.count(MASK) == 4


def test_load_settings_remembers_secrets_from_the_dotenv_file(tmp_path):
    shutil.copytree(REPO_CONFIG, tmp_path / "config")
    (tmp_path / ".env").write_text("EARTHDATA_TOKEN=only-in-dotenv-8c1f\n")
    load_settings(tmp_path / "config", environ={})
    assert redact_known("token only-in-dotenv-8c1f rejected") == f"token {MASK} rejected"


def test_url_origin_keeps_only_scheme_and_host():
    url = "https://hooks.example.org/services/T000/B000/XXXXSECRET"
    assert url_origin(url) == "https://hooks.example.org/…"
    assert url_origin("https://user:pass@host:port-not-number/x") == "https://host/…"
    assert url_origin("not a url") == "(unparsable URL)"


def test_cli_fail_masks_every_known_secret(capsys):
    remember_secrets(["hunter2-the-password"])
    with pytest.raises(SystemExit) as info:
        fail("login as bob:hunter2-the-password failed at https://u:p@h.org/x", "retry hunter2-the-password", 1)
    err = capsys.readouterr().err
    assert info.value.code == 1 and "hunter2" not in err and "u:p@" not in err
    assert err.startswith("Error: login as bob:***") and "Hint: retry ***" in err
