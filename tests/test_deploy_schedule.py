"""One schedule in config/runtime.yaml feeds systemd and Task Scheduler; the files are checked for real.

systemd-analyze verifies every unit (its stderr must stay empty: it exits 0 on a misspelt key),
parses every OnCalendar and scores the services' hardening; the Task XML is validated against
the published schema; every PowerShell file parses (tree-sitter-powershell).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from arcticroute.commands import COMMANDS
from arcticroute.config import DEFAULTS, load_settings
from arcticroute.errors import BadInputError, ConfigError

from .conftest import REPO, SHARED
from .test_deploy_tools import need, problem

DEPLOY = REPO / "deploy"
SYSTEMD = DEPLOY / "systemd"
SCHEDULE = DEPLOY / "schedule"
XSD = SHARED / "schemas" / "task-scheduler.xsd"
MAX_EXPOSURE = 4.0


def _render_module():
    spec = importlib.util.spec_from_file_location("render_schedule", DEPLOY / "render_schedule.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


render = _render_module()


def schedule() -> dict:
    return yaml.safe_load((REPO / "config" / "runtime.yaml").read_text(encoding="utf-8"))["schedule"]


@pytest.fixture(scope="module")
def units(tmp_path_factory) -> Path:
    """The units rendered for this checkout (its .venv exists, so ExecStart= points at real files)."""
    out = tmp_path_factory.mktemp("units")
    result = subprocess.run([sys.executable, str(DEPLOY / "render_schedule.py"), "--repo", str(REPO),
                             "--user", "arcticroute", "--out", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return out


# -- one definition ---------------------------------------------------------------------------

def test_the_checked_in_files_are_what_the_schedule_renders():
    result = subprocess.run([sys.executable, str(DEPLOY / "render_schedule.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr + "\n(run `just schedule` and commit the files)"
    rendered = {path.relative_to(REPO).as_posix() for path in render.checked_in()}
    on_disk = {p.relative_to(REPO).as_posix() for folder in (SYSTEMD, SCHEDULE) for p in folder.iterdir()
               if p.name not in ("register_tasks.ps1", "unregister_tasks.ps1")}
    assert on_disk == rendered, "a file in deploy/ that the schedule no longer renders"


def test_the_built_in_default_is_the_yaml_schedule_and_health_checks_its_jobs():
    jobs = schedule()
    assert DEFAULTS["runtime.yaml"]["schedule"] == jobs
    assert sorted(jobs) == sorted(DEFAULTS["runtime.yaml"]["health"]["timers"]) == ["daily", "gc"]
    assert load_settings(environ={}).runtime["schedule"] == jobs


def test_every_step_is_a_registered_command_and_the_chain_is_in_order():
    names = {info.name for info in COMMANDS}
    jobs = schedule()
    for job in jobs.values():
        assert {step.split()[0] for step in job["steps"]} <= names
    assert [s.split()[0] for s in jobs["daily"]["steps"]] == [
        "health.check", "ingest.nrt.pull", "risk.fuse", "route.plan", "report.build"]
    # yesterday's month (the 1st finishes the month before), three days back (a lost day is
    # retried), and the ice forecast past the newest day
    assert jobs["daily"]["steps"][1].endswith("--ym -P1D --since -P3D --forecast")
    assert all(jobs["daily"]["steps"][i].endswith("--ym -P1D") for i in (2, 4))
    assert [s.split()[0] for s in jobs["gc"]["steps"]] == ["catalog.gc", "cache.gc"]  # as `just gc`


def test_both_schedulers_run_the_same_steps_at_the_same_time():
    for name, job in schedule().items():
        service = (SYSTEMD / f"arcticroute-{name}.service").read_text()
        execs = [line.split("/.venv/bin/arcticroute ", 1)[1] for line in service.splitlines()
                 if line.startswith("ExecStart=")]
        assert execs == job["steps"]
        ps1 = (SCHEDULE / f"{job['windows_script']}.ps1").read_bytes().decode("ascii")
        steps = [" ".join(re.findall(r"'([^']*)'", line)) for line in ps1.splitlines()
                 if line.strip().startswith("Invoke-Step @(")]
        assert steps == job["steps"]
        timer = (SYSTEMD / f"arcticroute-{name}.timer").read_text()
        assert f"OnCalendar=*-*-* {job['at']}:00" in timer
        assert f"RandomizedDelaySec={job['random_delay_minutes']}min" in timer
        xml = (SCHEDULE / f"{job['windows_script']}.xml").read_bytes().decode("utf-16")
        assert f"<StartBoundary>2025-01-01T{job['at']}:00</StartBoundary>" in xml
        assert f"<URI>\\ArcticRoute\\{name}</URI>" in xml  # the name health.check asks Task Scheduler for


def test_a_bad_schedule_is_refused_with_file_and_key(tmp_path):
    config = tmp_path / "config"
    shutil.copytree(REPO / "config", config)
    runtime = yaml.safe_load((config / "runtime.yaml").read_text())
    runtime["schedule"]["daily"]["at"] = "25:00"
    runtime["schedule"]["gc"]["steps"] = ["cache.gc; rm -rf /"]
    (config / "runtime.yaml").write_text(yaml.safe_dump(runtime))
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={})
    assert "key schedule.daily.at" in str(caught.value) and "key schedule.gc.steps.0" in str(caught.value)
    runtime["schedule"]["daily"]["at"] = "05:00"
    runtime["schedule"]["gc"]["steps"] = ["cache.purge --all"]
    (config / "runtime.yaml").write_text(yaml.safe_dump(runtime))
    result = subprocess.run([sys.executable, str(DEPLOY / "render_schedule.py"), "--check", "--config-dir", str(config)],
                            capture_output=True, text=True)
    assert result.returncode == 1 and "schedule.gc: unknown command(s) cache.purge" in result.stderr


def test_weekdays_render_for_both_schedulers():
    job = render.jobs_from({"weekly": {"at": "03:15", "days": ["Sun", "Wed"], "windows_script": "weekly",
                                       "steps": ["health.check --json"]}})[0]
    assert job.on_calendar == "Wed,Sun *-*-* 03:15:00"
    xml = render.task_xml(job)
    assert "<Wednesday />" in xml and "<Sunday />" in xml and "<WeeksInterval>1</WeeksInterval>" in xml


# -- systemd ------------------------------------------------------------------------------------

def test_systemd_analyze_verify_is_silent_on_every_unit(units):
    need("systemd", problem("systemd"))
    for unit in sorted(units.iterdir()):
        result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, cwd=units)
        assert result.returncode == 0 and result.stderr == "", f"{unit.name}: {result.stderr}"


def test_systemd_analyze_verify_does_catch_a_misspelt_key(units, tmp_path):
    need("systemd", problem("systemd"))
    broken = tmp_path / "arcticroute-daily.service"
    broken.write_text((units / "arcticroute-daily.service").read_text().replace("ProtectSystem=", "ProtectSytem="))
    result = subprocess.run(["systemd-analyze", "verify", str(broken)], capture_output=True, text=True)
    assert "ProtectSytem" in result.stderr  # and exit 0: hence stderr is what the test above reads


def test_every_on_calendar_parses():
    need("systemd", problem("systemd"))
    for timer in sorted(SYSTEMD.glob("*.timer")):
        spec = next(line.split("=", 1)[1] for line in timer.read_text().splitlines() if line.startswith("OnCalendar="))
        result = subprocess.run(["systemd-analyze", "calendar", spec], capture_output=True, text=True)
        assert result.returncode == 0 and "Next elapse:" in result.stdout, f"{timer.name}: {result.stderr}"
        text = timer.read_text()
        assert "Persistent=true" in text and "RandomizedDelaySec=" in text


def test_services_are_hardened_to_an_exposure_of_at_most_4(units, capsys):
    need("systemd", problem("systemd"))
    scores = {}
    for unit in sorted(units.glob("*.service")):
        result = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager", str(unit)],
                                capture_output=True, text=True, cwd=units)
        match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
        assert match, result.stdout[-500:] + result.stderr
        scores[unit.name] = float(match.group(1))
    with capsys.disabled():  # shown in CI's log, not captured
        print("\nsystemd-analyze security --offline exposure:", json.dumps(scores))
    assert scores and all(score <= MAX_EXPOSURE for score in scores.values()), scores


def test_units_are_oneshot_with_timeout_alert_lock_exit_and_env_file():
    for name, job in schedule().items():
        text = (SYSTEMD / f"arcticroute-{name}.service").read_text()
        for line in ("Type=oneshot", f"TimeoutStartSec={job['timeout_minutes']}min", "SuccessExitStatus=75",
                     "OnFailure=arcticroute-alert@%n.service", "EnvironmentFile=-/opt/arcticroute/.env",
                     "User=arcticroute", "ProtectSystem=strict", "NoNewPrivileges=yes", "PrivateTmp=yes"):
            assert f"\n{line}\n" in text, f"{name}: {line}"
    alert = (SYSTEMD / "arcticroute-alert@.service").read_text()
    assert "deploy/job_alert.py --unit %i" in alert


def test_the_alert_unit_script_writes_an_alert_file(roots):
    result = subprocess.run([sys.executable, str(DEPLOY / "job_alert.py"), "--job", "daily", "--why",
                             'step "arcticroute risk.fuse --ym current" failed with exit code 1'],
                            capture_output=True, text=True, env={**os.environ, **roots.env}, cwd=REPO)
    assert result.returncode == 0, result.stderr
    files = list((roots.outputs / "alerts").glob("*_error_schedule.daily.json"))
    assert len(files) == 1
    alert = json.loads(files[0].read_text())
    assert alert["what"] == "the scheduled job daily failed" and "risk.fuse" in alert["why"]
    assert "task.daily.log" in alert["hint"]


def test_timers_install_refuses_clearly_where_systemd_does_not_run():
    need("just", problem("just"))
    if Path("/run/systemd/system").is_dir():
        pytest.skip("systemd runs here: timers-install would really install the units")
    result = subprocess.run([shutil.which("just"), "timers-install"], cwd=REPO, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 1
    assert "error: systemd does not run here" in result.stderr
    assert not list(Path("/etc/systemd/system").glob("arcticroute-*"))


# -- Windows ------------------------------------------------------------------------------------

def test_task_xml_is_utf16le_with_bom_and_valid_against_the_published_schema():
    need("xmlschema", problem("xmlschema"))
    import xmlschema

    if not XSD.exists():
        pytest.fail(f"{XSD} is missing (../shared is laid beside the checkout)")
    schema = xmlschema.XMLSchema(str(XSD))
    files = sorted(SCHEDULE.glob("*.xml"))
    assert [f.stem for f in files] == sorted(job["windows_script"] for job in schedule().values())
    for path in files:
        data = path.read_bytes()
        assert data[:2] == b"\xff\xfe", f"{path.name}: no UTF-16LE byte order mark"
        text = data[2:].decode("utf-16-le")
        assert text.startswith('<?xml version="1.0" encoding="UTF-16"?>')
        schema.validate(text)
        for setting in ("<MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>",
                        "<StartWhenAvailable>true</StartWhenAvailable>", "<ExecutionTimeLimit>PT",
                        "<RestartOnFailure>", render.HOME_TOKEN):
            assert setting in text, f"{path.name}: {setting}"


def _powershell_parser():
    need("powershell", problem("powershell"))
    import tree_sitter
    import tree_sitter_powershell

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))


def _syntax_errors(parser, source: bytes) -> list[str]:
    errors = []

    def walk(node):
        if node.type == "ERROR" or node.is_missing:
            errors.append(f"line {node.start_point[0] + 1}: {source[node.start_byte:node.end_byte][:80]!r}")
            return
        for child in node.children:
            walk(child)

    walk(parser.parse(source).root_node)
    return errors


def test_every_powershell_script_parses():
    parser = _powershell_parser()
    assert _syntax_errors(parser, b"if ($x -eq 1 {\n  Write-Output 'x'\n") != []  # the parser does see errors
    scripts = sorted(REPO.rglob("*.ps1"))
    scripts = [s for s in scripts if ".venv" not in s.parts]
    assert {s.name for s in scripts} >= {"pull_nrt_daily.ps1", "gc_daily.ps1", "register_tasks.ps1", "unregister_tasks.ps1"}
    for script in scripts:
        source = script.read_bytes()
        source.decode("ascii")  # Windows PowerShell 5.1 reads a file without BOM as the ANSI code page
        assert _syntax_errors(parser, source) == [], script
        text = source.decode("ascii")
        assert "Set-StrictMode -Version Latest" in text and "$ErrorActionPreference = 'Stop'" in text, script
        assert re.search(r"^exit ", text, re.M), f"{script}: no explicit exit code"


def test_generated_task_scripts_check_every_step_and_keep_a_transcript():
    for job in schedule().values():
        text = (SCHEDULE / f"{job['windows_script']}.ps1").read_bytes().decode("ascii")
        assert text.count("Invoke-Step @(") == len(job["steps"])
        assert "$code = $LASTEXITCODE" in text and "-eq 75" in text
        assert "Start-Transcript" in text and "'logs'" in text
        assert "$PSScriptRoot" in text and "C:\\" not in text  # the checkout is found, not named


def _recipes(justfile: str) -> list[tuple[str, set[str], str]]:
    """(name, attributes, body) of every recipe, in order."""
    recipes, attributes, lines, i = [], set(), justfile.splitlines(), 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("[") and line.endswith("]"):
            attributes.add(line)
        elif re.match(r"^[a-z][\w-]*( [^:=]*)?:( |$)", line):
            body = []
            while i + 1 < len(lines) and lines[i + 1].startswith("    "):
                i += 1
                body.append(lines[i][4:])
            recipes.append((line.split()[0].rstrip(":"), attributes, "\n".join(body) + "\n"))
            attributes = set()
        elif not line.startswith("#"):
            attributes = set()
        i += 1
    return recipes


def test_the_justfiles_windows_recipes_parse_as_powershell_and_each_has_a_unix_twin():
    parser = _powershell_parser()
    recipes = _recipes((REPO / "justfile").read_text())
    windows = {name: body for name, attributes, body in recipes if "[windows]" in attributes}
    unix = {name for name, attributes, _ in recipes if attributes & {"[unix]", "[linux]"}}
    assert {"setup", "pull", "gc", "health", "serve", "up", "down", "logs", "container", "schedule",
            "timers-install", "timers-uninstall"} <= set(windows)
    assert set(windows) == unix, "the same words on both systems"
    for name, body in windows.items():
        assert "$@" not in body and "{{py}}" not in body, name
        assert _syntax_errors(parser, body.encode()) == [], f"just {name}: {body}"


# -- hostile paths and values ---------------------------------------------------------------------

HOSTILE_NAMES = ['a b/%h/"q"/ü', "it's & $HOME", "back\\slash %i %% $$ x", "ä ö/€ semi;colon"]


def _systemd_words(value: str, cunescape: bool) -> list[str]:
    """How systemd splits a setting into words (extract_first_word with EXTRACT_UNQUOTE, and
    EXTRACT_CUNESCAPE for ExecStart= or EXTRACT_RETAIN_ESCAPE for path lists), then resolves
    specifiers (%% only: the rendered units use no other but %i) and, for commands, $$."""
    words, word, quote, i, started = [], [], "", 0, False
    while i < len(value):
        c = value[i]
        if c == "\\" and cunescape:
            nxt = value[i + 1]
            word.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
            i += 2
            started = True
            continue
        if quote:
            if c == quote:
                quote = ""
            else:
                word.append(c)
        elif c in "\"'":
            quote, started = c, True
        elif c.isspace():
            if started:
                words.append("".join(word))
            word, started = [], False
        else:
            word.append(c)
            started = True
        i += 1
    assert not quote, f"unbalanced quote in {value!r}"
    if started:
        words.append("".join(word))
    out = []
    for w in words:
        w = re.sub(r"%(.)", lambda m: "%" if m.group(1) == "%" else m.group(0), w)
        out.append(w.replace("$$", "$") if cunescape else w)
    return out


def _hostile_checkout(base: Path, name: str) -> tuple[Path, dict[str, Path]]:
    """A checkout at base/<name> with the config, executables .venv/bin/{arcticroute,python} and a
    .env moving every data root to a folder named like the checkout."""
    repo = base / name / "checkout"
    shutil.copytree(REPO / "config", repo / "config")
    (repo / ".venv" / "bin").mkdir(parents=True)
    for tool in ("arcticroute", "python"):
        (repo / ".venv" / "bin" / tool).write_text("#!/bin/sh\n")
        (repo / ".venv" / "bin" / tool).chmod(0o755)
    roots = {key: base / name / f"{key} root" for key in ("data", "reports", "outputs")}
    (repo / ".env").write_text("".join(f"ARCTICROUTE_{key.upper()}='{path}'\n" for key, path in roots.items()
                                       if "'" not in str(path)) +
                               "".join(f'ARCTICROUTE_{key.upper()}="{path}"\n' for key, path in roots.items()
                                       if "'" in str(path)))
    return repo, roots


def _render(repo: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(DEPLOY / "render_schedule.py"), "--repo", str(repo), "--user",
                           "arcticroute", "--out", str(out), *extra], capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items() if not k.startswith("ARCTICROUTE_")})


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_units_for_a_hostile_checkout_path_pass_systemd_analyze_verify_and_mean_the_paths(tmp_path, name):
    need("systemd", problem("systemd"))
    repo, roots = _hostile_checkout(tmp_path, name)
    out = tmp_path / "units"
    result = _render(repo, out)
    assert result.returncode == 0, result.stderr
    for unit in sorted(out.iterdir()):
        check = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, cwd=out)
        assert check.returncode == 0 and check.stderr == "", f"{unit.name}: {check.stderr}\n{unit.read_text()}"
    daily = (out / "arcticroute-daily.service").read_text().splitlines()
    settings = {}
    for line in daily:
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            settings.setdefault(key, []).append(value)
    repo_text = str(repo.resolve())
    assert settings["WorkingDirectory"] == [repo_text.replace("%", "%%")]
    assert settings["EnvironmentFile"] == ["-" + f"{repo_text}/.env".replace("%", "%%")]
    for value, step in zip(settings["ExecStart"], schedule()["daily"]["steps"], strict=True):
        argv = _systemd_words(value, cunescape=True)
        if argv[0] == "/usr/bin/env":
            argv = argv[1:]
        assert argv == [f"{repo_text}/.venv/bin/arcticroute", *step.split(" ")], value
    listed = _systemd_words(settings["ReadWritePaths"][0], cunescape=False)
    assert listed == [f"-{roots[k]}" for k in ("data", "reports", "outputs")]
    description = settings["Description"][0].replace("%%", "%")
    assert description == schedule()["daily"]["description"]


@pytest.mark.parametrize("where", ["repo", "data root", "user"])
def test_a_control_character_in_a_path_or_value_is_refused_with_exit_2(tmp_path, where):
    repo, _ = _hostile_checkout(tmp_path, "plain")
    out = tmp_path / "units"
    extra = []
    if where == "repo":
        bad = tmp_path / "new\nline"
        shutil.copytree(repo, bad)
        repo = bad
    elif where == "data root":
        (repo / ".env").write_text('ARCTICROUTE_DATA="/srv/data\\n[Service]\\nExecStartPre=/bin/rm -rf /"\n')
    else:
        extra = ["--user", "root\nExecStartPre=/bin/sh"]
    result = _render(repo, out, *extra)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "Error:" in result.stderr
    assert ("control character" in result.stderr and "U+000A (newline)" in result.stderr) or \
        "is not a name systemd accepts" in result.stderr
    assert not out.exists() or not list(out.iterdir())


def _parsed_literal(parser, literal: str) -> str:
    """The value PowerShell gives ``literal``, read from the parse tree: the one string literal
    node must span it exactly; its quotes are then undone by PowerShell's rule (a doubled quote
    of any of the four single-quote characters is one)."""
    source = f"$x = {literal}\n".encode()
    assert _syntax_errors(parser, source) == [], literal
    nodes = []

    def walk(node):
        if "string" in node.type and node.type.endswith("literal"):
            nodes.append(node)
            return
        for child in node.children:
            walk(child)

    walk(parser.parse(source).root_node)
    assert len(nodes) == 1 and source[nodes[0].start_byte:nodes[0].end_byte].decode() == literal, literal
    body, out, i = literal[1:-1], [], 0
    quotes = "'\u2018\u2019\u201a\u201b"
    while i < len(body):
        out.append(body[i])
        i += 2 if body[i] in quotes and i + 1 < len(body) and body[i + 1] in quotes else 1
    return "".join(out)


@pytest.mark.parametrize("value", ["C:\\a b\\it's", "$(Remove-Item C:\\)", "a & b | c; d", "`n back`tick",
                                   "ü€ \u2019curly\u2018 quotes\u201b", "''", "%USERPROFILE%", '"double"'])
def test_powershell_literals_mean_what_they_quote(value):
    from arcticroute.ops.unit_syntax import ps_quote

    parser = _powershell_parser()
    assert _parsed_literal(parser, ps_quote(value, "test")) == value


def test_task_files_carry_hostile_descriptions_escaped(tmp_path):
    need("xmlschema", problem("xmlschema"))
    import xml.etree.ElementTree as ET

    import xmlschema

    text = "Nightly <chain> & \"pull\" 'it' for ü/€ %h $HOME"
    job = render.jobs_from({"weird": {"at": "03:15", "windows_script": "weird", "description": text,
                                      "steps": ["health.check --json"]}})[0]
    files = render.windows_files([job])
    xml = files["weird.xml"][2:].decode("utf-16-le")
    xmlschema.XMLSchema(str(XSD)).validate(xml)
    ns = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
    assert ET.fromstring(xml.split("?>", 1)[1]).find("t:RegistrationInfo/t:Description", ns).text == text
    script = files["weird.ps1"]
    assert script[:3] == b"\xef\xbb\xbf"  # non-ASCII: UTF-8 with a byte order mark for Windows PowerShell 5.1
    parser = _powershell_parser()
    assert _syntax_errors(parser, script[3:]) == []
    unit = render.service_unit(job, "/opt/arcticroute", "arcticroute", render.default_roots(REPO / "config", "/opt/x"))
    assert f"Description={text.replace('%', '%%')}\n" in unit
    for bad in ("two\nlines", "tab\there", "nul\0", "ends in a backslash\\"):
        with pytest.raises(BadInputError) as caught:
            odd = render.jobs_from({"weird": {"at": "03:15", "windows_script": "weird", "description": bad,
                                              "steps": ["health.check"]}})[0]
            render.task_xml(odd) if "backslash" not in bad else render.timer_unit(odd)
        assert "control character" in str(caught.value) or "would join the unit's next line" in str(caught.value)
