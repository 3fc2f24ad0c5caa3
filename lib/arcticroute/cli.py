"""What every script shares: the common options and the one place errors become exit codes."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click
from click.core import ParameterSource

from .config import Settings, load_settings
from .errors import EXIT_FAILURE, ArcticRouteError, BadInputError, DiskFullError, NotWritableError
from .ops.runs import Run
from .redact import redact_known
from .store.layout import refuse_legacy
from .timeutil import parse_day, parse_since, parse_ym

# errors the Run makes of an OSError (``store.oserrors``): shown as themselves, not as "unexpected"
DOMAIN_ERRORS = {DiskFullError.__name__, NotWritableError.__name__}


def common_options(func):
    """``--config-dir``, ``--profile`` and ``--grid-km``, spelled the same in every command."""
    func = click.option(
        "--grid-km", type=float, default=None, envvar="ARCTICROUTE_GRID_KM", show_envvar=True,
        help="Grid cell size in km (25, 12.5 or 6.25); default from config/env.yaml.",
    )(func)
    func = click.option(
        "--profile", default=None, envvar="ARCTICROUTE_PROFILE", show_envvar=True,
        help="Data profile: 'demo' (synthetic, offline) or 'live'; default from config/env.yaml.",
    )(func)
    func = click.option(
        "--config-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
        envvar="ARCTICROUTE_CONFIG_DIR", show_envvar=True,
        help="Folder holding env.yaml, runtime.yaml and scenarios.yaml.",
    )(func)
    return func


class _YearMonth(click.ParamType):
    name = "YYYYMM|current|-P1D"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        option = param.opts[0] if param is not None and param.opts else "--ym"
        try:
            return parse_ym(str(value), option=option)
        except BadInputError as exc:
            self.fail(f"{exc} ({exc.hint})" if exc.hint else str(exc), param, ctx)


class _Since(click.ParamType):
    name = "ISO8601|DURATION"

    def convert(self, value, param, ctx):
        try:
            return parse_since(str(value))
        except BadInputError as exc:
            self.fail(f"{exc} ({exc.hint})" if exc.hint else str(exc), param, ctx)


YEAR_MONTH = _YearMonth()
SINCE = _Since()


def ym_option(func):
    return click.option(
        "--ym", type=YEAR_MONTH, default="current", show_default=True,
        help="Month to work on: YYYYMM, 'current' (UTC), or the month of a moment back from now, e.g. -P1D "
             "(yesterday's month: the daily chain's, so a month's last day is done on the 1st).",
    )(func)


def layers_callback(ctx, param, value):
    """``--what ice,wave`` to layer ids; an unknown name is a usage error listing the valid ones."""
    from .layers import resolve_layers

    try:
        return resolve_layers(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def day_or_latest(ctx, param, value):
    """``latest`` or a day (YYYY-MM-DD), for the --date options of route.plan and route.export."""
    if value == "latest":
        return value
    try:
        return parse_day(value)
    except BadInputError as exc:
        raise click.BadParameter(str(exc)) from None


def fail(message: str, hint: str | None, code: int) -> None:
    """Print ``Error:`` (and ``Hint:``) with every known secret masked, and exit."""
    click.echo(f"Error: {redact_known(message)}", err=True)
    if hint:
        click.echo(f"Hint: {redact_known(hint)}", err=True)
    sys.exit(code)


def call_or_exit(func: Callable, *args, **kwargs):
    """Call library code outside a Run (settings, dry runs, read-only views); errors exit."""
    try:
        return func(*args, **kwargs)
    except ArcticRouteError as exc:
        fail(str(exc), exc.hint, exc.exit_code)


def settings_from_options(config_dir: Path | None, profile: str | None, grid_km: float | None) -> Settings:
    """Load the settings (ConfigError on a bad value); print each of their warnings as ``Warning: ...``.

    A value click took from an ``ARCTICROUTE_*`` variable (``envvar=``) is handed back to
    load_settings as unset, so that it reads the variable itself and names it in messages.
    """
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        def from_environment(name: str) -> bool:
            return ctx.get_parameter_source(name) is ParameterSource.ENVIRONMENT

        config_dir = None if from_environment("config_dir") else config_dir
        profile = None if from_environment("profile") else profile
        grid_km = None if from_environment("grid_km") else grid_km
    settings = load_settings(config_dir, profile=profile, grid_km=grid_km)
    for warning in settings.warnings:
        click.echo(f"Warning: {redact_known(warning)}", err=True)
    return settings


def load_or_exit(config_dir: Path | None, profile: str | None, grid_km: float | None) -> Settings:
    """``settings_from_options``, exiting 2 with the message on a bad value."""
    return call_or_exit(settings_from_options, config_dir, profile, grid_km)


def execute(
    settings: Settings,
    command: str,
    family: str,
    body: Callable[[Run], object],
    render: Callable[[object, Run], None],
    *,
    writes: bool = False,
    also_lock: tuple[str, ...] = (),
) -> None:
    """Run ``body`` inside a Run (lock, log, record, alert) and exit with the contract's code.

    ``writes``: the command writes artifacts, so it refuses a data tree of the old layout.
    """
    run = None
    try:
        with Run(settings, command, family=family, also_lock=also_lock) as run:
            if writes:
                refuse_legacy(settings.roots)
            result = body(run)
            render(result, run)
    except ArcticRouteError as exc:
        fail(str(exc), exc.hint, exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - the Run already logged the traceback to the file
        if run is None:  # raised before the run started: nothing was logged, no record written
            fail(f"unexpected {type(exc).__name__}: {exc}", None, EXIT_FAILURE)
        error = run.error or {"type": type(exc).__name__, "message": str(exc), "hint": None}
        domain = error["type"] in DOMAIN_ERRORS
        fail(error["message"] if domain else f"unexpected {error['type']}: {error['message']}",
             error["hint"] or run.details_hint(), run.exit_code or EXIT_FAILURE)
    sys.exit(run.exit_code)
