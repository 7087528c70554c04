#!/bin/sh
# wsdmon bootstrap: sets up everything on a fresh Debian/Ubuntu machine (as root) or a developer's
# laptop, then runs what was asked:
#   sh packaging/bootstrap.sh demo [ARGS...]   -> wsdmon --demo ARGS...
#   sh packaging/bootstrap.sh test [ARGS...]   -> the whole test suite (pytest ARGS...)
#   sh packaging/bootstrap.sh deb              -> build the Linux .deb into dist/
#   sh packaging/bootstrap.sh setup            -> only the set-up
# It installs the system libraries Qt needs (and the test tools) with apt-get when it runs as root,
# creates .venv with Python >= 3.11, and installs the project (not editable: tests run against the
# installed package).
set -eu
cd "$(dirname "$0")/.."
mode=${1:-demo}
[ $# -gt 0 ] && shift

say() { printf 'bootstrap: %s\n' "$*" >&2; }

# Qt 6 runtime libraries (xcb platform plugin + offscreen), then what the tests use:
# iproute2 (network namespaces), wsdd and wsdd2 (independent WSD peers), sane-airscan and sane-utils
# (a real WS-Scan client: scanimage), xvfb (a real X server).
QT_PKGS="libegl1 libgl1 libopengl0 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libfreetype6 \
libdbus-1-3 libglib2.0-0 libx11-6 libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 \
libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 \
libxcb-xfixes0 libxcb-sync1 libxcb-shm0 libxcb-render0 libxrender1 libsm6 libice6 fonts-dejavu-core \
libwayland-client0 libwayland-cursor0 libwayland-egl1 libxcb-glx0 libxcb-util1 libgssapi-krb5-2 \
libsqlite3-0 libzstd1 libbrotli1"
# Tests: network namespaces, an independent WSD peer, a real X server, a load generator for the
# benches, the installer tools (NSIS compile check, .deb validation), nftables (the firewalls the
# health tests play inside their namespaces), and PostgreSQL's server binaries (initdb, pg_ctl under
# /usr/lib/postgresql/N/bin; the package also makes the `postgres` system user the tests run them as:
# tests/pg.py starts a throwaway cluster of its own, never the system's).
TEST_PKGS="iproute2 nftables wsdd wsdd2 sane-airscan sane-utils xvfb xauth wrk nsis appstream desktop-file-utils \
patchelf postgresql"
DEB_PKGS="appstream desktop-file-utils patchelf"

pkgs="$QT_PKGS"
[ "$mode" = test ] && pkgs="$pkgs $TEST_PKGS"
[ "$mode" = deb ] && pkgs="$pkgs $DEB_PKGS"

if command -v dpkg-query >/dev/null 2>&1; then
    missing=""
    for p in $pkgs; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    # A fresh machine may have no Python at all, or one without venv/ensurepip.
    if ! command -v "${PYTHON:-python3}" >/dev/null 2>&1 || ! "${PYTHON:-python3}" -c 'import venv, ensurepip' 2>/dev/null; then
        missing="$missing python3 python3-venv python3-pip"
    fi
    if [ -n "$missing" ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            say "installing system packages:$missing"
            export DEBIAN_FRONTEND=noninteractive
            apt-get update -qq
            # shellcheck disable=SC2086
            apt-get install -y -qq --no-install-recommends $missing >/dev/null
        else
            say "missing system packages:$missing"
            say "install them with: sudo apt-get install$missing   (continuing; Qt may fail to load)"
        fi
    fi
fi

PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    say "wsdmon needs Python 3.11 or newer; $("$PY" --version 2>&1) found. Set PYTHON=/path/to/python3.11."
    exit 1
fi
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys' 2>/dev/null; then
    say "creating .venv with $("$PY" --version 2>&1)"
    rm -rf .venv
    "$PY" -m venv .venv
fi

extras=""
[ "$mode" = test ] && extras="[test,packaging]"
[ "$mode" = deb ] && extras="[packaging]"
say "installing wsdmon$extras into .venv"
.venv/bin/python -m pip install --quiet --disable-pip-version-check ".$extras"
# Always replace the installed package with the working tree's code (its version number may not move).
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --force-reinstall .
rm -rf build gui/*.egg-info

case "$mode" in
    demo)
        exec .venv/bin/wsdmon --demo "$@" ;;
    test)
        export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
        # Two workers, each test file whole in one of them (files share their fixtures: a PostgreSQL
        # cluster, namespaces, simulators); `-n 0` after the mode runs everything in one process.
        exec .venv/bin/python -m pytest -n 2 --dist loadfile "$@" ;;
    deb)
        exec sh packaging/linux/build_deb.sh "$@" ;;
    setup)
        say "ready: .venv/bin/wsdmon" ;;
    *)
        say "unknown mode '$mode' (use demo, test or setup)"; exit 2 ;;
esac
