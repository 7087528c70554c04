#!/bin/sh
# Build dist/wsdmon_<version>_<arch>.deb with dpkg-deb (no debhelper):
#   /opt/wsdmon/                       the PyInstaller one-folder bundle (packaging/build_bundle.sh)
#   /usr/bin/wsdmon                    launcher: exec /opt/wsdmon/wsdmon "$@"
#   /usr/share/applications/<id>.desktop, /usr/share/metainfo/<id>.metainfo.xml (appstreamcli-checked)
#   /usr/share/icons/hicolor/{scalable,NxN}/apps/<icon>.{svg,png}
#   /usr/share/doc/wsdmon/copyright    DEP-5, with the licences of everything in the bundle
#   /usr/lib/systemd/system/wsdmon-collect.service   `wsdmon collect` as a service, NOT enabled
# Depends are computed from the bundle's ELF files (packaging/linux/elfdeps.py): the Qt runtime
# libraries and the glibc / libstdc++ floors.
#
#   sh packaging/linux/build_deb.sh                          bundle + .deb (one command)
#   WSDMON_REUSE_BUNDLE=1 sh packaging/linux/build_deb.sh    package the existing dist/wsdmon as is
#
# Environment: WSDMON_VENV (build venv, default .venv), WSDMON_RESOURCES (default resources),
# WSDMON_MAINTAINER (the control file's Maintainer).
# Needs: dpkg-deb (dpkg), python3 >= 3.11; uses appstreamcli (appstream) and desktop-file-validate
# (desktop-file-utils) when installed.
set -eu
cd "$(dirname "$0")/../.."
say() { printf 'build_deb: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
start=$(date +%s)
umask 022

res=${WSDMON_RESOURCES:-resources}
desktop_src=$res/wsdmon.desktop
unit_src=packaging/linux/wsdmon-collect.service
unit=$(basename "$unit_src")
metainfo_src=$res/io.github.wsdmon.metainfo.xml
svg_src=$res/icons/wsdmon.svg
for f in "$desktop_src" "$metainfo_src" "$svg_src" "$unit_src"; do
    [ -f "$f" ] || die "missing $f"
done
command -v dpkg-deb >/dev/null 2>&1 || die "dpkg-deb not found (apt-get install dpkg)"

if [ "${WSDMON_REUSE_BUNDLE:-0}" = 1 ] && [ -x dist/wsdmon/wsdmon ]; then
    say "reusing dist/wsdmon"
else
    sh packaging/build_bundle.sh
fi
venv_py=${WSDMON_VENV:-.venv}/bin/python
[ -x "$venv_py" ] || venv_py=python3

version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' gui/wsdmon/__init__.py)
[ -n "$version" ] || die "no __version__ in gui/wsdmon/__init__.py"
# PEP 440 -> Debian: 1.0rc1 -> 1.0~rc1 (sorts before 1.0), 1.0.dev3 -> 1.0~dev3, 1.0.post1 -> 1.0+post1
debver=$(printf '%s' "$version" | sed -E 's/[.]?(a|b|rc|dev)([0-9]*)/~\1\2/; s/[.]?post/+post/')
arch=$(dpkg --print-architecture)
deb=dist/wsdmon_${debver}_${arch}.deb

# Names the desktop environment sees: the desktop-id the metainfo launches and the desktop file's Icon.
desktop_id=$(sed -n 's:.*<launchable type="desktop-id">\([^<]*\)</launchable>.*:\1:p' "$metainfo_src" | head -n 1)
[ -n "$desktop_id" ] || desktop_id=wsdmon.desktop
component_id=$(sed -n 's:.*<id>\([^<]*\)</id>.*:\1:p' "$metainfo_src" | head -n 1)
[ -n "$component_id" ] || die "no <id> in $metainfo_src"
icon_name=$(sed -n 's/^Icon=//p' "$desktop_src" | head -n 1)
[ -n "$icon_name" ] || icon_name=wsdmon
homepage=$(sed -n 's:.*<url type="homepage">\([^<]*\)</url>.*:\1:p' "$metainfo_src" | head -n 1)

stage=build/deb/wsdmon_${debver}_${arch}
rm -rf build/deb
mkdir -p "$stage/DEBIAN" "$stage/opt" "$stage/usr/bin" "$stage/usr/share/applications" \
    "$stage/usr/share/metainfo" "$stage/usr/share/icons/hicolor/scalable/apps" "$stage/usr/share/doc/wsdmon" \
    "$stage/usr/lib/systemd/system"

say "staging $debver ($arch)"
cp -a dist/wsdmon "$stage/opt/wsdmon"
# Debian modes: directories 0755, files 0644 (shared objects need no x bit), the executable 0755.
find "$stage/opt/wsdmon" -type d -exec chmod 0755 {} +
find "$stage/opt/wsdmon" -type f -exec chmod 0644 {} +
chmod 0755 "$stage/opt/wsdmon/wsdmon"
# A Python built in a home directory (pyenv) leaves absolute RUNPATHs such as
# /home/builder/.pyenv/versions/3.11.7/lib in its extension modules: on a user's machine a library
# planted there would be loaded. Drop RUNPATHs that do not stay inside the bundle ($ORIGIN).
if command -v patchelf >/dev/null 2>&1; then
    find "$stage/opt/wsdmon" -type f -name '*.so*' | while IFS= read -r f; do
        rp=$(patchelf --print-rpath "$f" 2>/dev/null) || continue
        # shellcheck disable=SC2016 # a literal $ORIGIN
        case "$rp" in
            '' | *'$ORIGIN'*) ;;
            *) patchelf --remove-rpath "$f" ;;
        esac
    done
