"""Settings with the precedence of DESIGN.md §4.

command-line option > environment (``ARCTICROUTE_*``) > ``.env`` (never overriding the real
environment) > ``config/*.yaml`` > built-in defaults. Every bad value is reported with where
it came from (option, environment variable, ``.env`` line, ``file: key``) and what was
expected, as one ConfigError (exit 2); values of secret-looking variables are never shown.
"""

from __future__ import annotations

import copy
import difflib
import io
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import yaml
from dotenv import dotenv_values
from dotenv.parser import parse_stream

from .config_schema import (
    ENV_SCHEMA,
    GRID_KM_CHOICES,
    RUNTIME_SCHEMA,
    SCENARIOS_SCHEMA,
    SEA_RULES_SCHEMA,
)
from .errors import ConfigError
from .grid import Grid
from .ops.alerts import WEBHOOK_ENV, webhook_problem
from .redact import remember_secrets, secret_values, short_secret_names

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
            "store_hazards": [],
        },
        "route": {"risk_weight": 2.0},
        "pull": {"download_deadline_s": 1800, "run_deadline_s": 7200, "max_download_mb": 2048},
        "storage": {"latlon_in_every_file": True},
        "health": {
            "disk_warn_fraction": 0.8,
            "disk_fail_fraction": 0.95,
            "freshness_max_hours": {"ice.sic": 48, "wave.hs": 48, "ais.density": 72, "incidents": 168, "risk": 48},
            "scheduled_commands": ["ingest.nrt.pull", "risk.fuse", "route.plan", "report.build"],
            "last_run_max_hours": 36,
            "runs_scanned": 500,
            "sample_verify": 5,
            "logs_max_mb": 200,
            "timers": ["daily", "gc"],
            "cache_seconds": 15,
        },
        "metrics": {"textfile": "metrics/arcticroute.prom"},
        "stac": {"folder": "stac"},
        # The same as config/runtime.yaml's schedule: (tests/test_deploy_schedule.py compares them).
        "schedule": {
            "daily": {
                "description": "ArcticRoute daily chain: health, pull, fuse, route, report",
                "at": "05:30", "random_delay_minutes": 30, "timeout_minutes": 180, "windows_script": "pull_nrt_daily",
                "steps": ["health.check", "ingest.nrt.pull --ym -P1D --since -P3D --forecast", "risk.fuse --ym -P1D",
                          "route.plan --scenario all --date latest", "report.build --ym -P1D"],
            },
            "gc": {
                "description": "ArcticRoute garbage collection: cache TTL and watermark, catalog retention",
                "at": "04:30", "random_delay_minutes": 20, "timeout_minutes": 60, "windows_script": "gc_daily",
                "steps": ["catalog.gc", "cache.gc"],
            },
        },
    },
    "scenarios.yaml": {},
}
SCHEMAS = {"env.yaml": ENV_SCHEMA, "runtime.yaml": RUNTIME_SCHEMA, "scenarios.yaml": SCENARIOS_SCHEMA}
# config files read by the commands that use them (``read_config_file``), not by load_settings
OTHER_SCHEMAS = {"sea_area_rules.yaml": SEA_RULES_SCHEMA}
REQUIRED_FILES = ("env.yaml", "scenarios.yaml")  # runtime.yaml may be absent: every key has a default
ENV_PREFIX = "ARCTICROUTE_"
# Every ARCTICROUTE_* variable the stack reads, in one place (a misspelt one is a warning).
ENV_VARIABLES: dict[str, str] = {
    ENV_PREFIX + "DATA": "processed data root (env.yaml paths.data)",
    ENV_PREFIX + "REPORTS": "monthly reports root (env.yaml paths.reports)",
    ENV_PREFIX + "OUTPUTS": "routes, runs, logs and alerts root (env.yaml paths.outputs)",
    ENV_PREFIX + "PROFILE": "data profile (env.yaml profile; --profile)",
    ENV_PREFIX + "GRID_KM": "grid cell size in km (env.yaml grid.resolution_km; --grid-km)",
    ENV_PREFIX + "CONFIG_DIR": "config folder (--config-dir)",
    ENV_PREFIX + "ENV_FILE": "the .env file to read instead of <project>/.env",
    WEBHOOK_ENV: "URL that receives every alert as JSON (a secret: masked everywhere)",
    ENV_PREFIX + "GIT_SHA": "commit of the running code, for images without git",
    ENV_PREFIX + "ADDRESS": "address the UI listens on (serve --address; 0.0.0.0 in the container)",
    ENV_PREFIX + "PORT": "port the UI listens on (serve --port; compose publishes it on the host)",
    ENV_PREFIX + "UI_BIND": "host address compose publishes the UI port on (default 127.0.0.1)",
    ENV_PREFIX + "UID": "uid the compose container runs as (default 10001; just up: the checkout's owner)",
    ENV_PREFIX + "GID": "gid the compose container runs as (default 10001; just up: the checkout's group)",
}
_PATH_VARIABLES = (("data", ENV_PREFIX + "DATA"), ("reports", ENV_PREFIX + "REPORTS"), ("outputs", ENV_PREFIX + "OUTPUTS"))
_MAX_PROBLEM_CHARS = 300
_MAX_PROBLEMS_PER_FILE = 12


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
    warnings: tuple[str, ...] = ()

    @property
    def roots(self) -> dict[str, Path]:
        return {"data": self.data_root, "reports": self.reports_root, "outputs": self.outputs_root}

    def under_outputs(self, configured: str) -> Path:
        """A configured path: relative ones are under the outputs root, ``~`` is expanded."""
        path = Path(configured).expanduser()
        return path if path.is_absolute() else self.outputs_root / path

    @property
    def stac_folder(self) -> Path:
        return self.under_outputs(self.runtime["stac"]["folder"])


