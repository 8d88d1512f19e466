"""Static checks of the deployment: stack.yml, the Dockerfile, the k3s/MinIO/cloudflared manifests,
the install and build scripts, the Helm values and the CI/CD workflow.

Docker and k3s cannot run here, so every artifact is checked with the real tools that can
(yamllint, kubernetes-validate against the Kubernetes OpenAPI schemas, shellcheck, bash -n) and
against the runtime itself: environment names and values are parsed by ``text2pixi.settings.Settings``,
so a renamed setting, a drifted build flag or a timeout that no longer fits fails here, not on
the server.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from text2pixi.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
STACK = ROOT / "stack.yml"
DOCKERFILE = ROOT / "templates" / "python3-llama" / "Dockerfile"
TEMPLATE_YML = ROOT / "templates" / "python3-llama" / "template.yml"
LOCAL_BUILD_SCRIPT = ROOT / "scripts" / "llama-build-env.sh"
INFRA = ROOT / "infra"
HELM_VALUES = INFRA / "k3s" / "values.yaml"
INSTALL_SH = INFRA / "k3s" / "install.sh"
BUILD_IMAGES_SH = INFRA / "build-images.sh"
WORKFLOW = ROOT / ".github" / "workflows" / "ci-cd.yml"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
YAMLLINT_CONFIG = ROOT / ".yamllint"

FUNCTIONS = ("translate", "status", "warmup")
LONG_FUNCTIONS = ("translate", "warmup")  # translate?wait= and warmup wait up to TEXT2PIXI_MAX_WAIT
CE_MAX_SCALE = 5  # OpenFaaS CE caps com.openfaas.scale.min/max at 5
WORKER_MAX_REPLICAS = 2
WORKER_LIMITS = {"cpu": "6", "memory": "6Gi"}
GATEWAY_SERVICE = "http://gateway.openfaas:8080"
CLOUDFLARE_PROXY_TIMEOUT_S = 100.0  # Cloudflare answers 524 when the origin takes longer
TIMEOUT_MARGIN_S = 10.0  # enqueue + result read on top of TEXT2PIXI_MAX_WAIT
# Variables of-watchdog reads (of-watchdog config/config.go); everything else must be a setting.
WATCHDOG_ENV = frozenset({"read_timeout", "write_timeout", "exec_timeout", "max_inflight",
                          "healthcheck_interval", "prefix_logs"})
SECRET_SETTINGS = ("TEXT2PIXI_API_KEY", "TEXT2PIXI_S3_ACCESS_KEY", "TEXT2PIXI_S3_SECRET_KEY", "TEXT2PIXI_REDIS_URL")
SECRET_ENV_NAME = re.compile(r"(PASSWORD|TOKEN|SECRET_KEY|ACCESS_KEY|API_KEY|REDIS_URL)$")

# Key paths of the official OpenFaaS chart's values.yaml (github.com/openfaas/faas-netes,
# chart/openfaas/values.yaml at 662ce9ce, chart 15.0.6), trimmed to the top level and the sections
# a CE install tunes. infra/k3s/values.yaml may set only these.
CHART_KEY_PATHS = frozenset("""
functionNamespace openfaasPro oem httpProbe clusterRole createCRDs basic_auth rbac generateBasicAuth
securityContext exposeServices serviceType async psp openfaasImagePullPolicy caBundleSecretName
nodeSelector tolerations affinity kubernetesDNSDomain k8sVersionOverride
functions.imagePullPolicy functions.httpProbe functions.setNonRootUser
functions.readinessProbe.initialDelaySeconds functions.readinessProbe.timeoutSeconds
functions.readinessProbe.periodSeconds functions.readinessProbe.successThreshold
functions.readinessProbe.failureThreshold functions.livenessProbe.initialDelaySeconds
functions.livenessProbe.timeoutSeconds functions.livenessProbe.periodSeconds
functions.livenessProbe.failureThreshold
gateway.image gateway.readTimeout gateway.writeTimeout gateway.upstreamTimeout gateway.replicas
gateway.scaleFromZero gateway.nodePort gateway.maxIdleConns gateway.maxIdleConnsPerHost
gateway.directFunctions gateway.logsProviderURL gateway.probeFunctions
gateway.resources.requests.memory gateway.resources.requests.cpu
gateway.readinessProbe.initialDelaySeconds gateway.readinessProbe.periodSeconds
gateway.readinessProbe.timeoutSeconds gateway.readinessProbe.failureThreshold
gateway.readinessProbe.successThreshold gateway.livenessProbe.initialDelaySeconds
gateway.livenessProbe.periodSeconds gateway.livenessProbe.timeoutSeconds
gateway.livenessProbe.failureThreshold gateway.livenessProbe.successThreshold
gateway.topologySpreadConstraints
faasnetes.image faasnetes.resources.requests.memory faasnetes.resources.requests.cpu
queueWorker.image queueWorker.replicas queueWorker.queueGroup queueWorker.ackWait
queueWorker.resources.requests.memory queueWorker.resources.requests.cpu
prometheus.image prometheus.create prometheus.retention.time prometheus.resources.requests.memory
prometheus.resources.requests.cpu prometheus.annotations prometheus.recordingRules
prometheus.pvc.enabled prometheus.pvc.size prometheus.pvc.storageClassName
alertmanager.image alertmanager.create alertmanager.resources.requests.memory
alertmanager.resources.requests.cpu alertmanager.resources.limits.memory
""".split())


# --- loading -----------------------------------------------------------------------------------


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def yaml_files() -> list[Path]:
    files = [STACK, YAMLLINT_CONFIG, *sorted(INFRA.rglob("*.yaml")), *sorted(WORKFLOW.parent.glob("*.yml"))]
    return [f for f in files if f.exists()]


def manifest_files() -> list[Path]:
    """Every YAML under infra/ is a Kubernetes manifest except the Helm values."""
    return [f for f in sorted(INFRA.rglob("*.yaml")) if f != HELM_VALUES]


@dataclass(frozen=True)
class Manifest:
    path: Path
    doc: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.doc["kind"])

    @property
    def name(self) -> str:
        return str(self.doc["metadata"]["name"])

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.kind}/{self.name}"


@cache
def manifests() -> tuple[Manifest, ...]:
    found: list[Manifest] = []
    for path in manifest_files():
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                found.append(Manifest(path, doc))
    return tuple(found)


def find(kind: str, name: str) -> dict[str, Any]:
    matches = [m.doc for m in manifests() if m.kind == kind and m.name == name]
    assert len(matches) == 1, f"expected one {kind}/{name} in infra/, found {len(matches)}"
    return matches[0]


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = doc["spec"]["template"]["spec"]
    return spec


def containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod_spec(doc)
    return [*spec.get("initContainers", []), *spec["containers"]]


def workloads() -> Iterator[Manifest]:
    return (m for m in manifests() if m.kind in {"Deployment", "StatefulSet", "Job", "DaemonSet"})


@cache
def stack() -> dict[str, Any]:
    data: dict[str, Any] = load_yaml(STACK)
    return data


def stack_env(function: str) -> dict[str, str]:
    env: dict[str, Any] = stack()["functions"][function].get("environment") or {}
    return {str(k): envsubst_default(str(v)) for k, v in env.items()}


def envsubst_default(value: str) -> str:
    """What faas-cli's envsubst makes of ``${VAR:-default}`` when VAR is unset."""
    return re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::-([^}]*))?\}", lambda m: m.group(1) or "", value)