else
    say "patchelf not installed (apt-get install patchelf): absolute RUNPATHs of the build's Python stay"
fi

cat >"$stage/usr/bin/wsdmon" <<'EOF'
#!/bin/sh
# wsdmon launcher: the application lives in /opt/wsdmon (a self-contained PyInstaller bundle).
exec /opt/wsdmon/wsdmon "$@"
EOF
chmod 0755 "$stage/usr/bin/wsdmon"

install -m 0644 "$desktop_src" "$stage/usr/share/applications/$desktop_id"
install -m 0644 "$metainfo_src" "$stage/usr/share/metainfo/$component_id.metainfo.xml"
install -m 0644 "$svg_src" "$stage/usr/share/icons/hicolor/scalable/apps/$icon_name.svg"
install -m 0644 "$unit_src" "$stage/usr/lib/systemd/system/$unit"

# Checks of the desktop entry and the AppStream metainfo, when their tools are installed.
if command -v desktop-file-validate >/dev/null 2>&1; then
    desktop-file-validate "$stage/usr/share/applications/$desktop_id" || die "desktop-file-validate failed"
else
    say "desktop-file-validate not installed: desktop entry not validated"
fi
case "$(sed -n 's/^Exec=//p' "$desktop_src" | head -n 1)" in
    wsdmon|wsdmon\ *|/usr/bin/wsdmon|/usr/bin/wsdmon\ *) ;;
    *) die "$desktop_src: Exec= must start the launcher (wsdmon)" ;;
esac
if command -v appstreamcli >/dev/null 2>&1; then
    appstreamcli validate --no-net "$stage/usr/share/metainfo/$component_id.metainfo.xml" >&2 \
        || die "appstreamcli validate failed for $metainfo_src"
else
    say "appstreamcli not installed (apt-get install appstream): metainfo not validated"
fi

# Rendered PNG sizes next to the scalable SVG: QtSvg from the build venv, else rsvg-convert.
icons=build/deb/icons
if "$venv_py" packaging/render_icons.py --svg "$svg_src" --out "$icons" --name "$icon_name" >/dev/null 2>&1; then
    cp -a "$icons/hicolor/." "$stage/usr/share/icons/hicolor/"
