; wsdmon Windows installer (NSIS 3, Modern UI 2, MultiUser).
;
; Installs the PyInstaller one-folder bundle (dist\wsdmon, built from packaging\pyinstaller\wsdmon.spec)
; per machine (Program Files, HKLM) or per user (%LOCALAPPDATA%\Programs, HKCU), with Start-menu
; entries, an uninstaller in Add/Remove Programs, and Windows Firewall rules for WS-Discovery
; (UDP 3702) and the event-notification TCP port, removed again on uninstall. Optionally (unchecked)
; a scheduled task that runs `wsdmon collect` at start-up (the collector without a window).
;
;   makensis packaging\windows\wsdmon.nsi                    (after the bundle is built)
;   makensis /DVERSION=1.2.3 /DVI_VERSION=1.2.3.0 /DDIST_DIR=C:\path\to\dist\wsdmon /DOUT_DIR=C:\out ...
;
; Silent install: wsdmon-<version>-setup.exe /S [/AllUsers | /CurrentUser] [/Collector] [/D=C:\install\dir]
; Silent uninstall: "<install dir>\uninstall.exe" /S [/AllUsers | /CurrentUser]

Unicode true
ManifestDPIAware true
SetCompressor /SOLID lzma

; ---- compile-time settings (all can be overridden with /DNAME=value) --------------------------------
!define ROOT "${__FILEDIR__}\..\.."
!define /ifndef APP_ID "wsdmon"
!define /ifndef APP_NAME "WSD Scan Monitor"
!define /ifndef APP_EXE "wsdmon.exe"
!define /ifndef PUBLISHER "wsdmon developers"
!define /ifndef URL "https://github.com/wsdmon/wsdmon"
!define /ifndef DIST_DIR "${ROOT}\dist\wsdmon"
!define /ifndef OUT_DIR "${ROOT}\dist"
!define /ifndef ICON_FILE "${DIST_DIR}\_internal\resources\icons\wsdmon.ico"
!define /ifndef LICENSE_FILE "${DIST_DIR}\LICENSES\LGPL-3.0.txt"
!define /ifndef WSD_PORT "3702"
; Windows Firewall profiles the rules apply to: technicians often sit on networks Windows calls
; "Public", so "any" by default; every rule is limited to the local subnet either way.
!define /ifndef FIREWALL_PROFILES "any"

; The version: wsdmon.__version__ unless given.
!ifndef VERSION
  !searchparse /file "${ROOT}\gui\wsdmon\__init__.py" `__version__ = "` VERSION `"`
!endif
; VIProductVersion needs four numbers; "X.Y.Z" versions get ".0", others must pass /DVI_VERSION.
!ifndef VI_VERSION
  !searchparse /noerrors "${VERSION}" "" VI_MAJOR "." VI_MINOR "." VI_PATCH
  !define VI_VERSION "${VI_MAJOR}.${VI_MINOR}.${VI_PATCH}.0"
!endif

; The TCP port devices send event notifications to: the engine's DEFAULT_NOTIFY_PORT unless given.
!ifndef NOTIFY_PORT
  !if /FileExists "${ROOT}\gui\wsdmon\net\engine.py"
    !searchparse /noerrors /file "${ROOT}\gui\wsdmon\net\engine.py" "DEFAULT_NOTIFY_PORT = " NOTIFY_PORT " "
  !endif
  !define /ifndef NOTIFY_PORT "6200"
!endif

!echo "wsdmon installer: version ${VERSION} (${VI_VERSION}), notify port ${NOTIFY_PORT}, payload ${DIST_DIR}"
!if ! /FileExists "${DIST_DIR}\${APP_EXE}"
  !error "No ${APP_EXE} in ${DIST_DIR}: build the bundle first (pyinstaller packaging/pyinstaller/wsdmon.spec)"
!endif

!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APP_ID}"
!define APP_KEY "Software\${APP_ID}"
!define RULE_WSD "${APP_NAME} WS-Discovery (UDP ${WSD_PORT})"
!define RULE_WSD_REPLIES "${APP_NAME} WS-Discovery replies (UDP)"
!define RULE_NOTIFY "${APP_NAME} event notifications (TCP ${NOTIFY_PORT})"
!define COLLECT_TASK "${APP_NAME} collector"

Name "${APP_NAME}"
OutFile "${OUT_DIR}\${APP_ID}-${VERSION}-setup.exe"
BrandingText "${APP_NAME} ${VERSION}"

VIProductVersion "${VI_VERSION}"
VIAddVersionKey /LANG=1033 "ProductName" "${APP_NAME}"
VIAddVersionKey /LANG=1033 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=1033 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=1033 "FileDescription" "${APP_NAME} setup"
VIAddVersionKey /LANG=1033 "CompanyName" "${PUBLISHER}"
VIAddVersionKey /LANG=1033 "LegalCopyright" "${PUBLISHER}, LGPL-3.0-or-later"

