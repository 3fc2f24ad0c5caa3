"""The justfile through `just` itself: arguments and $PYTHON never become shell text, setup's checks.

Most tests run the recipes with --no-deps in a temporary working directory whose
`.venv/bin/python` is a stand-in that records its arguments, so they show exactly which
words reach each script without touching the repository's .venv or data.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO, make_roots

JUST = shutil.which("just")
pytestmark = pytest.mark.skipif(JUST is None, reason="`just` is not on PATH (pip install rust-just)")

# Shell syntax that must arrive as plain text: separators, substitutions, quotes, newlines.
PAYLOADS = {
    "semicolon": "all;touch {marker}",
    "and": "all && touch {marker}",
    "dollar-paren": "$(touch {marker})",
    "backticks": "`touch {marker}`",
    "newline": "all\ntouch {marker}",
    "quotes": "all' ; touch {marker} ; echo '",
    "double-quotes": 'all" ; touch {marker} ; echo "',
}


def just(*args: str, cwd: Path, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([JUST, "--justfile", str(REPO / "justfile"), "--working-directory", str(cwd), *args],
                          capture_output=True, text=True, env=env, timeout=timeout)


@pytest.fixture
def env(tmp_path) -> dict:
    """The caller's environment with the data roots in tmp_path and the demo profile."""
    made = make_roots(tmp_path / "roots")
    return {**os.environ, **made.env}


@pytest.fixture
def recorder(tmp_path, env):
    """A working directory whose .venv/bin/python only records its argv; returns a runner."""
    work = tmp_path / "work"
    (work / ".venv" / "bin").mkdir(parents=True)
    log = tmp_path / "argv.jsonl"
    fake = work / ".venv" / "bin" / "python"
    fake.write_text(f"#!{sys.executable}\nimport json, sys\n"
                    f"with open({str(log)!r}, 'a') as f:\n"
                    "    f.write(json.dumps(sys.argv[1:]) + '\\n')\n")
    fake.chmod(0o755)

    def run(*args: str) -> list[list[str]]:
        log.unlink(missing_ok=True)
        result = just("--no-deps", *args, cwd=work, env=env)
        assert result.returncode == 0, result.stderr
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    return run


@pytest.mark.parametrize("recipe, prefix", [
    ("pull", ["scripts/ingest_nrt_pull.py"]),
    ("fuse", ["scripts/risk_fuse.py"]),
    ("route", ["scripts/route_plan.py"]),
    ("report", ["scripts/report_build.py"]),
    ("catalog", ["scripts/catalog_show.py", "--verify"]),
    ("repair", ["scripts/catalog_verify.py", "--repair"]),
    ("test", ["-m", "pytest"]),
    ("bench", ["bench/route_bench.py"]),
    ("bench-verify", ["bench/verify_bench.py"]),
])
def test_every_argument_reaches_the_script_as_one_word(recorder, tmp_path, recipe, prefix):
    marker = tmp_path / "MARKER"
    words = ["--ym", "two words", "it's \"quoted\"", "$HOME", "*", "",
             *(p.format(marker=marker) for p in PAYLOADS.values())]
    assert recorder(recipe, *words) == [[*prefix, *words]]
    assert recorder(recipe, "--help") == [[*prefix, "--help"]]
    assert not marker.exists()


def test_route_without_arguments_plans_every_scenario(recorder):
    assert recorder("route") == [["scripts/route_plan.py", "--scenario", "all"]]
    assert recorder("route", "--date", "latest") == [["scripts/route_plan.py", "--date", "latest"]]


def test_daily_runs_the_four_steps(recorder):
    assert recorder("daily") == [
        ["scripts/ingest_nrt_pull.py", "--ym", "current", "--forecast"],
        ["scripts/risk_fuse.py", "--ym", "current"],
        ["scripts/route_plan.py", "--scenario", "all", "--date", "latest"],
        ["scripts/report_build.py", "--ym", "current"],
    ]


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_route_scenario_is_not_shell_text(tmp_path, env, payload):
    """Through the real route.plan: the value is rejected as an unknown scenario, nothing runs."""
    marker = tmp_path / "MARKER"
    value = payload.format(marker=marker)
    result = just("--no-deps", "route", "--scenario", value, cwd=REPO, env=env)
    assert result.returncode == 2, result.stderr
    assert "unknown scenario" in result.stderr
    assert not marker.exists()


