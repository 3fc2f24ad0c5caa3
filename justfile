# ArcticRoute: the single entry layer. Every task a person, a timer or CI runs is a recipe here.
# `just` lists them; `just demo` then `just test` is all a newcomer needs.

set shell := ["bash", "-euo", "pipefail", "-c"]

# Recipe arguments reach the scripts as separate words, exactly as typed ("$@"): no value a
# person or the environment supplies is ever pasted into shell text. ($0 is the recipe name.)
set positional-arguments

# On Windows, recipes run in PowerShell 7.4+ (pwsh), whose -CommandWithArgs hands the arguments
# over as $args (the recipe name first), never as text. Where the commands differ a recipe has a
# [unix] or [linux] form and a [windows] twin: the same words on both systems.
set windows-shell := ["pwsh.exe", "-NoLogo", "-NoProfile", "-NonInteractive", "-CommandWithArgs"]

# The interpreter that creates .venv comes from $PYTHON (default python3, Python >= 3.11);
# `setup` reads it as "$PYTHON" inside its script, never through {{...}} interpolation.
py := ".venv/bin/python"

# Prints what is missing from .venv (run with .venv/bin/python from the repository root, the
# requirements file as its argument): line 1 a summary, then one requirement line per package to
# reinstall (its pin and the lock's hashes); exit 1 if anything is missing. Metadata, a stat per
# top-level entry and one import: ~0.1 s.
venv_check := '''
import os
import re
import sys
from importlib import metadata
from pathlib import Path

try:
    from packaging.markers import Marker
    from packaging.version import Version
except Exception:
    Marker = Version = None


def logical_lines(path):
    """The file's lines as pip reads them: comments dropped, "\\" continuations joined."""
    joined = ""
    for raw in path.read_text().splitlines():
        line = re.sub(r"(^|\s)#.*", "", raw).rstrip()
        if line.endswith("\\"):
            joined += line[:-1] + " "
            continue
        yield (joined + line).strip()
        joined = ""
    yield joined.strip()


def pins(path, seen):
    path = Path(path).resolve()
    if path in seen:
        return
    seen.add(path)
    for line in logical_lines(path):
        if line.startswith(("-r ", "--requirement ")):
            yield from pins(path.parent / line.split(None, 1)[1].strip(), seen)
        elif "==" in line and not line.startswith("-"):
            req, _, marker = line.split(" --")[0].partition(";")
            if marker.strip() and Marker is not None and not Marker(marker).evaluate():
                continue
            name, _, version = req.partition("==")
            hashes = "".join(f" --hash={h}" for h in re.findall(r"--hash[=\s]\s*(\S+)", line))
            yield name.split("[")[0].strip(), version.strip(), hashes


def same(installed, pinned):
    try:
        return installed == pinned or (Version and Version(installed) == Version(pinned))
    except Exception:
        return False


def files_present(dist):
    tops = {f.parts[0] for f in dist.files or () if f.parts and f.parts[0] != ".."}
    tops = {t for t in tops if not t.endswith((".dist-info", ".egg-info")) and t != "__pycache__"}
    return all(os.path.lexists(dist.locate_file(t)) for t in tops)


def main():
    missing, wrong, reinstall = [], [], []
    for name, version, hashes in pins(sys.argv[1], set()):
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
        else:
            if not same(dist.version, version):
                wrong.append(f"{name} {dist.version}, pinned {version}")
            elif not files_present(dist):
                missing.append(name)
            else:
                continue
        reinstall.append(f"{name}=={version}{hashes}")
    try:
        import arcticroute
        here = Path(arcticroute.__file__).resolve().is_relative_to(Path("lib").resolve())
    except Exception:
        here = False
    if not here:
        missing.append("arcticroute (from ./lib)")
    return missing, wrong, reinstall


try:
    missing, wrong, reinstall = main()
except Exception as exc:
    print(f"the check failed: {exc!r}")
    sys.exit(1)
if missing or wrong:
    parts = [f"missing: {', '.join(missing)}"] if missing else []
    parts += [f"wrong version: {'; '.join(wrong)}"] if wrong else []
    print("; ".join(parts))
    for pin in reinstall:
        print(pin)
    sys.exit(1)
'''

