"""cache.gc: cache folders by age, temporary files of dead runs, then eviction to the watermark.

One walk of each root (resolved once; below it no link is ever followed):

- inside a cache folder (``gc.cache_folders``): files and links unused for ``ttl_days`` go, and
  so do ``.partial`` and temporary files of dead runs once older than the safety age; folders
  emptied that way go too; a mounted filesystem below a cache folder is not entered;
- everywhere else: only temporary files of our own atomic writes (``.tmp-<run id>-<hex>-…``)
  older than the safety age whose run is not in progress.

Never removed: anything younger than the safety age (``gc.safety_age_minutes``), lock files
(``*.lock``), a file whose ``<name>.lock`` another process holds, a temporary file of a run in
progress (named by ``outputs/locks/<family>.current``), anything in the cache folders of a family
whose run is in progress (GC holds that family's lock while it cleans them, so none starts), and
in a cache folder that is not hidden, anything that looks like a catalogued artifact.

Then, if the filesystem holding the data root is at or above the watermark, the oldest cache
entries on that filesystem are evicted and, when ``gc.evict_versions`` allows it, superseded
versions as ``gc.versions`` lets them go, until usage is below the watermark.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from stat import S_IFLNK, S_IFMT, S_IFREG

from ..store.artifacts import META_SUFFIX, parse_version
from . import policy as gc_policy
from .cache_report import CacheReport
from .disk import disk_usage
from .evict import Candidate, evict
from .fs import FD_BASED, Dir, last_used, shown
from .live import LiveRuns, Owners
from .policy import DAY_S, CacheFolder, GcPolicy
from .versions import MAX_LISTED, Removed

# Our own temporary names (atomic.temp_path_for): .tmp-<run id or x>-<8 hex>-<name>
TMP_RE = re.compile(r"^\.tmp-(?P<run>\d{8}T\d{6}Z-[0-9a-f]{6}|x)-[0-9a-f]{8}-")
PARTIAL = ".partial"
LOCK = ".lock"
MAX_DEPTH = 64


HAS_BLOCKS = hasattr(os.stat_result, "st_blocks")  # not on Windows
_FORMAT, _REGULAR, _LINK = S_IFMT(0o177777), S_IFREG, S_IFLNK
_SPECIAL = (LOCK, META_SUFFIX, PARTIAL)  # names that need a second look
_MARKERS = (LOCK, META_SUFFIX, PARTIAL, "_adv_v", ".tmp-")  # ... and what any of them contains


def _blocks(st: os.stat_result) -> int:
    """Bytes removing this entry frees (nothing while another hard link keeps it)."""
    if st.st_nlink > 1:
        return 0
    return st.st_blocks * 512 if HAS_BLOCKS else st.st_size


def _artifact_names(names: list[str]) -> set[str]:
    """Names that look like catalogued artifacts: versions, sidecars, what a sidecar describes."""
    sidecars = {n for n in names if n.endswith(META_SUFFIX)}
    found = sidecars | {n[: -len(META_SUFFIX)] for n in sidecars}
    return found | {n for n in names if "_adv_v" in n and parse_version(Path(n)) is not None}


class Sweep:
    """The TTL walk of one cache.gc run (see the module doc)."""

    def __init__(self, roots: dict[str, Path], policy: GcPolicy, *, now: float, dry_run: bool,
                 collect: bool, data_device: int | None, live: LiveRuns, owners: Owners, report: CacheReport):
        self.roots = roots
        self.policy = policy
        self.now = now
        self.safety_cutoff = now - policy.safety_age_s
        self.dry_run = dry_run
        self.collect = collect
        self.data_device = data_device
        self.live = live
        self.owners = owners
        self.report = report
        self.outcome = report.outcome
        self.candidates: list[Candidate] = []
        self.freed_blocks = 0  # what the walk frees (what it would free, in a dry run)
        self._warned: set[str] = set()

    def root(self, root_name: str) -> None:
        root = self.roots[root_name]
        try:
            top = Dir.open(root)
        except FileNotFoundError:
            return
        except OSError as exc:
            self.report.warnings.append(f"{shown(root)} not cleaned: {exc.strerror or exc}")
            return
        with top:
            self._plain(root_name, top, (), 0)

    # -- outside cache folders: our temporary files only ---------------------------------------
    def _plain(self, root_name: str, d: Dir, parts: tuple[str, ...], depth: int) -> None:
        folders = [f for f in self.policy.folders if f.root == root_name and len(f.parts) == len(parts) + 1]
        for entry in d.entries():
            name = entry.name
            if entry.is_dir(follow_symlinks=False):
                here = (*parts, name)
                folder = next((f for f in folders if f.matches(here)), None)
                if folder is not None and folder.owner and (why := self.owners.busy(folder.owner)):
                    self.report.skipped.append(f"{shown(d.path / name)} ({folder.label}): {why}")
                    continue
                try:
                    child = d.child(name)
                except OSError as exc:
                    self.report.warnings.append(f"{shown(d.path / name)} not cleaned: {exc.strerror or exc}")
                    continue
                if child is None:
                    continue
                with child:
                    if folder is not None:
                        self._cache(root_name, folder, child, here, 0, child.stat.st_dev, self._cutoff(folder))
                    elif depth < MAX_DEPTH:
                        self._plain(root_name, child, here, depth + 1)
                    else:
                        self._warn_once(f"{shown(child.path)} not entered: deeper than {MAX_DEPTH} folders")
            elif name[0] == "." and TMP_RE.match(name):
                self._temporary(d, entry)
            elif folders and entry.is_symlink() and any(f.matches((*parts, name)) for f in folders):
                self._warn_once(f"{shown(d.path / name)}: a cache folder that is a symbolic link is not followed "
                                "(GC never follows links below a root); make it a folder, or mount the disk there")

    def _cutoff(self, folder: CacheFolder) -> float:
        return self.now - folder.ttl_days * DAY_S

    def _temporary(self, d: Dir, entry: os.DirEntry) -> None:
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            return  # gone meanwhile, or not ours to look at
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)) or last_used(st, False) > self.safety_cutoff:
            return
        if TMP_RE.match(entry.name)["run"] in self.live:
            return
        self.remove(d, entry.name, st, "temporary", "temporary file of a dead run")

    # -- inside a cache folder -----------------------------------------------------------------
    def _cache(self, root_name: str, folder: CacheFolder, d: Dir, parts: tuple[str, ...], depth: int,
               device: int, ttl_cutoff: float) -> bool:
        """Clean one folder of a cache; True when nothing is left in it.

        The loop runs once per file of every cache (200 000 in the bench), so what can be decided
        per folder is decided before it: the names to leave alone (lock files, artifacts) and the
        few that need a closer look (temporary files, files with a lock file beside them).
        """
        entries = d.entries()
        joined = "/".join([e.name for e in entries])  # one search through all names ("/" is in none)
        special = ([n for n in joined.split("/") if n.endswith(_SPECIAL) or "_adv_v" in n or n.startswith(".tmp-")]
                   if any(marker in joined for marker in _MARKERS) else [])
        leave = {n for n in special if n.endswith(LOCK)}  # lock files are never removed
        closer = {n[: -len(LOCK)] for n in leave} | {n for n in special if TMP_RE.match(n) or n.endswith(PARTIAL)}
        if special and not folder.hidden:
            artifacts = _artifact_names(special)
            if artifacts:
                self._warn_once(f"cache folder {shown(d.path)} ({folder.label}) holds files that look like "
                                f"catalogued artifacts (e.g. {shown(min(artifacts))}): left alone; a cache "
                                "folder should hold only cache files")
                leave |= artifacts
        changed = folder.age == "changed"
        safety_cutoff = self.safety_cutoff
        collect = self.collect and device == self.data_device
        dry_run = self.dry_run
        fd = d.fd if FD_BASED else None
        room = MAX_LISTED - len(self.outcome.listed)
        removed = removed_bytes = freed = 0
        remaining = 0
        form, regular, link, blocks, os_unlink = _FORMAT, _REGULAR, _LINK, HAS_BLOCKS, os.unlink  # as locals: faster
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                remaining += not self._subfolder(root_name, folder, d, entry.name, parts, depth, device, ttl_cutoff)
                continue
            name = entry.name
            if leave and name in leave:
                remaining += 1
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # removed by someone else meanwhile
            except OSError as exc:
                self._warn_once(f"{shown(d.path / name)} left: {exc.strerror or exc}")
                remaining += 1
                continue
            kind = st.st_mode & form
            if kind != regular and kind != link:  # fifos, sockets, devices stay
                remaining += 1
                continue
            used = st.st_mtime if st.st_mtime > st.st_atime else st.st_atime
            if changed and st.st_ctime > used:
                used = st.st_ctime
            if used > safety_cutoff:
                remaining += 1
                continue
            if closer and name in closer:
                remaining += not self._closer_look(d, name, st, used, ttl_cutoff, folder)
                continue
            if used > ttl_cutoff:
                if collect:
                    self.candidates.append(Candidate(used, _blocks(st), st.st_size, root_name, parts, name,
                                                     st.st_ino, st.st_mtime_ns, changed))
                remaining += 1
                continue
            if not dry_run:
                try:
                    if fd is not None:
                        os_unlink(name, dir_fd=fd)  # Dir.unlink, inlined: this runs once per file
                    elif not d.unlink(name):
                        continue
                except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                    continue  # removed (or replaced by a folder) by someone else meanwhile
                except OSError as exc:
                    self.outcome.errors.append(f"could not remove {shown(d.path / name)}: {exc.strerror or exc}")
                    remaining += 1
                    continue
            removed += 1
            removed_bytes += st.st_size
            freed += (st.st_blocks * 512 if st.st_nlink == 1 else 0) if blocks else st.st_size
            if room > 0:
                room -= 1
                self.outcome.listed.append(Removed("ttl", shown(d.path / name), st.st_size, self._ttl_reason(used, folder)))
        if removed:
            self.outcome.count("ttl", removed, removed_bytes)
            self.freed_blocks += freed
        return remaining == 0

    def _ttl_reason(self, used: float, folder: CacheFolder) -> str:
        return f"unused for {(self.now - used) / DAY_S:.0f} days (ttl {folder.ttl_days:g} days, {folder.label})"

    def _closer_look(self, d: Dir, name: str, st: os.stat_result, used: float, ttl_cutoff: float,
                     folder: CacheFolder) -> bool:
        """A temporary file, or one with a lock file beside it (older than the safety age):
        True when it went."""
        ours = TMP_RE.match(name)
        if ours is not None and ours["run"] in self.live:
            return False  # its run is in progress
        if d.lock_held(name + LOCK):
            return False
        if ours is not None or name.endswith(PARTIAL):
            return self.remove(d, name, st, "temporary", "temporary file of a dead run")
        if used <= ttl_cutoff:
            return self.remove(d, name, st, "ttl", self._ttl_reason(used, folder))
        return False

    def _subfolder(self, root_name, folder, d: Dir, name, parts, depth, device, ttl_cutoff) -> bool:
        """Clean a folder below a cache folder; True when it is gone (or would be, in a dry run)."""
        try:
            child = d.child(name)
        except OSError as exc:
            self.report.warnings.append(f"{shown(d.path / name)} not cleaned: {exc.strerror or exc}")
            return False
        if child is None:
            return False
        with child:
            if child.stat.st_dev != device:
                self._warn_once(f"{shown(child.path)} not entered: another filesystem is mounted there")
                return False
            if depth >= MAX_DEPTH:
                self._warn_once(f"{shown(child.path)} not entered: deeper than {MAX_DEPTH} folders")
                return False
            emptied = self._cache(root_name, folder, child, (*parts, name), depth + 1, device, ttl_cutoff)
            old = last_used(child.stat, folder.age == "changed") <= self.safety_cutoff
        if not (emptied and old):
            return False
        if self.dry_run:
            return True
        try:
            gone = d.rmdir(name)
        except OSError:
            return False
        self.report.dirs_removed += gone
        return gone

    def remove(self, d: Dir, name: str, st: os.stat_result, what: str, reason: str) -> bool:
        if not self.dry_run:
            try:
                if not d.unlink(name):
                    return True  # gone already (someone else's removal, not counted)
            except OSError as exc:
                self.outcome.errors.append(f"could not remove {shown(d.path / name)}: {exc.strerror or exc}")
                return False
        self.freed_blocks += _blocks(st)
        self.outcome.add(what, st.st_size, lambda: Removed(what, shown(d.path / name), st.st_size, reason))
        return True

    def _warn_once(self, text: str) -> None:
        key = text.split(":")[0]
        if key not in self._warned:
            self._warned.add(key)
            self.report.warnings.append(text)


def collect_garbage(roots: dict[str, Path], policy: GcPolicy, *, dry_run: bool,
                    now: float | None = None) -> CacheReport:
    """The cache.gc run over resolved ``roots``; the report says what went and why."""
    now = gc_policy.now() if now is None else now
    report = CacheReport(dry_run=dry_run, policy=policy)
    data_root = roots["data"]
    if not data_root.is_dir():
        report.warnings.append(f"data root {shown(data_root)} does not exist: nothing to clean there")
    live = LiveRuns(roots["outputs"])
    owners = Owners(roots["outputs"], live, dry_run)
    try:
        data_device = os.stat(data_root).st_dev if data_root.is_dir() else None
        report.usage_before = disk_usage(data_root) if data_root.is_dir() else None
        over = report.usage_before is not None and report.usage_before.fraction >= policy.watermark
        sweep = Sweep(roots, policy, now=now, dry_run=dry_run, collect=over, data_device=data_device,
                      live=live, owners=owners, report=report)
        for root_name in ("data", "outputs", "reports"):
            if root_name in roots:
                sweep.root(root_name)
        if report.usage_before is not None:
            evict(roots, policy, sweep, report, now, data_device)
    finally:
        owners.release()
    return report