@cache
def settings_env_names() -> frozenset[str]:
    """The environment names the runtime reads: ``TEXT2PIXI_`` + each Settings field."""
    return frozenset("TEXT2PIXI_" + name.upper() for name in Settings.model_fields)


def settings_from(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Parse environment values exactly as the runtime would (types, bounds, patterns)."""
    for name in settings_env_names():
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings()


def container_env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(e["name"]): e for e in container.get("env", [])}


def plain_env(container: dict[str, Any], overrides: dict[str, str] | None = None) -> dict[str, str]:
    """Literal env values of a container, plus values Kubernetes fills in at run time."""
    values = {name: str(e["value"]) for name, e in container_env(container).items() if "value" in e}
    return {**values, **(overrides or {})}


def duration_s(text: str) -> float:
    """A Go duration (``2m5s``, ``115s``, ``1m``) in seconds."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", text)
    assert parts and "".join(n + u for n, u in parts) == text, f"not a Go duration: {text!r}"
    scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    return sum(float(n) * scale[u] for n, u in parts)


def quantity(text: str | int | float) -> float:
    """A Kubernetes quantity (``500m``, ``6``, ``6Gi``, ``128Mi``) as a plain number."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|Ti|k|M|G)?", str(text))
    assert match, f"not a quantity: {text!r}"
    scale = {None: 1.0, "m": 0.001, "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40,
             "k": 1e3, "M": 1e6, "G": 1e9}
    return float(match.group(1)) * scale[match.group(2)]


def bash_array(script: Path, name: str) -> list[str]:
    match = re.search(rf"^{name}=\(([^)]*)\)", script.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, f"{script.relative_to(ROOT)} defines no {name}=(...)"
    return match.group(1).split()


# --- every YAML: parses, lints; every manifest: validates --------------------------------------


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_yaml_parses_and_passes_yamllint(path: Path) -> None:
    """yamllint with the repo's .yamllint (the CLI, as a developer runs it)."""
    docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    assert any(doc is not None for doc in docs), f"{path} is empty"
    result = subprocess.run(
        [sys.executable, "-m", "yamllint", "-c", str(YAMLLINT_CONFIG), "-f", "parsable", str(path)],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_there_are_manifests_for_every_component() -> None:
    kinds = {(m.kind, m.name) for m in manifests()}
    for expected in [("StatefulSet", "redis"), ("StatefulSet", "minio"), ("Deployment", "text2pixi-worker"),
                     ("HorizontalPodAutoscaler", "text2pixi-worker"), ("Deployment", "cloudflared"),
                     ("Job", "minio-setup"), ("Job", "text2pixi-model-push")]:
        assert expected in kinds, f"no {expected[0]}/{expected[1]} under infra/"


@pytest.mark.parametrize("manifest", manifests(), ids=lambda m: m.id)
def test_manifest_validates_against_kubernetes_schema(manifest: Manifest) -> None:
    """Strict OpenAPI validation (unknown fields fail) for the newest Kubernetes the tool ships."""
    if manifest.doc["apiVersion"].startswith("keda.sh/"):
        pytest.skip("a KEDA custom resource has no schema here: test_keda_scaler_* checks its structure")
    version = kubernetes_validate.latest_version()
    try:
        kubernetes_validate.validate(manifest.doc, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        pytest.fail(f"{manifest.id} is invalid for Kubernetes {version}: {exc.message} at {list(exc.path)}")


def test_no_secret_values_in_manifests() -> None:
    """Secrets are created by install.sh from env/files; git holds no Secret objects and no literal secret env."""
    assert not [m.id for m in manifests() if m.kind == "Secret"]
    for manifest in workloads():
        for container in containers(manifest.doc):
            for name, entry in container_env(container).items():
                if SECRET_ENV_NAME.search(name):
                    assert "secretKeyRef" in entry.get("valueFrom", {}), (
                        f"{manifest.id}: env {name} must come from a Secret (valueFrom.secretKeyRef)")
    for name in SECRET_SETTINGS:
        for function in FUNCTIONS:
            assert name not in stack_env(function), f"stack.yml puts {name} in {function}'s environment"


def test_our_containers_use_only_settings_env_names() -> None:
    """Any container running a text2pixi image reads its configuration through Settings alone."""
    checked = 0
    for manifest in workloads():
        for container in containers(manifest.doc):
            if "text2pixi-" not in container["image"]:
                continue
            checked += 1
            unknown = set(container_env(container)) - settings_env_names()
            assert not unknown, f"{manifest.id}: env {sorted(unknown)} are not Settings fields"
    assert checked >= 2


# --- stack.yml ---------------------------------------------------------------------------------


def test_stack_provider_and_functions() -> None:
    data = stack()
    assert str(data["version"]) == "1.0"
    assert data["provider"]["name"] == "openfaas"
    assert "OPENFAAS_URL" in data["provider"]["gateway"]
    assert set(data["functions"]) == set(FUNCTIONS)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_stack_function_build_and_image(name: str) -> None:
    """Template, handler directory, image name and fprocess agree with the template and the scripts."""
    fn = stack()["functions"][name]
    template = load_yaml(TEMPLATE_YML)
    assert fn["lang"] == "python3-llama" == template["language"]
    assert fn["handler"] == f"./functions/{name}"
    handler_dir = ROOT / fn["handler"]
    assert (handler_dir / "handler.py").is_file(), f"{handler_dir}/handler.py is missing"
    assert fn["image"] == f"${{REGISTRY:-ghcr.io/text2pixi}}/text2pixi-{name}:${{TAG:-latest}}"
    # faas-cli deploy reads fprocess from ./template/<lang>/template.yml unless the stack sets it.
    assert fn["fprocess"] == template["fprocess"] == dockerfile().env("function")["fprocess"]
    assert fn["build_args"] == {"FUNCTION": name}
    assert fn.get("readonly_root_filesystem") is True


@pytest.mark.parametrize("name", FUNCTIONS)
def test_stack_scaling_labels_within_ce(name: str) -> None:
    labels: dict[str, str] = stack()["functions"][name]["labels"]
    assert not [k for k in labels if "scale.zero" in k], "OpenFaaS CE rejects com.openfaas.scale.zero"
    low, high = int(labels["com.openfaas.scale.min"]), int(labels["com.openfaas.scale.max"])
    assert 1 <= low <= high <= CE_MAX_SCALE


@pytest.mark.parametrize("name", FUNCTIONS)
def test_stack_requests_and_limits(name: str) -> None:
    fn = stack()["functions"][name]
    for resource in ("cpu", "memory"):
        assert quantity(fn["requests"][resource]) <= quantity(fn["limits"][resource]), resource


@pytest.mark.parametrize("name", FUNCTIONS)
def test_stack_secrets(name: str) -> None:
    """Secrets are files under /var/openfaas/secrets; each one is created by install.sh."""
    secrets = set(stack()["functions"][name]["secrets"])
    needed = {"text2pixi-api-key", "text2pixi-redis-url"}
    if name != "warmup":  # translate (?wait=) and status read results from S3
        needed |= {"text2pixi-s3-access-key", "text2pixi-s3-secret-key"}
    assert needed <= secrets
    install = INSTALL_SH.read_text(encoding="utf-8")
    for secret in secrets:
        assert secret in install, f"install.sh does not create secret {secret}"
    assert "text2pixi-redis-url" in (ROOT / "infra" / "docker" / "function-entrypoint.sh").read_text()


@pytest.mark.parametrize("name", FUNCTIONS)
def test_stack_environment_names_are_settings(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A renamed Settings field fails here; the values must also parse as the runtime parses them."""
    env = stack_env(name)
    ours = {k: v for k, v in env.items() if k.startswith("TEXT2PIXI_")}
    assert set(ours) <= settings_env_names(), sorted(set(ours) - settings_env_names())
    assert set(env) - set(ours) <= WATCHDOG_ENV, sorted(set(env) - set(ours) - WATCHDOG_ENV)
    settings = settings_from(ours, monkeypatch)
    assert str(settings.secrets_dir) == "/var/openfaas/secrets"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_stack_timeouts_fit_the_waits(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every layer is raised together: watchdog >= wait + margin, gateway above the watchdog, below Cloudflare."""
    env = stack_env(name)
    max_wait = settings_from({k: v for k, v in env.items() if k.startswith("TEXT2PIXI_")}, monkeypatch).max_wait
    exec_timeout = duration_s(env["exec_timeout"])
    assert duration_s(env["read_timeout"]) >= exec_timeout
    assert duration_s(env["write_timeout"]) >= exec_timeout
    if name in LONG_FUNCTIONS:
        assert exec_timeout >= max_wait + TIMEOUT_MARGIN_S, f"{name}: exec_timeout below TEXT2PIXI_MAX_WAIT"
        assert max_wait < CLOUDFLARE_PROXY_TIMEOUT_S, "a ?wait= longer than Cloudflare's proxy timeout gets a 524"
    assert duration_s(env["write_timeout"]) <= duration_s(helm_values()["gateway"]["upstreamTimeout"])


# --- Helm values -------------------------------------------------------------------------------


@cache
def helm_values() -> dict[str, Any]:
    data: dict[str, Any] = load_yaml(HELM_VALUES)
    return data


def leaf_paths(node: Any, prefix: tuple[str, ...] = ()) -> Iterator[str]:
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from leaf_paths(value, (*prefix, str(key)))
    else:
        yield ".".join(prefix)


def test_helm_values_keys_exist_in_the_official_chart() -> None:
    unknown = sorted(set(leaf_paths(helm_values())) - CHART_KEY_PATHS)
    assert not unknown, f"not keys of the openfaas chart: {unknown}"


def test_helm_values_for_ce_and_long_calls() -> None:
    values = helm_values()
    assert values["functionNamespace"] == "openfaas-fn"
    assert values["generateBasicAuth"] is True
    assert values["async"] is True
    gateway = values["gateway"]
    upstream = duration_s(gateway["upstreamTimeout"])
    assert upstream < duration_s(gateway["readTimeout"]), "upstreamTimeout must be below readTimeout"
    assert upstream < duration_s(gateway["writeTimeout"]), "upstreamTimeout must be below writeTimeout"
    # NATS must not redeliver an async call the queue-worker is still waiting on.
    assert duration_s(values["queueWorker"]["ackWait"]) >= upstream
    longest = max(duration_s(stack_env(name)["exec_timeout"]) for name in FUNCTIONS)
    assert longest < upstream


# --- Dockerfile --------------------------------------------------------------------------------


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


@dataclass
class Dockerfile:
    args: dict[str, str]
    stages: dict[str, Stage]
    text: str

    def env(self, stage: str) -> dict[str, str]:
        values: dict[str, str] = {}
        for args in self.stages[stage].all("ENV"):
            for key, value in re.findall(r'(\w+)=("[^"]*"|\S+)', args):
                values[key] = value.strip('"')
        return values

    def arg(self, name: str) -> str:
        match = re.search(rf'^ARG {name}=("[^"]*"|\S+)', self.text, re.MULTILINE)
        assert match, f"the Dockerfile has no ARG {name}=..."
        return match.group(1).strip('"')


@cache
def dockerfile() -> Dockerfile:
    text = DOCKERFILE.read_text(encoding="utf-8")
    logical = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    args: dict[str, str] = {}
    stages: dict[str, Stage] = {}
    current: Stage | None = None
    for line in logical.splitlines():
        if not line.strip():
            continue
        keyword, _, rest = line.strip().partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            match = re.fullmatch(r"(?:--platform=\S+ )?(\S+) AS (\S+)", rest.strip(), re.IGNORECASE)
            assert match, f"every stage is named: FROM {rest}"
            current = Stage(match.group(2), match.group(1))
            stages[current.name] = current
        elif current is None:
            assert keyword == "ARG", f"{keyword} before the first FROM"
            name, _, default = rest.partition("=")
            args[name.strip()] = default.strip().strip('"')
        else:
            current.instructions.append((keyword, rest.strip()))
    return Dockerfile(args, stages, text)


def cmake_flags(text: str) -> dict[str, str]:
    return dict(re.findall(r"-D(\w+)=(\S+)", text))


def local_build_defaults() -> tuple[str, str]:
    """The local build's llama-cpp-python version and CMake flags (defaults in scripts/llama-build-env.sh)."""
    script = LOCAL_BUILD_SCRIPT.read_text(encoding="utf-8")
    version = re.search(r'LLAMA_CPP_PYTHON_VERSION="\$\{LLAMA_CPP_PYTHON_VERSION:-([^}]+)\}"', script)
    flags = re.search(r'LLAMA_CMAKE_ARGS="\$\{LLAMA_CMAKE_ARGS:-([^}]+)\}"', script)
    assert version and flags, "scripts/llama-build-env.sh no longer has the expected defaults"
    return version.group(1), flags.group(1)


def test_dockerfile_builds_llama_with_the_local_build_script_and_flags() -> None:
    """The image compiles llama-cpp-python with scripts/build-llama-wheel.sh itself, and nothing in the Dockerfile
    overrides its version or CMake flags: the same CPU flags (and no BLAS) locally, in CI and in the image."""
    df = dockerfile()
    copies = [args.split() for args in df.stages["builder"].all("COPY")]
    scripts = next(c for c in copies if any(s.endswith("scripts/build-llama-wheel.sh") for s in c))
    assert any(s.endswith("scripts/llama-build-env.sh") for s in scripts[:-1]), "the wheel script sources it"
    target = scripts[-1]
    assert any(f"bash {target}build-llama-wheel.sh" in run and 'pip install --no-deps "$wheel"' in run
               for run in df.stages["builder"].all("RUN"))
    code = "\n".join(line for line in df.text.lower().splitlines() if not line.lstrip().startswith("#"))
    for name in ("CMAKE_ARGS", "LLAMA_CPP_PYTHON_VERSION", "FORCE_CMAKE", "-DGGML", "BLAS"):
        assert name.lower() not in code, f"the Dockerfile overrides the local build's {name}"
    _, flags = local_build_defaults()
    assert {"GGML_NATIVE": "OFF", "GGML_AVX2": "ON", "GGML_FMA": "ON"}.items() <= cmake_flags(flags).items()
    for script in ("build-llama-wheel.sh", "build-llama-server.sh"):
        text = (ROOT / "scripts" / script).read_text(encoding="utf-8")
        assert 'source "$(dirname "${BASH_SOURCE[0]}")/llama-build-env.sh"' in text, script


def test_llama_version_in_pyproject_matches_the_local_build() -> None:
    version, _ = local_build_defaults()
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    assert f"llama-cpp-python=={version}" in deps


def test_dockerfile_installs_the_locked_service_dependencies() -> None:
    """The image's Python packages are requirements/service.txt's, hash-checked; the project adds none of its own."""
    df = dockerfile()
    copies = [args.split() for args in df.stages["builder"].all("COPY")]
    lock = next(c for c in copies if c[0].endswith("requirements/service.txt"))
    runs = df.stages["builder"].all("RUN")
    assert any(f"pip install --require-hashes -r {lock[-1]}" in run for run in runs)
    project = [run for run in runs if " pip install --no-deps . " in f"{run} "]
    assert project and "pip check" in project[0], "the package goes in without dependencies, then `pip check`"


def test_dockerfile_stages_and_slim_runtime() -> None:
    """Compilers only in the builder; the runtime adds just OpenMP and the exports' font; both finals build on it."""
    df = dockerfile()
    assert {"watchdog", "builder", "runtime", "worker", "function"} <= set(df.stages)
    builder_runs = " ".join(df.stages["builder"].all("RUN"))
    for package in ("build-essential", "cmake"):
        assert package in builder_runs
    runtime_runs = " ".join(df.stages["runtime"].all("RUN"))
    installed = re.search(r"--no-install-recommends ([^&]+)&&", runtime_runs)
    assert installed and set(installed.group(1).split()) == {"libgomp1", "fonts-liberation"}
    assert "slim" in df.stages["runtime"].base
    assert df.stages["worker"].base == df.stages["function"].base == "runtime"


def test_dockerfile_watchdog_is_pinned_and_configured() -> None:
    df = dockerfile()
    assert df.stages["watchdog"].base == "ghcr.io/openfaas/of-watchdog:${OF_WATCHDOG_VERSION}"
    assert re.fullmatch(r"\d+\.\d+\.\d+", df.args["OF_WATCHDOG_VERSION"])
    env = df.env("function")
    assert env["mode"] == "http"
    assert env["upstream_url"] == "http://127.0.0.1:5000"
    assert any("--from=watchdog /fwatchdog" in c for c in df.stages["function"].all("COPY"))
    assert df.stages["function"].all("CMD") == ['["fwatchdog"]']


@pytest.mark.parametrize("stage", ["worker", "function"])
def test_dockerfile_final_stages_run_as_non_root_with_healthcheck(stage: str) -> None:
    df = dockerfile()
    users = df.stages[stage].all("USER")
    assert users and users[-1].split(":")[0] not in {"0", "root"}
    assert df.stages[stage].all("HEALTHCHECK")
    assert 'useradd --system --uid 1000 --gid app' in " ".join(df.stages["runtime"].all("RUN"))


def test_dockerfile_worker_entry_and_no_model_in_image() -> None:
    df = dockerfile()
    assert df.stages["worker"].all("CMD") == ['["text2pixi", "worker"]']
    assert df.stages["worker"].all("HEALTHCHECK")[0].endswith('CMD ["text2pixi", "worker", "--check"]')
    assert ".gguf" not in df.text and "model fetch" not in df.text and "model push" not in df.text


# --- faas-cli build: the template bridge and the build context ------------------------------------


def faas_cli_template(lang: str) -> Path:
    """What faas-cli's getTemplate (builder/build.go) finds for ``lang``: an entry of ./template that is a
    directory by its own type (os.ReadDir + DirEntry.IsDir: a symlinked entry would not count)."""
    found = [Path(e.path) for e in os.scandir(ROOT / "template") if e.name == lang and e.is_dir(follow_symlinks=False)]
    assert found, f"faas-cli finds no ./template/{lang} directory"
    return found[0]


def copy_entry(source: Path, dest: Path) -> None:
    """go-sdk builder.copyFiles: a directory recursively, a file with its mode, symlinks followed (os.Stat)."""
    if source.is_dir():
        shutil.copytree(source, dest, dirs_exist_ok=True)
    else:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, dest)


def faas_cli_context(name: str, dest: Path) -> Path:
    """The context faas-cli builds ``name`` from (go-sdk builder.CreateBuildContext, faas-cli c8191b7): the
    template's files at the root, the handler folder's entries (but build/ and template/) in function/, and
    each stack.yml ``configuration.copy`` path (inside the project, not the project itself) at function/<path>."""
    fn = stack()["functions"][name]
    copy_entry(faas_cli_template(fn["lang"]), dest)
    handler = dest / "function"
    for entry in (ROOT / fn["handler"]).iterdir():
        if entry.name not in ("build", "template"):
            copy_entry(entry, handler / entry.name)
    for extra in stack()["configuration"]["copy"]:
        source = (ROOT / extra).resolve()
        assert source != ROOT and source.is_relative_to(ROOT), f"configuration.copy {extra} is outside the project"
        copy_entry(source, handler / extra)
    return dest


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_faas_cli_finds_the_template_through_a_link_not_a_copy() -> None:
    """./template (where faas-cli looks) is a link to ./templates: one copy of the template's files."""
    link = ROOT / "template"
    assert link.is_symlink() and os.readlink(link) == "templates"
    assert faas_cli_template("python3-llama").resolve() == TEMPLATE_YML.parent
    assert {f["lang"] for f in stack()["functions"].values()} == {"python3-llama"}


def test_template_yml_has_no_alpine_build_options() -> None:
    template = load_yaml(TEMPLATE_YML)
    assert template == {"language": "python3-llama", "fprocess": "python index.py"}, template


def test_stack_copies_exist_inside_the_project() -> None:
    copies = stack()["configuration"]["copy"]
    assert copies and len(copies) == len(set(copies))
    for extra in copies:
        assert not Path(extra).is_absolute() and ".." not in Path(extra).parts, extra
        assert (ROOT / extra).exists(), f"configuration.copy {extra} does not exist"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_dockerfile_copy_sources_exist_in_the_faas_cli_context(name: str, tmp_path: Path) -> None:
    """Every COPY source (but --from) exists in the context faas-cli makes for the function: ``faas-cli build``
    and ``faas-cli up`` work with our template, and the image gets the package, lock file and scripts."""
    context = faas_cli_context(name, tmp_path / name)
    sources = 0
    for stage in dockerfile().stages.values():
        for args in stage.all("COPY"):
            if args.startswith("--from="):
                continue
            for source in [p for p in args.split() if not p.startswith("--")][:-1]:
                assert "$" not in source, f"COPY {source}: faas-cli's context needs no build argument"
                assert list(context.glob(source)), f"COPY {source}: not in faas-cli's build context for {name}"
                sources += 1
    assert sources >= 8
    assert list(dockerfile().stages)[-1] == "function", "faas-cli builds the last stage (it passes no --target)"


def test_build_images_script_builds_the_faas_cli_contexts(tmp_path: Path) -> None:
    """infra/build-images.sh (CI) builds from exactly the contexts faas-cli makes, file for file."""
    result = subprocess.run(["bash", str(BUILD_IMAGES_SH), "--context", str(tmp_path / "script")],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    for name in FUNCTIONS:
        expected = tree(faas_cli_context(name, tmp_path / "faas-cli" / name))
        assert tree(tmp_path / "script" / name) == expected, name


# --- the worker --------------------------------------------------------------------------------


def worker() -> dict[str, Any]:
    return find("Deployment", "text2pixi-worker")


def worker_container() -> dict[str, Any]:
    matches: list[dict[str, Any]] = [c for c in pod_spec(worker())["containers"] if c["name"] == "worker"]
    assert len(matches) == 1
    return matches[0]


def worker_settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    container = worker_container()
    limit = str(int(quantity(container["resources"]["limits"]["cpu"])))
    return settings_from(plain_env(container, {"TEXT2PIXI_N_THREADS": limit}), monkeypatch)


def test_worker_replicas_and_autoscaler_at_most_two() -> None:
    assert 1 <= worker()["spec"]["replicas"] <= WORKER_MAX_REPLICAS
    hpa = find("HorizontalPodAutoscaler", "text2pixi-worker")["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "text2pixi-worker"}
    assert 1 <= hpa["minReplicas"] <= hpa["maxReplicas"] <= WORKER_MAX_REPLICAS


def test_worker_limits_are_exactly_the_design() -> None:
    assert worker_container()["resources"]["limits"] == WORKER_LIMITS
    requests = worker_container()["resources"]["requests"]
    assert quantity(requests["cpu"]) <= quantity(WORKER_LIMITS["cpu"])
    assert quantity(requests["memory"]) <= quantity(WORKER_LIMITS["memory"])


def test_worker_threads_follow_the_cpu_limit() -> None:
    entry = container_env(worker_container())["TEXT2PIXI_N_THREADS"]
    ref = entry["valueFrom"]["resourceFieldRef"]
    assert ref["resource"] == "limits.cpu" and ref.get("containerName", "worker") == "worker"
    assert str(ref.get("divisor", "1")) == "1"


def test_worker_env_names_and_values_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    names = set(container_env(worker_container()))
    assert names <= settings_env_names(), sorted(names - settings_env_names())
    settings = worker_settings(monkeypatch)
    assert settings.model_source == "s3", "workers download the model from MinIO"
    assert settings.n_threads == 6
    redis = container_env(worker_container())["TEXT2PIXI_REDIS_URL"]
    assert redis["valueFrom"]["secretKeyRef"] == {"name": "text2pixi-redis", "key": "url"}


def test_worker_and_functions_agree_on_shared_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Functions enqueue and read what workers consume and write: the shared settings must be equal."""
    ours = worker_settings(monkeypatch)
    for name in FUNCTIONS:
        env = {k: v for k, v in stack_env(name).items() if k.startswith("TEXT2PIXI_")}
        theirs = settings_from(env, monkeypatch)
        for setting in ("queue_name", "job_timeout", "result_ttl", "s3_endpoint_url", "s3_region",
                        "results_bucket", "models_bucket", "secrets_dir"):
            assert getattr(theirs, setting) == getattr(ours, setting), f"{name} and the worker differ on {setting}"


def test_worker_probes_and_command(monkeypatch: pytest.MonkeyPatch) -> None:
    container = worker_container()
    ready_file = str(worker_settings(monkeypatch).ready_file)
    assert ready_file == str(Settings.model_fields["ready_file"].default) == "/tmp/text2pixi-worker.ready"
    assert container["command"][:2] == ["text2pixi", "worker"]
    assert container["readinessProbe"]["exec"]["command"] == ["test", "-f", ready_file]
    assert container["livenessProbe"]["exec"]["command"] == ["text2pixi", "worker", "--check"]
    # Liveness needs the ready file: a startup probe covers the model download and load.
    assert container["startupProbe"]["exec"]["command"] == ["text2pixi", "worker", "--check"]
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 600
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert str(Path(ready_file).parent) in mounts, "the ready file needs a writable /tmp (read-only root)"


def test_worker_shutdown_outlasts_a_job(monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGTERM lets RQ finish the current job: the grace period must exceed every job timeout in play."""
    grace = pod_spec(worker())["terminationGracePeriodSeconds"]
    timeouts = [worker_settings(monkeypatch).job_timeout, int(Settings.model_fields["job_timeout"].default)]
    for name in FUNCTIONS:  # the functions set the timeout when they enqueue
        timeouts.append(int(stack_env(name).get("TEXT2PIXI_JOB_TIMEOUT", timeouts[-1])))
    assert grace > max(timeouts)


def test_worker_image_and_model_push_job() -> None:
    image = worker_container()["image"]
    assert re.fullmatch(r"[\w./-]+/text2pixi-worker:[\w.-]+", image)
    job = find("Job", "text2pixi-model-push")
    (push,) = containers(job)
    assert push["image"] == image
    assert push["command"][:3] == ["text2pixi", "model", "push"]
    assert push["command"][3] == "$(TEXT2PIXI_MODEL)"
    assert plain_env(push)["TEXT2PIXI_MODEL"] == plain_env(worker_container())["TEXT2PIXI_MODEL"]


# --- network policies --------------------------------------------------------------------------


def pod_labels(kind: str, name: str) -> dict[str, str]:
    labels: dict[str, str] = find(kind, name)["spec"]["template"]["metadata"]["labels"]
    return labels


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Kubernetes label selector semantics (matchLabels and the In operator)."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        assert expr["operator"] == "In", "only In is used here"
        if labels.get(expr["key"]) not in expr["values"]:
            return False
    return True


def network_policies(namespace: str) -> list[dict[str, Any]]:
    return [m.doc for m in manifests() if m.kind == "NetworkPolicy" and m.doc["metadata"]["namespace"] == namespace]


def namespace_of(peer: dict[str, Any]) -> str:
    name: str = peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
    return name


def ingress_peers(target: dict[str, str]) -> list[dict[str, Any]]:
    """All `from` peers of the NetworkPolicies in text2pixi that select pods with these labels."""
    policies = [p for p in network_policies("text2pixi") if selects(p["spec"]["podSelector"], target)]
    assert any(p["spec"]["podSelector"] for p in policies), f"no NetworkPolicy selects {target}"
    peers: list[dict[str, Any]] = []
    for policy in policies:
        assert "Ingress" in policy["spec"]["policyTypes"]
        for rule in policy["spec"].get("ingress", []):
            assert rule.get("from"), "an ingress rule without `from` admits everyone"
            peers.extend(rule["from"])
    return peers


@pytest.mark.parametrize(("kind", "name", "clients"), [
    ("StatefulSet", "redis", [("Deployment", "text2pixi-worker")]),
    ("StatefulSet", "minio", [("Deployment", "text2pixi-worker"), ("Job", "text2pixi-model-push"),
                              ("Job", "minio-setup")]),
])
def test_only_functions_and_workers_reach_the_store(kind: str, name: str, clients: list[tuple[str, str]]) -> None:
    peers = ingress_peers(pod_labels(kind, name))
    namespaced = [p for p in peers if "namespaceSelector" in p]
    assert [namespace_of(p) for p in namespaced if "podSelector" not in p] == ["openfaas-fn"]
    # Beyond that, only KEDA's operator reads Redis (the queue's length; infra/k3s/worker-keda.yaml, optional).
    allowed = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "keda"}},
                "podSelector": KEDA_OPERATOR}] if name == "redis" else []
    assert all(p in allowed for p in namespaced if "podSelector" in p), namespaced
    assert not [p for p in peers if "ipBlock" in p], "no IP ranges"
    pod_selectors = [p["podSelector"] for p in peers if "namespaceSelector" not in p]
    for client in clients:
        assert any(selects(s, pod_labels(*client)) for s in pod_selectors), f"{client} cannot reach {name}"
    others = [pod_labels(k, n) for k, n in [("Deployment", "cloudflared"), ("StatefulSet", "redis"),
                                             ("StatefulSet", "minio")] if n != name]
    for labels in others:
        assert not any(selects(s, labels) for s in pod_selectors), f"{labels} may reach {name}"


