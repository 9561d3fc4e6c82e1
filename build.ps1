# Thin wrapper over the same dotnet steps as README.md, for PowerShell users.
# Nothing in the project depends on it: `dotnet build` builds everything, including native/ via CMake.
param(
    [string]$Configuration = "Release",
    [switch]$Test,
    [switch]$NativeTests
)
$ErrorActionPreference = "Stop"
Set-Location $PSScriptRoot
dotnet build Kernels.sln -c $Configuration
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
if ($Test) {
    dotnet test Kernels.sln -c $Configuration --no-build
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
}
if ($NativeTests) {
    bash native/test.sh
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
}
