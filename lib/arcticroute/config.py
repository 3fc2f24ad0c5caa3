"""Settings with the precedence of DESIGN.md §4.

command-line option > environment (``ARCTICROUTE_*``) > ``.env`` (never overriding the real
environment) > ``config/*.yaml`` > built-in defaults. Every bad value is reported with the
file, the key and what was expected, as one ConfigError (exit 2).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import yaml
from dotenv import dotenv_values

from .config_schema import ENV_SCHEMA, RUNTIME_SCHEMA, SCENARIOS_SCHEMA
from .errors import ConfigError
from .grid import Grid

DEFAULTS = {
    "env.yaml": {
        "paths": {"data": "data_processed", "reports": "reports", "outputs": "outputs"},
        "profile": "demo",
        "grid": {"resolution_km": 25},
        "profiles": {},
    },
    "runtime.yaml": {
        "logs": {"max_bytes": 5_242_880, "backups": 5, "level": "INFO"},
        "alerts": {"webhook_timeout_s": 5},
        "risk": {
            "method": "weighted",
            "weights": {"ice": 0.5, "wave": 0.25, "traffic": 0.1, "incidents": 0.15},
            "wave_reference_m": 6.0,
            "traffic_reference": 20.0,
            "incident_window_days": 30,
            "incident_sigma_km": 100.0,
        },
        "route": {"risk_weight": 2.0},
    },
    "scenarios.yaml": {},
}
SCHEMAS = {"env.yaml": ENV_SCHEMA, "runtime.yaml": RUNTIME_SCHEMA, "scenarios.yaml": SCENARIOS_SCHEMA}
ENV_PREFIX = "ARCTICROUTE_"


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to know about where things are and how to behave."""

    project_root: Path
    config_dir: Path
    data_root: Path
    reports_root: Path
    outputs_root: Path
    profile: str
    synthetic: bool
    sources: dict
    grid: Grid
    runtime: dict
    scenarios: dict
    env: Mapping[str, str] = field(repr=False)

    @property
    def roots(self) -> dict[str, Path]:
        return {"data": self.data_root, "reports": self.reports_root, "outputs": self.outputs_root}


def default_config_dir() -> Path:
    env_dir = os.environ.get(ENV_PREFIX + "CONFIG_DIR")
    if env_dir:
        return Path(env_dir)
    in_tree = Path(__file__).resolve().parents[2] / "config"
    return in_tree if in_tree.is_dir() else Path.cwd() / "config"


def _deep_merge(base: dict, override: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _read_yaml(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}", hint="fix the YAML syntax") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level, found {type(data).__name__}")
    return data


def _schema_problems(path: Path, data: dict, schema: dict) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        key = ".".join(str(p) for p in error.absolute_path) or "(top level)"
        problems.append(f"{path}: key {key}: {error.message}")
    return problems


def _env_overrides(env: Mapping[str, str]) -> tuple[dict, list[str]]:
    """The ``ARCTICROUTE_*`` variables as an env.yaml-shaped override."""
    override: dict = {}
    problems: list[str] = []
    for name, key in (("DATA", "data"), ("REPORTS", "reports"), ("OUTPUTS", "outputs")):
        if env.get(ENV_PREFIX + name):
            override.setdefault("paths", {})[key] = env[ENV_PREFIX + name]
    if env.get(ENV_PREFIX + "PROFILE"):
        override["profile"] = env[ENV_PREFIX + "PROFILE"]
    if env.get(ENV_PREFIX + "GRID_KM"):
        raw = env[ENV_PREFIX + "GRID_KM"]
        try:
            override["grid"] = {"resolution_km": float(raw)}
        except ValueError:
            problems.append(f"environment: {ENV_PREFIX}GRID_KM: expected a number of km (25, 12.5, 6.25), got {raw!r}")
    return override, problems


def load_settings(
    config_dir: Path | None = None,
    *,
    profile: str | None = None,
    grid_km: float | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Read, merge and validate the configuration; raises one ConfigError listing every problem."""
    config_dir = Path(config_dir) if config_dir else default_config_dir()
    project_root = config_dir.resolve().parent
    real_env = dict(os.environ if environ is None else environ)
    env_file = Path(real_env.get(ENV_PREFIX + "ENV_FILE", project_root / ".env"))
    dotenv = {k: v for k, v in dotenv_values(env_file).items() if v is not None} if env_file.is_file() else {}
    env = {**dotenv, **real_env}

    problems: list[str] = []
    files: dict[str, dict] = {}
    for name, schema in SCHEMAS.items():
        path = config_dir / name
        data = _read_yaml(path)
        problems += _schema_problems(path, data, schema)
        files[name] = _deep_merge(DEFAULTS[name], data)

    env_override, env_problems = _env_overrides(env)
    problems += env_problems
    env_cfg = _deep_merge(files["env.yaml"], env_override)
    if profile:
        env_cfg["profile"] = profile
    if grid_km is not None:
        env_cfg["grid"]["resolution_km"] = grid_km
    problems += _schema_problems(Path("environment/options"), env_cfg, ENV_SCHEMA)
    if problems:
        raise ConfigError("; ".join(dict.fromkeys(problems)), hint="fix the values named above")

    profile_name = env_cfg["profile"]
    profiles = env_cfg["profiles"]
    if profile_name not in profiles:
        raise ConfigError(
            f"{config_dir / 'env.yaml'}: key profile: unknown profile {profile_name!r}; "
            f"expected one of {', '.join(sorted(profiles)) or '(none defined)'}"
        )
    scenarios = files["scenarios.yaml"]
    _check_scenario_vessels(config_dir / "scenarios.yaml", scenarios)

    def root(key: str) -> Path:
        path = Path(env_cfg["paths"][key]).expanduser()
        return path if path.is_absolute() else project_root / path

    return Settings(
        project_root=project_root,
        config_dir=config_dir,
        data_root=root("data"),
        reports_root=root("reports"),
        outputs_root=root("outputs"),
        profile=profile_name,
        synthetic=bool(profiles[profile_name]["synthetic"]),
        sources=profiles[profile_name]["sources"],
        grid=Grid.from_km(env_cfg["grid"]["resolution_km"]),
        runtime=files["runtime.yaml"],
        scenarios=scenarios,
        env=env,
    )


def _check_scenario_vessels(path: Path, scenarios: dict) -> None:
    vessels = scenarios.get("vessels", {})
    unknown = [
        f"{path}: key scenarios.{name}.vessel: unknown vessel {spec['vessel']!r}; expected one of {', '.join(sorted(vessels))}"
        for name, spec in scenarios.get("scenarios", {}).items()
        if spec["vessel"] not in vessels
    ]
    if unknown:
        raise ConfigError("; ".join(unknown))
