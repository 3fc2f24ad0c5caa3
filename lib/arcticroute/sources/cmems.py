"""``cmems``: Copernicus Marine through its ``copernicusmarine`` toolbox (an optional extra).

Config::

    kind: cmems
    dataset_id: dataset-wam-arctic-1hr3km-be     # ARCTIC_ANALYSIS_FORECAST_WAV_002_014
    variable: VHM0                                # significant wave height (m)
    reduce: max                                   # hourly fields -> the day's maximum
    lon: longitude / lat: latitude                # the rotated grid's 2-D coordinates
    bbox: [-180, 50, 180, 90]                     # min lon, min lat, max lon, max lat
    username_env: COPERNICUSMARINE_SERVICE_USERNAME
    password_env: COPERNICUSMARINE_SERVICE_PASSWORD
    provisional_days: 3                           # younger days are fetched again each run

The toolbox is imported only when a cmems source is used; without it the pull stops (exit
2) saying how to install it. Credentials come only from the environment or ``.env``. The
toolbox writes the day's subset to a netCDF file in the cache; that file is then checked and
regridded like any other (``gridded.py``). A day younger than ``provisional_days`` is
still a forecast or a provisional analysis, so its identity includes today's date and it is
fetched again on the next day's run; older days are final.
"""

from __future__ import annotations

import importlib
import importlib.util
from datetime import date, timedelta

from ..errors import ConfigError, NotYetAvailableError
from ..static import StaticGrid
from .base import FetchResult, Source
from .http import finish
from .http_client import CorruptDownloadError, Download, FetchError

INSTALL_HINT = ("install the optional Copernicus Marine toolbox into the project's environment: "
                ".venv/bin/python -m pip install copernicusmarine (then copernicusmarine login, or set "
                "COPERNICUSMARINE_SERVICE_USERNAME and COPERNICUSMARINE_SERVICE_PASSWORD in .env); or pull "
                "waves from another source with --source wave=NAME")


def toolbox():
    """The ``copernicusmarine`` module, imported on first use; ConfigError (exit 2) if absent."""
    if importlib.util.find_spec("copernicusmarine") is None:
        raise ConfigError("the cmems source needs the copernicusmarine toolbox, which is not installed",
                          hint=INSTALL_HINT)
    return importlib.import_module("copernicusmarine")


class CmemsSource(Source):
    kind = "cmems"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        toolbox()  # fail at once, before any work, when the toolbox is missing

    def _provisional(self, day: date) -> bool:
        today = self.context.today or date.today()
        return day > today - timedelta(days=int(self.config.get("provisional_days", 3)))

    def describe(self, day: date) -> dict:
        return {"source": self.name, "url": f"copernicusmarine://{self.config['dataset_id']}/{self.config['variable']}"
                f"@{day}", "cache": str(self._path(day)) if self.context.cache_dir else None}

    def _path(self, day: date):
        return self.context.cache_dir / f"{day:%Y}" / f"{day:%m}" / f"{self.config['dataset_id']}_{day:%Y%m%d}.nc"

    def identity(self, day: date) -> dict:
        identity = {"dataset_id": self.config["dataset_id"], "variable": self.config["variable"], "day": day.isoformat(),
                    "config": self.config_digest()}
        if self._provisional(day):
            identity["provisional_as_of"] = (self.context.today or date.today()).isoformat()
        return identity

    def _credentials(self) -> dict:
        names = (self.config.get("username_env", "COPERNICUSMARINE_SERVICE_USERNAME"),
                 self.config.get("password_env", "COPERNICUSMARINE_SERVICE_PASSWORD"))
        values = [self.context.env.get(n) for n in names]
        if not all(values):
            missing = [n for n, v in zip(names, values, strict=True) if not v]
            raise ConfigError(f"source {self.name!r} needs Copernicus Marine credentials; {', '.join(missing)} unset",
                              hint="set them in the environment or .env (a free account at marine.copernicus.eu)")
        return {"username": values[0], "password": values[1]}

    def _subset(self, day: date, dest, variables: list[str] | None = None) -> None:
        """The one call across the boundary to the toolbox (copernicusmarine 2.x Python API): one
        day of ``variables`` (default: the configured variable) into ``dest``."""
        min_lon, min_lat, max_lon, max_lat = self.config.get("bbox", [-180, 50, 180, 90])
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            toolbox().subset(
                dataset_id=self.config["dataset_id"], variables=variables or [self.config["variable"]],
                minimum_longitude=min_lon, maximum_longitude=max_lon, minimum_latitude=min_lat,
                maximum_latitude=max_lat, start_datetime=f"{day.isoformat()}T00:00:00",
                end_datetime=f"{day.isoformat()}T23:59:59", output_directory=str(dest.parent),
                output_filename=dest.name, overwrite=True, **self._credentials(),
            )
        except ConfigError:
            raise
        except Exception as exc:  # noqa: BLE001 - the toolbox raises its own classes; they must not escape as bugs
            text = str(exc)
            if "time" in text.lower() and ("range" in text.lower() or "exceed" in text.lower()):
                raise NotYetAvailableError(f"{self.name}: {day} is outside the dataset's time range ({text[:160]})") from None
            raise FetchError(f"{self.name}: copernicusmarine subset failed: {type(exc).__name__}: {text[:200]}",
                             hint="check the credentials and the dataset id; the next run tries again") from None
        if not dest.is_file():
            raise FetchError(f"{self.name}: copernicusmarine subset wrote no file at {dest}")

    def fetch(self, day: date, static: StaticGrid) -> FetchResult:
        from ..store import atomic
        from . import gridded  # xarray: imported by a fetch, not by a run with nothing to fetch

        dest = self._path(day)
        tmp = atomic.temp_path_for(dest)
        try:
            self._subset(day, tmp)
            try:
                gridded.read_field(tmp, self.config, self.name, static.grid, day)
            except CorruptDownloadError as exc:
                raise FetchError(f"{self.name}: the toolbox's file for {day} cannot be read ({exc})") from None
            tmp.replace(dest)
        finally:
            tmp.unlink(missing_ok=True)
        field = gridded.read_field(dest, self.config, self.name, static.grid, day)
        url = f"copernicusmarine://{self.config['dataset_id']}/{self.config['variable']}@{day}"
        size = dest.stat().st_size
        download = Download(dest, url, None, None, atomic.sha256_file(dest), size, size, 200)
        result = finish(self, day, static, field, download)
        result.identity = self.identity(day)
        return result
