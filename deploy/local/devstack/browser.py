"""Headless Chromium for the browser tests: Debian's ``chromium`` and whatever libraries this
machine lacks for it, unpacked under ``.local/chromium`` (no system install); or the system's
own Chromium when it is installed already."""

import os
import re
import shutil
import subprocess
from pathlib import Path

from devstack import apt, config

PACKAGE = "chromium"
ROOT = config.LOCAL / "chromium"
LOCAL_BIN = ROOT / "usr" / "lib" / "chromium" / "chromium"
SYSTEM_BIN = Path("/usr/lib/chromium/chromium")
"""The browser itself; /usr/bin/chromium is a wrapper script around it."""
FONTS_CONF = ROOT / "fonts.conf"
_INST = re.compile(r"^Inst (\S+) (?:\[[^\]]*\] )?\((\S+) ", re.MULTILINE)


def missing_packages() -> tuple[str, ...]:
    """``name=version`` of each package apt would add to install Chromium here, without
    recommends (none when Chromium is installed system-wide)."""
    command = ["apt-get", "install", "--simulate", "-q", "--no-install-recommends", PACKAGE]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:  # a fresh machine may have no package lists yet
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=True)
        done = subprocess.run(command, capture_output=True, text=True, check=True)
    return tuple(f"{name}={version}" for name, version in _INST.findall(done.stdout))


def install(cache: Path) -> int:
    """Unpack the missing packages (their .debs cached in ``cache``) into ``ROOT``; returns
    how many there were (0: the system's Chromium is used and ``ROOT`` is removed)."""
    packages = missing_packages()
    if not packages:
        shutil.rmtree(ROOT, ignore_errors=True)
        return 0
    # The .debs of other versions (an older Chromium) would be unpacked too: start afresh.
    manifest = cache / "packages.txt"
    wanted = "\n".join(packages) + "\n"
    if not manifest.exists() or manifest.read_text() != wanted:
        shutil.rmtree(cache, ignore_errors=True)
    debs = apt.download(packages, cache)
    manifest.write_text(wanted)
    apt.unpack(debs, ROOT)
    if (ROOT / "etc" / "fonts").exists() and not Path("/etc/fonts/fonts.conf").exists():
        _write_fonts_conf()
    return len(packages)


def _write_fonts_conf() -> None:
    # fontconfig came unpacked too: its compiled-in /etc/fonts/fonts.conf is absent and the
    # package's conf.d links point at /usr/share; name the unpacked fonts directly.
    FONTS_CONF.write_text(
        f"""<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <dir>{ROOT / "usr" / "share" / "fonts"}</dir>
  <dir>/usr/share/fonts</dir>
  <cachedir>{ROOT / "var" / "cache" / "fontconfig"}</cachedir>
</fontconfig>
"""
    )


def executable() -> Path | None:
    """The Chromium binary to run: the unpacked one, else the system's, else None."""
    return next((path for path in (LOCAL_BIN, SYSTEM_BIN) if path.exists()), None)


def chromium() -> tuple[Path, dict[str, str]]:
    """Chromium's binary and the variables it needs laid over ``os.environ``; raises
    FileNotFoundError saying how to install it when it is not installed."""
    binary = executable()
    if binary is None:
        raise FileNotFoundError(
            f"Chromium is not installed ({LOCAL_BIN} and {SYSTEM_BIN} are missing): "
            "run `make install` (PYTHONPATH=deploy/local uv run python -m devstack install)"
        )
    if binary != LOCAL_BIN:
        return binary, {}
    libraries = sorted({str(path.parent) for path in ROOT.rglob("*.so*") if path.is_file()})
    inherited = os.environ.get("LD_LIBRARY_PATH")
    env = {"LD_LIBRARY_PATH": ":".join([*libraries, *([inherited] if inherited else [])])}
    if FONTS_CONF.exists():
        env["FONTCONFIG_FILE"] = str(FONTS_CONF)
    return binary, env
