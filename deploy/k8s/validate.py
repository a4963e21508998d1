"""`make k8s-lint`: render each overlay with kustomize and validate it offline.

1. Installs kustomize and kubeconform with ``go install`` from the Go module proxy into
   ``.local/tools/bin`` (stamped with their versions; Go's caches under ``~/.cache/assetflow/go``).
2. Makes kubeconform's JSON schemas, once per set of source versions, into
   ``~/.cache/assetflow/k8s-schemas/<key>``: Kubernetes' own kinds from the ``k8s.io/kubernetes``
   module's OpenAPI document, KEDA's and the MongoDB operator's kinds from the CRDs in their
   modules (``schemas.py`` converts them).
3. ``kustomize build`` of each overlay, ``kubeconform -strict -summary`` on the result, then the
   rules of ``policy.py`` against the code's topics and consumers and the gateway template.

The kinds in ``SKIP`` have no schema a registry serves (README.md says why) and are not
schema-checked; ``policy.py`` still checks what it knows of them.

    python deploy/k8s/validate.py                 # every overlay (what `make lint` runs)
    python deploy/k8s/validate.py --no-install FILE...  # validate rendered files as they are
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import policy
import schemas

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TOOLS_BIN = ROOT / ".local" / "tools" / "bin"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "assetflow"
OVERLAYS = ("small", "large")


@dataclass(frozen=True)
class Tool:
    """A Go command installed from the module proxy."""

    name: str
    package: str
    version: str  # the newest that builds with Go 1.26 and GOTOOLCHAIN=local


TOOLS = (
    Tool("kustomize", "sigs.k8s.io/kustomize/kustomize/v5", "v5.8.2"),
    Tool("kubeconform", "github.com/yannh/kubeconform/cmd/kubeconform", "v0.8.0"),
)


@dataclass(frozen=True)
class Source:
    """A module on the Go module proxy holding an OpenAPI document or CRDs, and which files."""

    module: str
    version: str
    files: tuple[str, ...]
    swagger: bool = False


SOURCES = (
    Source("k8s.io/kubernetes", "v1.34.4", ("api/openapi-spec/swagger.json",), swagger=True),
    Source(
        "github.com/kedacore/keda/v2",
        "v2.20.2",  # v2.21 needs Go 1.27
        ("config/crd/bases/keda.sh_scaledobjects.yaml",),
    ),
    Source(
        "github.com/mongodb/mongodb-kubernetes-operator",
        "v0.9.0",  # the only version the proxy serves
        ("config/crd/bases/mongodbcommunity.mongodb.com_mongodbcommunity.yaml",),
    ),
)

# No registry serves these CRDs: Strimzi's Maven artifact io.strimzi:api holds the model
# classes but not the CRD files, and io.strimzi:crd-generator is not on Maven Central; the
# Go module proxy refuses github.com/minio/operator. kubeconform skips them (README.md).
SKIP = ("Kafka", "KafkaNodePool", "KafkaTopic", "Tenant")


def say(message: str) -> None:
    """One line of progress, marked like the Makefile's."""
    print(f"[k8s] {message}", flush=True)


def _go_env() -> dict[str, str]:
    go_root = CACHE / "go"
    env = dict(os.environ)
    env.update(
        GOPATH=str(go_root),
        GOMODCACHE=str(go_root / "mod"),
        GOTOOLCHAIN="local",  # only the module proxy is reachable: never fetch a toolchain
        CGO_ENABLED="0",
        GOFLAGS=(env.get("GOFLAGS", "") + " -buildvcs=false -modcacherw").strip(),
    )
    return env


def _go() -> str:
    go = shutil.which("go")
    if go is None:
        raise SystemExit("[k8s] 'go' is required to install kustomize and kubeconform")
    return go


def install_tools() -> dict[str, Path]:
    """Each tool's binary, installed unless its stamp names this version."""
    TOOLS_BIN.mkdir(parents=True, exist_ok=True)
    paths = {}
    for tool in TOOLS:
        binary = TOOLS_BIN / tool.name
        stamp = TOOLS_BIN.parent / f".{tool.name}.stamp"
        if not (binary.exists() and stamp.exists() and stamp.read_text().strip() == tool.version):
            say(f"installing {tool.name} {tool.version} (go install, Go module proxy)")
            built = subprocess.run(
                [_go(), "install", "-trimpath", f"{tool.package}@{tool.version}"],
                env=_go_env() | {"GOBIN": str(TOOLS_BIN)},
                cwd=tempfile.gettempdir(),
                capture_output=True,
                text=True,
            )
            if built.returncode != 0:
                raise SystemExit(f"[k8s] go install {tool.package} failed:\n{built.stderr}")
            stamp.write_text(tool.version + "\n")
        paths[tool.name] = binary
    return paths


