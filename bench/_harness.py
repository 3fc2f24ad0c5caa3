"""Shared helpers for the benchmarks in bench/: side-by-side timing, peak memory, tables.

Machines are noisy, so no bench asserts a time. A bench runs its baseline and its
candidates interleaved in one process, several times, and reports the median of each and
the ratio of medians; a slow moment of the machine then hits every case alike.

Peak memory is measured in a fresh child process per case (``run_child``), so one case's
heap cannot hide or inflate another's: the child loads its inputs, then ``peak_memory_of``
reports the high-water mark of resident memory during one call minus the resident size just
before it.

Only the standard library and psutil (a project dependency) are used here, so the helpers
work before the project itself is importable.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MB = 1_000_000  # figures are reported in MB of 10^6 bytes; "1 GB" targets mean 1000 MB

_START = time.perf_counter()


def progress(message: str) -> None:
    """One progress line on stderr, with the seconds since the bench started."""
    print(f"[{time.perf_counter() - _START:7.1f}s] {message}", file=sys.stderr, flush=True)


def roots_env(base: Path, profile: str = "demo", data: str = "data") -> dict[str, str]:
    """The ARCTICROUTE_* variables that put a run's data, reports and outputs roots under ``base``."""
    return {"ARCTICROUTE_DATA": str(base / data), "ARCTICROUTE_REPORTS": str(base / "reports"),
            "ARCTICROUTE_OUTPUTS": str(base / "outputs"), "ARCTICROUTE_PROFILE": profile}


def import_project(package: str = "arcticroute") -> None:
    """Make ``package`` importable: installed (``just setup``), else from this checkout's lib/."""
    try:
        __import__(package)
    except ImportError:
        sys.path.insert(0, str(REPO / "lib"))
        __import__(package)


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------


def interleaved(cases: dict[str, Callable[[], object]], repeat: int, warmup: int = 1,
                label: str = "") -> dict[str, list[float]]:
    """Wall-clock seconds of each case, ``repeat`` times, the cases taking turns.

    Every round runs each case once; the starting case rotates from round to round so none
    always runs first (cold caches) or last. ``warmup`` untimed rounds come first.
    """
    names = list(cases)
    for round_ in range(warmup):
        progress(f"{label}warm-up {round_ + 1}/{warmup}")
        for name in names:
            cases[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(repeat):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            start = time.perf_counter()
            cases[name]()
            times[name].append(time.perf_counter() - start)
        summary = ", ".join(f"{name} {times[name][-1]:.3f}s" for name in names)
        progress(f"{label}round {round_ + 1}/{repeat}: {summary}")
    return times


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


# ---------------------------------------------------------------------------
# Peak memory
# ---------------------------------------------------------------------------


def _status_kb(field: str) -> int | None:
    """A ``kB`` field of /proc/self/status (Linux), or None elsewhere."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_high_water_mark() -> bool:
    """Reset the kernel's resident-memory high-water mark (VmHWM) to the current size.

    Linux >= 4.0 allows it through /proc/self/clear_refs. Without the reset the mark may
    still hold the peak of loading the inputs, or even of the parent process that forked
    the child (``ru_maxrss`` inherits it across exec), which would hide the call's own peak.
    """
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def _resident_bytes() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


def _high_water_bytes(reset: bool) -> tuple[int, str]:
    if reset:
        hwm = _status_kb("VmHWM")
        if hwm is not None:
            return hwm * 1024, "VmHWM after reset"
    if sys.platform == "win32":
        import psutil

        return int(psutil.Process().memory_info().peak_wset), "peak working set"
    import resource

    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return (maxrss if sys.platform == "darwin" else maxrss * 1024), "ru_maxrss"


def peak_memory_of(call: Callable[[], object]) -> dict:
    """Run ``call`` once; its peak resident memory above the resident size just before it.

    Returns ``peak_bytes`` (high-water mark during the call minus resident size before it),
    ``rss_before_bytes`` and ``method`` (how the high-water mark was read). Without a
    resettable mark (not Linux) the figure is a lower bound if loading the inputs peaked
    higher than the call.
    """
    gc.collect()
    reset = _reset_high_water_mark()
    before = _resident_bytes()
    call()
    high, method = _high_water_bytes(reset)
    return {"peak_bytes": max(high - before, 0), "rss_before_bytes": before, "method": method}


def run_child(args: Sequence[str], what: str) -> dict:
    """Run ``python <this bench> *args`` and return the JSON object on its last stdout line.

    The child inherits stderr, so its progress shows; a failing child raises RuntimeError
    naming ``what`` and the exit code.
    """
    script = Path(sys.modules["__main__"].__file__).resolve()
    done = subprocess.run([sys.executable, str(script), *args], stdout=subprocess.PIPE, text=True,
                          check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{what}: child process exited {done.returncode} "
                           f"(command: {script.name} {' '.join(args)}); see its messages above")
    return json.loads(lines[-1])


def child_reply(payload: dict) -> None:
    """Hand a child's result to ``run_child``: one JSON line on stdout."""
    print(json.dumps(payload), flush=True)


# ---------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------


def environment() -> dict:
    """Facts about the machine and libraries that a reader of the figures needs."""
    import numpy

    facts = {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    for module in ("scipy", "skimage"):
        facts[module] = __import__(module).__version__
    if "OPENBLAS_CORETYPE" in os.environ:
        facts["OPENBLAS_CORETYPE"] = os.environ["OPENBLAS_CORETYPE"]
    return facts


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], right: Sequence[bool]) -> str:
    """A plain-text table; ``right`` says which columns align right (numbers)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row):
        return "  ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, right, strict=True))

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule] + [line(row) for row in cells[1:]])
