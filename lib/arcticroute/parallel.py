"""Per-day work in parallel processes (``--jobs N``), published by the parent only.

Days are independent once their inputs exist, so pull and fuse hand each day to a worker
process (netCDF-4/HDF5 is not thread-safe, hence processes, not threads). A worker reads its
inputs through the verifying readers, computes, and writes the day's netCDF bytes to a
temporary file (``.tmp-<run id>-…``) in the artifact's own folder; it returns that file's path
with what the sidecar needs and the log lines it would have written. The parent alone makes
artifacts of them (``artifacts.write_artifact`` moves the temporary file into the version's
place, writes the sidecar and swaps the canonical link), and alone holds the lock, writes the
run record, the log and the catalog. A temporary file the parent never published is removed by
the parent, or, if the parent was killed, by the next run of its family (its name carries the
run id). ``jobs == 1`` runs the very same task functions in the parent, one after another, so
the bytes written do not depend on ``jobs``.

``executor="dask"`` hands the same tasks to a ``dask.distributed`` cluster instead: the one at
``scheduler`` (or ``DASK_SCHEDULER_ADDRESS``), or else a ``LocalCluster`` of ``jobs`` worker
processes started for the run. The workers must see the data root at the same path as the
command (shared storage), since the parent publishes the temporary files they write.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from .errors import ArcticRouteError, BadInputError

LOGGER_NAME = "arcticroute"


def default_jobs() -> int:
    """The cores this process may use (its CPU affinity where the OS tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def resolve_jobs(jobs: int | None) -> int:
    """``None`` or 0 means one worker per core."""
    if jobs is None or jobs == 0:
        return default_jobs()
    if jobs < 0:
        raise BadInputError(f"--jobs {jobs}: expected a positive number of worker processes (0: one per core)")
    return jobs


@dataclass
class TaskResult:
    """What a task returns to the parent: its value, or its error, and its log lines."""

    value: object = None
    error: tuple | None = None  # (class, message, hint, traceback text); see ``reraise``
    logs: list[tuple[int, str]] = field(default_factory=list)

    def reraise(self) -> None:
        """Raise the worker's error again in the parent, as the same class with its hint."""
        if self.error is None:
            return
        cls, message, hint, text = self.error
        if isinstance(cls, type) and issubclass(cls, ArcticRouteError):
            exc = cls.__new__(cls)
            Exception.__init__(exc, message)
            exc.hint = hint
            raise exc
        if isinstance(cls, type) and issubclass(cls, OSError) and isinstance(message, tuple):
            raise cls(*message)
        raise RuntimeError(f"{getattr(cls, '__name__', cls)}: {message} (in a worker process)\n{text}")


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.levelno, record.getMessage()))


def _die_with_parent() -> None:
    """Linux: the kernel kills this worker when the parent dies (``kill -9`` of the command),
    so no worker goes on writing temporary files after the next run has cleaned up."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


_PARENT_PID: int | None = None


def _worker_init(run_tag: str, outputs_root: str | None, parent_pid: int) -> None:
    """In a worker: it dies with its parent, temporary names carry the run id, the sha256 cache
    is shared read-only, and nothing is logged to the run's files (lines go back to the parent)."""
    from .store import atomic, integrity

    global _PARENT_PID
    _PARENT_PID = parent_pid
    _die_with_parent()
    if os.getppid() != parent_pid:  # the parent died before the line above took effect
        os._exit(1)

    atomic.set_run_tag(run_tag)
    if outputs_root:
        from pathlib import Path

        integrity.load_cache(Path(outputs_root))
    root = logging.getLogger(LOGGER_NAME)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.propagate = False


def call_task(func: Callable, task) -> TaskResult:
    """Run one task, catching its error and its log lines (in a worker or in the parent)."""
    root = logging.getLogger(LOGGER_NAME)
    collect = _Collect()
    in_worker = multiprocessing.parent_process() is not None
    if in_worker:
        if _PARENT_PID is not None and os.getppid() != _PARENT_PID:  # orphaned: the run is over
            os._exit(1)
        root.addHandler(collect)
    try:
        return TaskResult(value=func(task), logs=collect.lines)
    except ArcticRouteError as exc:
        return TaskResult(error=(type(exc), str(exc), exc.hint, traceback.format_exc()), logs=collect.lines)
    except OSError as exc:
        return TaskResult(error=(type(exc), exc.args, None, traceback.format_exc()), logs=collect.lines)
    except Exception as exc:  # noqa: BLE001 - one task's bug is reported by the parent, with its traceback
        return TaskResult(error=(type(exc), str(exc), None, traceback.format_exc()), logs=collect.lines)
    finally:
        if in_worker:
            root.removeHandler(collect)