def test_a_value_with_spaces_and_quotes_arrives_whole(tmp_path, env):
    value = "two words; 'q' $x"
    result = just("--no-deps", "route", "--scenario", value, cwd=REPO, env=env)
    assert result.returncode == 2, result.stderr
    assert f'unknown scenario "{value}"' in result.stderr or f"unknown scenario {value!r}" in result.stderr
    assert not any((tmp_path / "roots").rglob("*.geojson"))


def _setup(python: str, tmp_path: Path, env: dict) -> subprocess.CompletedProcess:
    # An empty working directory: setup must stop at the interpreter check, before any .venv.
    work = tmp_path / "empty"
    work.mkdir(exist_ok=True)
    result = just("setup", cwd=work, env={**env, "PYTHON": python})
    assert not (work / ".venv").exists()
    return result


@pytest.mark.parametrize("python, shown, why", [
    ("/nonexistent", "/nonexistent", "not found"),
    ("python3; touch {marker}", "'python3; touch {marker}'", "not found"),
    ("$(touch {marker})", "'$(touch {marker})'", "not found"),
    ("python3\ntouch {marker}", "$'python3\\ntouch {marker}'", "not found"),
    ("/bin/false", "/bin/false", "it does not run"),
])
def test_setup_refuses_a_bad_python_in_one_line(tmp_path, env, python, shown, why):
    marker = tmp_path / "MARKER"
    result = _setup(python.format(marker=marker), tmp_path, env)
    assert result.returncode == 2
    assert result.stderr == (f"error: PYTHON={shown.format(marker=marker)} is not a Python >= 3.11 "
                             f"interpreter ({why}); set PYTHON=/path/to/python3.11\n")
    assert not marker.exists()


def test_setup_names_a_too_old_python_run_as_one_word(tmp_path, env):
    old = tmp_path / "dir with space" / "python3.9"
    old.parent.mkdir()
    old.write_text("#!/bin/sh\necho 3.9.18\n")
    old.chmod(0o755)
    result = _setup(str(old), tmp_path, env)
    assert result.returncode == 2
    assert result.stderr == (f"error: PYTHON='{old}' is not a Python >= 3.11 interpreter "
                             "(it is Python 3.9.18); set PYTHON=/path/to/python3.11\n")


# --- the .venv completeness check (the `venv_check` snippet setup runs with .venv/bin/python) ---

@pytest.fixture(scope="module")
def venv_check() -> str:
    if JUST is None:
        pytest.skip("`just` is not on PATH")
    result = subprocess.run([JUST, "--justfile", str(REPO / "justfile"), "--evaluate", "venv_check"],
                            capture_output=True, text=True, check=True)
    return result.stdout


def check(snippet: str, requirements: Path, cwd: Path = REPO, pythonpath: Path | None = None):
    env = {**os.environ, "PYTHONPATH": str(pythonpath)} if pythonpath else None
    result = subprocess.run([sys.executable, "-c", snippet, str(requirements)], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=30)
    lines = result.stdout.splitlines()
    return result.returncode, (lines[0] if lines else ""), lines[1:]


def test_check_passes_on_pins_that_are_installed(venv_check, tmp_path):
    from importlib.metadata import version
    (tmp_path / "base.txt").write_text(f"click=={version('click')}\n")
    reqs = tmp_path / "reqs.txt"
    reqs.write_text(f"# comment\n-r base.txt\npytest=={version('pytest')}  # pinned\n"
                    'not-a-real-distribution-xyz==1.0; sys_platform == "no-such-platform"\n')
    assert check(venv_check, reqs) == (0, "", [])


def test_check_names_missing_and_wrong_pins(venv_check, tmp_path):
    from importlib.metadata import version
    reqs = tmp_path / "reqs.txt"
    reqs.write_text(f"click=={version('click')}\npytest==0.0.1\nnot-a-real-distribution-xyz==1.0\n")
    code, summary, pins = check(venv_check, reqs)
    assert code == 1
    assert summary == (f"missing: not-a-real-distribution-xyz; "
                       f"wrong version: pytest {version('pytest')}, pinned 0.0.1")
    assert pins == ["pytest==0.0.1", "not-a-real-distribution-xyz==1.0"]


