"""Work out the Debian Depends of a PyInstaller bundle from its ELF files (stdlib only).

    python3 packaging/linux/elfdeps.py dist/wsdmon            -> the Depends line on stdout
    python3 packaging/linux/elfdeps.py dist/wsdmon --report   -> also what needs what, on stderr
    python3 packaging/linux/elfdeps.py dist/wsdmon --field all  -> Depends, Suggests, glibc floor

Every shared library the bundle's ELF files need (DT_NEEDED) and do not carry themselves comes from
the distribution. SONAME_PACKAGES maps each such library to its Debian package (with the name the
t64 transition gave it in Debian 13 / Ubuntu 24.04 as an alternative). The glibc floor is the
highest GLIBC_x.y symbol version any file requires (its .gnu.version_r), and the libstdc++6 floor
comes the same way from GLIBCXX_3.4.n.

A needed library missing from the table fails the build (so a new PySide6 cannot quietly add a
dependency); when dpkg knows the library on the build host, the message names its package. Libraries
needed only by OPTIONAL plugins (the GTK3 platform theme, which Qt loads only on GNOME-like desktops
where GTK3 is present) go to Suggests instead.
"""

from __future__ import annotations

import argparse
import re
import struct
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

# soname -> Debian dependency (alternatives with " | "). libc6 and libstdc++6 get computed floors.
SONAME_PACKAGES: dict[str, str] = {
    # glibc
    "libc.so.6": "libc6",
    "libm.so.6": "libc6",
    "libdl.so.2": "libc6",
    "libpthread.so.0": "libc6",
    "librt.so.1": "libc6",
    "libresolv.so.2": "libc6",
    "libutil.so.1": "libc6",
    "ld-linux-x86-64.so.2": "libc6",
    "ld-linux-aarch64.so.1": "libc6",
    # toolchain runtime
    "libstdc++.so.6": "libstdc++6",
    "libgcc_s.so.1": "libgcc-s1",
    # Python's own extension modules
    "libssl.so.3": "libssl3 | libssl3t64",
    "libcrypto.so.3": "libssl3 | libssl3t64",
    "libffi.so.8": "libffi8",
    "libz.so.1": "zlib1g",
    "libbz2.so.1.0": "libbz2-1.0",
    "liblzma.so.5": "liblzma5",
    "libexpat.so.1": "libexpat1",
    "libuuid.so.1": "libuuid1",
    "libsqlite3.so.0": "libsqlite3-0",
    "libmpdec.so.3": "libmpdec3",
    "libreadline.so.8": "libreadline8 | libreadline8t64",
    "libncursesw.so.6": "libncursesw6",
    "libtinfo.so.6": "libtinfo6",
    # Qt core/gui/network
    "libglib-2.0.so.0": "libglib2.0-0 | libglib2.0-0t64",
    "libgobject-2.0.so.0": "libglib2.0-0 | libglib2.0-0t64",
    "libgio-2.0.so.0": "libglib2.0-0 | libglib2.0-0t64",
    "libgthread-2.0.so.0": "libglib2.0-0 | libglib2.0-0t64",
    "libgmodule-2.0.so.0": "libglib2.0-0 | libglib2.0-0t64",
    "libzstd.so.1": "libzstd1",
    "libbrotlidec.so.1": "libbrotli1",
    "libbrotlicommon.so.1": "libbrotli1",
    "libgssapi_krb5.so.2": "libgssapi-krb5-2",
    "libdbus-1.so.3": "libdbus-1-3",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libpng16.so.16": "libpng16-16 | libpng16-16t64",
    "libharfbuzz.so.0": "libharfbuzz0b",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libGLX.so.0": "libglx0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libdrm.so.2": "libdrm2",
    "libgbm.so.1": "libgbm1",
    # X11 / xcb (the xcb platform plugin)
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-dri3.so.0": "libxcb-dri3-0",
    "libxcb-present.so.0": "libxcb-present0",
    "libXext.so.6": "libxext6",
    "libXrender.so.1": "libxrender1",
    "libXi.so.6": "libxi6",
    "libSM.so.6": "libsm6",
    "libICE.so.6": "libice6",
    # Wayland platform plugin
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
    # GTK3 platform theme (optional)
    "libgtk-3.so.0": "libgtk-3-0 | libgtk-3-0t64",
    "libgdk-3.so.0": "libgtk-3-0 | libgtk-3-0t64",
    "libatk-1.0.so.0": "libatk1.0-0 | libatk1.0-0t64",
    "libcairo.so.2": "libcairo2",
    "libcairo-gobject.so.2": "libcairo-gobject2",
    "libgdk_pixbuf-2.0.so.0": "libgdk-pixbuf-2.0-0",
    "libpango-1.0.so.0": "libpango-1.0-0",
    "libpangocairo-1.0.so.0": "libpangocairo-1.0-0",
}