def _mp_context():
    """fork where it exists (workers start at once and inherit the parent's verified caches;
    the parent runs no other thread while the pool starts), spawn elsewhere."""
    if sys.platform != "win32" and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


EXECUTORS = ("process", "dask")


def _dask_call(func: Callable, task, run_tag: str, outputs_root: str | None) -> TaskResult:
    """One task on a dask worker: temporary names carry the run id, as in a pool worker."""
    from .store import atomic, integrity

    atomic.set_run_tag(run_tag)
    if outputs_root:
        from pathlib import Path

        integrity.load_cache(Path(outputs_root))
    return call_task(func, task)


def _run_dask(func: Callable, tasks: list, *, jobs: int, scheduler: str | None, run_tag: str,
              outputs_root: str | None, log: logging.Logger | None) -> Iterator[tuple[object, TaskResult]]:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - distributed is a pinned dependency
        raise BadInputError("--executor dask needs the 'distributed' package",
                            hint="run just setup (it installs the pinned requirements)") from exc
    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
    cluster = None
    if address is None:
        cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR)
    try:
        with Client(address or cluster) as client:
            if log is not None:
                log.info("dask: %s task(s) on %s", len(tasks), client.scheduler.address)
            futures = {client.submit(_dask_call, func, task, run_tag, outputs_root, pure=False): n
                       for n, task in enumerate(tasks)}
            for future in as_completed(futures):
                result = future.result()
                if log is not None:
                    for level, line in result.logs:
                        log.log(level, line)
                yield tasks[futures[future]], result
    finally:
        if cluster is not None:
            cluster.close()


def run_tasks(func: Callable, tasks: Iterable, *, jobs: int, run_tag: str = "x",
              outputs_root: str | None = None, log: logging.Logger | None = None,
              executor: str = "process", scheduler: str | None = None) -> Iterator[tuple[object, TaskResult]]:
    """Yield ``(task, TaskResult)`` for every task, in completion order.

    ``func`` must be a module-level function (it is pickled by reference). With ``jobs`` 1,
    or a single task, everything runs in this process (``executor="dask"`` always uses its
    cluster). The worker's log lines are replayed on ``log`` here, in the parent.
    """
    tasks = list(tasks)
    if executor == "dask" and tasks:
        yield from _run_dask(func, tasks, jobs=jobs, scheduler=scheduler, run_tag=run_tag,
                             outputs_root=outputs_root, log=log)
        return
    if jobs <= 1 or len(tasks) <= 1:
        for task in tasks:
            yield task, call_task(func, task)
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=_mp_context(),
                             initializer=_worker_init, initargs=(run_tag, outputs_root, os.getpid())) as pool:
        futures = {pool.submit(call_task, func, task): task for task in tasks}
        try:
            for future in as_completed(futures):
                result = future.result()
                if log is not None:
                    for level, line in result.logs:
                        log.log(level, line)
                yield futures[future], result
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def jobs_option(what: str):
    """``--jobs N``, ``--executor`` and ``--scheduler``, spelled the same in every command that
    spreads days over processes."""
    import click

    def decorate(func):
        func = click.option("--scheduler", default=None, envvar="DASK_SCHEDULER_ADDRESS", show_envvar=True,
                            metavar="ADDRESS",
                            help="With --executor dask: the scheduler of an existing cluster (tcp://host:8786); "
                                 "without it a local cluster of --jobs worker processes is started.")(func)
        func = click.option("--executor", type=click.Choice(EXECUTORS), default="process", show_default=True,
                            help="Where the per-day work runs: worker processes on this machine, or a "
                                 "dask.distributed cluster (its workers must see the data root at the same path).")(func)
        return click.option("--jobs", type=click.IntRange(1, 64), default=None,
                            help=f"Worker processes, one day each at a time ({what}). Default: one per core.")(func)

    return decorate