elif command -v rsvg-convert >/dev/null 2>&1; then
    for n in 16 22 24 32 48 64 128 256 512; do
        mkdir -p "$stage/usr/share/icons/hicolor/${n}x$n/apps"
        rsvg-convert -w "$n" -h "$n" -o "$stage/usr/share/icons/hicolor/${n}x$n/apps/$icon_name.png" "$svg_src"
    done
else
    say "no SVG renderer (build venv with PySide6, or rsvg-convert): only the scalable icon is installed"
fi
find "$stage/usr/share/icons" -type f -exec chmod 0644 {} +

# Dependencies from the bundle's ELF files.
"$venv_py" packaging/linux/elfdeps.py "$stage/opt/wsdmon" --field all >build/deb/elfdeps.txt \
    || die "elfdeps.py failed (see above)"
{ read -r depends; read -r suggests; read -r glibc; } <build/deb/elfdeps.txt
[ -n "$depends" ] || die "elfdeps.py found no dependencies"

# /usr/share/doc/wsdmon/copyright: machine-readable (DEP-5); full texts in /usr/share/common-licenses
# and in /opt/wsdmon/LICENSES.
year=$(date -u +%Y)
{
    cat <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: wsdmon
Comment: This package ships a PyInstaller bundle in /opt/wsdmon. The bundle carries Qt 6 (through
 PySide6 and shiboken6), wsdiscovery, psycopg (with libpq) and other Python packages; each one's
 licence files and a summary are in /opt/wsdmon/LICENSES (THIRD-PARTY-NOTICES.txt). Qt, wsdiscovery
 and psycopg are LGPL-3: they are separate, replaceable files (/opt/wsdmon/_internal/PySide6,
 /opt/wsdmon/_internal/shiboken6, /opt/wsdmon/_internal/wsdiscovery, /opt/wsdmon/_internal/psycopg,
 /opt/wsdmon/_internal/psycopg_binary).

Files: *
Copyright: 2024-$year wsdmon developers
License: LGPL-3+

Files: opt/wsdmon/_internal/PySide6/* opt/wsdmon/_internal/shiboken6/*
Copyright: The Qt Company Ltd. and other contributors
License: LGPL-3
Comment: Qt 6 and Qt for Python, used under LGPL-3.0-only (they are also offered under GPL-2/GPL-3).

Files: opt/wsdmon/_internal/wsdiscovery/*
Copyright: L.A. Fernando, Andrei Kopats, Pieter Rautenbach, Petri Savolainen and contributors
License: LGPL-3+

Files: opt/wsdmon/_internal/psycopg/* opt/wsdmon/_internal/psycopg_binary/*
Copyright: The Psycopg Team (Daniele Varrazzo and contributors)
License: LGPL-3
Comment: psycopg 3, the PostgreSQL driver of the --store postgresql:// option, used under LGPL-3.0-only.

Files: opt/wsdmon/_internal/psycopg_binary.libs/* opt/wsdmon/_internal/libpq-* opt/wsdmon/_internal/libssl-*
 opt/wsdmon/_internal/libcrypto-* opt/wsdmon/_internal/lib*krb5* opt/wsdmon/_internal/libk5crypto-*
 opt/wsdmon/_internal/libcom_err-* opt/wsdmon/_internal/libldap-* opt/wsdmon/_internal/liblber-*
 opt/wsdmon/_internal/libsasl2-* opt/wsdmon/_internal/libcrypt-* opt/wsdmon/_internal/libkeyutils-*
Copyright: PostgreSQL Global Development Group; the OpenSSL Project; MIT; the OpenLDAP Foundation;
 Carnegie Mellon University; their respective authors
License: other
 libpq (PostgreSQL License) and the libraries it uses, as built into psycopg_binary: OpenSSL
 (Apache-2.0), MIT Kerberos (MIT), OpenLDAP (OpenLDAP Public License 2.8), Cyrus SASL (BSD-style),
 libxcrypt and keyutils (LGPL-2.1+); see /opt/wsdmon/LICENSES/THIRD-PARTY-NOTICES.txt.

Files: opt/wsdmon/_internal/libpython3* opt/wsdmon/_internal/python3* opt/wsdmon/_internal/base_library.zip
Copyright: Python Software Foundation
License: PSF-2.0
 See /opt/wsdmon/LICENSES/Python-LICENSE.txt.

Files: opt/wsdmon/_internal/lxml/* opt/wsdmon/_internal/aiohttp/* opt/wsdmon/_internal/multidict/*
 opt/wsdmon/_internal/yarl/* opt/wsdmon/_internal/frozenlist/* opt/wsdmon/_internal/propcache/*
Copyright: their respective authors
License: other
 BSD-3-Clause (lxml), Apache-2.0 and MIT (aiohttp, multidict, yarl, frozenlist, propcache) and the
 other permissive licences listed, with their texts, in /opt/wsdmon/LICENSES.

License: LGPL-3
 This library is free software; you can redistribute it and/or modify it under the terms of the
 GNU Lesser General Public License version 3 as published by the Free Software Foundation.
 .
 On Debian systems, the complete text of the GNU Lesser General Public License version 3 is in
 /usr/share/common-licenses/LGPL-3, and the GNU General Public License version 3, which it
 supplements, in /usr/share/common-licenses/GPL-3 (both also in /opt/wsdmon/LICENSES).

License: LGPL-3+
 This program is free software; you can redistribute it and/or modify it under the terms of the
 GNU Lesser General Public License as published by the Free Software Foundation; either version 3
 of the License, or (at your option) any later version.
 .
 On Debian systems, the complete text of the GNU Lesser General Public License version 3 is in
 /usr/share/common-licenses/LGPL-3, and the GNU General Public License version 3, which it
 supplements, in /usr/share/common-licenses/GPL-3 (both also in /opt/wsdmon/LICENSES).

License: PSF-2.0
 Python Software Foundation License Version 2; full text in /opt/wsdmon/LICENSES/Python-LICENSE.txt.
EOF
} >"$stage/usr/share/doc/wsdmon/copyright"
chmod 0644 "$stage/usr/share/doc/wsdmon/copyright"
{
    printf 'wsdmon (%s) unstable; urgency=medium\n\n' "$debver"
    printf '  * Release %s, built from packaging/linux/build_deb.sh.\n\n' "$version"
    printf ' -- %s  %s\n' "${WSDMON_MAINTAINER:-wsdmon developers <noreply@wsdmon.invalid>}" "$(date -R)"
} | gzip -9n >"$stage/usr/share/doc/wsdmon/changelog.Debian.gz"
chmod 0644 "$stage/usr/share/doc/wsdmon/changelog.Debian.gz"

# Maintainer scripts: refresh the desktop database and the icon cache where their tools exist (on
# Debian the desktop-file-utils and hicolor triggers do it as well; running both is harmless).
# The collector's unit: systemd is told the unit changed, a running collector is restarted on an
# upgrade and stopped on removal; the package never enables it (the administrator does, if wanted).
cat >"$stage/DEBIAN/postinst" <<EOF
#!/bin/sh
set -e
if [ "\$1" = configure ]; then
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q /usr/share/applications || true
    fi
    if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -f /usr/share/icons/hicolor/index.theme ]; then
        gtk-update-icon-cache -q -t -f /usr/share/icons/hicolor || true
    fi
    if [ -d /run/systemd/system ]; then
        systemctl --system daemon-reload >/dev/null || true
        systemctl try-restart $unit >/dev/null || true
    fi
fi
exit 0
EOF
cat >"$stage/DEBIAN/prerm" <<EOF
#!/bin/sh
set -e
if [ "\$1" = remove ] && [ -d /run/systemd/system ]; then
    systemctl stop $unit >/dev/null 2>&1 || true
fi
exit 0
EOF
cat >"$stage/DEBIAN/postrm" <<EOF
#!/bin/sh
set -e
case "\$1" in
    remove|purge)
        if command -v update-desktop-database >/dev/null 2>&1; then
            update-desktop-database -q /usr/share/applications || true
        fi
        if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -f /usr/share/icons/hicolor/index.theme ]; then
            gtk-update-icon-cache -q -t -f /usr/share/icons/hicolor || true
        fi
        if [ -d /run/systemd/system ]; then
            systemctl --system daemon-reload >/dev/null || true
        fi
        ;;
esac
# An administrator may have enabled the collector: purge forgets that too. Its history in
# /var/lib/wsdmon (/var/lib/private/wsdmon under DynamicUser) is kept.
if [ "\$1" = purge ] && command -v deb-systemd-helper >/dev/null 2>&1; then
    deb-systemd-helper purge $unit >/dev/null || true
fi
exit 0
EOF
chmod 0755 "$stage/DEBIAN/postinst" "$stage/DEBIAN/prerm" "$stage/DEBIAN/postrm"

installed_size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
{
    printf 'Package: wsdmon\n'
    printf 'Version: %s\n' "$debver"
    printf 'Architecture: %s\n' "$arch"
    printf 'Maintainer: %s\n' "${WSDMON_MAINTAINER:-wsdmon developers <noreply@wsdmon.invalid>}"
    printf 'Installed-Size: %s\n' "$installed_size"
    printf 'Depends: %s\n' "$depends"
    printf 'Recommends: fonts-dejavu-core | fonts-liberation2 | fonts-noto-core, xdg-utils\n'
    [ -n "$suggests" ] && printf 'Suggests: %s\n' "$suggests"
    printf 'Section: net\n'
    printf 'Priority: optional\n'
    [ -n "$homepage" ] && printf 'Homepage: %s\n' "$homepage"
    printf 'Description: WSD Scan Monitor - live view of network scanning jobs\n'
    printf ' wsdmon discovers WSD (Web Services on Devices) scanners and DSM (Distributed\n'
    printf ' Scan Management) scan servers with WS-Discovery, subscribes to their events\n'
    printf ' with WS-Eventing and shows every post-scan job live, with its JobStatus\n'
    printf ' details, filter results and raw messages. It listens on UDP 3702 and on a\n'
    printf ' TCP port for event notifications.\n'
    printf ' .\n'
    printf ' wsdmon collect runs the monitor without a window, as a service for one\n'
    printf ' site: the wsdmon-collect systemd unit is installed but not enabled.\n'
    printf ' .\n'
    printf ' This package contains a self-contained build (Python, Qt 6/PySide6) in\n'
    printf ' /opt/wsdmon.\n'
} >"$stage/DEBIAN/control"

(cd "$stage" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum) \
    >"$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/md5sums"

mkdir -p dist
rm -f "$deb"
# zstd, level 9: 165 MiB of bundle packs in about 9 s into 61 MB, where xz -6 took 2-3.5 minutes
# on a 2-core machine (48 MB) and xz -1 50 s (55 MB); zstd also unpacks several times faster on
# install. Every dpkg that can run this package reads it: the glibc floor (>= 2.34, PySide6's
# manylinux_2_34 wheels) means Debian 12 (dpkg 1.21.22) or Ubuntu 22.04 (zstd since 21.10) or newer.
say "dpkg-deb --build (zstd -9)"
dpkg-deb --root-owner-group -Zzstd -z9 --build "$stage" "$deb" >/dev/null
rm -rf "$stage"

size=$(du -h "$deb" | cut -f1)
say "built $deb: $size (installed $((installed_size / 1024)) MiB), glibc floor $glibc, in $(( $(date +%s) - start )) s"
printf '%s\n' "$deb"
