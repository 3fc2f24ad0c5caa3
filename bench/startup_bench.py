#!/usr/bin/env python3
"""Start-up: how long commands take when there is little or nothing for them to do.

With ``PYTHONDONTWRITEBYTECODE=1`` (CI, containers, many machines) a process never writes
bytecode, so whatever ``just setup`` did not compile ahead is compiled from source by every
process that imports it. Timed as new processes, interleaved, on a demo month already done
(25 km, the demo profile, in a temporary data root):

- ``python -c "import numpy"``: the floor of any command (the baseline of the ratios);
- a no-op ``just demo`` (setup's check, then pull, fuse, route and report with nothing new);
- one ``route.plan`` scenario (``murmansk_bering --force``: the route is planned again).

Each of the last two three ways, by where Python finds bytecode (``PYTHONPYCACHEPREFIX``; with
it set, Python looks for every module's bytecode, the standard library's too, in that folder
only):

- ``installed``: the .venv and checkout as ``just setup`` left them (the case that matters);
- ``compileall``: a cache prefix into which ``python -m compileall`` compiled the standard
  library, the whole .venv and the checkout's lib/, scripts/ and apps/ (the ideal; installed
  should be within 1.2x);
- ``no bytecode``: a cache prefix holding the standard library's bytecode alone (as Python is
  installed), a fresh copy each round (setup would add the checkout's): as before ``just
  setup`` compiled anything.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import click
from _harness import REPO, environment, interleaved, median, progress, roots_env, table

TARGETS = {"no-op just demo": 3.0, "route.plan 25 km": 1.5}  # seconds, on the 2-core machine
TARGET_INSTALLED_VS_COMPILEALL = 1.2
SCENARIO = "murmansk_bering"


def _demo_argv() -> tuple[list[str], str]:
    """``just demo``, or where just is missing the four commands its ``daily`` recipe runs."""
    just = shutil.which("just")
    if just:
        return [just, "--justfile", str(REPO / "justfile"), "demo"], "just demo"
    py = sys.executable
    return ["bash", "-c", f"cd {REPO} && {py} scripts/ingest_nrt_pull.py --ym current && "
            f"{py} scripts/risk_fuse.py --ym current && {py} scripts/route_plan.py --scenario all --date latest "
            f"&& {py} scripts/report_build.py --ym current"], "the four commands of just daily (no just on PATH)"


def _run(argv: list[str], env: dict, what: str) -> None:
    done = subprocess.run(argv, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{what} exited {done.returncode}: {done.stderr[-1500:]}")


def _compile_into(prefix: Path, paths: list[str], env: dict, *options: str) -> float:
    """Compile ``paths`` into the cache prefix ``prefix``; the seconds it took."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", *options, *paths], check=False,
                   env={**env, "PYTHONPYCACHEPREFIX": str(prefix)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def _case(argv: list[str], env: dict, what: str, prefix: Path | None = None, fresh: list[Path] | None = None):
    """A timed call of ``argv``; ``fresh``: cache prefixes prepared ahead, one taken per call."""
    def call():
        run_env = dict(env)
        if prefix is not None:
            run_env["PYTHONPYCACHEPREFIX"] = str(prefix)
        if fresh is not None:
            run_env["PYTHONPYCACHEPREFIX"] = str(fresh.pop())
        _run(argv, run_env, what)
    return call


@click.command()
@click.option("--repeat", type=click.IntRange(1, 50), default=5, show_default=True, help="Timed rounds.")
@click.option("--no-source", is_flag=True, help="Leave out the 'no bytecode' cases (each takes seconds).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the results.")
def main(repeat, no_source, json_path):
    """Time a no-op `just demo` and one route.plan against `python -c "import numpy"`."""
    demo_argv, demo_how = _demo_argv()
    route_argv = [sys.executable, str(REPO / "scripts" / "route_plan.py"), "--scenario", SCENARIO,
                  "--date", "latest", "--force"]
    with tempfile.TemporaryDirectory(prefix="startup-bench-") as tmp:
        tmp = Path(tmp)
        env = {**os.environ, **roots_env(tmp / "roots"), "PYTHONDONTWRITEBYTECODE": "1", "ARCTICROUTE_GRID_KM": "25"}
        env.pop("PYTHONPYCACHEPREFIX", None)
        progress(f"filling a demo month with {demo_how} (the first run builds the static layers)")
        _run(demo_argv, env, "the first demo")
        # the route cases plan on a copy: each --force writes a new route version, after which the
        # demo would rebuild its report and no longer be a no-op
        shutil.copytree(tmp / "roots", tmp / "route-roots", symlinks=True)
        route_env = {**env, **roots_env(tmp / "route-roots")}
        progress("compiling the standard library, the .venv and the checkout into cache prefixes")
        stdlib = [sysconfig.get_paths()["stdlib"]]
        without_site = ("-x", r"[/\\]site-packages[/\\]")  # the base interpreter's packages are not imported
        for prefix in ("stdlib", "compiled"):
            _compile_into(tmp / prefix, stdlib, env, *without_site)
        compile_seconds = _compile_into(tmp / "compiled", [
            sysconfig.get_paths()["purelib"], *(str(REPO / d) for d in ("lib", "scripts", "apps"))], env)
        cases = {"import numpy": _case([sys.executable, "-c", "import numpy"], env, "import numpy")}
        for label, argv, case_env in (("no-op just demo", demo_argv, env), ("route.plan 25 km", route_argv, route_env)):
            cases[f"{label}, installed"] = _case(argv, case_env, label)
            cases[f"{label}, compileall"] = _case(argv, case_env, label, prefix=tmp / "compiled")
            if not no_source:
                copies = [tmp / f"stdlib-{label[:5]}-{n}" for n in range(repeat + 1)]
                for copy in copies:
                    shutil.copytree(tmp / "stdlib", copy)
                cases[f"{label}, no bytecode"] = _case(argv, case_env, label, fresh=copies)
        times = interleaved(cases, repeat=repeat, warmup=1)

    base = median(times["import numpy"])
    rows = []
    for name, values in times.items():
        label = name.split(",")[0]
        ideal = times.get(f"{label}, compileall")
        rows.append([name, f"{median(values):.2f}", f"{median(values) / base:.1f}",
                     f"{median(values) / median(ideal):.2f}" if ideal else "",
                     f"{TARGETS[label]:.1f}" if label in TARGETS and name.endswith("installed") else ""])
    print(f"median of {repeat} rounds, new processes, PYTHONDONTWRITEBYTECODE=1; demo: {demo_how}")
    print(table(["case", "median s", "x import numpy", "x compileall", "target s"], rows,
                right=[False, True, True, True, True]))
    for label, target in TARGETS.items():
        installed = median(times[f"{label}, installed"])
        ratio = installed / median(times[f"{label}, compileall"])
        verdict = "PASS" if installed <= target and ratio <= TARGET_INSTALLED_VS_COMPILEALL else "MISS"
        print(f"{verdict} {label}: {installed:.2f} s (target <= {target} s), {ratio:.2f}x the compileall case "
              f"(target <= {TARGET_INSTALLED_VS_COMPILEALL}x)")
    print(f"(compiling the whole .venv and the checkout took {compile_seconds:.0f} s, once)")
    if json_path:
        json_path.write_text(json.dumps({"environment": environment(), "repeat": repeat, "seconds": times,
                                         "demo": demo_how, "compileall_seconds": compile_seconds}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
