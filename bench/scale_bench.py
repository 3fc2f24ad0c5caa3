#!/usr/bin/env python3
"""Scale: pull + fuse of whole months at 6.25 km, serial against ``--jobs`` = cores.

Each case runs the real commands (``scripts/ingest_nrt_pull.py``, ``scripts/risk_fuse.py``)
as processes, the way a timer runs them, on its own fresh data roots (the static grid is built
once beforehand and copied in, so no case pays for the land mask). It prints the wall time of
pull and fuse per case, the speed-up of each case over the serial one (target: at least
0.8 x cores for ``--jobs`` = cores), the bytes stored per day (every data file of the months
divided by their days; target at most 2 MB) and whether every data file has the same sha256
in all cases. Then a table extrapolates one and ten years: time on N cores and disk.

    .venv/bin/python bench/scale_bench.py                      # 2 months at 6.25 km
    .venv/bin/python bench/scale_bench.py --months 202609 --grid-km 25
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import MB, REPO, environment, progress, roots_env, table  # noqa: E402


def _env(base: Path, grid_km: float) -> dict:
    return {**os.environ, **roots_env(base, data="data_processed"), "ARCTICROUTE_GRID_KM": f"{grid_km:g}"}


def _command(script: str, args: list[str], env: dict) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, str(REPO / "scripts" / script), *args], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{script} {' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}")
    return time.perf_counter() - start


def _digests(data: Path) -> dict[str, str]:
    return {p.relative_to(data).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(data.rglob("*.nc")) if not p.is_symlink() and "static" not in p.parts}


def _stored(data: Path) -> int:
    return sum(p.stat().st_size for p in data.rglob("*") if p.is_file() and not p.is_symlink()
               and "static" not in p.parts and not p.name.endswith(".meta.json"))


def run_case(name: str, extra: list[str], months: list[str], grid_km: float, static_from: Path,
             work: Path) -> dict:
    base = work / name
    shutil.copytree(static_from, base / "data_processed" / "static", symlinks=True)
    env = _env(base, grid_km)
    pull = fuse = 0.0
    for ym in months:
        progress(f"{name}: pull {ym}")
        pull += _command("ingest_nrt_pull.py", ["--ym", ym, *extra], env)
        progress(f"{name}: fuse {ym}")
        fuse += _command("risk_fuse.py", ["--ym", ym, *extra], env)
    data = base / "data_processed"
    return {"name": name, "pull_s": pull, "fuse_s": fuse, "total_s": pull + fuse, "stored_bytes": _stored(data),
            "digests": _digests(data)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", default="202609,202610", help="comma-separated YYYYMM (default: two months)")
    parser.add_argument("--grid-km", type=float, default=6.25)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="the parallel case (default: cores)")
    parser.add_argument("--dask", action="store_true", help="also run --executor dask (a 2-worker local cluster)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    months = args.months.split(",")
    days = 0
    for ym in months:
        import calendar

        days += calendar.monthrange(int(ym[:4]), int(ym[4:]))[1]
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as tmp:
        work = Path(tmp)
        progress(f"static grid for {args.grid_km:g} km (built once, copied into every case)")
        seed = work / "seed"
        subprocess.run([sys.executable, str(REPO / "scripts" / "ingest_nrt_pull.py"), "--ym", months[0],
                        "--what", "ice", "--since", f"{months[0][:4]}-{months[0][4:]}-01", "--jobs", "1",
                        "--dry-run"], env=_env(seed, args.grid_km), stdout=subprocess.DEVNULL, check=True)
        sys.path.insert(0, str(REPO / "lib"))
        from arcticroute.config import load_settings
        from arcticroute.ops.runs import Run
        from arcticroute.static import ensure_static

        settings = load_settings(None, environ=_env(seed, args.grid_km))
        with Run(settings, "bench.static", family="pull", argv=["scale_bench"]) as run:
            ensure_static(settings.roots, settings.grid, run)
        static_from = seed / "data_processed" / "static"
        cases = [("serial", ["--jobs", "1"]), (f"jobs{args.jobs}", ["--jobs", str(args.jobs)])]
        if args.dask:
            cases.append(("dask2", ["--executor", "dask", "--jobs", "2"]))
        results = [run_case(name, extra, months, args.grid_km, static_from, work) for name, extra in cases]
    serial = results[0]
    identical = all(r["digests"] == serial["digests"] for r in results)
    cores = os.cpu_count() or 1
    rows = [[r["name"], f"{r['pull_s']:.1f}", f"{r['fuse_s']:.1f}", f"{r['total_s']:.1f}",
             f"{serial['total_s'] / r['total_s']:.2f}x", f"{r['stored_bytes'] / days / MB:.2f}"] for r in results]
    print(f"scale_bench: {len(months)} month(s) ({days} days) at {args.grid_km:g} km, demo profile; "
          f"{json.dumps(environment())}")
    print(table(["case", "pull s", "fuse s", "total s", "speed-up", "MB/day"], rows,
                [False, True, True, True, True, True]))
    parallel = results[1]
    speedup = serial["total_s"] / parallel["total_s"]
    per_day = serial["stored_bytes"] / days
    print(f"identical sha256 of every data file in all cases: {identical}")
    print(f"{'PASS' if speedup >= 0.8 * min(args.jobs, cores) else 'MISS'} speed-up {speedup:.2f}x with --jobs "
          f"{args.jobs} (target >= {0.8 * min(args.jobs, cores):.1f}x)")
    print(f"{'PASS' if per_day <= 2 * MB else 'MISS'} {per_day / MB:.2f} MB stored per day (target <= 2 MB)")
    per_day_s = {r["name"]: r["total_s"] / days for r in results}
    ext = []
    for years in (1, 10):
        n = 365 * years
        ext.append([f"{years} year{'s' if years > 1 else ''}", f"{n * per_day_s['serial'] / 60:.0f} min",
                    f"{n * per_day_s[parallel['name']] / 60:.0f} min",
                    f"{n * per_day_s['serial'] / (0.8 * 16) / 60:.0f} min", f"{n * per_day / 1e9:.1f} GB"])
    print(table(["span", "1 core", f"{args.jobs} cores (measured)", "16 cores (at 0.8 x)", "disk"], ext,
                [False, True, True, True, True]))
    if args.json:
        args.json.write_text(json.dumps({"results": [{k: v for k, v in r.items() if k != "digests"} for r in results],
                                         "identical": identical, "days": days}, indent=2))


if __name__ == "__main__":
    main()
