"""JSON schemas for kubeconform, made offline from Kubernetes' OpenAPI document and from CRDs.

kubeconform looks a resource's schema up by kind, group and version; its usual source is a
GitHub repository this machine cannot reach, so these functions make the same files from
documents the registries do serve (``deploy/k8s/check.py`` says which):

- ``from_swagger``: the ``definitions`` of Kubernetes' ``api/openapi-spec/swagger.json``. Each
  kind's file is its definition plus, under ``definitions``, every definition it reaches, with the
  ``$ref``s left as they are (``#/definitions/<name>``), so a file stands alone and recursive
  types need no unrolling.
- ``from_crd``: each served version's ``openAPIV3Schema`` of a CustomResourceDefinition.

Both are *strict* the way kubeconform's ``-strict`` schemas are: an object that lists its
``properties`` admits no other key (unless it says ``additionalProperties`` or
``x-kubernetes-preserve-unknown-fields``), so a misspelt field fails instead of being ignored.
``int-or-string`` values accept a string or an integer and ``Quantity`` a string or a number,
as the API server does. Descriptions are dropped: they weigh most of the bytes and validate
nothing.

A file is named as kubeconform's ``{{ .ResourceKind }}{{ .KindSuffix }}.json`` template
resolves: ``deployment-apps-v1.json``, ``service-v1.json``, ``scaledobject-keda-v1alpha1.json``
(the group's first label only).
"""

import copy
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

Schema = dict[str, Any]

INT_OR_STRING: Schema = {"oneOf": [{"type": "string"}, {"type": "integer"}]}
QUANTITY: Schema = {"oneOf": [{"type": "string"}, {"type": "number"}]}
_SPECIAL = {
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": INT_OR_STRING,
    "io.k8s.apimachinery.pkg.api.resource.Quantity": QUANTITY,
}
_REF_PREFIX = "#/definitions/"


def schema_filename(group: str, version: str, kind: str) -> str:
    """The file kubeconform's ``{{ .ResourceKind }}{{ .KindSuffix }}.json`` names."""
    if not group:
        return f"{kind.lower()}-{version.lower()}.json"
    return f"{kind.lower()}-{group.split('.')[0].lower()}-{version.lower()}.json"


def _strip(node: Any) -> Any:
    """A copy without descriptions, with int-or-string made explicit and nullable honoured."""
    if isinstance(node, list):
        return [_strip(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {
        key: (value if key in ("enum", "default", "example") else _strip(value))
        for key, value in node.items()
        if key != "description"
    }
    # "properties" maps field names to schemas: a field named "description" must stay.
    if isinstance(node.get("properties"), dict):
        out["properties"] = {name: _strip(value) for name, value in node["properties"].items()}
    if out.get("format") == "int-or-string" or (
        out.get("x-kubernetes-int-or-string") is True
        and not any(k in out for k in ("anyOf", "oneOf"))
    ):
        out.pop("type", None)
        out.pop("format", None)
        out.update(copy.deepcopy(INT_OR_STRING))
    if out.pop("nullable", False) is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


def _make_strict(node: Any) -> None:
    """Close every object that lists its properties, in place."""
    if isinstance(node, list):
        for item in node:
            _make_strict(item)
        return
    if not isinstance(node, dict):
        return
    if (
        isinstance(node.get("properties"), dict)
        and "additionalProperties" not in node
        and node.get("x-kubernetes-preserve-unknown-fields") is not True
    ):
        node["additionalProperties"] = False
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            for child in value.values():
                _make_strict(child)
        elif key not in ("enum", "default", "example"):
            _make_strict(value)


def _refs(node: Any) -> Iterator[str]:
    """Definition names a schema refers to."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF_PREFIX):
            yield ref[len(_REF_PREFIX) :]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _closure(name: str, definitions: dict[str, Schema]) -> list[str]:
    """Every definition ``name`` reaches, itself excluded, in a stable order."""
    seen: dict[str, None] = {}
    stack = list(_refs(definitions[name]))
    while stack:
        current = stack.pop()
        if current in seen or current == name:
            continue
        if current not in definitions:
            raise ValueError(f"{name} refers to a missing definition {current}")
        seen[current] = None
        stack.extend(_refs(definitions[current]))
    return sorted(seen)


def _definition(name: str, definitions: dict[str, Schema]) -> Schema:
    special = _SPECIAL.get(name)
    return copy.deepcopy(special) if special is not None else _strip(definitions[name])


def from_swagger(swagger: Schema, *, strict: bool = True) -> dict[str, Schema]:
    """One standalone schema per kind the OpenAPI (v2) document defines, by file name."""
    definitions: dict[str, Schema] = swagger["definitions"]
    out: dict[str, Schema] = {}
    for name, definition in definitions.items():
        gvks = definition.get("x-kubernetes-group-version-kind") or []
        # A definition shared by every group (DeleteOptions, WatchEvent) is no kind to validate.
        own = [g for g in gvks if name.rsplit(".", 1)[-1] == g["kind"]]
        if len(own) != 1:
            continue
        gvk = own[0]
        schema = _definition(name, definitions)
        schema.pop("x-kubernetes-group-version-kind", None)
        schema["definitions"] = {
            ref: _definition(ref, definitions) for ref in _closure(name, definitions)
        }
        if strict:
            _make_strict(schema)
        filename = schema_filename(gvk["group"], gvk["version"], gvk["kind"])
        if filename in out:
            raise ValueError(f"two definitions map to {filename}")
        out[filename] = schema
    return out


def from_crd(crd: Schema, *, strict: bool = True) -> dict[str, Schema]:
    """One schema per served version of a CustomResourceDefinition, by file name."""
    if crd.get("kind") != "CustomResourceDefinition":
        raise ValueError(f"not a CustomResourceDefinition: {crd.get('kind')!r}")
    spec = crd["spec"]
    group, kind = spec["group"], spec["names"]["kind"]
    out: dict[str, Schema] = {}
    for version in spec["versions"]:
        if not version.get("served", True):
            continue
        raw = (version.get("schema") or {}).get("openAPIV3Schema")
        if raw is None:
            raise ValueError(f"{kind} {version['name']} has no openAPIV3Schema")
        schema = _strip(raw)
        if strict:
            _make_strict(schema)
        out[schema_filename(group, version["name"], kind)] = schema
    return out


def write(schemas: dict[str, Schema], directory: Path) -> None:
    """Write each schema as compact JSON; refuse to replace a file another source wrote."""
    directory.mkdir(parents=True, exist_ok=True)
    for filename, schema in schemas.items():
        target = directory / filename
        if target.exists():
            raise ValueError(f"{filename} is made by two sources")
        target.write_text(json.dumps(schema, separators=(",", ":"), sort_keys=True))


def crds_in(documents: Iterable[Any]) -> list[Schema]:
    """The CustomResourceDefinitions among parsed YAML documents."""
    return [
        doc
        for doc in documents
        if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition"
    ]
