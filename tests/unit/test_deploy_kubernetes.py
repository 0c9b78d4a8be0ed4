"""deploy/base renders with kustomize, every document passes ``kubernetes-validate --strict``
(offline, schemas ship with it), and the shape holds: api behind a Service with probes, one
Deployment and HPA per queue, a single Recreate beat, Flower, and no real secret anywhere."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from dispatcher.accounts import parse_accounts
from dispatcher.taskqueue import PRIORITY_CLASSES

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "deploy" / "base"
SECRET_TEMPLATE = BASE / "secret.template.yaml"
#: The schemas kubernetes-validate ships include this version; it matches /usr/bin/kubectl.
KUBERNETES_VERSION = "1.32.0"

Documents = dict[tuple[str, str], dict[str, Any]]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: cannot run `kubectl kustomize deploy/base`")
    result = subprocess.run(
        [kubectl, "kustomize", str(BASE)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    path = tmp_path_factory.mktemp("kustomize") / "rendered.yaml"
    path.write_text(result.stdout)
    return path


@pytest.fixture(scope="module")
def documents(rendered: Path) -> Documents:
    return {(doc["kind"], doc["metadata"]["name"]): doc for doc in yaml.safe_load_all(rendered.read_text())}


def _container(documents: Documents, deployment: str) -> dict[str, Any]:
    containers = documents["Deployment", deployment]["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]  # type: ignore[no-any-return]


def test_every_document_passes_strict_validation(rendered: Path) -> None:
    validator = Path(sys.executable).with_name("kubernetes-validate")
    result = subprocess.run(
        [str(validator), "--strict", "-k", KUBERNETES_VERSION, str(rendered), str(SECRET_TEMPLATE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # One "passed" line per document: none was skipped for want of a schema.
    count = len(list(yaml.safe_load_all(rendered.read_text()))) + 1
    assert (result.stdout + result.stderr).count(" passed for resource ") == count


def test_api_has_service_and_probes(documents: Documents) -> None:
    container = _container(documents, "dispatcher-api")
    assert container["args"][:2] == ["dispatcher", "api"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert "livenessProbe" in container
    service = documents["Service", "dispatcher-api"]
    pod_labels = documents["Deployment", "dispatcher-api"]["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()


def test_one_deployment_and_hpa_per_queue(documents: Documents) -> None:
    workers = {name for kind, name in documents if kind == "Deployment" and "worker" in name}
    assert workers == {f"dispatcher-worker-{queue}" for queue in PRIORITY_CLASSES}
    for queue in PRIORITY_CLASSES:
        name = f"dispatcher-worker-{queue}"
        args = _container(documents, name)["args"]
        assert args[args.index("-Q") + 1] == queue
        target = documents["HorizontalPodAutoscaler", name]["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", name)


def test_exactly_one_beat_never_two_during_a_rollout(documents: Documents) -> None:
    beat = documents["Deployment", "dispatcher-beat"]
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    assert not any(
        doc["spec"]["scaleTargetRef"]["name"] == "dispatcher-beat"
        for (kind, _), doc in documents.items()
        if kind == "HorizontalPodAutoscaler"
    )


def test_flower_and_configuration_references(documents: Documents) -> None:
    assert ("Service", "dispatcher-flower") in documents
    assert _container(documents, "dispatcher-flower")["args"][3] == "flower"
    secret = yaml.safe_load(SECRET_TEMPLATE.read_text())
    assert "FLOWER_BASIC_AUTH" in secret["stringData"]
    # A template: every value is a <placeholder>, and it is not part of what `apply -k` creates.
    assert all(value.startswith("<") and value.endswith(">") for value in secret["stringData"].values())
    assert not any(kind == "Secret" for kind, _ in documents)
    config = documents["ConfigMap", "dispatcher-config"]["data"]
    assert not set(config) & set(secret["stringData"])
    for (kind, name), doc in documents.items():
        if kind != "Deployment":
            continue
        for source in _container(documents, name)["envFrom"]:
            if "configMapRef" in source:
                assert source["configMapRef"]["name"] == "dispatcher-config"
            else:
                assert source["secretRef"]["name"] == secret["metadata"]["name"]
        assert doc["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True


def test_the_providers_file_is_a_configmap_mounted_where_the_setting_points(documents: Documents) -> None:
    [(_, generated)] = [
        key for key in documents if key[0] == "ConfigMap" and key[1].startswith("dispatcher-providers")
    ]
    accounts = parse_accounts(
        tomllib.loads(documents["ConfigMap", generated]["data"]["providers.toml"]),
        simulator_url="http://unused",
    )
    path = Path(documents["ConfigMap", "dispatcher-config"]["data"]["DISPATCHER_PROVIDERS_FILE"])

    assert all(account.base_url.startswith("https://") for account in accounts.values())
    for deployment in (
        "dispatcher-api",
        "dispatcher-worker-transactional",
        "dispatcher-worker-bulk",
        "dispatcher-beat",
    ):
        pod = documents["Deployment", deployment]["spec"]["template"]["spec"]
        [volume] = [v for v in pod["volumes"] if v.get("configMap", {}).get("name") == generated]
        [mount] = [
            m for m in _container(documents, deployment)["volumeMounts"] if m["name"] == volume["name"]
        ]
        assert (Path(mount["mountPath"]) / path.name, mount.get("readOnly")) == (path, True), deployment


def test_drains_take_one_api_or_worker_pod_at_a_time(documents: Documents) -> None:
    budgets = {name: doc["spec"] for (kind, name), doc in documents.items() if kind == "PodDisruptionBudget"}

    for deployment in ("dispatcher-api", "dispatcher-worker-transactional", "dispatcher-worker-bulk"):
        labels = documents["Deployment", deployment]["spec"]["template"]["metadata"]["labels"]
        assert budgets[deployment]["maxUnavailable"] == 1
        assert budgets[deployment]["selector"]["matchLabels"].items() <= labels.items(), deployment
    assert "dispatcher-beat" not in budgets, "one beat pod: a budget would only block drains"


def test_every_pod_that_serves_metrics_says_where_to_scrape(documents: Documents) -> None:
    for deployment in (
        "dispatcher-api",
        "dispatcher-worker-transactional",
        "dispatcher-worker-bulk",
        "dispatcher-beat",
    ):
        annotations = documents["Deployment", deployment]["spec"]["template"]["metadata"].get(
            "annotations", {}
        )
        ports = {port["containerPort"] for port in _container(documents, deployment).get("ports", [])}
        assert annotations.get("prometheus.io/scrape") == "true", deployment
        assert int(annotations["prometheus.io/port"]) in ports, deployment
        assert annotations["prometheus.io/path"] == "/metrics", deployment