# Shell functions that `setup` and `lock` share (pasted into their scripts as written here, never
# with an outside value in them): check $PYTHON, create or rebuild .venv, get the pinned uv.
venv_lib := '''
python="${PYTHON:-python3}"
shown() {  # a value as typed, quoted only when it has to be, always on one line
    if [[ $1 =~ ^[A-Za-z0-9_./+:=@%,-]+$ ]]; then printf '%s' "$1"
    elif [[ $1 != *[[:cntrl:]]* ]]; then printf "'%s'" "${1//\'/\'\\\'\'}"
    else printf '%q' "$1"; fi
}
bad_python() {
    echo "error: PYTHON=$(shown "$python") is not a Python >= 3.11 interpreter ($1); set PYTHON=/path/to/python3.11" >&2
    exit 2
}
make_venv() {  # check $PYTHON, then create .venv or rebuild a broken one
    local version major minor
    command -v -- "$python" >/dev/null 2>&1 || bad_python "not found"
    version=$("$python" -c 'import sys; print("%d.%d.%d" % tuple(sys.version_info[:3]))' 2>/dev/null) \
        || bad_python "it does not run"
    [[ $version =~ ^([0-9]+)\.([0-9]+)\.[0-9]+$ ]] || bad_python "it does not answer like Python"
    major=${BASH_REMATCH[1]} minor=${BASH_REMATCH[2]}
    (( major > 3 || (major == 3 && minor >= 11) )) || bad_python "it is Python $version"

    # A .venv whose interpreter is gone, does not run, is too old or has lost pip is rebuilt.
    if [ -e .venv ] && ! .venv/bin/python -c 'import importlib.util, sys; sys.exit(sys.version_info < (3, 11) or importlib.util.find_spec("pip") is None)' >/dev/null 2>&1; then
        echo "setup: .venv/bin/python is missing or broken; recreating .venv" >&2
        rm -rf .venv
    fi
    if [ ! -e .venv ]; then
        "$python" -m venv .venv || {
            rm -rf .venv
            echo "error: PYTHON=$(shown "$python") could not create .venv (on Debian/Ubuntu: apt install python3-venv)" >&2
            exit 1
        }
    fi
}

# uv, at the version and hashes requirements-uv.txt locks, installed by pip into .venv/tools (beside
# the environment it installs into, not in it). get_uv returns 1 with the reason in $why if it cannot.
uv=.venv/tools/bin/uv
uv_ready() {
    local want have
    want=$(sed -n 's/^uv==\([0-9][^ ;\\]*\).*/\1/p' requirements-uv.txt 2>/dev/null | head -n 1)
    [ -n "$want" ] && [ -x "$uv" ] && have=$("$uv" --version 2>/dev/null) || return 1
    [[ $have == "uv $want" || $have == "uv $want "* ]]
}
get_uv() {
    local log
    uv_ready && return 0
    rm -rf .venv/tools
    log=$(mktemp)
    if .venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
            --only-binary :all: --target .venv/tools -r requirements-uv.txt >"$log" 2>&1 && uv_ready; then
        rm -f "$log"
        return 0
    fi
    why=$({ grep -m 1 -E '^(ERROR|error)' "$log" || tail -n 1 "$log"; } | sed 's/^ERROR: //' | cut -c1-200)
    why=${why:-$uv does not run}
    rm -rf .venv/tools "$log"
    return 1
}
'''

# list the recipes
default:
    @{{quote(just_executable())}} --justfile {{quote(justfile())}} --list --unsorted

