"""Domain exceptions, translated to exit codes once at the script edge (``cli.py``)."""

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_LOCKED = 75  # EX_TEMPFAIL: another run holds the lock; timers treat it as success


class ArcticRouteError(Exception):
    """A run failed; the message says what, why and what to do about it."""

    exit_code = EXIT_FAILURE
    severity = "error"
    alert = True  # the Run writes an alert file when it fails with this error

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


class BadInputError(ArcticRouteError):
    """The user's input (option, config file, coordinate) is invalid; nothing was written."""

    exit_code = EXIT_USAGE


class ConfigError(BadInputError):
    """A configuration file or variable holds a value that cannot be used."""


class LockHeldError(ArcticRouteError):
    """Another run of the same command family holds the lock."""

    exit_code = EXIT_LOCKED
    severity = "warning"


class NoRouteError(ArcticRouteError):
    """No path satisfies the vessel's hard limits; the message names the blocking limit."""


class RouteRefusedError(NoRouteError):
    """A sea area's rules (NSR admission criteria, seasons) do not permit the voyage."""


class NotYetAvailableError(ArcticRouteError):
    """The provider has not published this day yet: not a failure of the run."""


class DataValidationError(ArcticRouteError):
    """A fetched or stored file does not look as its source promises."""


class StorageError(ArcticRouteError):
    """A data, report or output root cannot be written (full, read-only, not permitted); the
    message names the path, the hint what to do; nothing partial was left."""


class DiskFullError(StorageError):
    """No space left on the device while writing: the previous version is kept."""


class NotWritableError(StorageError):
    """A root or a file under it is on a read-only file system, or this user may not write it."""


class UnreadableFileError(ArcticRouteError):
    """A file could not be parsed (netCDF, JSON, a table): the message names the file (and the
    row and column of a table) and the hint how to fix or restore it."""


class StacWriteError(ArcticRouteError):
    """The STAC catalog could not be written where stac.folder says; the previous one is kept."""


class HealthFailedError(ArcticRouteError):
    """health.check found a failure (or, with --strict, a warning); it alerts on transitions itself."""

    alert = False
