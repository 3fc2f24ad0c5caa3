"""Property-based tests: whatever a user types or writes into a config file, a command ends
with one of the contract's exit codes and a one-paragraph message, never a traceback; and
``load_settings`` returns Settings or raises ConfigError/BadInputError, nothing else."""

from __future__ import annotations

import copy
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from arcticroute.commands import COMMANDS, load_command
from arcticroute.config import Settings, load_settings
from arcticroute.errors import BadInputError
from arcticroute.redact import forget_secrets
from arcticroute.timeutil import parse_ym, utc_now

from .conftest import make_roots

REPO_CONFIG = Path(__file__).resolve().parents[1] / "config"
EXIT_CODES = {0, 1, 2, 75}
FEW = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_COMMANDS = {info.name: load_command(info) for info in COMMANDS}


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory) -> dict:
    """Empty data roots and an empty .env in a temporary folder; no stray ARCTICROUTE_* settings."""
    base = tmp_path_factory.mktemp("properties")
    env_file = base / "empty.env"
    env_file.write_text("")
    env = {key: None for key in ("ARCTICROUTE_GRID_KM", "ARCTICROUTE_CONFIG_DIR", "ARCTICROUTE_ALERT_WEBHOOK")}
    return {**env, **make_roots(base).env, "ARCTICROUTE_ENV_FILE": str(env_file)}


def invoke(name: str, args: list[str], env: dict):
    try:
        result = CliRunner().invoke(_COMMANDS[name], args, env=env, catch_exceptions=False, prog_name=name)
    finally:
        forget_secrets()  # random .env values must not be masked in later tests' messages
    check_outcome(result.exit_code, result.stdout, result.stderr)
    return result


def check_outcome(code: int, stdout: str, stderr: str) -> None:
    """A contract exit code; on failure an ``Error:`` paragraph (plus an optional ``Hint:``) ends stderr."""
    output = stdout + stderr
    assert code in EXIT_CODES, output
    assert "Traceback" not in output, output
    if code:
        assert "Error: " in stderr, output
        paragraph = stderr[stderr.index("Error: "):].rstrip("\n").split("\n")
        assert all(line.startswith(("Error: ", "Hint: ")) for line in paragraph), output


def load_or_error(config_dir: Path, **kwargs) -> Settings | None:
    try:
        return load_settings(config_dir, environ=kwargs.pop("environ", {}), **kwargs)
    except BadInputError as exc:  # ConfigError is a BadInputError
        message = str(exc)
        assert message and "\n" not in message and "Traceback" not in message
        return None
    finally:
        forget_secrets()  # random .env values must not be masked in later tests' messages


def config_copy(base: str) -> Path:
    folder = Path(base) / "config"
    shutil.copytree(REPO_CONFIG, folder)
    return folder


# -- argument types ----------------------------------------------------------------------------

def _ym_texts():
    now = utc_now()
    return st.one_of(
        st.text(max_size=12),
        st.from_regex(r"\A[0-9]{6}\Z"),
        st.integers(min_value=1900, max_value=2200).flatmap(
            lambda y: st.integers(min_value=0, max_value=13).map(lambda m: f"{y}{m:02d}")),
        st.just(f"{now:%Y%m}"),
        st.sampled_from(["current", " CURRENT ", "２０２６０９", "٢٠٢٦٠٩", "209912"]),
    )


@FEW
@given(ym=_ym_texts())
@example(ym="209912")
@example(ym="197801")
def test_any_ym_ends_cleanly(cli_env, ym):
    invoke("ingest.nrt.pull", [f"--ym={ym}", "--what=ice", "--dry-run"], cli_env)


def test_far_future_months_are_refused_but_next_month_is_not(cli_env):
    now = datetime(2026, 11, 28, tzinfo=UTC)
    assert parse_ym("202612", now) == (2026, 12)
    with pytest.raises(BadInputError, match="--ym 202701 is in the future; the newest month with data is 202611"):
        parse_ym("202701", now)
    result = invoke("ingest.nrt.pull", ["--ym", "209912", "--dry-run"], cli_env)
    assert result.exit_code == 2
    assert f"--ym 209912 is in the future; the newest month with data is {utc_now():%Y%m}" in result.stderr
    with pytest.raises(BadInputError, match="year >= 1978"):
        parse_ym("197712", now)


_DURATIONS = st.from_regex(r"\A-?P([0-9]{1,12}W)?([0-9]{1,12}D)?(T([0-9]{1,12}H)?([0-9]{1,12}M)?([0-9]{1,12}S)?)?\Z")
_MOMENTS = st.datetimes(timezones=st.one_of(st.none(), st.timezones())).map(lambda d: d.isoformat())


@FEW
@given(since=st.one_of(st.text(max_size=30), _DURATIONS, _MOMENTS, st.dates().map(str)))
@example(since="P99999999999D")
@example(since="0001-01-01T00:00+01:00")
@example(since="9999-12-31T23:59-01:00")
def test_any_since_ends_cleanly(cli_env, since):
    invoke("ingest.nrt.pull", ["--ym=202609", f"--since={since}", "--what=ice", "--dry-run"], cli_env)


_NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                     st.floats(min_value=-90, max_value=90).map(str), st.integers().map(str),
                     st.text(alphabet="0123456789.-+eE ,", max_size=8))
_POSITIONS = st.one_of(st.tuples(_NUMBERS, _NUMBERS).map(",".join), st.text(max_size=25))


@FEW
@given(origin=_POSITIONS, destination=_POSITIONS, vessel=st.sampled_from(["pc5_cargo", "kayak", ""]))
@example(origin="nan,nan", destination="69.1,33.6", vessel="pc5_cargo")
@example(origin="1e308,1e308", destination="inf,-inf", vessel="pc5_cargo")
@example(origin="69.1,33.6", destination="65.9,-169.2", vessel="pc5_cargo")
def test_any_route_end_points_end_cleanly(cli_env, origin, destination, vessel):
    invoke("route.plan", [f"--from={origin}", f"--to={destination}", f"--vessel={vessel}"], cli_env)