# Bundle files (relative paths, regex) whose own extra needs are optional.
OPTIONAL_FILES = [r"(^|/)plugins/platformthemes/libqgtk3\.so$"]
# What an optional file stands for in Suggests.
OPTIONAL_SUGGESTS = "libgtk-3-0 | libgtk-3-0t64"

# (soname, DT_NEEDED entries, {needed file: {symbol version names}})
ElfInfo = tuple[str | None, list[str], dict[str, set[str]]]

# GLIBCXX_3.4.n -> the GCC (and Debian libstdc++6) major version that introduced it.
GLIBCXX_GCC = {28: 10, 29: 11, 30: 12, 31: 13, 32: 13, 33: 14, 34: 15}


def _read(path: Path) -> bytes | None:
    with path.open("rb") as fh:
        head = fh.read(4)
        if head != b"\x7fELF":
            return None
        return head + fh.read()


def elf_info(path: Path) -> ElfInfo | None:
    """(soname, needed, {needed file: {version names}}) of one ELF file, or None if not ELF."""
    data = _read(path)
    if data is None:
        return None
    is64 = data[4] == 2
    end = "<" if data[5] == 1 else ">"
    if is64:
        (shoff,) = struct.unpack_from(end + "Q", data, 0x28)
        shentsize, shnum = struct.unpack_from(end + "HH", data, 0x3A)
        sh_fmt, dyn_fmt = end + "IIQQQQIIQQ", end + "qQ"
    else:
        (shoff,) = struct.unpack_from(end + "I", data, 0x20)
        shentsize, shnum = struct.unpack_from(end + "HH", data, 0x2E)
        sh_fmt, dyn_fmt = end + "IIIIIIIIII", end + "iI"
    sections = []
    for i in range(shnum):
        f = struct.unpack_from(sh_fmt, data, shoff + i * shentsize)
        # name, type, flags, addr, offset, size, link, info, addralign, entsize
        sections.append(f)

    def cstr(section_index: int, offset: int) -> str:
        base = sections[section_index][4] + offset
        return data[base : data.index(b"\0", base)].decode("ascii", "replace")

    soname: str | None = None
    needed: list[str] = []
    versions: dict[str, set[str]] = defaultdict(set)
    dyn_size = struct.calcsize(dyn_fmt)
    for _name, stype, _flags, _addr, offset, size, link, info, _align, _entsize in sections:
        if stype == 6:  # SHT_DYNAMIC
            for pos in range(offset, offset + size, dyn_size):
                tag, val = struct.unpack_from(dyn_fmt, data, pos)
                if tag == 0:
                    break
                if tag == 1:
                    needed.append(cstr(link, val))
                elif tag == 14:
                    soname = cstr(link, val)
        elif stype == 0x6FFFFFFE:  # SHT_GNU_verneed
            pos = offset
            for _ in range(info):
                _ver, cnt, vn_file, vn_aux, vn_next = struct.unpack_from(end + "HHIII", data, pos)
                file_name = cstr(link, vn_file)
                aux = pos + vn_aux
                for _ in range(cnt):
                    _hash, _flags2, _other, vna_name, vna_next = struct.unpack_from(end + "IHHII", data, aux)
                    versions[file_name].add(cstr(link, vna_name))
                    aux += vna_next
                pos += vn_next
    return soname, needed, versions


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", text))


def walk(bundle: Path) -> Iterator[tuple[str, ElfInfo]]:
    for path in sorted(bundle.rglob("*")):
        if path.is_file() and not path.is_symlink():
            info = elf_info(path)
            if info is not None:
                yield path.relative_to(bundle).as_posix(), info


def dpkg_owner(soname: str) -> str | None:
    try:
        out = subprocess.run(  # noqa: S603
            ["dpkg-query", "-S", f"*/{soname}"],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        ).stdout
    except FileNotFoundError:
        return None
    owners = {line.split(":", 1)[0] for line in out.splitlines() if line.strip()}
    return ", ".join(sorted(owners)) or None