# create .venv and install the hash-locked requirements and the project compiled to bytecode, with uv (pip if uv cannot be had; quick when nothing changed)
[group('setup')]
[no-exit-message]
[unix]
setup:
    #!/usr/bin/env bash
    set -euo pipefail
    {{venv_lib}}
    make_venv

    installer=""
    choose() {  # uv when it can be had, else pip with a one-line notice; once per run
        [ -z "$installer" ] || return 0
        if get_uv; then installer=uv; return 0; fi
        installer=pip
        echo "setup: uv could not be installed ($why); installing with pip instead, which is slower" >&2
    }
    add() {  # add [--reinstall] ARGS: `pip install ARGS` into .venv with the chosen installer, compiled
        local again=()
        choose
        if [ "$1" = --reinstall ]; then
            shift
            if [ $installer = uv ]; then again=(--reinstall); else again=(--force-reinstall); fi
        fi
        if [ $installer = uv ]; then
            "$uv" pip install --quiet --python .venv/bin/python --compile-bytecode "${again[@]}" "$@"
        else
            .venv/bin/python -m pip install --quiet --disable-pip-version-check --compile "${again[@]}" "$@"
        fi
    }
    install() {
        # Every locked package must match one of its hashes. `-e .` has none, so the project comes
        # in a second call, built by the locked setuptools already in .venv (no build isolation).
        add --require-hashes -r requirements-dev.txt && add --no-deps --no-build-isolation -e . && return
        echo "error: $installer could not install the requirements into .venv (its output is above)" >&2
        exit 1
    }
    check() {  # is .venv intact? If not, sets $summary and $reinstall (the lock lines to reinstall)
        local out
        if out=$(.venv/bin/python -c {{quote(venv_check)}} requirements-dev.txt 2>/dev/null); then return 0; fi
        summary=$(head -n 1 <<<"$out")
        summary=${summary:-the check did not run}
        reinstall=()
        while IFS= read -r pin; do [ -z "$pin" ] || reinstall+=("$pin"); done < <(tail -n +2 <<<"$out")
        return 1
    }

    # Bytecode. Where PYTHONDONTWRITEBYTECODE=1 is set (CI, containers, these machines) a process
    # never writes any, so whatever is not compiled here is compiled from source by every process
    # that imports it (~1,000 modules: seconds per command). Python still reads bytecode that
    # exists and checks it against the source's mtime and size, so a stale one after an edit is
    # ignored, never run. Failing to compile is not an error: the module is compiled at import.
    compile_tree() {  # compile_tree WHAT [-j 0] PATH...: compile what has no up-to-date bytecode yet
        local what=$1 out
        shift
        out=$(.venv/bin/python -m compileall -q --invalidation-mode timestamp "$@" 2>&1) && return 0
        echo "setup: some of $what could not be compiled to bytecode; commands compile them at each start:" >&2
        grep -m 3 -E 'Error|\*\*\*' <<<"$out" | cut -c1-200 >&2 || true
    }
    compile_project() { compile_tree "lib/, scripts/, apps/" lib scripts apps; }  # ~0.05 s when current
    compile_venv() {  # the installers compile what they install, not what was there before
        compile_tree .venv -j 0 "$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    }

    # The stamp names the locks and the way .venv is built ("bytecode": a .venv from before gets
    # compiled once); a change to either reinstalls, which an intact .venv makes quick.
    stamp=".venv/.installed-$({ cat requirements.txt requirements-dev.txt requirements-uv.txt pyproject.toml; echo bytecode; } | sha256sum | cut -c1-16)"
    if [ ! -f "$stamp" ]; then
        choose
        echo "setup: installing the hash-locked requirements into .venv with $installer" >&2
        install
    elif check; then
        compile_project  # installed and intact: only an edited source to compile again
        exit 0
    fi
    if ! check; then
        # Something the stamp says is installed is gone or replaced (a partly deleted .venv): an
        # installer sees a package whose files were deleted as installed, hence the reinstall.
        echo "setup: .venv is incomplete ($summary); repairing" >&2
        if [ ${#reinstall[@]} -gt 0 ]; then
            pins=$(mktemp)
            printf '%s\n' "${reinstall[@]}" >"$pins"
            if ! add --reinstall --require-hashes --no-deps -r "$pins"; then
                rm -f "$pins"
                echo "error: $installer could not reinstall ${reinstall[*]%% *} (its output is above)" >&2
                exit 1
            fi
            rm -f "$pins"
        fi
        install
        if ! check; then
            echo "error: .venv is still incomplete after installing ($summary)" >&2
            exit 1
        fi
    fi
    compile_venv
    compile_project
    rm -f .venv/.installed-*
    touch "$stamp"

# re-lock requirements*.txt (pins and hashes) from requirements*.in with uv, keeping every pin that still fits (`just lock --upgrade-package NAME` moves one)
[group('setup')]
[no-exit-message]
lock *args:
    #!/usr/bin/env bash
    set -euo pipefail
    {{venv_lib}}
    make_venv
    get_uv || { echo "error: just lock needs uv, which could not be installed ($why)" >&2; exit 1; }
    # For every platform, from the oldest Python pyproject.toml allows; files uploaded after this
    # moment are ignored, so compiling again with the command in a lock's header gives it back.
    now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    for name in requirements requirements-dev requirements-uv; do  # requirements-dev.in reads requirements.txt
        "$uv" pip compile --universal --python-version 3.11 --generate-hashes --exclude-newer "$now" \
            "$name.in" -o "$name.txt" "$@" >/dev/null
    done

# pull -> fuse -> route -> report for the current month on the embedded demo profile (offline)
[group('pipeline')]
demo:
    ARCTICROUTE_PROFILE=demo {{quote(just_executable())}} --justfile {{quote(justfile())}} --working-directory "$PWD" daily

# the daily chain for the current month on the configured profile
[group('pipeline')]
daily: setup
    {{py}} scripts/ingest_nrt_pull.py --ym current --forecast
    {{py}} scripts/risk_fuse.py --ym current
    {{py}} scripts/route_plan.py --scenario all --date latest
    {{py}} scripts/report_build.py --ym current

# pull the month's layers (ingest.nrt.pull; e.g. `just pull --ym 202609 --what ice --dry-run`)
[group('pipeline')]
[unix]
pull *args: setup
    {{py}} scripts/ingest_nrt_pull.py "$@"

# fuse the layers into daily and monthly risk (risk.fuse)
[group('pipeline')]
fuse *args: setup
    {{py}} scripts/risk_fuse.py "$@"

# pull and fuse a range of months, oldest first, resuming after a kill (ingest.backfill; e.g. `just backfill --from 2024-01 --to 2026-10`)
[group('pipeline')]
backfill *args: setup
    {{py}} scripts/ingest_backfill.py "$@"

# plan routes (route.plan; with no arguments every scenario on the newest risk day: --scenario all)
[group('pipeline')]
route *args: setup
    if [ $# -eq 0 ]; then set -- --scenario all; fi; {{py}} scripts/route_plan.py "$@"

# a planned route for the bridge: RTZ (ECDIS), GPX or the CSV passage plan (route.export)
[group('pipeline')]
export *args: setup
    {{py}} scripts/route_export.py "$@"

# build the monthly HTML report (report.build)
[group('pipeline')]
report *args: setup
    {{py}} scripts/report_build.py "$@"

# list the catalog and check every artifact (catalog.show --verify; exit 1 on problems)
[group('ops')]
catalog *args: setup
    {{py}} scripts/catalog_show.py --verify "$@"

# repair the catalog after a fault: relink canonicals to intact versions, drop orphans, list what a producer must restore (catalog.verify --repair)
[group('ops')]
repair *args: setup
    {{py}} scripts/catalog_verify.py --repair "$@"

# garbage collection by config/runtime.yaml gc: catalog.gc (retention) then cache.gc (TTL, disk watermark); both always run, exit code of the first that fails (e.g. `just gc --dry-run`)
[group('ops')]
[unix]
gc *args: setup
    status=0; {{py}} scripts/catalog_gc.py "$@" || status=$?; {{py}} scripts/cache_gc.py "$@" || { code=$?; [ "$status" -ne 0 ] || status=$code; }; exit "$status"

# run the test suite (arguments go to pytest, e.g. `just test -k routing -x`)
[group('dev')]
test *args: setup
    {{py}} -m pytest "$@"

# static checks: ruff over all Python, and the generated docs are up to date
[group('dev')]
lint: setup
    {{py}} -m ruff check lib scripts tests bench apps
    {{py}} scripts/docs_gen.py --check

# regenerate docs/cli.md and docs/artifact-meta.schema.json from the code
[group('dev')]
docs: setup
    {{py}} scripts/docs_gen.py

# health verdict as JSON with a hint per warning (health.check; exit 1 on fail, --strict on warn too)
[group('ops')]
[unix]
health *args: setup
    {{py}} scripts/health_check.py "$@"

# the UI and its /api/health, /api/runs, /api/catalog endpoints on one port (serve; default 127.0.0.1:8501)
[group('ops')]
[unix]
serve *args: setup
    {{py}} scripts/serve.py "$@"

# benchmarks: route planning against a bare skimage call, side by side (prints ratios)
[group('dev')]
bench *args: setup
    {{py}} bench/route_bench.py "$@"

# benchmark: risk.fuse of a 6.25 km month with verify on read against it switched off (prints ratios)
[group('dev')]
bench-verify *args: setup
    {{py}} bench/verify_bench.py "$@"

# -- Windows twins of the operator's recipes: the same words in PowerShell 7.4+ ---------------------

# create .venv and install the hash-locked requirements (pip --require-hashes) and the project compiled to bytecode; quick when nothing changed
[group('setup')]
[windows]
setup:
    $py = '.venv\Scripts\python.exe'; if (-not (Test-Path $py)) { if ($env:PYTHON) { & $env:PYTHON -m venv .venv } else { py -3 -m venv .venv }; if ($LASTEXITCODE -ne 0) { exit 1 } }; $stamp = '.venv\.installed-' + ((Get-FileHash -Algorithm SHA256 -Path 'requirements-dev.txt', 'pyproject.toml' | ForEach-Object { $_.Hash.Substring(0, 8) }) -join ''); if (Test-Path $stamp) { exit 0 }; & $py -m pip install --quiet --disable-pip-version-check --compile --require-hashes -r requirements-dev.txt; if ($LASTEXITCODE -ne 0) { exit 1 }; & $py -m pip install --quiet --disable-pip-version-check --compile --no-deps --no-build-isolation -e .; if ($LASTEXITCODE -ne 0) { exit 1 }; & $py -m compileall -q --invalidation-mode timestamp lib scripts apps | Out-Null; Remove-Item -Path '.venv\.installed-*' -ErrorAction SilentlyContinue; New-Item -ItemType File -Path $stamp | Out-Null

# pull the month's layers (ingest.nrt.pull; e.g. `just pull --ym 202609 --what ice --dry-run`)
[group('pipeline')]
[windows]
pull *args: setup
    & .venv\Scripts\python.exe scripts\ingest_nrt_pull.py @($args | Select-Object -Skip 1); exit $LASTEXITCODE

# garbage collection: catalog.gc then cache.gc; both always run, exit code of the first that fails (e.g. `just gc --dry-run`)
[group('ops')]
[windows]
gc *args: setup
    & .venv\Scripts\python.exe scripts\catalog_gc.py @($args | Select-Object -Skip 1); $status = $LASTEXITCODE; & .venv\Scripts\python.exe scripts\cache_gc.py @($args | Select-Object -Skip 1); if ($status -eq 0) { $status = $LASTEXITCODE }; exit $status

# health verdict as JSON with a hint per warning (health.check; exit 1 on fail, --strict on warn too)
[group('ops')]
[windows]
health *args: setup
    & .venv\Scripts\python.exe scripts\health_check.py @($args | Select-Object -Skip 1); exit $LASTEXITCODE

# the UI and its /api/health, /api/runs, /api/catalog endpoints on one port (serve; default 127.0.0.1:8501)
[group('ops')]
[windows]
serve *args: setup
    & .venv\Scripts\python.exe scripts\serve.py @($args | Select-Object -Skip 1); exit $LASTEXITCODE

# -- deploy: the container, the OS timers and their schedule (docs/playbook.md, "Deploy") ---------
# On Windows the recipes marked [windows] run in PowerShell 7.4+ (windows-shell above); their
# arguments arrive as $args, after the recipe's name ($args[0]).

# Shell functions `up`, `down`, `logs` and `container` share (pasted into their scripts as written
# here, never with an outside value in them).
compose_lib := '''
compose() {  # docker compose v2 if the docker CLI has it, else docker-compose (1.29 works too)
    local args=(-p "${COMPOSE_PROJECT_NAME:-arcticroute}" -f deploy/docker-compose.yml --env-file "$PWD/.env")
    if docker compose version >/dev/null 2>&1; then docker compose "${args[@]}" "$@"; else docker-compose "${args[@]}" "$@"; fi
}
env_value() {  # NAME: its value in the environment, else its last plain NAME=value line in .env
    local line
    if [ -n "${!1:-}" ]; then printf '%s' "${!1}"; return; fi
    line=$(grep -E "^$1=" .env 2>/dev/null | tail -n 1) || true
    printf '%s' "${line#*=}"
}
prepare() {  # .env (compose needs one), the host folders it mounts, the user the container runs as
    local ids
    if [ ! -e .env ]; then
        : >.env
        echo "created an empty .env (settings and secrets go there: see env.example.txt)" >&2
    fi
    # deploy/prepare_roots.py (standard library only: no .venv needed) creates the missing roots
    # (as root: given to the container's user, uid 10001) and never re-owns a folder it did not
    # create; `/`, system folders and folders you cannot create are refused (exit 2). It prints
    # the uid and gid the container runs as.
    ids=$(python3 deploy/prepare_roots.py)
    read -r ARCTICROUTE_UID ARCTICROUTE_GID <<<"$ids"
    ARCTICROUTE_GIT_SHA=$(git rev-parse HEAD 2>/dev/null || echo unknown)
    export ARCTICROUTE_GIT_SHA ARCTICROUTE_UID ARCTICROUTE_GID
}
'''

# build the image, start the UI container (compose), wait until its HEALTHCHECK says healthy, print the URL
[group('deploy')]
[unix]
up *args:
    #!/usr/bin/env bash
    set -euo pipefail
    {{compose_lib}}
    prepare
    compose up -d --build "$@" ui
    cid=$(compose ps -q ui)
    echo "waiting for the container's health check (about 30 s) ..." >&2
    for _ in $(seq 100); do
        state=$(docker inspect -f '{{{{.State.Status}} {{{{if .State.Health}}{{{{.State.Health.Status}}{{{{end}}' "$cid")
        case $state in
            "running healthy") break ;;
            "running unhealthy"|exited*|dead*) break ;;
        esac
        sleep 2
    done
    if [ "$state" != "running healthy" ]; then
        compose logs --tail 40 ui >&2 || true
        echo "error: the ui container is $state (its log is above; just logs follows it)" >&2
        exit 1
    fi
    bind=$(env_value ARCTICROUTE_UI_BIND) port=$(env_value ARCTICROUTE_PORT)
    [ "${bind:-127.0.0.1}" != 0.0.0.0 ] || bind="<this host's address>"
    echo "ArcticRoute UI: http://${bind:-127.0.0.1}:${port:-8501}/ (health: /api/health; stop: just down)"

# build the image, start the UI container (compose), wait until its HEALTHCHECK says healthy, print the URL
[group('deploy')]
[windows]
up *args:
    if (-not (Test-Path .env)) { New-Item -ItemType File .env | Out-Null; Write-Warning 'created an empty .env (see env.example.txt)' }; foreach ($d in 'data_processed', 'reports', 'outputs') { New-Item -ItemType Directory -Force $d | Out-Null }; $env:ARCTICROUTE_GIT_SHA = (git rev-parse HEAD); docker compose -p arcticroute -f deploy/docker-compose.yml --env-file .env up -d --build --wait @($args | Select-Object -Skip 1) ui; if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }; Write-Output 'ArcticRoute UI: http://127.0.0.1:8501/ (health: /api/health; stop: just down)'

# stop and remove the UI container (the data folders stay)
[group('deploy')]
[unix]
down *args:
    #!/usr/bin/env bash
    set -euo pipefail
    {{compose_lib}}
    [ -e .env ] || : >.env
    compose down "$@"

# stop and remove the UI container (the data folders stay)
[group('deploy')]
[windows]
down *args:
    docker compose -p arcticroute -f deploy/docker-compose.yml --env-file .env down @($args | Select-Object -Skip 1); exit $LASTEXITCODE

# follow the UI container's log (e.g. `just logs --tail 100`)
[group('deploy')]
[unix]
logs *args:
    #!/usr/bin/env bash
    set -euo pipefail
    {{compose_lib}}
    [ -e .env ] || : >.env
    compose logs -f "$@" ui

# follow the UI container's log (e.g. `just logs --tail 100`)
[group('deploy')]
[windows]
logs *args:
    docker compose -p arcticroute -f deploy/docker-compose.yml --env-file .env logs -f @($args | Select-Object -Skip 1) ui; exit $LASTEXITCODE

# run a command in a one-off container of the image on the same folders: `just container pull --dry-run`, `just container gc`, or any command name
[group('deploy')]
[unix]
container command *args:
    #!/usr/bin/env bash
    set -euo pipefail
    {{compose_lib}}
    prepare
    word=$1
    shift
    case $word in  # the just recipe names, as on the host
        pull) set -- ingest.nrt.pull "$@" ;;
        fuse) set -- risk.fuse "$@" ;;
        route) set -- route.plan "$@" ;;
        report) set -- report.build "$@" ;;
        health) set -- health.check "$@" ;;
        gc)  # both, like `just gc`: the exit code of the first that fails
            status=0
            compose run --rm --no-deps ui catalog.gc "$@" || status=$?
            compose run --rm --no-deps ui cache.gc "$@" || { code=$?; [ "$status" -ne 0 ] || status=$code; }
            exit "$status" ;;
        *) set -- "$word" "$@" ;;
    esac
    compose run --rm --no-deps ui "$@"

