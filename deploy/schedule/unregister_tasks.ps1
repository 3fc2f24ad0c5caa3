# Unregister ArcticRoute's Task Scheduler tasks (everything under \ArcticRoute\). The data stay.
#
#   pwsh -File deploy\schedule\unregister_tasks.ps1      (or: just timers-uninstall)

[CmdletBinding()]
param()

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$tasks = @(Get-ScheduledTask -TaskPath '\ArcticRoute\' -ErrorAction SilentlyContinue)
foreach ($task in $tasks) {
    Unregister-ScheduledTask -TaskPath $task.TaskPath -TaskName $task.TaskName -Confirm:$false
    Write-Output ('unregistered {0}{1}' -f $task.TaskPath, $task.TaskName)
}
Write-Output ('{0} task(s) removed' -f $tasks.Count)
exit 0
