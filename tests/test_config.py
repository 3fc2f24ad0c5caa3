import shutil
from pathlib import Path

import pytest

from arcticroute.config import load_settings
from arcticroute.errors import ConfigError

REPO_CONFIG = Path(__file__).resolve().parents[1] / "config"


@pytest.fixture
def config_dir(tmp_path) -> Path:
    folder = tmp_path / "config"
    shutil.copytree(REPO_CONFIG, folder)
    return folder


def test_repo_config_loads_with_defaults(config_dir):
    settings = load_settings(config_dir, environ={})
    assert settings.profile == "demo" and settings.synthetic
    assert settings.grid.name == "3413-25km"
    assert settings.data_root == config_dir.parent / "data_processed"


def test_precedence_option_over_environment_over_dotenv_over_yaml(config_dir):
    (config_dir / "env.yaml").write_text(
        (config_dir / "env.yaml").read_text().replace("resolution_km: 25", "resolution_km: 50"))
    assert load_settings(config_dir, environ={}).grid.name == "3413-50km"
    (config_dir.parent / ".env").write_text("ARCTICROUTE_GRID_KM=12.5\nARCTICROUTE_DATA=/from/dotenv\n")
    assert load_settings(config_dir, environ={}).grid.name == "3413-12.5km"
    settings = load_settings(config_dir, environ={"ARCTICROUTE_GRID_KM": "6.25"})
    assert settings.grid.name == "3413-6.25km"
    assert settings.data_root == Path("/from/dotenv")
    assert load_settings(config_dir, grid_km=25, environ={"ARCTICROUTE_GRID_KM": "6.25"}).grid.name == "3413-25km"


def test_dotenv_never_overrides_the_real_environment(config_dir):
    (config_dir.parent / ".env").write_text("ARCTICROUTE_PROFILE=live\n")
    assert load_settings(config_dir, environ={"ARCTICROUTE_PROFILE": "demo"}).profile == "demo"
    assert load_settings(config_dir, environ={}).profile == "live"


def test_bad_yaml_names_the_file_and_line(config_dir):
    (config_dir / "runtime.yaml").write_text("logs:\n  level: INFO\n   backups: [\n")
    with pytest.raises(ConfigError) as info:
        load_settings(config_dir, environ={})
    assert "runtime.yaml" in str(info.value) and "line" in str(info.value)


def test_bad_value_names_file_key_and_expectation(config_dir):
    text = (config_dir / "scenarios.yaml").read_text().replace("max_sic: 0.15", "max_sic: 'lots'")
    (config_dir / "scenarios.yaml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(config_dir, environ={})
    message = str(info.value)
    assert "scenarios.yaml" in message and "vessels.open_water_container.max_sic" in message
    assert "'lots' is not of type 'number'" in message


def test_every_problem_is_reported_at_once(config_dir):
    (config_dir / "runtime.yaml").write_text("logs: {level: LOUD}\nrisk: {method: guess}\n")
    with pytest.raises(ConfigError) as info:
        load_settings(config_dir, environ={"ARCTICROUTE_GRID_KM": "ten"})
    message = str(info.value)
    assert "logs.level" in message and "risk.method" in message and "ARCTICROUTE_GRID_KM" in message


def test_unknown_profile_and_unknown_vessel_are_config_errors(config_dir):
    with pytest.raises(ConfigError, match="unknown profile 'arctic'; expected one of demo, live"):
        load_settings(config_dir, profile="arctic", environ={})
    text = (config_dir / "scenarios.yaml").read_text().replace("vessel: pc5_cargo", "vessel: pc9_ghost")
    (config_dir / "scenarios.yaml").write_text(text)
    with pytest.raises(ConfigError, match="unknown vessel 'pc9_ghost'"):
        load_settings(config_dir, environ={})


def test_unsupported_grid_resolution_is_rejected(config_dir):
    with pytest.raises(ConfigError, match="resolution_km"):
        load_settings(config_dir, grid_km=10, environ={})