; ---- per-user / per-machine --------------------------------------------------------------------------
!define MULTIUSER_EXECUTIONLEVEL Highest
!define MULTIUSER_MUI
!define MULTIUSER_INSTALLMODE_COMMANDLINE
!define MULTIUSER_USE_PROGRAMFILES64
!define MULTIUSER_INSTALLMODE_INSTDIR "${APP_ID}"
!define MULTIUSER_INSTALLMODE_INSTDIR_REGISTRY_KEY "${APP_KEY}"
!define MULTIUSER_INSTALLMODE_INSTDIR_REGISTRY_VALUENAME "InstallDir"
!define MULTIUSER_INSTALLMODE_DEFAULT_REGISTRY_KEY "${APP_KEY}"
!define MULTIUSER_INSTALLMODE_DEFAULT_REGISTRY_VALUENAME "InstallMode"
!include MultiUser.nsh
!include MUI2.nsh
!include LogicLib.nsh
!include FileFunc.nsh
!include x64.nsh
!include Sections.nsh

Var FirewallNote
Var FirewallErrors

; ---- pages ----------------------------------------------------------------------------------------------
!define MUI_ICON "${ICON_FILE}"
!define MUI_UNICON "${ICON_FILE}"
!define MUI_ABORTWARNING

!insertmacro MULTIUSER_PAGE_INSTALLMODE
; The licences grant rights; nothing has to be accepted, so the page has a plain Next button.
!define MUI_LICENSEPAGE_TEXT_TOP "wsdmon, Qt (PySide6), wsdiscovery and psycopg are free software under the GNU LGPL version 3."
!define MUI_LICENSEPAGE_TEXT_BOTTOM "The GNU GPL version 3, which the LGPL supplements, and the licences of all other bundled components are installed in the LICENSES folder. You need not accept these licences to use the program."
!define MUI_LICENSEPAGE_BUTTON "$(^NextBtn)"
!insertmacro MUI_PAGE_LICENSE "${LICENSE_FILE}"
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!define MUI_FINISHPAGE_TEXT "${APP_NAME} is installed. Start it from the Start menu; $\"${APP_NAME} (demo)$\" shows it working with its built-in simulator.$\r$\n$\r$\nWindows Firewall: $FirewallNote"
!insertmacro MUI_PAGE_FINISH

!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES

!insertmacro MUI_LANGUAGE "English"

; ---- helpers ----------------------------------------------------------------------------------------------
!macro NETSH ARGS
  nsExec::ExecToLog '"$SYSDIR\netsh.exe" advfirewall firewall ${ARGS}'
  Pop $0
!macroend

!macro NETSH_ADD ARGS
  !insertmacro NETSH 'add rule ${ARGS} remoteip=localsubnet profile=${FIREWALL_PROFILES} enable=yes'
  ${If} $0 != 0
    IntOp $FirewallErrors $FirewallErrors + 1
  ${EndIf}
!macroend

!macro END_COLLECTOR
  nsExec::ExecToLog '"$SYSDIR\schtasks.exe" /End /TN "${COLLECT_TASK}"'
  Pop $0
!macroend

!macro REMOVE_FIREWALL_RULES
  !insertmacro NETSH 'delete rule name="${RULE_WSD}"'
  !insertmacro NETSH 'delete rule name="${RULE_WSD_REPLIES}"'
  !insertmacro NETSH 'delete rule name="${RULE_NOTIFY}"'
!macroend

Function .onInit
  ${IfNot} ${RunningX64}
    MessageBox MB_OK|MB_ICONSTOP "${APP_NAME} needs 64-bit Windows." /SD IDOK
    Abort
  ${EndIf}
  SetRegView 64
  !insertmacro MULTIUSER_INIT
  Call CollectorFromCommandLine
FunctionEnd

Function un.onInit
  SetRegView 64
  !insertmacro MULTIUSER_UNINIT
FunctionEnd