def test_text2pixi_namespace_denies_ingress_by_default() -> None:
    assert any(p["spec"]["podSelector"] == {} and not p["spec"].get("ingress") for p in network_policies("text2pixi"))


def test_workers_cannot_reach_other_cluster_addresses() -> None:
    """Callbacks go to the internet only: in-cluster egress is DNS, Redis and MinIO; private ranges are excluded."""
    worker_labels = pod_labels("Deployment", "text2pixi-worker")
    policies = [p for p in network_policies("text2pixi")
                if "Egress" in p["spec"]["policyTypes"] and selects(p["spec"]["podSelector"], worker_labels)]
    assert any(selects(p["spec"]["podSelector"], pod_labels("Job", "text2pixi-model-push")) for p in policies)
    # vLLM (infra/k3s/vllm.yaml, optional) adds its own egress rule for the workers.
    targets = {"redis": pod_labels("StatefulSet", "redis"), "minio": pod_labels("StatefulSet", "minio"),
               "vllm": pod_labels("Deployment", "vllm")}
    for rule in (rule for policy in policies for rule in policy["spec"]["egress"]):
        for peer in rule["to"]:
            if "ipBlock" in peer:
                assert {"10.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16"} <= set(
                    peer["ipBlock"]["except"])
            elif "namespaceSelector" in peer:
                assert namespace_of(peer) == "kube-system" and peer["podSelector"] == {"matchLabels": {
                    "k8s-app": "kube-dns"}}
            else:
                assert [n for n, labels in targets.items() if selects(peer["podSelector"], labels)], peer