def default_config_dir(environ: Mapping[str, str] | None = None) -> Path:
    env_dir = (os.environ if environ is None else environ).get(ENV_PREFIX + "CONFIG_DIR")
    if env_dir:
        return Path(env_dir)
    in_tree = Path(__file__).resolve().parents[2] / "config"
    return in_tree if in_tree.is_dir() else Path.cwd() / "config"


@dataclass
class _Environment:
    """The real environment and the ``.env`` file, remembering where each value came from."""

    real: Mapping[str, str]
    dotenv: dict[str, str] = field(default_factory=dict)
    dotenv_path: Path | None = None
    dotenv_lines: dict[str, int] = field(default_factory=dict)

    @property
    def merged(self) -> dict[str, str]:
        return {**self.dotenv, **self.real}

    def get(self, name: str) -> str | None:
        """The value, or None when unset or empty (an empty variable counts as unset)."""
        return self.merged.get(name) or None

    def origin(self, name: str) -> str:
        if name in self.real or self.dotenv_path is None:
            return f"environment variable {name}"
        line = self.dotenv_lines.get(name)
        return f".env file {self.dotenv_path} (line {line}: {name})" if line else f".env file {self.dotenv_path} ({name})"


# the reproducible-builds convention: the time artifacts say they were created (cf.date_created)
SOURCE_DATE_EPOCH = "SOURCE_DATE_EPOCH"
_MAX_EPOCH = 253402300799  # 9999-12-31T23:59:59Z