; ---- install ------------------------------------------------------------------------------------------------
Section "wsdmon" SecMain
  SectionIn RO
  SetOutPath "$INSTDIR"
  ; A collector task started from this folder must let go of its files before they are replaced.
  !insertmacro END_COLLECTOR
  ; An upgrade replaces the whole runtime folder, so no file of an older version stays behind.
  RMDir /r "$INSTDIR\_internal"
  RMDir /r "$INSTDIR\LICENSES"
  File /r "${DIST_DIR}\*.*"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  ; Start menu ($SMPROGRAMS is the all-users or the current user's menu, as MultiUser set it).
  CreateDirectory "$SMPROGRAMS\${APP_NAME}"
  CreateShortCut "$SMPROGRAMS\${APP_NAME}\${APP_NAME}.lnk" "$INSTDIR\${APP_EXE}" "" "$INSTDIR\${APP_EXE}" 0
  CreateShortCut "$SMPROGRAMS\${APP_NAME}\${APP_NAME} (demo).lnk" "$INSTDIR\${APP_EXE}" "--demo" "$INSTDIR\${APP_EXE}" 0
  CreateShortCut "$SMPROGRAMS\${APP_NAME}\Licences.lnk" "$INSTDIR\LICENSES"
  CreateShortCut "$SMPROGRAMS\${APP_NAME}\Uninstall ${APP_NAME}.lnk" "$INSTDIR\uninstall.exe" "/$MultiUser.InstallMode"

  ; Add/Remove Programs (HKLM per machine, HKCU per user: SHCTX follows SetShellVarContext).
  WriteRegStr SHCTX "${APP_KEY}" "InstallDir" "$INSTDIR"
  WriteRegStr SHCTX "${APP_KEY}" "InstallMode" "$MultiUser.InstallMode"
  WriteRegStr SHCTX "${APP_KEY}" "Version" "${VERSION}"
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "DisplayName" "${APP_NAME}"
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\${APP_EXE},0"
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "URLInfoAbout" "${URL}"
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "UninstallString" "$\"$INSTDIR\uninstall.exe$\" /$MultiUser.InstallMode"
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "QuietUninstallString" "$\"$INSTDIR\uninstall.exe$\" /$MultiUser.InstallMode /S"
  WriteRegDWORD SHCTX "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD SHCTX "${UNINSTALL_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD SHCTX "${UNINSTALL_KEY}" "EstimatedSize" "$0"

  ; Windows Firewall: WS-Discovery multicast on UDP 3702, the unicast ProbeMatches/ResolveMatches that
  ; come back to wsdmon's own UDP port, and the devices' event notifications on TCP NOTIFY_PORT. Only
  ; an elevated installer can add rules; without them Windows asks the first time wsdmon listens.
  ${If} $MultiUser.Privileges == "Admin"
    DetailPrint "Adding Windows Firewall rules (local subnet only)"
    !insertmacro REMOVE_FIREWALL_RULES
    StrCpy $FirewallErrors 0
    !insertmacro NETSH_ADD 'name="${RULE_WSD}" dir=in action=allow protocol=UDP localport=${WSD_PORT} program="$INSTDIR\${APP_EXE}"'
    !insertmacro NETSH_ADD 'name="${RULE_WSD_REPLIES}" dir=in action=allow protocol=UDP program="$INSTDIR\${APP_EXE}"'
    !insertmacro NETSH_ADD 'name="${RULE_NOTIFY}" dir=in action=allow protocol=TCP localport=${NOTIFY_PORT} program="$INSTDIR\${APP_EXE}"'
    ${If} $FirewallErrors == 0
      WriteRegDWORD SHCTX "${APP_KEY}" "FirewallRules" 1
      StrCpy $FirewallNote "UDP ${WSD_PORT} and TCP ${NOTIFY_PORT} are open to the local subnet for wsdmon."
    ${Else}
      WriteRegDWORD SHCTX "${APP_KEY}" "FirewallRules" 1
      StrCpy $FirewallNote "$FirewallErrors of 3 rules could not be added (see the details); allow wsdmon when Windows asks."
    ${EndIf}
  ${Else}
    StrCpy $FirewallNote "no rules were added (not elevated); allow wsdmon on private networks when Windows asks."
    DetailPrint "Windows Firewall: $FirewallNote"
  ${EndIf}
SectionEnd

; ---- optional: the collector at start-up ------------------------------------------------------------------
; `wsdmon collect` (the monitor without a window) as a scheduled task that starts at boot, runs as
; LOCAL SERVICE (SID S-1-5-19, named by SID because the account's name is translated), without the
; 72-hour limit Task Scheduler gives tasks by default, and restarts after a failure. Its journal and
; its log (collector.sqlite3, collector.log) are in ProgramData\wsdmon. Unchecked by default; a silent
; install selects it with /Collector. Needs a per-machine install by an administrator.
Section /o "Collector at start-up (wsdmon collect)" SecCollector
  ${If} $MultiUser.Privileges != "Admin"
  ${OrIf} $MultiUser.InstallMode != "AllUsers"
    DetailPrint "Collector task not registered: it needs a per-machine install by an administrator"
    MessageBox MB_OK|MB_ICONEXCLAMATION "The collector start-up task needs an installation for all users by an administrator; it was not registered." /SD IDOK
    Return
  ${EndIf}
  ; $APPDATA is ProgramData here (MultiUser set the all-users context).
  CreateDirectory "$APPDATA\${APP_ID}"
  nsExec::ExecToLog '"$SYSDIR\icacls.exe" "$APPDATA\${APP_ID}" /grant *S-1-5-19:(OI)(CI)M'
  Pop $0
  ; PowerShell's ScheduledTasks module sets what schtasks.exe cannot (no time limit, restarts).
  InitPluginsDir
  FileOpen $0 "$PLUGINSDIR\collector-task.ps1" w
  FileWrite $0 `$$ErrorActionPreference = 'Stop'$\r$\n`
  FileWrite $0 `$$action = New-ScheduledTaskAction -Execute '$INSTDIR\${APP_EXE}' -Argument 'collect --journal "$APPDATA\${APP_ID}\collector.sqlite3"' -WorkingDirectory '$APPDATA\${APP_ID}'$\r$\n`
  FileWrite $0 `$$trigger = New-ScheduledTaskTrigger -AtStartup$\r$\n`
  FileWrite $0 `$$principal = New-ScheduledTaskPrincipal -UserId 'S-1-5-19' -LogonType ServiceAccount$\r$\n`
  FileWrite $0 `$$settings = New-ScheduledTaskSettingsSet -ExecutionTimeLimit ([TimeSpan]::Zero) -RestartCount 3 -RestartInterval (New-TimeSpan -Minutes 1) -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries -MultipleInstances IgnoreNew$\r$\n`
  FileWrite $0 `Register-ScheduledTask -TaskName '${COLLECT_TASK}' -Description '${APP_NAME}: wsdmon collect' -Action $$action -Trigger $$trigger -Principal $$principal -Settings $$settings -Force | Out-Null$\r$\n`
  FileWrite $0 `Start-ScheduledTask -TaskName '${COLLECT_TASK}'$\r$\n`
  FileClose $0
  DetailPrint "Registering the scheduled task $\"${COLLECT_TASK}$\""
  nsExec::ExecToLog '"$SYSDIR\WindowsPowerShell\v1.0\powershell.exe" -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "$PLUGINSDIR\collector-task.ps1"'
  Pop $0
  ${If} $0 == 0
    WriteRegDWORD SHCTX "${APP_KEY}" "CollectorTask" 1
  ${Else}
    DetailPrint "The collector task could not be registered (PowerShell exit $0)"
    MessageBox MB_OK|MB_ICONEXCLAMATION "The collector start-up task could not be registered (see the details)." /SD IDOK
  ${EndIf}
SectionEnd

Function CollectorFromCommandLine
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/Collector" $R1
  ${IfNot} ${Errors}
    !insertmacro SelectSection ${SecCollector}
  ${EndIf}
FunctionEnd

!insertmacro MUI_FUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${SecMain} "${APP_NAME}: the window, the demo, Start-menu entries and the firewall rules."
  !insertmacro MUI_DESCRIPTION_TEXT ${SecCollector} "Run $\"wsdmon collect$\" at every start of Windows, without a window: it discovers and subscribes to the devices of this computer's networks and keeps their jobs in ProgramData\wsdmon. For all users; needs an administrator."
!insertmacro MUI_FUNCTION_DESCRIPTION_END

; ---- uninstall ----------------------------------------------------------------------------------------------
Section "Uninstall"
  ; The rules carry fixed names, so deleting them by name is safe even when this install added none.
  ReadRegDWORD $1 SHCTX "${APP_KEY}" "FirewallRules"
  ${If} $MultiUser.Privileges == "Admin"
    DetailPrint "Removing Windows Firewall rules"
    !insertmacro REMOVE_FIREWALL_RULES
  ${ElseIf} $1 == 1
    DetailPrint "Windows Firewall rules were added by an administrator; an administrator must remove them"
  ${EndIf}

  ; The collector task, if one was registered (an administrator's per-machine install): stopped and
  ; removed. Its journal in ProgramData\wsdmon is kept.
  ${If} $MultiUser.Privileges == "Admin"
    !insertmacro END_COLLECTOR
    nsExec::ExecToLog '"$SYSDIR\schtasks.exe" /Delete /TN "${COLLECT_TASK}" /F'
    Pop $0
  ${EndIf}

  ; Only what the installer put there: never a recursive delete of $INSTDIR itself.
  RMDir /r "$INSTDIR\_internal"
  RMDir /r "$INSTDIR\LICENSES"
  Delete "$INSTDIR\${APP_EXE}"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"

  Delete "$SMPROGRAMS\${APP_NAME}\${APP_NAME}.lnk"
  Delete "$SMPROGRAMS\${APP_NAME}\${APP_NAME} (demo).lnk"
  Delete "$SMPROGRAMS\${APP_NAME}\Licences.lnk"
  Delete "$SMPROGRAMS\${APP_NAME}\Uninstall ${APP_NAME}.lnk"
  RMDir "$SMPROGRAMS\${APP_NAME}"

  DeleteRegKey SHCTX "${UNINSTALL_KEY}"
  DeleteRegKey SHCTX "${APP_KEY}"
SectionEnd
