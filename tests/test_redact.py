import pytest

from arcticroute.redact import MASK, redact_argv, redact_text, redact_url, secret_values


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
    env = {"COPERNICUSMARINE_SERVICE_PASSWORD": "s3cret!", "HOME": "/root", "EARTHDATA_TOKEN": "tok123"}
    assert set(secret_values(env)) == {"s3cret!", "tok123"}