def _show(text: object, limit: int = 60) -> str:
    """A key or name fit for a one-line message: as is when plain, else repr(); shortened."""
    plain = isinstance(text, str) and text.isprintable() and text.strip() == text and text != ""
    shown = text if plain else repr(text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _clip(message: str) -> str:
    message = " ".join(message.split()) if not message.isprintable() else message
    return message if len(message) <= _MAX_PROBLEM_CHARS else message[: _MAX_PROBLEM_CHARS - 1] + "…"


def _key(trail: list) -> str:
    return ".".join(_show(p, 40) for p in trail) or "(top level)"


def _deep_merge(base: dict, override: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _expected_keys(name: str) -> str:
    return ", ".join(SCHEMAS.get(name, OTHER_SCHEMAS.get(name, {})).get("properties", {}))


class UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """PyYAML's safe loader, but a key given twice in one mapping is an error, not last-wins
    (``profile: demo`` then ``profile: live`` must not quietly run live). Merge keys (``<<``)
    still let a mapping override what it merges. Parsed by libyaml where PyYAML has it (every
    wheel does): the pure-Python parser took ~0.1 s of every command's start for config/."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.setdefault(key, key_node.start_mark.line + 1)
                except TypeError:
                    continue  # an unhashable key: the constructor below reports it
                if first != key_node.start_mark.line + 1:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"key {_show(key)!r} given twice (first at line {first}); a key may appear "
                                    "once per mapping: delete one", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str):
    """YAML text as the project reads every file: safe, and no key given twice."""
    return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass


def _read_yaml(path: Path) -> tuple[dict, list[str]]:
    """The file's mapping and the problems found reading it (file named in each)."""
    if not path.is_file():
        return {}, [f"{path} is not a file"]
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return {}, [f"{path}: not UTF-8 text (byte {exc.start})"]
    except OSError as exc:
        return {}, [f"{path}: cannot be read ({exc.strerror or type(exc).__name__})"]
    empty = f"{path} is empty; expected a mapping with keys {_expected_keys(path.name)}"
    if not text.strip():
        return {}, [empty]
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return {}, [_clip(f"{path}: not valid YAML{where}: {problem}")]
    except RecursionError:
        return {}, [f"{path}: not usable YAML: nested too deeply"]
    except Exception as exc:  # noqa: BLE001 - PyYAML lets ValueError etc. escape (bad dates, huge ints)
        return {}, [_clip(f"{path}: not usable YAML: {type(exc).__name__}: {exc}")]
    if data is None:
        return {}, [empty + " (the file holds only comments or null)"]
    if not isinstance(data, dict):
        return {}, [f"{path}: expected a mapping of keys at the top level, found {type(data).__name__}"]
    return data, []


def _structure_problems(path: Path, data: dict) -> list[str]:
    """What JSON Schema cannot say about YAML: non-text keys, .nan/.inf, self-referring aliases."""
    problems: list[str] = []
    done: set[int] = set()

    def walk(node, trail: list, stack: tuple[int, ...]) -> None:
        if isinstance(node, dict | list):
            if id(node) in stack:
                problems.append(f"{path}: key {_key(trail)}: refers to itself (recursive YAML alias)")
                return
            if id(node) in done:
                return
            done.add(id(node))
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, value in items:
                if isinstance(node, dict) and not isinstance(key, str):
                    problems.append(f"{path}: key {_key([*trail, key])}: keys must be text, found {type(key).__name__}")
                walk(value, [*trail, key], (*stack, id(node)))
        elif isinstance(node, float) and not math.isfinite(node):
            problems.append(f"{path}: key {_key(trail)}: {node} is not a finite number")

    walk(data, [], ())
    return problems


def _schema_problems(path: Path, data: dict, schema: dict) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        problems.append(_clip(f"{path}: key {_key(list(error.absolute_path))}: {error.message}"))
    return problems


def read_config_file(path: Path, schema: dict) -> dict:
    """A config file other than the three ``load_settings`` reads, checked against ``schema``;
    one ConfigError listing every problem, each naming the file and the key."""
    data, problems = _read_yaml(path)
    problems = problems or _structure_problems(path, data) or _schema_problems(path, data, schema)
    if problems:
        raise ConfigError("; ".join(problems[:_MAX_PROBLEMS_PER_FILE]),
                          hint=f"fix the values named above, or copy {path.name} from the repository's config/ folder")
    return data


def _config_dir(config_dir: Path | str | None, real_env: Mapping[str, str]) -> tuple[Path, str]:
    """The config folder and where it came from."""
    if config_dir:
        return Path(config_dir), "from the --config-dir option"
    if real_env.get(ENV_PREFIX + "CONFIG_DIR"):
        return Path(real_env[ENV_PREFIX + "CONFIG_DIR"]), f"from environment variable {ENV_PREFIX}CONFIG_DIR"
    return default_config_dir({}), "the default; set --config-dir or ARCTICROUTE_CONFIG_DIR"


def _check_config_dir(config_dir: Path, origin: str) -> None:
    hint = ("pass --config-dir (or set ARCTICROUTE_CONFIG_DIR to) a folder holding env.yaml, runtime.yaml "
            "and scenarios.yaml, e.g. the repository's config/")
    if not config_dir.exists():
        raise ConfigError(f"config folder {config_dir} does not exist ({origin})", hint=hint)
    if not config_dir.is_dir():
        raise ConfigError(f"config folder {config_dir} is not a folder ({origin})", hint=hint)


def _read_environment(real_env: Mapping[str, str], project_root: Path) -> _Environment:
    """The real environment plus the ``.env`` file (ARCTICROUTE_ENV_FILE or <project>/.env)."""
    environment = _Environment(real=real_env)
    named = real_env.get(ENV_PREFIX + "ENV_FILE")
    path = Path(named) if named else project_root / ".env"
    if not path.is_file():
        if named:
            raise ConfigError(
                f"environment variable {ENV_PREFIX}ENV_FILE names {_show(str(path), 200)}, which is not a file",
                hint="point it at an existing .env file, or unset it to read <project>/.env",
            )
        return environment
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f".env file {_show(str(path), 200)}: not UTF-8 text (byte {exc.start})",
                          hint="save the file as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f".env file {_show(str(path), 200)}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    bindings = list(parse_stream(io.StringIO(text)))
    parsed = {b.key: b.value for b in bindings if not b.error and b.key is not None and b.value is not None}
    remember_secrets(secret_values(parsed))  # before any message about the file can be printed
    bad = [str(b.original.line) for b in bindings if b.error]
    if bad:
        raise ConfigError(
            f".env file {_show(str(path), 200)}: line{'s' if len(bad) > 1 else ''} {', '.join(bad[:10])}"
            f"{' and more' if len(bad) > 10 else ''} cannot be parsed (expected NAME=value)",
            hint="fix or remove those lines: quote values holding spaces or '#', start comments with '#'; "
                 "nothing was run",
        )
    values = dotenv_values(stream=io.StringIO(text))
    environment.dotenv = {k: v for k, v in values.items() if v is not None}
    environment.dotenv_path = path
    environment.dotenv_lines = {b.key: b.original.line for b in bindings if b.key is not None and not b.error}
    return environment


def _variable_warnings(environment: _Environment) -> list[str]:
    """A warning for every ARCTICROUTE_-like variable that is not one the stack reads."""
    warnings = []
    for name in sorted({*environment.real, *environment.dotenv}):
        if name in ENV_VARIABLES or not isinstance(name, str):
            continue
        upper = name.upper()
        head = upper.split("_", 1)[0]
        looks_ours = upper.startswith(ENV_PREFIX) or (
            "_" in upper and difflib.SequenceMatcher(None, head, ENV_PREFIX[:-1]).ratio() >= 0.8
        )
        if not looks_ours:
            continue
        close = difflib.get_close_matches(upper, list(ENV_VARIABLES), n=1, cutoff=0.6)
        advice = f"did you mean {close[0]}?" if close else f"known names: {', '.join(ENV_VARIABLES)}"
        warnings.append(f"{environment.origin(name)}: {_show(name)} is not a variable ArcticRoute reads "
                        f"(ignored); {advice}")
    for name in short_secret_names(environment.merged):
        warnings.append(f"{environment.origin(name)}: {_show(name)} looks like a secret but its value has fewer than 8 "
                        "characters, too short for a real credential; it is not masked in logs and records (a short "
                        "word would be masked wherever it appears); set the real credential")
    return warnings


def _grid_km(grid_km: float | None, environment: _Environment, env_cfg: dict) -> tuple[object, list[str]]:
    """The grid cell size by precedence, and problems naming where a bad one came from."""
    choices = ", ".join(f"{c:g}" for c in GRID_KM_CHOICES)
    name = ENV_PREFIX + "GRID_KM"
    if grid_km is not None:
        value, origin = grid_km, "--grid-km option"
    elif environment.get(name):
        raw = environment.get(name)
        origin = environment.origin(name)
        try:
            value = float(raw)
        except ValueError:
            return None, [_clip(f"{origin}: expected a number of km ({choices}), got {raw!r}")]
    else:
        return env_cfg["grid"]["resolution_km"], []  # checked by the env.yaml schema
    if isinstance(value, bool) or value not in GRID_KM_CHOICES:
        return None, [f"{origin}: grid resolution_km {value!r} is not one of {choices}"]
    return value, []


def load_settings(
    config_dir: Path | None = None,
    *,
    profile: str | None = None,
    grid_km: float | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Read, merge and validate the configuration; raises one ConfigError listing every problem.

    ``profile``, ``grid_km`` and ``config_dir`` are the command-line options (messages say
    so); leave them None to take the environment, ``.env`` and the YAML files in that order.
    """
    real_env = dict(os.environ if environ is None else environ)
    remember_secrets(secret_values(real_env))
    config_dir, dir_origin = _config_dir(config_dir, real_env)
    _check_config_dir(config_dir, dir_origin)
    project_root = config_dir.resolve().parent
    environment = _read_environment(real_env, project_root)
    env = environment.merged
    warnings = _variable_warnings(environment)

    problems: list[str] = []
    files: dict[str, dict] = {}
    hint = "fix the values named above"
    for name, schema in SCHEMAS.items():
        path = config_dir / name
        if not path.exists():
            data, file_problems = {}, []
            if name in REQUIRED_FILES:
                file_problems = [f"config folder {config_dir} ({dir_origin}) has no {name}"]
                hint = ("copy the missing file from the repository's config/ folder, or point --config-dir "
                        "at a complete config folder; fix any other value named above")
        else:
            data, file_problems = _read_yaml(path)
        file_problems = file_problems or _structure_problems(path, data) or _schema_problems(path, data, schema)
        problems += file_problems[:_MAX_PROBLEMS_PER_FILE]
        files[name] = _deep_merge(DEFAULTS[name], data) if not file_problems else copy.deepcopy(DEFAULTS[name])

    env_yaml = config_dir / "env.yaml"
    env_cfg = files["env.yaml"]
    roots: dict[str, Path] = {}
    for key, variable in _PATH_VARIABLES:
        origin = f"{env_yaml}: key paths.{key}"
        if environment.get(variable):
            env_cfg["paths"][key], origin = environment.get(variable), environment.origin(variable)
        try:
            if "\0" in env_cfg["paths"][key]:
                raise ValueError("a path cannot contain a NUL character")
            path = Path(env_cfg["paths"][key]).expanduser()  # "~nobody/x": RuntimeError
        except (ValueError, RuntimeError) as exc:
            problems.append(f"{origin}: {exc}")
            continue
        roots[key] = path if path.is_absolute() else project_root / path
    resolution_km, grid_problems = _grid_km(grid_km, environment, env_cfg)
    problems += grid_problems
    epoch = environment.get(SOURCE_DATE_EPOCH)
    if epoch is not None and not (epoch.isdigit() and int(epoch) <= _MAX_EPOCH):
        problems.append(_clip(f"{environment.origin(SOURCE_DATE_EPOCH)}: {_show(epoch)} is not a time in whole seconds "
                              f"since 1970-01-01 UTC (0..{_MAX_EPOCH}); it sets date_created in every artifact"))
        hint = "set SOURCE_DATE_EPOCH to e.g. $(date +%s), or unset it to stamp artifacts with the time of writing"
    webhook = environment.get(WEBHOOK_ENV)
    if webhook:
        why = webhook_problem(webhook)
        if why:
            problems.append(f"{environment.origin(WEBHOOK_ENV)}: not a usable webhook URL: {why} "
                            "(the value is a secret and is not shown)")
    if problems:
        raise ConfigError("; ".join(dict.fromkeys(problems)), hint=hint)

    if profile:
        profile_name, profile_origin = profile, "--profile option"
    elif environment.get(ENV_PREFIX + "PROFILE"):
        profile_name = environment.get(ENV_PREFIX + "PROFILE")
        profile_origin = environment.origin(ENV_PREFIX + "PROFILE")
    else:
        profile_name, profile_origin = env_cfg["profile"], f"{env_yaml}: key profile"
    profiles = env_cfg["profiles"]
    if not profiles:
        raise ConfigError(
            f"{env_yaml}: key profiles: no profile is defined; expected at least one (e.g. demo)",
            hint="copy the profiles: section from the repository's config/env.yaml",
        )
    if profile_name not in profiles:
        raise ConfigError(
            _clip(f"{profile_origin}: unknown profile {profile_name!r}; expected one of {', '.join(sorted(profiles))}"),
            hint=f"choose one of the profiles defined in {env_yaml}",
        )
    scenarios = files["scenarios.yaml"]
    _check_scenario_vessels(config_dir / "scenarios.yaml", scenarios)

    return Settings(
        project_root=project_root,
        config_dir=config_dir,
        data_root=roots["data"],
        reports_root=roots["reports"],
        outputs_root=roots["outputs"],
        profile=profile_name,
        synthetic=bool(profiles[profile_name]["synthetic"]),
        sources=profiles[profile_name]["sources"],
        grid=Grid.from_km(resolution_km),
        runtime=files["runtime.yaml"],
        scenarios=scenarios,
        env=env,
        warnings=tuple(warnings),
    )


def _check_scenario_vessels(path: Path, scenarios: dict) -> None:
    vessels = scenarios.get("vessels", {})
    unknown = [
        _clip(f"{path}: key scenarios.{_show(name)}.vessel: unknown vessel {spec['vessel']!r}; "
              f"expected one of {', '.join(sorted(vessels))}")
        for name, spec in scenarios.get("scenarios", {}).items()
        if spec["vessel"] not in vessels
    ]
    if unknown:
        raise ConfigError("; ".join(unknown[:_MAX_PROBLEMS_PER_FILE]), hint=f"name a vessel defined under vessels: in {path}")
