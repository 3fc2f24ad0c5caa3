# Register ArcticRoute's Task Scheduler tasks for the checkout this script lives in.
#
#   pwsh -File deploy\schedule\register_tasks.ps1 [-User DOMAIN\name]      (or: just timers-install)
#
# Every *.xml beside this script (rendered from config/runtime.yaml by `just schedule`) becomes
# the task its <URI> names (\ArcticRoute\daily, \ArcticRoute\gc), with {ARCTICROUTE_HOME}
# replaced by this checkout's path, resolved here and never written into the files. The tasks
# run as -User (default: the current user) whether or not that user is logged on (S4U: no
# password is stored; network shares are not reachable). Registering S4U tasks needs an
# elevated PowerShell. Run it again after moving the checkout or changing the schedule.

[CmdletBinding()]
param(
    [string]$User = [System.Security.Principal.WindowsIdentity]::GetCurrent().Name
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$Repo = (Resolve-Path -LiteralPath (Join-Path $PSScriptRoot '..\..')).Path
$Python = Join-Path $Repo '.venv\Scripts\python.exe'
if (-not (Test-Path -LiteralPath $Python)) {
    Write-Error "$Python not found: create the environment first (just setup)"
    exit 1
}
# Task Scheduler expands %NAME% in a task's command line and working folder: a path holding "%"
# would run something else. (Quotes cannot occur in a Windows path; "&" and the rest are escaped
# as XML below and quoted on the command line.)
if ($Repo.Contains('%')) {
    Write-Error "the checkout's path $Repo holds a '%', which Task Scheduler would expand as a variable; move the checkout"
    exit 2
}
if ($Repo.Length -gt 200) {
    Write-Error "the checkout's path is $($Repo.Length) characters long; Task Scheduler takes at most 260 for the script path"
    exit 1
}

# The folders the tasks write to must exist before the first run.
foreach ($folder in 'data_processed', 'reports', 'outputs\logs') {
    New-Item -ItemType Directory -Force -Path (Join-Path $Repo $folder) | Out-Null
}

$registered = 0
foreach ($file in Get-ChildItem -LiteralPath $PSScriptRoot -Filter '*.xml' | Sort-Object Name) {
    # UTF-16LE with a byte order mark, as Task Scheduler exports its own files.
    $xml = [System.IO.File]::ReadAllText($file.FullName, [System.Text.Encoding]::Unicode)
    # The path goes in as the value of the text nodes holding the token: the XML writer escapes it
    # (a path with "&" or "<" stays one path), never pasted into the markup.
    $doc = [xml]$xml
    foreach ($node in $doc.SelectNodes('//text()')) {
        $node.Value = $node.Value.Replace('{ARCTICROUTE_HOME}', $Repo)
    }
    $xml = $doc.OuterXml
    $uri = $doc.Task.RegistrationInfo.URI
    $taskPath = $uri.Substring(0, $uri.LastIndexOf('\') + 1)
    $taskName = $uri.Substring($uri.LastIndexOf('\') + 1)
    Register-ScheduledTask -TaskPath $taskPath -TaskName $taskName -Xml $xml -User $User -Force | Out-Null
    Write-Output ('registered {0}{1} from {2} (runs as {3})' -f $taskPath, $taskName, $file.Name, $User)
    $registered += 1
}
if ($registered -eq 0) {
    Write-Error "no task XML in $PSScriptRoot (run: just schedule)"
    exit 1
}
Get-ScheduledTask -TaskPath '\ArcticRoute\' | Format-Table -AutoSize -Property @('TaskName', 'State')
exit 0