def _glibc_of(versions: dict[str, set[str]]) -> str:
    found = [v[6:] for vs in versions.values() for v in vs if v.startswith("GLIBC_") and v[6:7].isdigit()]
    return max(found, key=_version_key, default="0")


def _report(files: dict[str, ElfInfo], users: dict[str, set[str]]) -> None:
    for lib, who in sorted(users.items()):
        more = f" (+{len(who) - 1})" if len(who) > 1 else ""
        sys.stderr.write(f"  {lib:28} {SONAME_PACKAGES.get(lib, '?'):36} {sorted(who)[0]}{more}\n")
    floors = sorted(
        ((_glibc_of(info[2]), rel) for rel, info in files.items()), key=lambda item: _version_key(item[0])
    )
    for version, rel in floors[-5:]:
        sys.stderr.write(f"  GLIBC_{version:6} {rel}\n")
    # Cross-check the table against dpkg where the library is installed on this host.
    for lib in sorted(users):
        owner = dpkg_owner(lib)
        table = [alt.strip() for alt in SONAME_PACKAGES.get(lib, "").split("|")]
        if owner and not any(o in table for o in owner.split(", ")):
            sys.stderr.write(f"elfdeps: note: {lib} belongs to {owner} here, the table says {table}\n")


def analyse(bundle: Path, report: bool) -> dict[str, str]:
    files = dict(walk(bundle))
    internal = {Path(rel).name for rel in files} | {info[0] for info in files.values() if info[0]}
    internal |= {p.name for p in bundle.rglob("*") if p.is_symlink()}
    optional = re.compile("|".join(OPTIONAL_FILES))
    users: dict[str, set[str]] = defaultdict(set)
    glibc: list[str] = []
    glibcxx: list[str] = []
    for rel, (_soname, needed, versions) in files.items():
        for lib in needed:
            if lib not in internal:
                users[lib].add(rel)
        for file_versions in versions.values():
            for version in file_versions:
                if version.startswith("GLIBC_") and version[6:7].isdigit():
                    glibc.append(version[6:])
                elif version.startswith("GLIBCXX_") and not optional.search(rel):
                    glibcxx.append(version[8:])
    required: dict[str, set[str]] = {}
    suggested: set[str] = set()
    unknown: list[str] = []
    for lib, who in sorted(users.items()):
        hard = {w for w in who if not optional.search(w)}
        package = SONAME_PACKAGES.get(lib)
        if not hard:
            suggested.add(OPTIONAL_SUGGESTS)
            continue
        if package is None:
            owner = dpkg_owner(lib)
            unknown.append(f"{lib} (needed by {sorted(hard)[0]}; dpkg on this host: {owner or 'unknown'})")
            continue
        required.setdefault(package, set()).update({lib})
    if unknown:
        sys.stderr.write(
            "elfdeps: libraries with no Debian package in SONAME_PACKAGES (add them):\n  "
            + "\n  ".join(unknown)
            + "\n"
        )
        raise SystemExit(1)
    floor = max(glibc, key=_version_key) if glibc else None
    depends: list[str] = []
    for package in sorted(required):
        if package == "libc6" and floor:
            depends.append(f"libc6 (>= {floor})")
        elif package == "libstdc++6" and glibcxx:
            top = max(glibcxx, key=_version_key)
            minor = _version_key(top)[-1] if top.startswith("3.4") else 0
            gcc = GLIBCXX_GCC.get(minor)
            if gcc is None and minor > max(GLIBCXX_GCC):
                raise SystemExit(f"elfdeps: GLIBCXX_{top} is newer than the table knows; extend GLIBCXX_GCC")
            depends.append(f"libstdc++6 (>= {gcc})" if gcc else "libstdc++6")
        else:
            depends.append(package)
    if "libc6" not in required and floor:
        depends.insert(0, f"libc6 (>= {floor})")
    if report:
        _report(files, users)
    return {
        "depends": ", ".join(depends),
        "suggests": ", ".join(sorted(suggested)),
        "glibc": floor or "",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--report", action="store_true", help="print what needs what on stderr")
    parser.add_argument(
        "--field",
        choices=["depends", "suggests", "glibc", "all"],
        default="depends",
        help="what to print; all: the three, one a line, in that order",
    )
    args = parser.parse_args(argv)
    result = analyse(args.bundle, args.report)
    fields = ["depends", "suggests", "glibc"] if args.field == "all" else [args.field]
    for field in fields:
        print(result[field])
    return 0


if __name__ == "__main__":
    sys.exit(main())
