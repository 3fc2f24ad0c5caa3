# ArcticRoute: the single entry layer. Every task a person, a timer or CI runs is a recipe here.
# `just` lists them; `just demo` then `just test` is all a newcomer needs.

set shell := ["bash", "-euo", "pipefail", "-c"]

# Interpreter used to create .venv (Python >= 3.11).
python := env("PYTHON", "python3")
py := ".venv/bin/python"

# list the recipes
default:
    @just --list --unsorted

# create .venv and install the pinned requirements and the project (quick when nothing changed)
[group('setup')]
setup:
    #!/usr/bin/env bash
    set -euo pipefail
    if ! {{python}} -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "error: ArcticRoute needs Python >= 3.11; '{{python}}' is $({{python}} --version 2>&1 || echo missing). Set PYTHON=/path/to/python3.11." >&2
        exit 2
    fi
    [ -x .venv/bin/python ] || {{python}} -m venv .venv
    stamp=".venv/.installed-$(cat requirements.txt requirements-dev.txt pyproject.toml | sha256sum | cut -c1-16)"
    if [ ! -f "$stamp" ]; then
        echo "setup: installing pinned requirements into .venv (first run takes a few minutes)" >&2
        .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
        .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
        rm -f .venv/.installed-*
        touch "$stamp"
    fi

# pull -> fuse -> route -> report for the current month on the embedded demo profile (offline)
[group('pipeline')]
demo:
    ARCTICROUTE_PROFILE=demo {{just_executable()}} daily

# the daily chain for the current month on the configured profile
[group('pipeline')]
daily: setup
    {{py}} scripts/ingest_nrt_pull.py --ym current
    {{py}} scripts/risk_fuse.py --ym current
    {{py}} scripts/route_plan.py --scenario all --date latest
    {{py}} scripts/report_build.py --ym current

# pull the month's layers (ingest.nrt.pull; e.g. `just pull --ym 202609 --what ice --dry-run`)
[group('pipeline')]
pull *args: setup
    {{py}} scripts/ingest_nrt_pull.py {{args}}

# fuse the layers into daily and monthly risk (risk.fuse)
[group('pipeline')]
fuse *args: setup
    {{py}} scripts/risk_fuse.py {{args}}

# plan routes (route.plan; default every scenario on the newest risk day)
[group('pipeline')]
route *args='--scenario all': setup
    {{py}} scripts/route_plan.py {{args}}

# build the monthly HTML report (report.build)
[group('pipeline')]
report *args: setup
    {{py}} scripts/report_build.py {{args}}

# list the catalog (catalog.show), then check every artifact (catalog.verify)
[group('ops')]
catalog *args: setup
    {{py}} scripts/catalog_show.py {{args}}
    {{py}} scripts/catalog_verify.py

# run the test suite (arguments go to pytest, e.g. `just test -k routing -x`)
[group('dev')]
test *args: setup
    {{py}} -m pytest {{args}}

# static checks: ruff over all Python, and the generated docs are up to date
[group('dev')]
lint: setup
    {{py}} -m ruff check lib scripts tests bench
    {{py}} scripts/docs_gen.py --check

# regenerate docs/cli.md and docs/artifact-meta.schema.json from the code
[group('dev')]
docs: setup
    {{py}} scripts/docs_gen.py

# benchmarks: route planning against a bare skimage call, side by side (prints ratios)
[group('dev')]
bench *args: setup
    {{py}} bench/route_bench.py {{args}}
