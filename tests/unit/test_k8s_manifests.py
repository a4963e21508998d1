"""The Kubernetes manifests' checks: the schema converter, the policy rules, and `make k8s-lint`
failing on a broken overlay.

The converter and the rules are plain functions (no I/O). The last tests render the real
overlays with the kustomize and kubeconform that `make k8s-lint` installs into .local/tools/bin;
they skip only where those are not installed yet (`make lint` installs them first).
"""

import copy
import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from assetflow.contracts.topics import CONSUMERS, PARTITIONS

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"


def _load(name: str) -> ModuleType:
    """A module of deploy/k8s (a tool folder, not a package) under a name of its own."""
    spec = importlib.util.spec_from_file_location(f"assetflow_k8s_{name}", K8S / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


schemas = _load("schemas")
policy = _load("policy")

INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/definitions/{name}", "description": "a reference"}


SWAGGER: dict[str, Any] = {
    "definitions": {
        "io.k8s.api.apps.v1.Widget": {
            "type": "object",
            "description": "a kind of our own",
            "properties": {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "spec": _ref("io.k8s.api.apps.v1.WidgetSpec"),
            },
            "x-kubernetes-group-version-kind": [
                {"group": "apps", "kind": "Widget", "version": "v1"}
            ],
        },
        "io.k8s.api.apps.v1.WidgetSpec": {
            "type": "object",
            "required": ["port"],
            "properties": {
                "port": _ref(INT_OR_STRING),
                "cpu": _ref(QUANTITY),
                "description": {"type": "string", "description": "a field named description"},
                "child": _ref("io.k8s.api.apps.v1.WidgetSpec"),  # recursive
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        INT_OR_STRING: {"type": "string", "format": "int-or-string"},
        QUANTITY: {"type": "string"},
        "io.k8s.api.core.v1.Thing": {
            "type": "object",
            "properties": {"kind": {"type": "string"}},
            "x-kubernetes-group-version-kind": [{"group": "", "kind": "Thing", "version": "v1"}],
        },
        # Shared by every group: no kind of its own to validate.
        "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions": {
            "type": "object",
            "properties": {"kind": {"type": "string"}},
            "x-kubernetes-group-version-kind": [
                {"group": "", "kind": "DeleteOptions", "version": "v1"},
                {"group": "apps", "kind": "DeleteOptions", "version": "v1"},
            ],
        },
        "io.k8s.api.apps.v1.Unused": {"type": "object", "properties": {"x": {"type": "string"}}},
    }
}


def _schemas(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every schema in a schema: itself, its properties', definitions' and nested ones."""
    yield node
    for key, value in node.items():
        if key in ("properties", "definitions"):
            for child in value.values():
                yield from _schemas(child)
        elif isinstance(value, dict):
            yield from _schemas(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    yield from _schemas(item)


def test_file_names_are_kubeconforms() -> None:
    """{{ .ResourceKind }}{{ .KindSuffix }}: lower-case kind, the group's first label, version."""
    assert schemas.schema_filename("apps", "v1", "Deployment") == "deployment-apps-v1.json"
    assert schemas.schema_filename("", "v1", "Service") == "service-v1.json"
    assert schemas.schema_filename("keda.sh", "v1alpha1", "ScaledObject") == (
        "scaledobject-keda-v1alpha1.json"
    )
    assert schemas.schema_filename("policy", "v1", "PodDisruptionBudget") == (
        "poddisruptionbudget-policy-v1.json"
    )


def test_swagger_kinds_become_strict_standalone_schemas() -> None:
    """Each kind's file carries exactly the definitions it reaches; objects are closed."""
    out = schemas.from_swagger(copy.deepcopy(SWAGGER))
    assert set(out) == {"widget-apps-v1.json", "thing-v1.json"}
    widget = out["widget-apps-v1.json"]
    assert widget["additionalProperties"] is False
    assert set(widget["definitions"]) == {
        "io.k8s.api.apps.v1.WidgetSpec",
        INT_OR_STRING,
        QUANTITY,
    }
    spec = widget["definitions"]["io.k8s.api.apps.v1.WidgetSpec"]
    assert spec["additionalProperties"] is False
    assert spec["required"] == ["port"]
    assert spec["properties"]["child"] == {"$ref": "#/definitions/io.k8s.api.apps.v1.WidgetSpec"}
    # A map keeps its own additionalProperties; a field named "description" stays a field.
    assert spec["properties"]["labels"]["additionalProperties"] == {"type": "string"}
    assert spec["properties"]["description"] == {"type": "string"}
    assert widget["definitions"][INT_OR_STRING] == {
        "oneOf": [{"type": "string"}, {"type": "integer"}]
    }
    assert widget["definitions"][QUANTITY] == {"oneOf": [{"type": "string"}, {"type": "number"}]}
    assert not any("description" in node for node in _schemas(widget))
    assert "x-kubernetes-group-version-kind" not in widget
    assert out["thing-v1.json"]["definitions"] == {}


def test_swagger_refuses_a_dangling_reference() -> None:
    """A definition that names one the document lacks is an error, not a hole in a schema."""
    broken = copy.deepcopy(SWAGGER)
    del broken["definitions"][QUANTITY]
    with pytest.raises(ValueError, match="missing definition"):
        schemas.from_swagger(broken)


CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "spec": {
        "group": "example.assetflow.dev",
        "names": {"kind": "Gadget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "description": "a gadget",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {
                                    "size": {"x-kubernetes-int-or-string": True},
                                    "note": {"type": "string", "nullable": True},
                                    "free": {
                                        "type": "object",
                                        "x-kubernetes-preserve-unknown-fields": True,
                                        "properties": {"known": {"type": "string"}},
                                    },
                                    "mode": {"type": "string", "enum": ["a", "b"]},
                                },
                            }
                        },
                    }
                },
            },
            {"name": "v0", "served": False, "schema": {"openAPIV3Schema": {"type": "object"}}},
        ],
    },
}


