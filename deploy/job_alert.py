#!/usr/bin/env python3
"""Write an alert file for a scheduled job that failed (systemd OnFailure=, or the Windows task).

Each failing command already writes its own alert; this one also covers what no command can
report itself: a job stopped by its timeout, a missing .venv, a step killed by a signal.
systemd runs it as arcticroute-alert@<failed unit>.service (`--unit`); the task's .ps1 runs it
with `--job` and `--why`. The file is outputs/alerts/<UTC>_error_schedule.<job>.json.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import click

from arcticroute.config import load_settings
from arcticroute.errors import ArcticRouteError
from arcticroute.ops.alerts import write_alert
from arcticroute.redact import secret_values


def unit_state(unit: str) -> str:
    """What systemd says about how the unit ended (empty where systemctl cannot be asked)."""
    if not shutil.which("systemctl"):
        return ""
    try:
        out = subprocess.run(["systemctl", "show", unit, "--property=Result,ExecMainStatus,ExecMainCode,"
                              "InactiveEnterTimestamp"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    return ", ".join(line.strip() for line in out.splitlines() if line.strip())


@click.command(name="schedule.alert")
@click.option("--unit", default=None, help="The systemd unit that failed (arcticroute-<job>.service).")
@click.option("--job", default=None, help="The job that failed (the Windows task's name).")
@click.option("--why", default="", help="What went wrong, as the caller knows it.")
def main(unit, job, why):
    """Write outputs/alerts/<UTC>_error_schedule.<job>.json (and post it to the webhook if set)."""
    if not unit and not job:
        raise click.UsageError("give --unit or --job")
    name = job or unit.removeprefix("arcticroute-").removesuffix(".service")
    if unit:
        state = unit_state(unit)
        why = "; ".join(part for part in (why, f"systemd: {state}" if state else "") if part)
        hint = (f"journalctl -u {unit} shows the failed step; the step's own alert and "
                "outputs/logs/<command>.log say why. Run the job again with: systemctl start " + unit)
    else:
        hint = (f"outputs/logs/task.{name}.log shows the failed step; the step's own alert and "
                f"outputs/logs/<command>.log say why. Run it again with: Start-ScheduledTask -TaskPath "
                f"'\\ArcticRoute\\' -TaskName {name}")
    try:
        settings = load_settings()
    except ArcticRouteError as exc:
        click.echo(f"Error: the config is unusable, so no alert file can be written: {exc}", err=True)
        sys.exit(1)
    path = write_alert(
        settings.outputs_root, severity="error", command=f"schedule.{name}",
        what=f"the scheduled job {name} failed", why=why or "a step failed (see the hint)", hint=hint,
        run_id=None, env=dict(settings.env), secrets=secret_values(settings.env),
        timeout_s=float(settings.runtime["alerts"]["webhook_timeout_s"]),
    )
    click.echo(f"alert: {path}")


if __name__ == "__main__":
    main()
