"""Rules a rendered overlay must follow beyond its schemas, checked against the code's contracts.

kubeconform says each resource is well formed; these say the resources fit assetflow:

- every topic of ``assetflow.contracts.topics.PARTITIONS`` is a ``KafkaTopic`` with that many
  partitions, replication 3 and ``min.insync.replicas`` 2;
- every consuming service (``CONSUMERS``) is scaled by a KEDA ``ScaledObject`` whose Kafka trigger
  reads its group (``<KAFKA_GROUP_PREFIX>.<service>``) on its topic, at most one replica per
  partition, with the broker named so KEDA's own namespace resolves it;
- every Deployment has liveness and readiness probes, CPU and memory requests and limits, a
  non-root, read-only pod, and a PodDisruptionBudget;
- the shared settings say ``ENV=production``, and no Secret is rendered (secrets are created
  out of band, never committed);
- the gateway sets every variable of ``deploy/gateway/assetflow.conf.template`` (nginx's
  envsubst would leave an unset one in the config as it is).
"""

from collections.abc import Iterable
from typing import Any

Doc = dict[str, Any]


def _named(docs: Iterable[Doc], kind: str) -> dict[str, Doc]:
    return {d["metadata"]["name"]: d for d in docs if d.get("kind") == kind}


def _topics(docs: list[Doc], partitions: dict[str, int]) -> list[str]:
    problems = []
    found: dict[str, Doc] = {}
    for topic in _named(docs, "KafkaTopic").values():
        spec = topic.get("spec", {})
        found[spec.get("topicName", topic["metadata"]["name"])] = spec
    for name, count in partitions.items():
        spec = found.get(name)
        if spec is None:
            problems.append(f"topic {name}: no KafkaTopic")
            continue
        if spec.get("partitions") != count:
            problems.append(
                f"topic {name}: {spec.get('partitions')} partitions, the code says {count}"
            )
        if spec.get("replicas") != 3:
            problems.append(f"topic {name}: replicas {spec.get('replicas')}, expected 3")
        if str(spec.get("config", {}).get("min.insync.replicas")) != "2":
            problems.append(f"topic {name}: min.insync.replicas is not 2")
    for name in sorted(set(found) - set(partitions)):
        problems.append(f"topic {name}: a KafkaTopic the code does not define")
    return problems


def _scalers(
    docs: list[Doc], partitions: dict[str, int], consumers: dict[str, str], group_prefix: str
) -> list[str]:
    problems = []
    deployments = _named(docs, "Deployment")
    scaled = _named(docs, "ScaledObject")
    for service, topic in consumers.items():
        obj = scaled.get(service)
        if obj is None:
            problems.append(f"{service}: no ScaledObject")
            continue
        spec = obj["spec"]
        where = f"ScaledObject {service}"
        if spec.get("scaleTargetRef", {}).get("name") not in deployments:
            problems.append(f"{where}: scales {spec.get('scaleTargetRef')}, not a Deployment here")
        lowest, highest = spec.get("minReplicaCount", 0), spec.get("maxReplicaCount", 100)
        if highest > partitions[topic]:
            problems.append(
                f"{where}: maxReplicaCount {highest} > {partitions[topic]} partitions of {topic}"
            )
        if lowest > highest:
            problems.append(f"{where}: minReplicaCount {lowest} > maxReplicaCount {highest}")
        kafka = [t for t in spec.get("triggers", []) if t.get("type") == "kafka"]
        if len(kafka) != 1:
            problems.append(f"{where}: {len(kafka)} kafka triggers, expected 1")
            continue
        meta = kafka[0].get("metadata", {})
        if meta.get("consumerGroup") != f"{group_prefix}.{service}":
            problems.append(f"{where}: consumerGroup {meta.get('consumerGroup')!r}")
        if meta.get("topic") != topic:
            problems.append(f"{where}: topic {meta.get('topic')!r}, the service reads {topic}")
        namespace = obj["metadata"].get("namespace")
        for server in str(meta.get("bootstrapServers", "")).split(","):
            host = server.rsplit(":", 1)[0]
            if namespace and not host.endswith(f".{namespace}.svc"):
                problems.append(
                    f"{where}: broker {server!r} is not <service>.{namespace}.svc "
                    "(KEDA resolves it from its own namespace)"
                )
    for name in sorted(set(scaled) - set(consumers)):
        problems.append(f"ScaledObject {name}: not a consuming service")
    return problems


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _deployments(docs: list[Doc]) -> list[str]:
    problems = []
    budgets = [
        d["spec"].get("selector", {}).get("matchLabels", {})
        for d in docs
        if d.get("kind") == "PodDisruptionBudget"
    ]
    for name, deployment in _named(docs, "Deployment").items():
        pod = deployment["spec"]["template"]
        labels = pod["metadata"].get("labels", {})
        if not any(_matches(selector, labels) for selector in budgets):
            problems.append(f"Deployment {name}: no PodDisruptionBudget selects it")
        if pod["spec"].get("securityContext", {}).get("runAsNonRoot") is not True:
            problems.append(f"Deployment {name}: pod not runAsNonRoot")
        for container in pod["spec"]["containers"]:
            where = f"Deployment {name} container {container['name']}"
            for probe in ("livenessProbe", "readinessProbe"):
                if probe not in container:
                    problems.append(f"{where}: no {probe}")
            resources = container.get("resources", {})
            for bound in ("requests", "limits"):
                missing = {"cpu", "memory"} - set(resources.get(bound, {}))
                if missing:
                    problems.append(f"{where}: no {bound} for {', '.join(sorted(missing))}")
            context = container.get("securityContext", {})
            if context.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: root filesystem not read-only")
            if context.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: privilege escalation not disabled")
    return problems


def _gateway(docs: list[Doc], variables: Iterable[str]) -> list[str]:
    gateway = _named(docs, "Deployment").get("gateway")
    if gateway is None:
        return ["Deployment gateway: missing"]
    container = gateway["spec"]["template"]["spec"]["containers"][0]
    given = {e["name"] for e in container.get("env", [])}
    return [
        f"Deployment gateway: the template's ${{{name}}} is not set"
        for name in sorted(set(variables) - given)
    ]


def problems(
    docs: list[Doc],
    partitions: dict[str, int],
    consumers: dict[str, str],
    gateway_variables: Iterable[str] | None = None,
) -> list[str]:
    """Everything a rendered overlay does against the rules above (empty: it follows them);
    with ``gateway_variables`` (the gateway template's), also that the gateway sets each."""
    docs = [d for d in docs if isinstance(d, dict)]
    found = []
    settings = _named(docs, "ConfigMap").get("assetflow-config")
    if settings is None:
        found.append("ConfigMap assetflow-config: missing")
        group_prefix = "assetflow"
    else:
        data = settings.get("data", {})
        if data.get("ENV") != "production":
            found.append(f"ConfigMap assetflow-config: ENV is {data.get('ENV')!r}, not production")
        group_prefix = data.get("KAFKA_GROUP_PREFIX", "assetflow")
    for secret in _named(docs, "Secret"):
        found.append(f"Secret {secret}: secrets are created out of band, never rendered from git")
    found += _topics(docs, partitions)
    found += _scalers(docs, partitions, consumers, group_prefix)
    found += _deployments(docs)
    if gateway_variables is not None:
        found += _gateway(docs, gateway_variables)
    return found