def test_vllm_runs_on_a_gpu_node_for_the_workers_only() -> None:
    """The optional GPU backend: a pinned vLLM on an NVIDIA node, schema-constrained, reachable by the workers alone."""
    deployment = find("Deployment", "vllm")
    spec = pod_spec(deployment)
    (container,) = containers(deployment)
    assert re.fullmatch(r"vllm/vllm-openai:v\d+\.\d+\.\d+", container["image"]), "pin a vLLM release"
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert spec["nodeSelector"] == {"nvidia.com/gpu.present": "true"} and spec["runtimeClassName"] == "nvidia"
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in spec["tolerations"]
    args = dict(arg.removeprefix("--").split("=", 1) for arg in container["args"] if "=" in arg)
    assert args["structured-outputs-config.backend"] in {"guidance", "xgrammar"}
    assert int(args["max-model-len"]) >= Settings().n_ctx
    service = find("Service", "vllm")
    assert selects({"matchLabels": service["spec"]["selector"]}, pod_labels("Deployment", "vllm"))
    peers = ingress_peers(pod_labels("Deployment", "vllm"))
    assert peers and all(selects(p["podSelector"], pod_labels("Deployment", "text2pixi-worker")) for p in peers)
    assert not any("namespaceSelector" in p or "ipBlock" in p for p in peers)


