#!/usr/bin/env python3
"""Write the systemd units and the Windows Task Scheduler files from config/runtime.yaml's schedule.

One definition feeds both schedulers. The files are checked in, rendered for the default
install (checkout /opt/arcticroute, user arcticroute); `--check` says whether they are up to
date (tests and lint run it), and `just timers-install` renders the units again for the
checkout it runs in and that checkout's owner (`--repo`, `--user`, `--out`).

  deploy/systemd/arcticroute-<job>.service, .timer   one oneshot service + timer per job
  deploy/systemd/arcticroute-alert@.service          OnFailure= of every job: writes an alert file
  deploy/schedule/<windows_script>.ps1, .xml         one script + Task XML (UTF-16LE with BOM) per job
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import click

from arcticroute.cli import call_or_exit
from arcticroute.commands import COMMANDS
from arcticroute.config import DEFAULTS, load_settings, load_yaml
from arcticroute.ops import unit_syntax as syntax

DEPLOY = Path(__file__).resolve().parent
REPO = DEPLOY.parent
DEFAULT_REPO = "/opt/arcticroute"
DEFAULT_USER = "arcticroute"
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WINDOWS_DAYS = {"Mon": "Monday", "Tue": "Tuesday", "Wed": "Wednesday", "Thu": "Thursday", "Fri": "Friday",
                "Sat": "Saturday", "Sun": "Sunday"}
# The token register_tasks.ps1 replaces with the checkout's path when it registers a task.
HOME_TOKEN = "{ARCTICROUTE_HOME}"
# Every value placed in a generated file goes through lib/arcticroute/ops/unit_syntax.py for its
# place (systemd specifiers and quoting, XML, PowerShell literals); control characters are refused.
EXIT_LOCKED = 75


@dataclass(frozen=True)
class Job:
    name: str
    description: str
    at: str
    days: tuple[str, ...]
    random_delay_minutes: int
    timeout_minutes: int
    windows_script: str
    steps: tuple[tuple[str, ...], ...]

    @property
    def on_calendar(self) -> str:
        days = "" if set(self.days) == set(DAYS) else ",".join(d for d in DAYS if d in self.days) + " "
        return f"{days}*-*-* {self.at}:00"


def jobs_from(schedule: dict) -> list[Job]:
    """The jobs of a (validated) schedule section; every step must name a registered command."""
    known = {info.name for info in COMMANDS}
    jobs = []
    for name, spec in schedule.items():
        steps = tuple(tuple(step.split(" ")) for step in spec["steps"])
        unknown = [step[0] for step in steps if step[0] not in known]
        if unknown:
            raise click.ClickException(f"schedule.{name}: unknown command(s) {', '.join(unknown)}; "
                                       f"expected one of {', '.join(sorted(known))}")
        jobs.append(Job(name, spec.get("description") or f"ArcticRoute {name}", spec["at"],
                        tuple(spec.get("days") or DAYS), int(spec.get("random_delay_minutes", 0)),
                        int(spec.get("timeout_minutes", 120)), spec["windows_script"], steps))
    return jobs


def default_roots(config_dir: Path, repo: str) -> dict[str, str]:
    """The data roots as env.yaml sets them (relative ones inside ``repo``), ignoring the environment."""
    paths = dict(DEFAULTS["env.yaml"]["paths"])
    env_yaml = config_dir / "env.yaml"
    if env_yaml.is_file():
        paths.update((load_yaml(env_yaml.read_text(encoding="utf-8")) or {}).get("paths") or {})
    return {key: value if PurePosixPath(value).is_absolute() else f"{repo}/{PurePosixPath(value)}"
            for key, value in paths.items()}


# -- systemd ------------------------------------------------------------------------------------

HARDENING = """\
# Hardening (systemd-analyze security scores it; see docs/playbook.md). The job reads the
# checkout and writes only to the data roots below: add a folder to ReadWritePaths= if you move
# a root elsewhere (ARCTICROUTE_DATA/REPORTS/OUTPUTS in .env).
ProtectSystem=strict
ReadWritePaths={rw}
ProtectHome=read-only
PrivateTmp=yes
PrivateDevices=yes
PrivateIPC=yes
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
RemoveIPC=yes
KeyringMode=private
DevicePolicy=closed
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources @mount @debug @cpu-emulation @obsolete
SystemCallErrorNumber=EPERM
UMask=0027
"""


def read_write_paths(roots: dict[str, str], keys=("data", "reports", "outputs")) -> str:
    return " ".join(syntax.systemd_list_path(roots[k], f"data root {k}", prefix="-") for k in keys)


def service_unit(job: Job, repo: str, user: str, roots: dict[str, str]) -> str:
    where = "the checkout path"
    exec_lines = "\n".join("ExecStart=" + syntax.systemd_exec([f"{repo}/.venv/bin/arcticroute", *step], where)
                           for step in job.steps)
    rw = read_write_paths(roots)
    description = syntax.systemd_text(job.description, f"schedule.{job.name}.description")
    docs, user = syntax.file_url(f"{repo}/docs/playbook.md", where), syntax.systemd_user(user)
    repo = syntax.systemd_path(repo, where)
    return f"""\