# run a command in a one-off container of the image on the same folders: `just container pull --dry-run`, `just container gc`, or any command name
[group('deploy')]
[windows]
container command *args:
    $words = @($args | Select-Object -Skip 1); $map = @{ pull = 'ingest.nrt.pull'; fuse = 'risk.fuse'; route = 'route.plan'; report = 'report.build'; health = 'health.check' }; if ($map.ContainsKey($words[0])) { $words[0] = $map[$words[0]] }; if (-not (Test-Path .env)) { New-Item -ItemType File -Path .env | Out-Null }; $run = @('compose', '-p', 'arcticroute', '-f', 'deploy/docker-compose.yml', '--env-file', '.env', 'run', '--rm', '--no-deps', 'ui'); $rest = @($words | Select-Object -Skip 1); if ($words[0] -eq 'gc') { docker @run 'catalog.gc' @rest; $status = $LASTEXITCODE; docker @run 'cache.gc' @rest; if ($status -eq 0) { $status = $LASTEXITCODE }; exit $status }; docker @run @words; exit $LASTEXITCODE

# render deploy/systemd/* and deploy/schedule/*.{ps1,xml} from config/runtime.yaml's schedule (`--check` compares)
[group('deploy')]
[unix]
schedule *args: setup
    {{py}} deploy/render_schedule.py "$@"