# --- metrics and queue-driven scaling ----------------------------------------------------------


KEDA_OPERATOR = {"matchLabels": {"app.kubernetes.io/name": "keda-operator"}}  # the kedacore/keda chart's label
KEDA_FILE = INFRA / "k3s" / "worker-keda.yaml"


def test_worker_metrics_listen_on_the_pod_address_and_are_scraped(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker serves metrics on the pod's address, the pod says where, and only `monitoring` may scrape it."""
    settings = worker_settings(monkeypatch)
    assert settings.metrics_port > 0 and settings.metrics_host.is_unspecified, "listen on every pod address"
    assert str(Settings.model_fields["metrics_host"].default) == "127.0.0.1", "loopback stays the local default"
    (port,) = [p for p in worker_container().get("ports", []) if p["name"] == "metrics"]
    assert port["containerPort"] == settings.metrics_port and port.get("protocol", "TCP") == "TCP"
    annotations = worker()["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {"prometheus.io/scrape": "true", "prometheus.io/port": str(settings.metrics_port),
                           "prometheus.io/path": "/metrics"}
    rules = [rule for policy in network_policies("text2pixi") if policy["spec"]["podSelector"]
             and selects(policy["spec"]["podSelector"], pod_labels("Deployment", "text2pixi-worker"))
             and "Ingress" in policy["spec"]["policyTypes"] for rule in policy["spec"].get("ingress", [])]
    assert rules, "no NetworkPolicy admits the scrape (the namespace denies ingress by default)"
    for rule in rules:
        assert [namespace_of(p) for p in rule["from"]] == ["monitoring"]
        assert all("podSelector" not in p for p in rule["from"])
        assert rule["ports"] == [{"protocol": "TCP", "port": "metrics"}]


def test_keda_scaler_reads_the_rq_queue_within_the_worker_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """worker-keda.yaml: a redis list trigger on RQ's key of our queue, 1..2 workers, the HPA's pace."""
    from rq import Queue

    scaled = find("ScaledObject", "text2pixi-worker")
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    spec = scaled["spec"]
    assert set(spec) <= {"scaleTargetRef", "pollingInterval", "cooldownPeriod", "initialCooldownPeriod",
                         "idleReplicaCount", "minReplicaCount", "maxReplicaCount", "fallback", "advanced",
                         "triggers"}, sorted(spec)
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": worker()["metadata"][
        "name"]}
    assert spec["minReplicaCount"] == 1, "always one warm worker: a cold one needs minutes"
    assert spec["maxReplicaCount"] == WORKER_MAX_REPLICAS
    hpa = find("HorizontalPodAutoscaler", "text2pixi-worker")["spec"]
    assert spec["advanced"]["horizontalPodAutoscalerConfig"] == {"behavior": hpa["behavior"]}
    (trigger,) = spec["triggers"]
    assert trigger["type"] == "redis"
    queue_name = worker_settings(monkeypatch).queue_name
    list_key = Queue.redis_queue_namespace_prefix + queue_name  # RQ's list of waiting job ids
    assert trigger["metadata"]["listName"] == list_key == f"rq:queue:{queue_name}"
    assert int(trigger["metadata"]["listLength"]) >= 1
    # The same Redis as the workers': install.sh writes the URL the workers read from the secret.
    match = re.search(r'redis_url="redis://:\$\{redis_password\}@([\w.${}-]+):(\d+)/(\d+)"',
                      INSTALL_SH.read_text(encoding="utf-8"))
    assert match, "install.sh no longer builds the Redis URL as expected"
    host = match.group(1).replace("${NS}", worker()["metadata"]["namespace"])
    assert trigger["metadata"]["address"] == f"{host}:{match.group(2)}"
    assert trigger["metadata"]["databaseIndex"] == match.group(3)
    auth = find("TriggerAuthentication", trigger["authenticationRef"]["name"])
    assert auth["spec"] == {"secretTargetRef": [{"parameter": "password", "name": "text2pixi-redis",
                                                 "key": "password"}]}
    assert 'put_secret "$NS" text2pixi-redis password' in INSTALL_SH.read_text(encoding="utf-8")
    assert {m.path for m in manifests() if m.kind in {"ScaledObject", "TriggerAuthentication"}} == {KEDA_FILE}
    assert re.search(r"^\s*keda\)", INSTALL_SH.read_text(encoding="utf-8"), re.MULTILINE), "WORKER_HPA=keda"