def test_crd_served_versions_become_strict_schemas() -> None:
    """int-or-string and nullable become JSON Schema; preserve-unknown-fields stays open."""
    out = schemas.from_crd(copy.deepcopy(CRD))
    assert list(out) == ["gadget-example-v1.json"]
    schema = out["gadget-example-v1.json"]
    assert "description" not in schema
    assert schema["additionalProperties"] is False
    spec = schema["properties"]["spec"]
    assert spec["additionalProperties"] is False
    assert spec["properties"]["size"]["oneOf"] == [{"type": "string"}, {"type": "integer"}]
    assert spec["properties"]["note"] == {"type": ["string", "null"]}
    assert "additionalProperties" not in spec["properties"]["free"]
    assert spec["properties"]["mode"]["enum"] == ["a", "b"]


def test_crd_refuses_other_documents() -> None:
    """Only CustomResourceDefinitions are converted."""
    with pytest.raises(ValueError, match="not a CustomResourceDefinition"):
        schemas.from_crd({"kind": "Deployment"})
    assert schemas.crds_in([None, {"kind": "Service"}, CRD]) == [CRD]


def test_write_refuses_two_sources_for_one_file(tmp_path: Path) -> None:
    """Two sources naming the same file would silently replace a schema."""
    schemas.write({"a-v1.json": {"type": "object"}}, tmp_path)
    assert (tmp_path / "a-v1.json").read_text() == '{"type":"object"}'
    with pytest.raises(ValueError, match="two sources"):
        schemas.write({"a-v1.json": {"type": "string"}}, tmp_path)


# The rules, on a small deployment of one consumer reading a two-partition topic.
TOPICS = {"t.a": 2, "t.dlq": 1}
READERS = {"svc": "t.a"}