_LAYER_WORDS = st.sampled_from(["ice", "wave", "incidents", "ais", "ice.sic", "wave.hs", "snow", "", " ", "ICE"])


@FEW
@given(what=st.one_of(st.lists(_LAYER_WORDS, max_size=5).map(",".join), st.text(max_size=20)))
def test_any_what_ends_cleanly(cli_env, what):
    invoke("ingest.nrt.pull", ["--ym=202609", "--since=2026-09-30", f"--what={what}", "--dry-run"], cli_env)


# -- the config loader -------------------------------------------------------------------------

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12),
                     st.sampled_from(["demo", "live", "synthetic", "weighted", "INFO", 25, 6.25]))
_STRUCTURES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.one_of(st.text(max_size=10), st.integers()), inner, max_size=4)),
    max_leaves=12,
)
_FILES = st.sampled_from(["env.yaml", "runtime.yaml", "scenarios.yaml"])


@FEW
@given(name=_FILES, text=st.text(max_size=200))
@example(name="runtime.yaml", text="logs: {level: 2026-13-45}")
@example(name="env.yaml", text="a: &a [*a]")
@example(name="scenarios.yaml", text="? [a]\n: 1")
def test_any_yaml_text_loads_or_is_a_config_error(name, text):
    with tempfile.TemporaryDirectory() as base:
        folder = config_copy(base)
        (folder / name).write_text(text, encoding="utf-8")
        load_or_error(folder)


@FEW
@given(name=_FILES, data=_STRUCTURES)
def test_any_yaml_structure_loads_or_is_a_config_error(name, data):
    with tempfile.TemporaryDirectory() as base:
        folder = config_copy(base)
        (folder / name).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        load_or_error(folder)


def _paths(node, trail=()):
    """Every key path in a config document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*trail, key)
            yield from _paths(value, (*trail, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*trail, index)
            yield from _paths(value, (*trail, index))


_REPO_DOCS = {name: yaml.safe_load((REPO_CONFIG / name).read_text()) for name in ("env.yaml", "runtime.yaml", "scenarios.yaml")}


@st.composite
def _mutated_config(draw):
    """The repository's config with one value replaced (or removed): mostly valid, so it reaches deeper."""
    name = draw(_FILES)
    doc = copy.deepcopy(_REPO_DOCS[name])
    path = draw(st.sampled_from(sorted(_paths(doc), key=repr)))
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if draw(st.integers(0, 4)) == 0 and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(_STRUCTURES)
    return name, doc


@FEW
@given(mutation=_mutated_config())
def test_a_mutated_config_loads_or_is_a_config_error_and_commands_end_cleanly(cli_env, mutation):
    name, doc = mutation
    with tempfile.TemporaryDirectory() as base:
        folder = config_copy(base)
        (folder / name).write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        loaded = load_or_error(folder, environ={k: v for k, v in cli_env.items() if v is not None})
        result = invoke("route.plan", ["--scenario", "all", "--config-dir", str(folder)], cli_env)
        assert loaded is not None or result.exit_code == 2, result.output


# -- the .env reader ---------------------------------------------------------------------------

_DOTENV_LINES = st.one_of(
    st.text(max_size=40),
    st.tuples(st.sampled_from(["ARCTICROUTE_PROFILE", "ARCTICROUTE_GRID_KM", "ARCTICROUTE_DATA", "ARCTICROUTE_PROFLE",
                               "ARCTICROUTE_ALERT_WEBHOOK", "EARTHDATA_TOKEN", "export A", "A B"]),
              st.one_of(st.text(max_size=30), st.sampled_from(["demo", "live", "25", "6.25", "'x", '"y', "${HOME}",
                                                               "https://h.org/x", "http://u:p@h:x/y"])))
    .map("=".join),
)


@FEW
@given(lines=st.lists(_DOTENV_LINES, max_size=6))
@example(lines=["this is garbage"])
@example(lines=["EARTHDATA_TOKEN=abcd1234", "A B=abcd1234"])
def test_any_dotenv_text_loads_or_is_a_config_error(lines):
    with tempfile.TemporaryDirectory() as base:
        folder = config_copy(base)
        (Path(base) / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")
        loaded = load_or_error(folder)
        if loaded is not None:
            assert all("\n" not in warning for warning in loaded.warnings)


# -- the environment ---------------------------------------------------------------------------

_VARIABLES = st.sampled_from(["ARCTICROUTE_PROFILE", "ARCTICROUTE_GRID_KM", "ARCTICROUTE_DATA", "ARCTICROUTE_OUTPUTS",
                              "ARCTICROUTE_ALERT_WEBHOOK", "ARCTICROUTE_ENV_FILE", "ARCTICROUTE_CONFIG_DIR",
                              "ARCTICROUTE_PROFLE", "arcticroute_grid_km", "ARTICROUTE_DATA", "ARCTICROUTE_"])
_VALUES = st.one_of(st.text(max_size=30), st.sampled_from(["demo", "live", "25", "6.25", "nan", "-0", "1e999", "~", "/",
                                                            "https://h.org/x", "http://u:p@h:x/y", "https://[::1"]))


@FEW
@given(environ=st.dictionaries(_VARIABLES, _VALUES, max_size=4))
def test_any_environment_loads_or_is_a_config_error(environ):
    with tempfile.TemporaryDirectory() as base:
        loaded = load_or_error(config_copy(base), environ=environ)
        if loaded is not None:
            assert all("\n" not in warning for warning in loaded.warnings)