# --- Redis, MinIO ------------------------------------------------------------------------------


def test_redis_persists_with_aof_and_a_password() -> None:
    conf = find("ConfigMap", "redis-config")["data"]["redis.conf"]
    directives = {tuple(line.split(maxsplit=1)) for line in conf.splitlines() if line and not line.startswith("#")}
    assert ("appendonly", "yes") in directives
    assert ("appendfsync", "everysec") in directives
    assert ("maxmemory-policy", "noeviction") in directives
    sts = find("StatefulSet", "redis")
    assert sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    (container,) = containers(sts)
    assert "/run/secrets/redis/password" in " ".join(container["command"])
    secret_volumes = [v["secret"]["secretName"] for v in pod_spec(sts)["volumes"] if "secret" in v]
    assert secret_volumes == ["text2pixi-redis"]


def test_minio_statefulset_credentials_from_secret() -> None:
    sts = find("StatefulSet", "minio")
    assert sts["spec"]["volumeClaimTemplates"]
    env = container_env(containers(sts)[0])
    for name in ("MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"):
        assert env[name]["valueFrom"]["secretKeyRef"]["name"] == "minio-root"


def test_minio_setup_creates_the_buckets_and_expires_results(monkeypatch: pytest.MonkeyPatch) -> None:
    job = find("Job", "minio-setup")
    (container,) = containers(job)
    assert "/mc:" in container["image"]
    script = find("ConfigMap", "minio-setup")["data"]["setup-buckets.sh"]
    settings = worker_settings(monkeypatch)
    assert re.search(r"for bucket in (\S+) (\S+); do", script)
    buckets = set(re.findall(r"for bucket in (\S+) (\S+); do", script)[0])
    assert buckets == {settings.models_bucket, settings.results_bucket}
    assert f"mc ilm rule add --expire-days \"${{RESULTS_EXPIRE_DAYS}}\" local/{settings.results_bucket}" in script
    assert int(plain_env(container)["RESULTS_EXPIRE_DAYS"]) > 0