def _deployment(name: str) -> dict[str, Any]:
    return {
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "ns"},
        "spec": {
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": name}},
                "spec": {
                    "securityContext": {"runAsNonRoot": True},
                    "containers": [
                        {
                            "name": name,
                            "livenessProbe": {"httpGet": {"path": "/metrics"}},
                            "readinessProbe": {"httpGet": {"path": "/healthz"}},
                            "resources": {
                                "requests": {"cpu": "100m", "memory": "64Mi"},
                                "limits": {"cpu": "1", "memory": "128Mi"},
                            },
                            "securityContext": {
                                "readOnlyRootFilesystem": True,
                                "allowPrivilegeEscalation": False,
                            },
                        }
                    ],
                },
            }
        },
    }


def _good_docs() -> list[dict[str, Any]]:
    return [
        {
            "kind": "ConfigMap",
            "metadata": {"name": "assetflow-config"},
            "data": {"ENV": "production"},
        },
        _deployment("svc"),
        {
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "svc"},
            "spec": {"selector": {"matchLabels": {"app.kubernetes.io/name": "svc"}}},
        },
        *(
            {
                "kind": "KafkaTopic",
                "metadata": {"name": name.replace(".", "-")},
                "spec": {
                    "topicName": name,
                    "partitions": n,
                    "replicas": 3,
                    "config": {"min.insync.replicas": 2},
                },
            }
            for name, n in TOPICS.items()
        ),
        {
            "kind": "ScaledObject",
            "metadata": {"name": "svc", "namespace": "ns"},
            "spec": {
                "scaleTargetRef": {"name": "svc"},
                "minReplicaCount": 1,
                "maxReplicaCount": 2,
                "triggers": [
                    {
                        "type": "kafka",
                        "metadata": {
                            "bootstrapServers": "kafka-bootstrap.ns.svc:9092",
                            "consumerGroup": "assetflow.svc",
                            "topic": "t.a",
                        },
                    }
                ],
            },
        },
    ]