# Generated by deploy/render_schedule.py from config/runtime.yaml (schedule.{job.name}); edit
# that section and run `just schedule`, not this file. `just timers-install` installs it.
[Unit]
Description={description}
Documentation={docs}
Wants=network-online.target
After=network-online.target
# A failed step (after its own alert) or a timeout also leaves an alert file via this unit.
OnFailure=arcticroute-alert@%n.service

[Service]
Type=oneshot
# The user that owns the checkout and the data roots (timers-install: the checkout's owner).
User={user}
WorkingDirectory={repo}
# Optional settings and secrets, plain KEY=value lines (see env.example.txt).
EnvironmentFile=-{repo}/.env
Environment=PYTHONUNBUFFERED=1 MPLCONFIGDIR=/tmp/matplotlib
# Steps run in order and the first failure stops the job; 75 = another run holds the lock.
{exec_lines}
SuccessExitStatus={EXIT_LOCKED}
# The whole job (every step) is stopped after this long (schedule.{job.name}.timeout_minutes).
TimeoutStartSec={job.timeout_minutes}min
Nice=10
IOSchedulingClass=best-effort
IOSchedulingPriority=7
{HARDENING.format(rw=rw)}"""


def timer_unit(job: Job) -> str:
    description = syntax.systemd_text(job.description, f"schedule.{job.name}.description")
    return f"""\
# Generated by deploy/render_schedule.py from config/runtime.yaml (schedule.{job.name}); edit
# that section and run `just schedule`, not this file.
[Unit]
Description={description} (timer)

[Timer]
# Local time of the machine (schedule.{job.name}.at / days).
OnCalendar={job.on_calendar}
# Spread the start (schedule.{job.name}.random_delay_minutes) and catch up on a run missed while off.
RandomizedDelaySec={job.random_delay_minutes}min
Persistent=true
AccuracySec=1min
Unit=arcticroute-{job.name}.service

[Install]
WantedBy=timers.target
"""


def alert_unit(repo: str, user: str, roots: dict[str, str]) -> str:
    where = "the checkout path"
    rw = read_write_paths(roots, ("outputs",))
    exec_line = syntax.systemd_exec([f"{repo}/.venv/bin/python", f"{repo}/deploy/job_alert.py", "--unit"], where,
                                    raw_tail="%i")
    docs, user = syntax.file_url(f"{repo}/docs/playbook.md", where), syntax.systemd_user(user)
    repo = syntax.systemd_path(repo, where)
    return f"""\
# Generated by deploy/render_schedule.py; run `just schedule`, not an edit of this file.
# Started by OnFailure= of every ArcticRoute job with the failed unit's name as the instance:
# writes outputs/alerts/<UTC>_error_<job>.json (and posts it to ARCTICROUTE_ALERT_WEBHOOK).
[Unit]
Description=ArcticRoute alert for the failed unit %i
Documentation={docs}

[Service]
Type=oneshot
User={user}
WorkingDirectory={repo}
EnvironmentFile=-{repo}/.env
Environment=PYTHONUNBUFFERED=1
ExecStart={exec_line}
TimeoutStartSec=2min
{HARDENING.format(rw=rw)}"""


def systemd_files(jobs: list[Job], repo: str, user: str, roots: dict[str, str]) -> dict[str, str]:
    files = {}
    for job in jobs:
        files[f"arcticroute-{job.name}.service"] = service_unit(job, repo, user, roots)
        files[f"arcticroute-{job.name}.timer"] = timer_unit(job)
    files["arcticroute-alert@.service"] = alert_unit(repo, user, roots)
    return files


# -- Windows Task Scheduler -----------------------------------------------------------------------

def ps1_script(job: Job) -> str:
    what = f"schedule.{job.name}"
    steps = "\n".join(f"    Invoke-Step @({', '.join(syntax.ps_quote(w, what + '.steps') for w in step)})"
                      for step in job.steps)
    description = syntax.checked(job.description, what + ".description")  # in a comment: one line is all it needs
    log, name = syntax.ps_quote(f"task.{job.name}.log", what), syntax.ps_quote(job.name, what)
    return f"""\
