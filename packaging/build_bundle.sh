#!/bin/sh
# Build the PyInstaller one-folder bundle dist/wsdmon/ from packaging/pyinstaller/wsdmon.spec.
#
#   sh packaging/build_bundle.sh
#
# Uses the venv $WSDMON_VENV (default: .venv, the one packaging/bootstrap.sh makes), creating it with
# $PYTHON (default python3, >= 3.11) when it does not exist, and installs into it what the bundle
# needs: wsdmon's run-time dependencies from pyproject.toml and PyInstaller (the `packaging` extra
# when pyproject.toml has one). The bundle is built from the working tree's gui/wsdmon, not from an
# installed copy. Ends with a smoke run of the bundle (offscreen) and prints its size and build time.
set -eu
cd "$(dirname "$0")/.."
say() { printf 'build_bundle: %s\n' "$*" >&2; }
start=$(date +%s)

venv=${WSDMON_VENV:-.venv}
py="$venv/bin/python"
if [ ! -x "$py" ]; then
    base=${PYTHON:-python3}
    if ! "$base" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        say "needs Python 3.11 or newer to create $venv; set PYTHON=/path/to/python3.11"
        exit 1
    fi
    say "creating $venv with $("$base" --version 2>&1)"
    "$base" -m venv "$venv"
fi

# What to install: the project's dependencies plus its `packaging` extra (PyInstaller). Without
# such an extra, PyInstaller from WSDMON_PYINSTALLER (a pip requirement).
reqs=$(mktemp)
trap 'rm -f "$reqs"' EXIT
"$py" - "${WSDMON_PYINSTALLER:-pyinstaller>=6.10,<7}" >"$reqs" <<'EOF'
import sys
import tomllib

project = tomllib.load(open("pyproject.toml", "rb"))["project"]
extra = project.get("optional-dependencies", {}).get("packaging") or [sys.argv[1]]
print("\n".join(project["dependencies"] + extra))
EOF
say "installing the bundle's requirements into $venv"
"$py" -m pip install --quiet --disable-pip-version-check -r "$reqs"

say "running PyInstaller"
rm -rf dist/wsdmon
"$py" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/pyinstaller/wsdmon.spec

exe=dist/wsdmon/wsdmon
[ -x "$exe" ] || exe=dist/wsdmon/wsdmon.exe
out=$(QT_QPA_PLATFORM=offscreen "$exe" --version 2>&1) || { say "the bundle failed to start: $out"; exit 1; }
case "$out" in
    *wsdmon*) ;;
    *) say "unexpected --version output: $out"; exit 1 ;;
esac
say "ok: $out; $(du -sh dist/wsdmon | cut -f1) in dist/wsdmon, built in $(( $(date +%s) - start )) s"
