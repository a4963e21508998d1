"""Idempotent installs into .local/, each stamped with a hash of what it was built from."""

import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from devstack import apt, config

KAFKA_HOME = config.LOCAL / "kafka"
KAFKA_LIB = KAFKA_HOME / "lib"
MINIO_BIN = config.BIN / "minio"
SECANTUS_ROOT = config.LOCAL / "secantus"
SECANTUS_BIN = SECANTUS_ROOT / "bin" / "secantusd-rs"


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


def install_secantus() -> bool:
    """SecantusDB's ``secantusd-rs`` (MongoDB wire protocol, WiredTiger) from crates.io."""

    def build() -> None:
        _say(
            "building secantusd-rs from crates.io (first time: ~11 min on 2 cores, "
            "it compiles WiredTiger; later builds reuse the cargo cache)..."
        )
        _run(
            [
                _require("cargo"),
                "install",
                config.SECANTUS_CRATE,
                "--version",
                config.SECANTUS_VERSION,
                # Every published version declares rust-version 1.98; 1.95 builds it fine.
                "--ignore-rust-version",
                "--locked",
                "--force",
                "--root",
                str(SECANTUS_ROOT),
                "--target-dir",
                str(_user_cache() / "cargo-target"),
            ]
        )

    fingerprint = f"{config.SECANTUS_CRATE}@{config.SECANTUS_VERSION}"
    return _stamped("secantus", fingerprint, SECANTUS_BIN, build)


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
    for step in (install_kafka, install_minio, install_secantus, install_nginx):
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