# Generated by deploy/render_schedule.py from config/runtime.yaml (schedule.{job.name}); edit
# that section and run `just schedule`, not this file.
#
# {description}.
# Task Scheduler runs it as \\ArcticRoute\\{job.name} ({job.windows_script}.xml; register_tasks.ps1
# registers it). Every step runs `python -m arcticroute <command>` from the checkout's .venv;
# the first failure stops the job (exit 75, another run holds the lock, counts as success).
# The transcript goes to outputs\\logs\\task.{job.name}.log (ARCTICROUTE_OUTPUTS moves it).

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

# The checkout is two folders above this script: nothing here names a fixed path.
$Repo = (Resolve-Path -LiteralPath (Join-Path $PSScriptRoot '..\\..')).Path
$Python = Join-Path $Repo '.venv\\Scripts\\python.exe'
$Outputs = if ($env:ARCTICROUTE_OUTPUTS) {{ $env:ARCTICROUTE_OUTPUTS }} else {{ Join-Path $Repo 'outputs' }}
$Logs = Join-Path $Outputs 'logs'
New-Item -ItemType Directory -Force -Path $Logs | Out-Null
$Log = Join-Path $Logs {log}
if ((Test-Path -LiteralPath $Log) -and ((Get-Item -LiteralPath $Log).Length -gt 5242880)) {{
    Move-Item -LiteralPath $Log -Destination "$Log.1" -Force
}}
Start-Transcript -LiteralPath $Log -Append | Out-Null

$script:Failed = $null

function Invoke-Step {{
    param([Parameter(Mandatory = $true)][string[]]$Words)
    $started = Get-Date
    Write-Output ('{{0:u}} step: arcticroute {{1}}' -f $started, ($Words -join ' '))
    & $Python -m arcticroute @Words
    $code = $LASTEXITCODE
    if ($code -eq {EXIT_LOCKED}) {{
        Write-Output ('  exit {EXIT_LOCKED}: another run holds the lock; counted as success')
        return
    }}
    if ($code -ne 0) {{
        $script:Failed = [pscustomobject]@{{ Step = ($Words -join ' '); Code = $code }}
        throw ('step "arcticroute {{0}}" failed with exit code {{1}}' -f ($Words -join ' '), $code)
    }}
    Write-Output ('  ok in {{0:n1}} s' -f ((Get-Date) - $started).TotalSeconds)
}}

$exitCode = 0
try {{
    if (-not (Test-Path -LiteralPath $Python)) {{
        throw "$Python not found: run ``just setup`` in $Repo first"
    }}
    Set-Location -LiteralPath $Repo
{steps}
    Write-Output ('{{0:u}} {{1}}: every step succeeded' -f (Get-Date), {name})
}}
catch {{
    $exitCode = if ($script:Failed) {{ [int]$script:Failed.Code }} else {{ 1 }}
    Write-Output ('{{0:u}} {{1}} FAILED: {{2}}' -f (Get-Date), {name}, $_)
    if (Test-Path -LiteralPath $Python) {{
        & $Python (Join-Path $Repo 'deploy\\job_alert.py') --job {name} --why ([string]$_)
        if ($LASTEXITCODE -ne 0) {{ Write-Output "  the alert could not be written (exit $LASTEXITCODE)" }}
    }}
}}
finally {{
    Stop-Transcript | Out-Null
}}
exit $exitCode
"""


def _duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{rest}M" if rest or not hours else "")


def task_xml(job: Job) -> str:
    if set(job.days) == set(DAYS):
        schedule = "      <ScheduleByDay>\n        <DaysInterval>1</DaysInterval>\n      </ScheduleByDay>"
    else:
        days = "".join(f"          <{WINDOWS_DAYS[d]} />\n" for d in DAYS if d in job.days)
        schedule = ("      <ScheduleByWeek>\n        <DaysOfWeek>\n" + days
                    + "        </DaysOfWeek>\n        <WeeksInterval>1</WeeksInterval>\n      </ScheduleByWeek>")
    delay = f"      <RandomDelay>{_duration(job.random_delay_minutes)}</RandomDelay>\n" if job.random_delay_minutes else ""
    script = f"{HOME_TOKEN}\\deploy\\schedule\\{job.windows_script}.ps1"
    return f"""\
<?xml version="1.0" encoding="UTF-16"?>
<!-- Generated by deploy/render_schedule.py from config/runtime.yaml (schedule.{job.name}); edit that
     section and run `just schedule`, not this file. register_tasks.ps1 replaces {HOME_TOKEN}
     with the checkout's path and registers the task as \\ArcticRoute\\{job.name}. -->
