; Switchboard's Windows installer: per user (no administrator prompt), into
; %LOCALAPPDATA%\Programs\Switchboard, with a Start-menu entry, start at login if chosen, and an
; uninstaller that removes every file and registry value it made (settings and data, kept in the
; user's profile by the app, stay).
;
; Built by installers/windows/package.py, which passes:
;   /DVERSION=x.y.z  /DBUNDLE=<the PyInstaller onedir bundle>  /DOUTFILE=<the installer to write>

Unicode true
!include "MUI2.nsh"
!include "LogicLib.nsh"

!ifndef VERSION | BUNDLE | OUTFILE
  !error "pass /DVERSION, /DBUNDLE and /DOUTFILE (installers/windows/package.py does)"
!endif

!define NAME "Switchboard"
!define EXE "switchboard.exe"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${NAME}"
!define RUN_KEY "Software\Microsoft\Windows\CurrentVersion\Run"

Name "${NAME} ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${NAME}"
InstallDirRegKey HKCU "Software\${NAME}" "InstallDir"
RequestExecutionLevel user
SetCompressor /SOLID lzma
VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "${NAME}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "${NAME} installer"
VIAddVersionKey "LegalCopyright" "Switchboard contributors"

!define MUI_FINISHPAGE_RUN "$INSTDIR\${EXE}"
!define MUI_FINISHPAGE_RUN_TEXT "Start ${NAME} now"
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Function .onInit
  ; A running copy holds its files open: ask for it to be quit first.
  FindWindow $0 "" "${NAME}"
  ${If} $0 != 0
    MessageBox MB_OKCANCEL|MB_ICONINFORMATION "${NAME} is running. Quit it from its tray menu, then press OK." IDOK quit_done
    Abort
    quit_done:
  ${EndIf}
FunctionEnd

Section "${NAME}" SecMain
  SectionIn RO
  SetOutPath "$INSTDIR"
  File /r "${BUNDLE}\*.*"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  CreateShortcut "$SMPROGRAMS\${NAME}.lnk" "$INSTDIR\${EXE}"
  WriteRegStr HKCU "Software\${NAME}" "InstallDir" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "${NAME}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "Publisher" "Switchboard"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\${EXE}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1
SectionEnd

; The same Run value the app's "Start at login" writes, so either can turn it off.
Section /o "Start ${NAME} when I log in" SecLogin
  WriteRegStr HKCU "${RUN_KEY}" "${NAME}" '"$INSTDIR\${EXE}"'
SectionEnd

Section "Uninstall"
  ; First, while the gateway program is still here: every tool's settings Switchboard changed
  ; (Claude Code's, Codex's, ...) put back as they were. Per user, so it runs as the user whose
  ; settings they are; its outcome never stops the uninstall.
  nsExec::Exec '"$INSTDIR\switchboard-gateway.exe" connect --restore-all'
  Pop $0
  DeleteRegValue HKCU "${RUN_KEY}" "${NAME}"
  DeleteRegKey HKCU "${UNINSTALL_KEY}"
  DeleteRegKey HKCU "Software\${NAME}"
  Delete "$SMPROGRAMS\${NAME}.lnk"
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\${EXE}"
  Delete "$INSTDIR\switchboard-gateway.exe"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
SectionEnd
