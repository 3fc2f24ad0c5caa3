#!/usr/bin/env python3
"""GC: the cache TTL pass against ``find -delete``, and ``catalog.gc --dry-run`` at scale.

1. TTL pass. Each round builds two identical cache trees (``--files`` files, by default
   200 000, in folders of 1 000; half of them ``2 x ttl`` days old, half ``ttl / 2`` days),
   then times, taking turns, on its own copy:

   - ``find -delete`` (baseline): ``find ROOT -type f -mtime +N -delete``;
   - ``cache.gc TTL pass``: ``gc.cache.collect_garbage`` over the same folder as a cache folder
     (``watermark 1.0``: the pass alone, no eviction), in this process.

   Each pass is timed up to an ``os.sync()``, so that the journal writes (and, on a disk mounted
   with ``discard``, the discards) its removals cause count to it, not to the case after it.
   After each round both trees must hold the same names (else the comparison is void: exit 1).
   Peak memory of our pass is measured once in a fresh child process. Targets: ratio <= 1.5,
   peak < 150 MB.

2. ``catalog.gc --dry-run`` over ``--artifacts`` catalogued versions (default 100 000: 40 000
   logical ids with one version and 20 000 with three, written directly from a real sidecar
   rather than through ``write_artifact``): the command as an operator runs it (a fresh
   process, output to a pipe) and the library call it makes (``catalog.gc_list``). Target < 2 s.

Besides wall-clock time, each case's CPU time (user + system, of this process or of the child
it ran) is reported: on a shared machine it moves far less than the wall clock does.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click
from _harness import (
    REPO,
    child_reply,
    environment,
    import_project,
    median,
    peak_memory_of,
    progress,
    run_child,
    table,
)

import_project()

from arcticroute.gc import cache, policy  # noqa: E402
from arcticroute.store import catalog  # noqa: E402
from arcticroute.store.artifacts import ArtifactSpec, meta_path_for, write_artifact  # noqa: E402

MB = 1_000_000
DAY = 86_400
TTL_DAYS = 14
PER_FOLDER = 1_000
TARGET_RATIO, TARGET_PEAK_MB, TARGET_DRY_S = 1.5, 150, 2.0


def measure(call) -> tuple[float, float]:
    """Wall-clock and CPU seconds (user + system, this process and the children it waited for)."""
    def cpu() -> float:
        own, kids = os.times(), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.user + own.system + kids.ru_utime + kids.ru_stime

    gc.collect()
    wall, spent = time.perf_counter(), cpu()
    call()
    return time.perf_counter() - wall, cpu() - spent


# -- 1. the TTL pass ----------------------------------------------------------------------------------

def build_cache(root: Path, files: int, now: float) -> None:
    """``files`` small files under ``root``, alternately old (2 x TTL) and young (TTL / 2)."""
    old, young = now - 2 * TTL_DAYS * DAY, now - TTL_DAYS / 2 * DAY
    body = b"x" * 64
    for start in range(0, files, PER_FOLDER):
        folder = root / f"source{start // 20_000:02d}" / f"{start // PER_FOLDER:04d}"
        folder.mkdir(parents=True)
        for i in range(start, min(start + PER_FOLDER, files)):
            path = f"{folder}/tile_{i:06d}.bin"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.write(fd, body)
            os.close(fd)
            when = old if i % 2 else young
            os.utime(path, (when, when))


def ttl_policy() -> policy.GcPolicy:
    return policy.GcPolicy(ttl_days=TTL_DAYS, watermark=1.0, safety_age_s=7_200, keep_months=3,
                           evict_versions=False, kinds={"default": policy.KindPolicy(1, 0, False)},
                           folders=(policy.CacheFolder("data", ("cache",), None, "modified", TTL_DAYS),))


def roots_at(base: Path) -> dict[str, Path]:
    return {"data": base / "data", "reports": base / "reports", "outputs": base / "outputs"}


def our_pass(base: Path) -> object:
    report = cache.collect_garbage(roots_at(base), ttl_policy(), dry_run=False)
    assert not report.outcome.errors, report.outcome.errors
    return report


def find_pass(base: Path) -> None:
    subprocess.run(["find", str(base / "data" / "cache"), "-type", "f", "-mtime", f"+{TTL_DAYS}", "-delete"],
                   check=True)


def names(base: Path) -> set[str]:
    top = base / "data" / "cache"
    return {str(Path(d).relative_to(top) / n) for d, _, files in os.walk(top) for n in files}


def ttl_rounds(work: Path, files: int, repeat: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    cases = {"find -delete": find_pass, "cache.gc TTL pass": our_pass}
    times: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    for round_ in range(repeat + 1):  # round 0 warms up, untimed
        now = time.time()
        bases = {}
        for index, name in enumerate(cases):
            bases[name] = work / f"round{round_}-{index}"
            progress(f"ttl: round {round_}: building {files} files for {name}")
            build_cache(bases[name] / "data" / "cache", files, now)
        order = list(cases)[round_ % 2:] + list(cases)[:round_ % 2]
        for name in order:
            os.sync()  # the building's writes are not this case's work
            wall, spent = measure(lambda call=cases[name], base=bases[name]: (call(base), os.sync()))
            if round_:
                times[name].append(wall)
                cpu[name].append(spent)
        left = {name: names(base) for name, base in bases.items()}
        if left["find -delete"] != left["cache.gc TTL pass"] or len(left["find -delete"]) != files // 2:
            raise SystemExit(f"ttl: the two passes left different files ({len(left['find -delete'])} and "
                             f"{len(left['cache.gc TTL pass'])}, expected {files // 2}): comparison void")
        label = "warm-up" if not round_ else f"round {round_}/{repeat}"
        progress(f"ttl: {label}: " + ", ".join(f"{n} {times[n][-1]:.3f}s" for n in cases if round_))
        for base in bases.values():
            shutil.rmtree(base)
    return times, cpu


# -- 2. catalog.gc --dry-run -------------------------------------------------------------------------

def build_catalog(base: Path, artifacts: int) -> dict[str, Path]:
    """``artifacts`` versions: 40 % ids with one version, the rest in ids of three, from one real sidecar."""
    roots = roots_at(base)
    spec = ArtifactSpec(logical_id="ar://risk/daily@20260901?grid=3413-25km", root="data",
                        relpath="risk/3413-25km/2026/09/risk_20260901.nc", kind="risk-daily", synthetic=True,
                        time_coverage={"start": "2026-09-01T00:00:00Z", "end": "2026-09-01T23:59:59Z"},
                        grid={"name": "3413-25km", "crs": "EPSG:3413", "resolution_m": 25000, "shape": [448, 304]},
                        tags=["risk", "weighted", "synthetic"],
                        inputs=[{"logical_id": f"ar://env/{layer}@20260901?grid=3413-25km", "sha256": "ab" * 32,
                                 "source_url": None} for layer in ("ice.sic", "wave.hs", "ais.density", "incidents")],
                        params={"method": "weighted", "inputs_digest": "cd" * 32})
    template = write_artifact(roots, spec, lambda p: p.write_bytes(b"template"), run_id="20261101T000000Z-abcdef",
                              command="bench")
    shutil.rmtree(roots["data"] / "risk")
    singles = int(artifacts * 0.4)
    plan = [(i, 1) for i in range(singles)] + [(singles + i, 3) for i in range((artifacts - singles) // 3)]
    created = ["2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z", "2026-10-01T00:00:00Z"]
    for lid, count in plan:
        folder_rel = f"risk/3413-25km/{2000 + lid // 1000:04d}/{lid % 12 + 1:02d}"
        folder = roots["data"] / folder_rel
        if lid % 1000 == 0 or not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
        stem = f"risk_{lid:07d}"
        for version in range(1, count + 1):
            name = f"{stem}_adv_v{version}.nc"
            body = f"{stem} {version}".encode()
            (folder / name).write_bytes(body)
            meta = {**template, "logical_id": f"ar://risk/daily@{lid:07d}?grid=3413-25km", "version": version,
                    "path": f"{folder_rel}/{name}", "canonical": f"{folder_rel}/{stem}.nc",
                    "sha256": hashlib.sha256(body).hexdigest(), "size_bytes": len(body),
                    "created_at": created[version - 1 + 3 - count]}
            (folder / (name + ".meta.json")).write_text(json.dumps(meta, indent=2) + "\n")
        os.symlink(f"{stem}_adv_v{count}.nc", folder / f"{stem}.nc")
        os.symlink(f"{stem}_adv_v{count}.nc.meta.json", meta_path_for(folder / f"{stem}.nc"))
    return roots


def dry_run_rounds(roots: dict[str, Path], repeat: int) -> tuple[dict[str, list[float]], dict]:
    env = {**os.environ, "ARCTICROUTE_DATA": str(roots["data"]), "ARCTICROUTE_REPORTS": str(roots["reports"]),
           "ARCTICROUTE_OUTPUTS": str(roots["outputs"]), "ARCTICROUTE_PROFILE": "demo"}
    command = [sys.executable, str(REPO / "scripts" / "catalog_gc.py"), "--dry-run"]
    floors = policy.load_policy(_settings()).floors()

    def run_command():
        done = subprocess.run(command, env=env, capture_output=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"catalog.gc --dry-run exited {done.returncode}: {done.stderr.decode()[-500:]}")
        return done.stdout

    def call_library():
        return catalog.gc_list(roots, 3, floors=floors)

    times: dict[str, list[float]] = {"catalog.gc --dry-run (command)": [], "catalog.gc_list (library)": []}
    cpu: dict[str, list[float]] = {name: [] for name in times}
    cases = dict(zip(times, (run_command, call_library), strict=True))
    for round_ in range(repeat + 1):
        order = list(cases)[round_ % 2:] + list(cases)[:round_ % 2]
        for name in order:
            os.sync()  # the catalog's building is written out first, not while a case runs
            wall, spent = measure(cases[name])
            if round_:
                times[name].append(wall)
                cpu[name].append(spent)
        if round_:
            progress(f"dry run: round {round_}/{repeat}: " + ", ".join(f"{n} {t[-1]:.2f}s" for n, t in times.items()))
    plan = call_library()
    return times, cpu, {"versions": len(plan.decisions) + plan.singles, "read": len(plan.decisions),
                        "remove": len(plan.remove), "keep": len(plan.keep) + plan.singles}


def _settings():
    from arcticroute.config import load_settings
    return load_settings()


# -- the command ------------------------------------------------------------------------------------

@click.command()
@click.option("--files", type=click.IntRange(2_000, 2_000_000), default=200_000, show_default=True,
              help="Files in the cache tree of the TTL pass.")
@click.option("--artifacts", type=click.IntRange(1_000, 1_000_000), default=100_000, show_default=True,
              help="Catalogued versions for catalog.gc --dry-run.")
@click.option("--repeat", type=click.IntRange(1, 20), default=3, show_default=True, help="Timed rounds per case.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the results.")
@click.option("--child-ttl", type=click.Path(path_type=Path), hidden=True)
def main(files, artifacts, repeat, json_path, child_ttl):
    """Time the cache TTL pass against find -delete, and catalog.gc --dry-run at scale."""
    if child_ttl:
        child_reply(peak_memory_of(lambda: our_pass(child_ttl)))
        return 0
    with tempfile.TemporaryDirectory(prefix="gc-bench-", dir=os.environ.get("GC_BENCH_DIR")) as tmp:
        work = Path(tmp)
        times, ttl_cpu = ttl_rounds(work, files, repeat)
        progress("ttl: peak memory of our pass, in a fresh process")
        build_cache(work / "memory" / "data" / "cache", files, time.time())
        memory = run_child(["--child-ttl", str(work / "memory")], "ttl peak memory")
        shutil.rmtree(work / "memory")
        progress(f"dry run: building {artifacts} catalogued versions")
        started = time.perf_counter()
        roots = build_catalog(work / "catalog", artifacts)
        progress(f"dry run: built in {time.perf_counter() - started:.0f} s")
        dry_times, dry_cpu, plan = dry_run_rounds(roots, repeat)

    base, base_cpu = median(times["find -delete"]), median(ttl_cpu["find -delete"])
    ours = median(times["cache.gc TTL pass"])
    peak_mb = memory["peak_bytes"] / MB
    print(f"TTL pass over {files} files ({files // 2} removed), median of {repeat} rounds")
    print(table(["case", "wall s", "ratio", "cpu s", "cpu ratio"],
                [[n, f"{median(t):.3f}", f"{median(t) / base:.2f}", f"{median(ttl_cpu[n]):.3f}",
                  f"{median(ttl_cpu[n]) / base_cpu:.2f}"] for n, t in times.items()], right=[False, *[True] * 4]))
    print(f"{'PASS' if ours / base <= TARGET_RATIO else 'MISS'} ratio {ours / base:.2f} (target <= {TARGET_RATIO})")
    print(f"{'PASS' if peak_mb < TARGET_PEAK_MB else 'MISS'} peak memory {peak_mb:.0f} MB "
          f"(target < {TARGET_PEAK_MB} MB; {memory['method']})")
    print()
    print(f"catalog.gc --dry-run over {plan['versions']} versions ({plan['read']} sidecars read, "
          f"{plan['remove']} versions to remove), median of {repeat}")
    print(table(["case", "wall s", "cpu s"], [[n, f"{median(t):.2f}", f"{median(dry_cpu[n]):.2f}"]
                                             for n, t in dry_times.items()], right=[False, True, True]))
    command_s = median(dry_times["catalog.gc --dry-run (command)"])
    print(f"{'PASS' if command_s < TARGET_DRY_S else 'MISS'} catalog.gc --dry-run {command_s:.2f} s "
          f"(target < {TARGET_DRY_S:.0f} s)")
    if json_path:
        json_path.write_text(json.dumps({"environment": environment(), "files": files, "artifacts": artifacts,
                                         "repeat": repeat, "ttl_seconds": times, "ttl_cpu_seconds": ttl_cpu,
                                         "ttl_peak": memory, "dry_run_seconds": dry_times,
                                         "dry_run_cpu_seconds": dry_cpu, "plan": plan}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