<Task version="1.3" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Author>ArcticRoute</Author>
    <Description>{syntax.xml_text(job.description, f"schedule.{job.name}.description")}</Description>
    <URI>\\ArcticRoute\\{job.name}</URI>
  </RegistrationInfo>
  <Triggers>
    <CalendarTrigger>
      <Enabled>true</Enabled>
      <StartBoundary>2025-01-01T{job.at}:00</StartBoundary>
{delay}{schedule}
    </CalendarTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <LogonType>S4U</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <AllowHardTerminate>true</AllowHardTerminate>
    <StartWhenAvailable>true</StartWhenAvailable>
    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>
    <IdleSettings>
      <StopOnIdleEnd>false</StopOnIdleEnd>
      <RestartOnIdle>false</RestartOnIdle>
    </IdleSettings>
    <AllowStartOnDemand>true</AllowStartOnDemand>
    <Enabled>true</Enabled>
    <Hidden>false</Hidden>
    <RunOnlyIfIdle>false</RunOnlyIfIdle>
    <WakeToRun>false</WakeToRun>
    <ExecutionTimeLimit>{_duration(job.timeout_minutes)}</ExecutionTimeLimit>
    <Priority>7</Priority>
    <RestartOnFailure>
      <Interval>PT15M</Interval>
      <Count>2</Count>
    </RestartOnFailure>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>powershell.exe</Command>
      <Arguments>-NoProfile -NonInteractive -ExecutionPolicy Bypass -File "{script}"</Arguments>
      <WorkingDirectory>{HOME_TOKEN}</WorkingDirectory>
    </Exec>
  </Actions>
</Task>
"""


def windows_files(jobs: list[Job]) -> dict[str, bytes]:
    files = {}
    for job in jobs:
        text = ps1_script(job).replace("\n", "\r\n")
        # Windows PowerShell 5.1 reads a file without a byte order mark in the ANSI code page
        files[f"{job.windows_script}.ps1"] = text.encode("ascii") if text.isascii() else b"\xef\xbb\xbf" + text.encode()
        # Task Scheduler's own export format: UTF-16LE with a byte order mark, CRLF line ends.
        files[f"{job.windows_script}.xml"] = b"\xff\xfe" + task_xml(job).replace("\n", "\r\n").encode("utf-16-le")
    return files


# -- the command ----------------------------------------------------------------------------------

def checked_in(config_dir: Path | None = None) -> dict[Path, bytes]:
    """Every generated file, as checked in (default install), keyed by its path in the repository."""
    settings = load_settings(config_dir, environ={})
    jobs = jobs_from(settings.runtime["schedule"])
    roots = default_roots(settings.config_dir, DEFAULT_REPO)
    out = {DEPLOY / "systemd" / name: text.encode("utf-8")
           for name, text in systemd_files(jobs, DEFAULT_REPO, DEFAULT_USER, roots).items()}
    out.update({DEPLOY / "schedule" / name: data for name, data in windows_files(jobs).items()})
    return out


@click.command(name="schedule.render")
@click.option("--check", is_flag=True, help="Exit 1 if a checked-in file differs from what the schedule renders.")
@click.option("--repo", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Render the systemd units for this checkout (with --out); default: the checked-in files.")
@click.option("--user", default=None, help="The user the units run as (with --repo; default: the checkout's owner).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder to write the rendered systemd units to (with --repo).")
@click.option("--config-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder holding runtime.yaml (default: the checkout's config/).")
def main(check, repo, user, out, config_dir):
    """Render deploy/systemd/* and deploy/schedule/*.{ps1,xml} from config/runtime.yaml's schedule:.

    Without options it rewrites the checked-in files (the default install: /opt/arcticroute,
    user arcticroute); --check compares instead; --repo/--user/--out render the units for one
    checkout (just timers-install), with its data roots from its env.yaml and .env.
    """
    if repo is not None:
        if out is None:
            raise click.UsageError("--repo needs --out (where to write the units)")
        repo = repo.resolve()
        settings = call_or_exit(load_settings, config_dir or repo / "config")  # the checkout's .env moves the roots
        jobs = jobs_from(settings.runtime["schedule"])
        roots = {k: str(v) for k, v in settings.roots.items()}
        owner = user or repo.owner()
        rendered = call_or_exit(systemd_files, jobs, str(repo), owner, roots)  # all or nothing is written
        out.mkdir(parents=True, exist_ok=True)
        for name, text in rendered.items():
            (out / name).write_text(text, encoding="utf-8")
            click.echo(str(out / name))
        return
    files = call_or_exit(checked_in, config_dir)
    stale = [path for path, data in files.items() if not path.is_file() or path.read_bytes() != data]
    if check:
        for path in stale:
            click.echo(f"stale: {path.relative_to(REPO)} (run `just schedule`)", err=True)
        sys.exit(1 if stale else 0)
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[path])
        click.echo(f"wrote {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