def _find(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def test_policy_accepts_a_deployment_that_follows_it() -> None:
    """The reference documents break no rule."""
    assert policy.problems(_good_docs(), TOPICS, READERS) == []


def test_policy_bounds_consumers_by_partitions() -> None:
    """A third replica of a group reading two partitions would idle: refused."""
    docs = _good_docs()
    _find(docs, "ScaledObject", "svc")["spec"]["maxReplicaCount"] = 3
    assert policy.problems(docs, TOPICS, READERS) == [
        "ScaledObject svc: maxReplicaCount 3 > 2 partitions of t.a"
    ]


def test_policy_matches_scalers_and_topics_to_the_code() -> None:
    """Group, topic, broker address and partition counts must be the code's (the replica bound
    is the partitions of the topic the service reads, whatever the trigger names)."""
    docs = _good_docs()
    trigger = _find(docs, "ScaledObject", "svc")["spec"]["triggers"][0]["metadata"]
    trigger.update(
        consumerGroup="other.svc", topic="t.dlq", bootstrapServers="kafka-bootstrap:9092"
    )
    _find(docs, "KafkaTopic", "t-a")["spec"]["partitions"] = 6
    assert policy.problems(docs, TOPICS, READERS) == [
        "topic t.a: 6 partitions, the code says 2",
        "ScaledObject svc: consumerGroup 'other.svc'",
        "ScaledObject svc: topic 't.dlq', the service reads t.a",
        "ScaledObject svc: broker 'kafka-bootstrap:9092' is not <service>.ns.svc "
        "(KEDA resolves it from its own namespace)",
    ]


def test_policy_requires_probes_limits_budgets_and_no_secrets() -> None:
    """What each pod must declare, and what must never be rendered from git."""
    docs = _good_docs()
    container = _find(docs, "Deployment", "svc")["spec"]["template"]["spec"]["containers"][0]
    del container["readinessProbe"]
    del container["resources"]["limits"]["memory"]
    docs = [d for d in docs if d["kind"] != "PodDisruptionBudget"]
    docs.append({"kind": "Secret", "metadata": {"name": "s3"}})
    _find(docs, "ConfigMap", "assetflow-config")["data"]["ENV"] = "local"
    assert policy.problems(docs, TOPICS, READERS) == [
        "ConfigMap assetflow-config: ENV is 'local', not production",
        "Secret s3: secrets are created out of band, never rendered from git",
        "Deployment svc: no PodDisruptionBudget selects it",
        "Deployment svc container svc: no readinessProbe",
        "Deployment svc container svc: no limits for memory",
    ]


def test_policy_requires_every_gateway_template_variable() -> None:
    """nginx's envsubst leaves an unset ${VAR} in the config: the gateway must set each."""
    docs = _good_docs()
    gateway = _deployment("gateway")
    gateway["spec"]["template"]["spec"]["containers"][0]["env"] = [
        {"name": "API_UPSTREAM", "value": "api:8000"}
    ]
    docs.append(gateway)
    docs.append(
        {
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "gateway"},
            "spec": {"selector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}},
        }
    )
    assert policy.problems(docs, TOPICS, READERS, {"API_UPSTREAM"}) == []
    assert policy.problems(docs, TOPICS, READERS, {"API_UPSTREAM", "WEB_ROOT"}) == [
        "Deployment gateway: the template's ${WEB_ROOT} is not set"
    ]


# The real overlays, with the tools `make k8s-lint` installs.
TOOLS_BIN = ROOT / ".local" / "tools" / "bin"
KUSTOMIZE = TOOLS_BIN / "kustomize"
needs_kustomize = pytest.mark.skipif(
    not KUSTOMIZE.exists(), reason="kustomize not installed yet: make k8s-lint installs it"
)


def _render(overlay: str) -> str:
    out = subprocess.run(
        [str(KUSTOMIZE), "build", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


@needs_kustomize
@pytest.mark.parametrize("overlay", ["small", "large"])
def test_overlays_follow_the_rules_and_the_contracts(overlay: str) -> None:
    """Each consumer scales on its own group's lag, never past its topic's partitions."""
    docs = [d for d in yaml.safe_load_all(_render(overlay)) if d]
    assert policy.problems(docs, dict(PARTITIONS), dict(CONSUMERS)) == []
    scaled = {d["metadata"]["name"]: d["spec"] for d in docs if d["kind"] == "ScaledObject"}
    assert set(scaled) == set(CONSUMERS)
    expected_max = {
        "small": {svc: 2 for svc in CONSUMERS},
        "large": {svc: PARTITIONS[topic] for svc, topic in CONSUMERS.items()},
    }[overlay]
    assert {svc: spec["maxReplicaCount"] for svc, spec in scaled.items()} == expected_max
    topics = {
        d["spec"]["topicName"]: d["spec"]["partitions"] for d in docs if d["kind"] == "KafkaTopic"
    }
    assert topics == dict(PARTITIONS)
    assert {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace"} == {
        "assetflow"
    }


@needs_kustomize
def test_k8s_lint_fails_on_an_invalid_manifest(tmp_path: Path) -> None:
    """validate.py (what `make k8s-lint` runs) passes the rendered overlay and fails on a typo."""
    validate = [sys.executable, str(K8S / "validate.py"), "--no-install"]
    rendered = _render("small")
    good = tmp_path / "good.yaml"
    good.write_text(rendered)
    passed = subprocess.run([*validate, str(good)], capture_output=True, text=True)
    if "not installed" in passed.stderr or "no schemas" in passed.stderr:
        pytest.skip(passed.stderr.strip())
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Invalid: 0, Errors: 0" in passed.stdout

    # A misspelt field deep in a pod template, and a consumer scaled past its partitions.
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        rendered.replace("readOnlyRootFilesystem: true", "readOnlyRootFileSystem: true", 1).replace(
            "maxReplicaCount: 2", "maxReplicaCount: 9", 1
        )
    )
    failed = subprocess.run([*validate, str(broken)], capture_output=True, text=True)
    assert failed.returncode == 1
    assert "additional properties 'readOnlyRootFileSystem' not allowed" in failed.stdout
    assert "Invalid: 1, Errors: 0" in failed.stdout
    assert "maxReplicaCount 9 >" in failed.stdout
    assert "invalid Kubernetes manifests" in failed.stdout
