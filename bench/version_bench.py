#!/usr/bin/env python3
"""Never reusing a version number: what the high-water mark costs a write.

``write_artifact`` records the highest version number of each canonical path in a small file
beside it (``store/highwater.py``), written atomically before the sidecar. Timed side by side,
the cases taking turns, each writing ``--files`` new artifacts of ``--kb`` kilobytes (a new
version each) into a fresh folder:

- ``without the mark`` (baseline: the write as before, ``raise_highwater`` skipped);
- ``with the mark`` (as shipped).

The ratio of medians is printed; the target is <= 1.10 (the mark is one small file whose
folder fsync the write already does).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from itertools import count
from pathlib import Path

import click
from _harness import environment, import_project, interleaved, median, progress, table

import_project()

from arcticroute.store import artifacts  # noqa: E402
from arcticroute.store.artifacts import ArtifactSpec, write_artifact  # noqa: E402

TARGET = 1.10
RUN_ID = "20260101T000000Z-abcdef"


def write_case(base: Path, files: int, size: int, *, mark: bool):
    rounds = count()
    original = artifacts.raise_highwater

    def call():
        roots = {"data": base / f"{'mark' if mark else 'plain'}-{next(rounds)}"}
        if not mark:
            artifacts.raise_highwater = lambda *args, **kwargs: None
        try:
            for number in range(files):
                day = f"202609{number % 30 + 1:02d}"
                spec = ArtifactSpec(logical_id=f"ar://env/ice.sic@{day}?grid=3413-25km", root="data",
                                    relpath=f"env/ice.sic/3413-25km/2026/09/ice_sic_{day}.nc", kind="env-layer",
                                    synthetic=True, time_coverage={"start": None, "end": None})
                payload = os.urandom(size)
                write_artifact(roots, spec, lambda path, payload=payload: path.write_bytes(payload),
                               run_id=RUN_ID, command="bench")
        finally:
            artifacts.raise_highwater = original
    return call


@click.command()
@click.option("--files", type=click.IntRange(1, 10_000), default=120, show_default=True,
              help="Artifacts written per round (30 canonical paths, so several versions of each).")
@click.option("--kb", type=click.IntRange(1, 100_000), default=200, show_default=True, help="Size of each file.")
@click.option("--repeat", type=click.IntRange(1, 50), default=5, show_default=True, help="Timed rounds per case.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the results.")
def main(files, kb, repeat, json_path):
    """Time writing new versions with and without the high-water mark; print the ratio."""
    with tempfile.TemporaryDirectory(prefix="version-bench-", dir=os.environ.get("BENCH_DIR")) as tmp:
        cases = {
            "without the mark": write_case(Path(tmp), files, kb * 1024, mark=False),
            "with the mark": write_case(Path(tmp), files, kb * 1024, mark=True),
        }
        progress(f"timing {files} writes of {kb} kB, {repeat} rounds of {len(cases)} cases")
        times = interleaved(cases, repeat=repeat, warmup=1, label="write")
    base = median(times["without the mark"])
    rows = [[name, f"{median(t):.3f}", f"{median(t) / files * 1000:.2f}", f"{median(t) / base:.3f}"]
            for name, t in times.items()]
    print(f"{files} artifact writes of {kb} kB, median of {repeat} rounds")
    print(table(["case", "median s", "ms per write", "ratio"], rows, right=[False, True, True, True]))
    ratio = median(times["with the mark"]) / base
    print(f"{'PASS' if ratio <= TARGET else 'MISS'} ratio {ratio:.3f} (target <= {TARGET:.2f})")
    if json_path:
        json_path.write_text(json.dumps({"environment": environment(), "files": files, "kb": kb,
                                         "repeat": repeat, "seconds": times}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