def test_minio_images_are_pinned_release_tags() -> None:
    """MinIO publishes no community images any more (docs/production.md): the server and mc come from one
    maintained fork, each pinned to an immutable RELEASE tag (never a rolling one) that the doc names."""
    release = r"RELEASE\.\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z"
    doc = (ROOT / "docs" / "production.md").read_text(encoding="utf-8")
    for kind, name, repository in (("StatefulSet", "minio", "pgsty/silo"), ("Job", "minio-setup", "pgsty/mc")):
        (container,) = containers(find(kind, name))
        assert re.fullmatch(rf"docker\.io/{repository}:{release}", container["image"]), container["image"]
        assert container["image"] in doc, f"docs/production.md does not name {container['image']}"
    for path in sorted(INFRA.rglob("*.yaml")):
        assert not re.search(r"image:\s*\S*\bminio/(minio|mc):", path.read_text(encoding="utf-8")), path


def test_minio_app_policy_allows_what_the_runtime_calls() -> None:
    """The app user may list bucket names (worker --wait-deps) and read/write objects in our two buckets only."""
    policy = json.loads(find("ConfigMap", "minio-setup")["data"]["text2pixi-app-policy.json"])
    granted: dict[str, set[str]] = {}
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        for action in statement["Action"]:
            granted.setdefault(action, set()).update(statement["Resource"])
    assert granted["s3:ListAllMyBuckets"] == {"arn:aws:s3:::*"}
    for action in ("s3:GetObject", "s3:PutObject"):
        assert granted[action] == {"arn:aws:s3:::models/*", "arn:aws:s3:::results/*"}
    assert granted["s3:ListBucket"] == {"arn:aws:s3:::models", "arn:aws:s3:::results"}
    assert not [a for a in granted if a.startswith("admin:") or a == "s3:*"]


# --- cloudflared -------------------------------------------------------------------------------


def cloudflared_rules() -> list[dict[str, Any]]:
    config = yaml.safe_load(find("ConfigMap", "cloudflared-config")["data"]["config.yaml"])
    rules: list[dict[str, Any]] = config["ingress"]
    return rules


def test_cloudflared_token_from_secret_and_config_mounted() -> None:
    deployment = find("Deployment", "cloudflared")
    (container,) = containers(deployment)
    token = container_env(container)["TUNNEL_TOKEN"]
    assert token["valueFrom"]["secretKeyRef"] == {"name": "cloudflared-token", "key": "token"}
    args = container["args"]
    config_path = Path(args[args.index("--config") + 1])
    mount = next(m for m in container["volumeMounts"] if m["mountPath"] == str(config_path.parent))
    volume = next(v for v in pod_spec(deployment)["volumes"] if v["name"] == mount["name"])
    assert volume["configMap"]["name"] == "cloudflared-config"
    assert args[-1] == "run" and "--no-autoupdate" in args


def test_cloudflared_routes_only_the_functions_to_the_gateway() -> None:
    rules = cloudflared_rules()
    assert rules[-1] == {"service": "http_status:404"}, "the last rule must be the 404 catch-all"
    for rule in rules[:-1]:
        assert rule["service"] == GATEWAY_SERVICE
        assert "path" in rule, "route only known paths; the gateway's /system/* and /ui/ stay private"

    def routed(path: str) -> bool:
        return any(re.search(rule["path"], path) for rule in rules[:-1])

    for path in ("/function/translate", "/function/status/0123abcd", "/function/status/0123abcd/html",
                 "/function/warmup", "/healthz"):
        assert routed(path), path
    for path in ("/system/functions", "/ui/", "/async-function/translate", "/function/other",
                 "/function/translateX", "/metrics", "/"):
        assert not routed(path), path