def test_check_reads_a_hash_lock_and_gives_whole_lines_to_reinstall(venv_check, tmp_path):
    """uv's layout: continuation lines, hashes, markers, `# via` comments; a package to reinstall
    comes back as one requirement line with its hashes, so the reinstall is hash-checked too."""
    from importlib.metadata import version
    a, b, c = "a" * 64, "b" * 64, "c" * 64
    reqs = tmp_path / "reqs.txt"
    reqs.write_text("# This file was autogenerated by uv via the following command:\n"
                    f"click=={version('click')} \\\n    --hash=sha256:{a}\n    # via -r requirements.in\n"
                    f"pytest==0.0.1 \\\n    --hash=sha256:{b} \\\n    --hash=sha256:{c}\n"
                    "    # via\n    #   -r requirements-dev.in\n"
                    f"not-a-real-distribution-xyz==1.0 ; sys_platform == 'no-such-platform' \\\n"
                    f"    --hash=sha256:{a}\n")
    assert check(venv_check, reqs) == (1, f"wrong version: pytest {version('pytest')}, pinned 0.0.1",
                                       [f"pytest==0.0.1 --hash=sha256:{b} --hash=sha256:{c}"])


def test_check_finds_a_package_whose_files_were_deleted(venv_check, tmp_path):
    """pip believes a package whose metadata survived is installed; the check does not."""
    site = tmp_path / "site"
    info = site / "fakepkg-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fakepkg\nVersion: 1.0\n")
    (info / "RECORD").write_text("fakepkg/__init__.py,,\nfakepkg-1.0.dist-info/METADATA,,\n"
                                 "fakepkg-1.0.dist-info/RECORD,,\n../../bin/fakepkg,,\n")
    reqs = tmp_path / "reqs.txt"
    reqs.write_text("fakepkg==1.0\n")
    assert check(venv_check, reqs, pythonpath=site) == (1, "missing: fakepkg", ["fakepkg==1.0"])
    (site / "fakepkg").mkdir()
    (site / "fakepkg" / "__init__.py").write_text("")
    assert check(venv_check, reqs, pythonpath=site) == (0, "", [])


def test_check_wants_arcticroute_from_this_checkout(venv_check, tmp_path):
    reqs = tmp_path / "reqs.txt"
    reqs.write_text("")
    assert check(venv_check, reqs, cwd=tmp_path) == (1, "missing: arcticroute (from ./lib)", [])
    assert check(venv_check, reqs) == (0, "", [])


def test_just_catalog_json_is_one_json_document(env):
    result = just("catalog", "--json", cwd=REPO, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


# --- bytecode: what `just setup` compiles ahead (PYTHONDONTWRITEBYTECODE=1 never writes any) ---

VENV_PYTHON = REPO / ".venv" / "bin" / "python"
PROBE = Path(__file__).with_name("bytecode_probe.py")


def probe(python: Path | str, *, env: dict | None = None) -> dict:
    result = subprocess.run([str(python), str(PROBE)], capture_output=True, text=True, timeout=300,
                            env={**(env or os.environ), "PYTHONDONTWRITEBYTECODE": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.skipif(not VENV_PYTHON.exists(), reason="no .venv here (run just setup)")
def test_after_setup_commands_import_every_module_from_bytecode():
    """A lost or stale .pyc of the project is compiled again by the next `just` run; then the
    modules the commands and the UI import (the libraries too) compile nothing from source."""
    from importlib.util import cache_from_source

    module = REPO / "lib" / "arcticroute" / "ncread.py"
    Path(cache_from_source(str(module))).unlink(missing_ok=True)
    setup = just("setup", cwd=REPO, timeout=600)
    assert setup.returncode == 0, setup.stderr
    assert Path(cache_from_source(str(module))).exists()
    missing = [str(p.relative_to(REPO)) for d in ("lib", "scripts", "apps") for p in (REPO / d).rglob("*.py")
               if not Path(cache_from_source(str(p))).exists()]
    assert missing == []
    found = probe(VENV_PYTHON)
    assert found["dont_write_bytecode"] is True and found["modules"] > 500
    assert found["compiled"] == []


def test_a_stale_pyc_after_an_edit_is_compiled_again_not_run(tmp_path):
    """Bytecode records its source's mtime and size: an edited module runs as edited, even where
    PYTHONDONTWRITEBYTECODE=1 keeps the stale .pyc on disk."""
    package = tmp_path / "edited"
    package.mkdir()
    source = package / "mod.py"
    source.write_text("VALUE = 1\n")
    os.utime(source, (1_700_000_000, 1_700_000_000))
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)
    source.write_text("VALUE = 22\n")
    os.utime(source, (1_700_000_100, 1_700_000_100))
    code = ("import importlib.machinery as m, json\ncompiled = []\nreal = m.SourceFileLoader.source_to_code\n"
            "m.SourceFileLoader.source_to_code = lambda self, data, path, *a, **k: compiled.append(path) "
            "or real(self, data, path, *a, **k)\nimport mod\nprint(json.dumps([mod.VALUE, compiled]))\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=package, capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert json.loads(result.stdout) == [22, [str(source)]]
