"""Debian packages used as plain files: ``apt-get download`` into the user's cache, ``dpkg -x``
under ``.local/`` (no system install, no maintainer scripts, no service)."""

import shutil
import subprocess
from pathlib import Path


def download(packages: tuple[str, ...], into: Path) -> list[Path]:
    """The packages' .deb files in ``into``, downloaded unless all are there already."""
    debs = sorted(into.glob("*.deb")) if into.exists() else []
    if len(debs) >= len(packages):
        return debs
    into.mkdir(parents=True, exist_ok=True)
    command = ["apt-get", "download", "-q", *packages]
    done = subprocess.run(command, cwd=into, capture_output=True, text=True)
    if done.returncode != 0:  # a fresh machine may have no package lists yet
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=True)
        subprocess.run(command, cwd=into, capture_output=True, text=True, check=True)
    return sorted(into.glob("*.deb"))


def unpack(debs: list[Path], root: Path) -> None:
    """Extract the packages' files into ``root`` (replacing what was there)."""
    shutil.rmtree(root, ignore_errors=True)
    for deb in debs:
        subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