# render deploy/systemd/* and deploy/schedule/*.{ps1,xml} from config/runtime.yaml's schedule (`--check` compares)
[group('deploy')]
[windows]
schedule *args:
    & .venv\Scripts\python.exe deploy\render_schedule.py @($args | Select-Object -Skip 1); exit $LASTEXITCODE

# install and enable the systemd timers (daily chain, GC) for this checkout, run as its owner (or `just timers-install USER`); needs root or sudo
[group('deploy')]
[linux]
timers-install *args: setup
    #!/usr/bin/env bash
    set -euo pipefail
    if [ ! -d /run/systemd/system ] || ! command -v systemctl >/dev/null; then
        echo "error: systemd does not run here; start the chain with cron or by hand (just daily)" >&2
        exit 1
    fi
    sudo=(); [ "$(id -u)" = 0 ] || sudo=(sudo)
    user=${1:-$(stat -c %U .)}
    id -u -- "$user" >/dev/null 2>&1 || { echo "error: no user $user on this machine" >&2; exit 2; }
    units=$(mktemp -d)
    trap 'rm -rf "$units"' EXIT
    .venv/bin/python deploy/render_schedule.py --repo . --user "$user" --out "$units" >/dev/null
    # The units may write only to the data roots (ProtectSystem=strict): missing ones are created
    # and given to the user; existing ones are never re-owned (the note says how to grant access).
    "${sudo[@]}" .venv/bin/python deploy/prepare_roots.py --for-user "$user"
    "${sudo[@]}" install -m 0644 -t /etc/systemd/system "$units"/*
    "${sudo[@]}" systemctl daemon-reload
    timers=$(cd "$units" && ls -- *.timer)
    "${sudo[@]}" systemctl enable --now $timers
    systemctl list-timers --no-pager 'arcticroute-*'

# register the Task Scheduler tasks (daily chain, GC) for this checkout (deploy/schedule/register_tasks.ps1); run elevated
[group('deploy')]
[windows]
timers-install *args:
    & (Join-Path $PWD 'deploy\schedule\register_tasks.ps1') @($args | Select-Object -Skip 1); exit $LASTEXITCODE

# disable and remove the systemd timers and units that timers-install installed (the data stay)
[group('deploy')]
[linux]
timers-uninstall:
    #!/usr/bin/env bash
    set -euo pipefail
    sudo=(); [ "$(id -u)" = 0 ] || sudo=(sudo)
    shopt -s nullglob
    timers=(/etc/systemd/system/arcticroute-*.timer)
    if [ ${#timers[@]} -gt 0 ]; then
        "${sudo[@]}" systemctl disable --now "${timers[@]##*/}"
    fi
    files=(/etc/systemd/system/arcticroute-*.timer /etc/systemd/system/arcticroute-*.service)
    if [ ${#files[@]} -gt 0 ]; then
        "${sudo[@]}" rm -f -- "${files[@]}"
        "${sudo[@]}" systemctl daemon-reload
    fi
    echo "removed ${#files[@]} unit file(s)"

# unregister the Task Scheduler tasks (deploy/schedule/unregister_tasks.ps1; the data stay); run elevated
[group('deploy')]
[windows]
timers-uninstall:
    & (Join-Path $PWD 'deploy\schedule\unregister_tasks.ps1'); exit $LASTEXITCODE