def schema_key() -> str:
    """Names the schema set: Kubernetes' version, then a hash of the sources and the converter."""
    digest = hashlib.sha256((HERE / "schemas.py").read_bytes() + repr(SOURCES).encode())
    return f"k8s-{SOURCES[0].version}-{digest.hexdigest()[:10]}"


def _module_dir(source: Source) -> Path:
    out = subprocess.run(
        [_go(), "mod", "download", "-json", f"{source.module}@{source.version}"],
        env=_go_env(),
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
    )
    info = json.loads(out.stdout) if out.stdout.strip() else {}
    if out.returncode != 0 or "Dir" not in info:
        raise SystemExit(
            f"[k8s] go mod download {source.module}@{source.version} failed: "
            f"{info.get('Error') or out.stderr.strip()}"
        )
    return Path(info["Dir"])


def ensure_schemas() -> Path:
    """The schema directory, made from the sources if this key has none yet."""
    target = CACHE / "k8s-schemas" / schema_key()
    if (target / ".complete").exists():
        return target
    say(f"making JSON schemas into {target}")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".making-", dir=target.parent))
    try:
        for source in SOURCES:
            directory = _module_dir(source)
            for name in source.files:
                path = directory / name
                if source.swagger:
                    made = schemas.from_swagger(json.loads(path.read_text()))
                else:
                    made = {}
                    for crd in schemas.crds_in(yaml.safe_load_all(path.read_text())):
                        made |= schemas.from_crd(crd)
                schemas.write(made, work)
                say(f"  {len(made)} from {source.module}@{source.version} {name}")
        (work / ".complete").write_text(json.dumps([s.__dict__ for s in SOURCES]) + "\n")
        shutil.rmtree(target, ignore_errors=True)
        work.rename(target)
        for stale in target.parent.glob("k8s-*"):  # sets made for other versions
            if stale != target:
                shutil.rmtree(stale, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def kubeconform(binary: Path, schema_dir: Path, manifest: Path) -> bool:
    """kubeconform -strict on one rendered file; True when every resource is valid."""
    location = str(schema_dir / "{{ .ResourceKind }}{{ .KindSuffix }}.json")
    proc = subprocess.run(
        [
            str(binary),
            "-strict",
            "-summary",
            "-output",
            "text",
            "-schema-location",
            location,
            "-skip",
            ",".join(SKIP),
            str(manifest),
        ]
    )
    return proc.returncode == 0


def check_policy(manifest: Path) -> list[str]:
    """policy.py's rules on one rendered file, against the code's topics and consumers and the
    gateway template's variables."""
    from assetflow.contracts.topics import CONSUMERS, PARTITIONS

    docs = [d for d in yaml.safe_load_all(manifest.read_text()) if d]
    template = (ROOT / "deploy" / "gateway" / "assetflow.conf.template").read_text()
    variables = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)\}", template))
    return policy.problems(docs, dict(PARTITIONS), dict(CONSUMERS), variables)


def main() -> int:
    """Install, make schemas, render and validate; exit 1 on any invalid overlay."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "files", nargs="*", type=Path, help="rendered manifests (default: overlays)"
    )
    parser.add_argument("--no-install", action="store_true", help="use installed tools only")
    args = parser.parse_args()

    if args.no_install:
        tools = {t.name: TOOLS_BIN / t.name for t in TOOLS}
        missing = [str(p) for p in tools.values() if not p.exists()]
        if missing:
            raise SystemExit(f"[k8s] not installed: {', '.join(missing)} (run make k8s-lint)")
        schema_dir = CACHE / "k8s-schemas" / schema_key()
        if not (schema_dir / ".complete").exists():
            raise SystemExit(f"[k8s] no schemas in {schema_dir} (run make k8s-lint)")
    else:
        tools = install_tools()
        schema_dir = ensure_schemas()

    ok = True
    with tempfile.TemporaryDirectory(prefix="k8s-render-") as tmp:
        targets: list[tuple[str, Path]] = [(str(f), f) for f in args.files]
        for overlay in OVERLAYS if not args.files else ():
            rendered = Path(tmp) / f"{overlay}.yaml"
            with rendered.open("w") as out:
                build = subprocess.run(
                    [str(tools["kustomize"]), "build", str(HERE / "overlays" / overlay)],
                    stdout=out,
                )
            if build.returncode != 0:
                say(f"overlays/{overlay}: kustomize build failed")
                ok = False
                continue
            targets.append((f"overlays/{overlay}", rendered))
        for label, manifest in targets:
            say(f"{label}: kubeconform -strict (skipped, no schema: {', '.join(SKIP)})")
            valid = kubeconform(tools["kubeconform"], schema_dir, manifest)
            found = check_policy(manifest)
            for problem in found:
                say(f"{label}: {problem}")
            ok = ok and valid and not found
    if not ok:
        say("invalid Kubernetes manifests (above)")
        return 1
    say(f"{', '.join(label for label, _ in targets)}: valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