def test_cloudflared_egress_reaches_only_the_gateway_in_cluster() -> None:
    (policy,) = network_policies("cloudflared")
    assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert not policy["spec"].get("ingress")
    in_cluster = [peer for rule in policy["spec"]["egress"] for peer in rule["to"] if "ipBlock" not in peer]
    assert sorted(namespace_of(p) for p in in_cluster) == ["kube-system", "openfaas"]
    gateway = next(p for p in in_cluster if namespace_of(p) == "openfaas")
    assert gateway["podSelector"] == {"matchLabels": {"app": "gateway"}}
    for rule in policy["spec"]["egress"]:
        for peer in rule["to"]:
            if "ipBlock" in peer:
                assert {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"} <= set(peer["ipBlock"]["except"])


# --- shell scripts -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def shellcheck() -> str:
    """The real shellcheck binary; missing is a failure (apt-get install shellcheck), never a skip."""
    found = shutil.which("shellcheck")
    if not found:
        pytest.fail("shellcheck is not installed: apt-get install -y shellcheck (Debian package)")
    return found


def shell_scripts() -> list[Path]:
    return sorted(INFRA.rglob("*.sh"))


def inline_scripts() -> list[tuple[str, str]]:
    """Shell embedded in manifests: ConfigMap *.sh entries and `sh -c` commands."""
    found: list[tuple[str, str]] = []
    for manifest in manifests():
        if manifest.kind == "ConfigMap":
            for key, value in manifest.doc.get("data", {}).items():
                if key.endswith(".sh"):
                    found.append((f"{manifest.id}:{key}", value))
    for manifest in workloads():
        for container in containers(manifest.doc):
            commands = {"command": container.get("command", [])}
            for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                commands[probe] = container.get(probe, {}).get("exec", {}).get("command", [])
            for where, command in commands.items():
                if command[:2] == ["sh", "-c"]:
                    found.append((f"{manifest.id}:{container['name']}.{where}", "#!/bin/sh\n" + command[2]))
    return found


@pytest.mark.parametrize("script", shell_scripts(), ids=lambda p: str(p.relative_to(ROOT)))
def test_shell_script_passes_shellcheck_and_bash_n(script: Path, shellcheck: str) -> None:
    text = script.read_text(encoding="utf-8")
    assert text.startswith("#!"), "a shebang tells shellcheck (and the kernel) the shell"
    assert script.stat().st_mode & 0o111, f"{script} is not executable"
    assert "set -e" in text
    result = subprocess.run([shellcheck, "--severity=style", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("body", [pytest.param(body, id=where) for where, body in inline_scripts()])
def test_inline_manifest_shell_passes_shellcheck(body: str, shellcheck: str, tmp_path: Path) -> None:
    script = tmp_path / "inline.sh"
    script.write_text(body, encoding="utf-8")
    result = subprocess.run([shellcheck, "--shell=sh", "--severity=style", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_install_script_covers_every_piece() -> None:
    """install.sh is the one command: it applies every manifest and deploys every function (but the optional GPU
    backend, infra/k3s/vllm.yaml, which needs GPU nodes and is applied by hand: docs/deploy.md)."""
    text = INSTALL_SH.read_text(encoding="utf-8")
    assert "set -euo pipefail" in text and "set -x" not in text
    for path in (p for p in manifest_files() if p.name != "vllm.yaml"):
        assert str(path.relative_to(ROOT)) in text, f"install.sh never applies {path.relative_to(ROOT)}"
    assert "helm upgrade --install openfaas openfaas/openfaas" in text
    assert f"-f {HELM_VALUES.relative_to(ROOT)}" in text
    assert "https://get.k3s.io" in text
    assert "faas-cli deploy -f stack.yml" in text
    assert bash_array(INSTALL_SH, "FUNCTIONS") == list(FUNCTIONS)
    assert bash_array(BUILD_IMAGES_SH, "FUNCTIONS") == list(FUNCTIONS)


def test_install_script_never_prints_secret_values() -> None:
    """A line that echoes or prints a secret variable must write it to a file or a variable, not the terminal."""
    secret = re.compile(r"\$\{?(redis_password|redis_url|minio_user|minio_password|s3_access|s3_secret|api_key"
                        r"|tunnel_token|value)\b")
    for number, line in enumerate(INSTALL_SH.read_text(encoding="utf-8").splitlines(), 1):
        if re.search(r"\b(echo|printf|log)\b", line) and secret.search(line):
            assert "printf -v" in line or re.search(r'>\s*"\$', line), f"install.sh:{number} may print a secret"


# --- CI/CD and docs ----------------------------------------------------------------------------


def workflow() -> dict[str, Any]:
    data: dict[str, Any] = load_yaml(WORKFLOW)
    return data


def steps(job: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = workflow()["jobs"][job]["steps"]
    return result


def test_ci_runs_the_tests_then_builds_then_deploys() -> None:
    jobs = workflow()["jobs"]
    runs = [step.get("run", "") for step in steps("test")]
    ci_run = next(i for i, run in enumerate(runs) if "bash .ci/run" in run)
    assert any("shellcheck" in run for run in runs[:ci_run]), "install shellcheck before the tests need it"
    assert jobs["images"]["needs"] == "test" and jobs["deploy"]["needs"] == "images"
    assert jobs["images"]["permissions"]["packages"] == "write"
    assert any("infra/build-images.sh --push" in step.get("run", "") for step in steps("images"))
    login = next(step for step in steps("images") if step.get("uses", "").startswith("docker/login-action"))
    assert login["with"] == {"registry": "ghcr.io", "username": "${{ github.actor }}",
                             "password": "${{ secrets.GITHUB_TOKEN }}"}
    assert any("infra/k3s/install.sh" in step.get("run", "") for step in steps("deploy"))
    assert "refs/heads/main" in jobs["deploy"]["if"]


def test_ci_names_secrets_and_never_stores_them() -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    references = re.findall(r"secrets\.\w+", text)
    assert references, "the workflow uses secrets"
    expressions = re.findall(r"\$\{\{\s*secrets\.(\w+)\s*\}\}", text)
    assert len(expressions) == len(references), "secrets are referenced only as ${{ secrets.NAME }}"
    for pattern in (r"ghp_\w+", r"github_pat_\w+", r"-----BEGIN", r"AKIA[0-9A-Z]{16}", r"eyJ[\w-]{20,}"):
        assert not re.search(pattern, text), f"a literal credential ({pattern}) in the workflow"


def test_deploy_doc_mentions_only_existing_files() -> None:
    text = DEPLOY_DOC.read_text(encoding="utf-8")
    for section in ("Sizing", "roll a new model", "Timeouts", "Cloudflare Tunnel"):
        assert section.lower() in text.lower(), f"docs/deploy.md lacks {section!r}"
    paths = set(re.findall(r"(?<![\w/.])((?:infra|templates|scripts|functions|\.github|docs)/[\w./-]*\w)", text))
    assert len(paths) > 10
    for path in sorted(paths):
        assert (ROOT / path).exists(), f"docs/deploy.md mentions {path}, which does not exist"
