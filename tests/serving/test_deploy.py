"""serving/deploy: the TF Serving configs parse against TF Serving's messages, and compose/k8s wire them up."""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import text_format

from serving import deploy_protos

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "serving" / "deploy"
MODEL_STATUS = "/v1/models/shoes"
REST_PORT, GRPC_PORT = 8501, 8500

parse_monitoring_config = functools.partial(deploy_protos.parse_text_config, deploy_protos.MonitoringConfig)

# Every flag `tensorflow_model_server` defines (tensorflow_serving/model_servers/main.cc).
SERVER_FLAGS = frozenset(
    """port grpc_socket_path rest_api_port rest_api_num_threads rest_api_timeout_in_ms rest_api_enable_cors_support
    enable_batching allow_version_labels_for_unavailable_models batching_parameters_file
    enable_per_model_batching_parameters model_config_file model_config_file_poll_wait_seconds model_name
    model_base_path num_load_threads num_unload_threads max_num_load_retries load_retry_interval_micros
    file_system_poll_wait_seconds flush_filesystem_caches tensorflow_session_parallelism
    tensorflow_session_config_file tensorflow_intra_op_parallelism tensorflow_inter_op_parallelism
    use_alts_credentials ssl_config_file platform_config_file per_process_gpu_memory_fraction saved_model_tags
    grpc_channel_arguments grpc_max_threads enable_model_warmup num_request_iterations_for_warmup version
    monitoring_config_file remove_unused_fields_from_bundle_metagraph prefer_tflite_model num_tflite_pools
    num_tflite_interpreters_per_pool enable_signature_method_name_check xla_cpu_compilation_enabled
    enable_profiler thread_pool_factory_config_file""".split()
)

# Config flag -> (file in serving/deploy, its parser).
CONFIG_FLAGS = {
    "model_config_file": ("models.config", deploy_protos.parse_model_server_config),
    "batching_parameters_file": ("batching.config", deploy_protos.parse_batching_config),
    "monitoring_config_file": ("monitoring.config", parse_monitoring_config),
}


# --- A YAML reader for the subset these files use (PyYAML is not a dependency) ---------------------------


def load_yaml(path: Path) -> list:
    """The documents of a YAML file: block mappings and sequences, plain/quoted scalars, ``|`` blocks, ``{}``."""
    text = path.read_text(encoding="utf-8")
    documents = [_YamlBlock(chunk.split("\n")).parse() for chunk in re.split(r"(?m)^---[ \t]*$", text)]
    documents = [document for document in documents if document is not None]
    try:
        import yaml
    except ImportError:
        return documents
    assert documents == [d for d in yaml.safe_load_all(text) if d is not None], "the test's YAML reader misreads the file"
    return documents


class _YamlBlock:
    def __init__(self, lines: list[str]):
        self.lines, self.row = lines, 0

    def parse(self):
        head = self.peek()
        return None if head is None else self.node(head[0])

    def peek(self) -> tuple[int, str] | None:
        while self.row < len(self.lines):
            body = re.split(r"(?:^|\s)#", self.lines[self.row], maxsplit=1)[0].rstrip()
            if body.strip():
                return len(body) - len(body.lstrip(" ")), body.strip()
            self.row += 1
        return None

    def node(self, indent: int):
        return self.sequence(indent) if _is_item(self.peek()[1]) else self.mapping(indent)

    def sequence(self, indent: int) -> list:
        items = []
        while (head := self.peek()) and head[0] == indent and _is_item(head[1]):
            rest = head[1][1:].strip()
            if _is_key(rest):  # "- key: value" opens a mapping indented past the dash
                self.lines[self.row] = " " * (indent + 2) + rest
                items.append(self.mapping(indent + 2))
            else:
                self.row += 1
                items.append(_scalar(rest) if rest else self.node(self.peek()[0]))
        return items

    def mapping(self, indent: int) -> dict:
        out = {}
        while (head := self.peek()) and head[0] == indent and not _is_item(head[1]):
            assert _is_key(head[1]), f"not a key: {head[1]!r}"
            key, _, rest = head[1].partition(": ") if ": " in head[1] else (head[1][:-1], "", "")
            self.row += 1
            if rest.strip() in ("|", "|-"):
                out[key] = self.literal(indent, keep_newline=rest.strip() == "|")
            elif rest.strip():
                out[key] = _scalar(rest.strip())
            else:
                nested = self.peek()
                opens_block = nested and (nested[0] > indent or (nested[0] == indent and _is_item(nested[1])))
                out[key] = self.node(nested[0]) if opens_block else None
        return out

    def literal(self, indent: int, keep_newline: bool) -> str:
        lines = []
        while self.row < len(self.lines):
            line = self.lines[self.row]
            if line.strip() and len(line) - len(line.lstrip(" ")) <= indent:
                break
            lines.append(line)
            self.row += 1
        while lines and not lines[-1].strip():
            lines.pop()
        margin = min(len(line) - len(line.lstrip(" ")) for line in lines if line.strip())
        return "\n".join(line[margin:] for line in lines) + ("\n" if keep_newline else "")


def _is_item(body: str) -> bool:
    return body == "-" or body.startswith("- ")


def _is_key(body: str) -> bool:
    return not body.startswith(("'", '"')) and (": " in body or body.endswith(":"))


def _scalar(text: str):
    if text.startswith('"'):
        return json.loads(text)
    if text.startswith("'"):
        return text[1:-1].replace("''", "'")
    constants = {"{}": {}, "[]": [], "true": True, "false": False, "null": None, "~": None}
    if text in constants:
        return constants[text]
    assert not text.startswith(("[", "{", "&", "*", "!", "|", ">")), f"unsupported YAML: {text!r}"
    return int(text) if re.fullmatch(r"-?\d+", text) else text


# --- Helpers ----------------------------------------------------------------------------------------------


def server_flags(argv: list[str]) -> dict[str, str]:
    """``["--a=1", ...]`` -> ``{"a": "1"}``; every entry must be a ``--name=value`` flag the server defines."""
    flags = {}
    for argument in argv:
        match = re.fullmatch(r"--([a-z0-9_]+)=(.*)", argument)
        assert match, f"not a --name=value flag: {argument!r}"
        assert match[1] in SERVER_FLAGS, f"tensorflow_model_server has no flag --{match[1]}"
        flags[match[1]] = match[2]
    return flags


def compose_service() -> dict:
    (compose,) = load_yaml(DEPLOY / "docker-compose.yml")
    return compose["services"]["tensorflow-serving"]


def compose_mounts(service: dict) -> dict[str, tuple[Path, str]]:
    """Container path -> (host path, mode), with ``${VAR:-default}`` read as its default."""
    mounts = {}
    for volume in service["volumes"]:
        host, container, mode = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", volume).split(":")
        mounts[container] = ((DEPLOY / host).resolve(), mode)
    return mounts


def k8s_objects() -> dict[str, dict]:
    documents = load_yaml(DEPLOY / "kubernetes.yaml")
    objects = {document["kind"]: document for document in documents}
    assert len(objects) == len(documents), "one object of each kind"
    return objects


def k8s_container(objects: dict) -> dict:
    (container,) = objects["Deployment"]["spec"]["template"]["spec"]["containers"]
    return container


def mounted_file(mounts: dict[str, object], container_path: str):
    """The mount that holds `container_path` (longest prefix) and the path inside it."""
    parent = max((m for m in mounts if container_path.startswith(m.rstrip("/") + "/")), key=len, default=None)
    assert parent is not None, f"{container_path} is not under any mount: {sorted(mounts)}"
    return mounts[parent], container_path[len(parent.rstrip("/")) + 1 :]


# --- The configs, against TF Serving's messages ------------------------------------------------------------


def test_models_config_serves_shoes_versions_1_and_2_as_stable_and_canary():
    config = deploy_protos.parse_model_server_config(DEPLOY / "models.config")

    (model,) = config.model_config_list.config
    assert (model.name, model.base_path, model.model_platform) == ("shoes", "/models/shoes", "tensorflow")
    assert list(model.model_version_policy.specific.versions) == [1, 2]
    assert dict(model.version_labels) == {"stable": 1, "canary": 2}


def test_batching_config_fits_a_two_core_generator():
    params = deploy_protos.parse_batching_config(DEPLOY / "batching.config")

    assert params.max_execution_batch_size.value == 16
    assert params.enable_large_batch_splitting.value is True
    assert params.max_batch_size.value == 64 >= params.max_execution_batch_size.value
    assert params.num_batch_threads.value == 2
    assert 0 < params.batch_timeout_micros.value <= 10_000  # well under one 10-50 ms batch
    assert params.max_enqueued_batches.value == 8
    assert not params.pad_variable_length_inputs
    assert not params.HasField("thread_pool_name")
    # The server's own rule (WrapSessionForBatching), were allowed_batch_sizes set: the last is max_batch_size.
    sizes = list(params.allowed_batch_sizes)
    assert sizes == sorted(set(sizes)) and (not sizes or sizes[-1] == params.max_batch_size.value)


def test_monitoring_config_exposes_prometheus_metrics():
    config = parse_monitoring_config(DEPLOY / "monitoring.config")

    assert config.prometheus_config.enable is True
    assert config.prometheus_config.path == "/monitoring/prometheus/metrics"


@pytest.mark.parametrize(
    "file, wrong, right",
    [
        ("models.config", "version_label ", "version_labels "),
        ("models.config", "base_path_", "base_path"),
        ("batching.config", "max_batch_sise", "max_batch_size"),
        ("batching.config", "max_batch_size: 64", "max_batch_size { value: 64 }"),  # a wrapper, not a number
        ("batching.config", "pad_variable_length_inputs: 0.5", "pad_variable_length_inputs: false"),
        ("monitoring.config", "prometheus {", "prometheus_config {"),
    ],
)
def test_configs_with_a_wrong_field_do_not_parse(file, wrong, right):
    flag = next(flag for flag, (name, _) in CONFIG_FLAGS.items() if name == file)
    parse = CONFIG_FLAGS[flag][1]
    text = (DEPLOY / file).read_text(encoding="utf-8")
    parse(text)
    lines = text.splitlines(keepends=True)
    row = next(i for i, line in enumerate(lines) if line.lstrip().startswith(right))  # a setting, not a comment
    lines[row] = lines[row].replace(right, wrong, 1)

    with pytest.raises(text_format.ParseError, match="<text>: "):
        parse("".join(lines))


def test_messages_have_tf_servings_names_and_wire_format():
    params = deploy_protos.parse_batching_config(
        'max_batch_size { value: 16 } thread_pool_name { value: "b" } allowed_batch_sizes: [4, 16] '
        "pad_variable_length_inputs: true enable_large_batch_splitting { value: true } max_execution_batch_size { value: 8 }"
    )
    monitoring = parse_monitoring_config('prometheus_config { enable: true path: "/m" }')

    assert params.DESCRIPTOR.full_name == "tensorflow.serving.BatchingParameters"
    assert monitoring.DESCRIPTOR.full_name == "tensorflow.serving.MonitoringConfig"
    # Field 1 as an Int64Value {value: 16}, 5 a StringValue, 6 packed int64s, 7 a bool, 8 a BoolValue, 9 an Int64Value.
    expected = "0a020810" "2a030a0162" "32020410" "3801" "42020801" "4a020808"
    assert params.SerializeToString().hex() == expected
    assert monitoring.SerializeToString() == b"\x0a\x06\x08\x01\x12\x02/m"


def test_parsers_take_a_path_or_the_text():
    path = DEPLOY / "monitoring.config"
    expected = parse_monitoring_config(path)

    assert parse_monitoring_config(str(path)) == expected
    assert parse_monitoring_config(path.read_text(encoding="utf-8")) == expected
    assert deploy_protos.parse_batching_config("") == deploy_protos.BatchingParameters()
    with pytest.raises(FileNotFoundError):
        deploy_protos.parse_batching_config(DEPLOY / "missing.config")
    with pytest.raises(FileNotFoundError):
        deploy_protos.parse_batching_config("missing.config")


def test_parse_errors_name_the_file(tmp_path):
    bad = tmp_path / "batching.config"
    bad.write_text("max_batch_size { value: 16 }\nnum_batch_thread { value: 2 }\n")

    with pytest.raises(text_format.ParseError, match=rf"{re.escape(str(bad))}: 2:1 .*num_batch_thread"):
        deploy_protos.parse_batching_config(bad)


def test_deploy_protos_needs_neither_tensorflow_nor_the_serving_api():
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('deploy_protos', {str(REPO / 'serving' / 'deploy_protos.py')!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "module.parse_batching_config('max_batch_size { value: 2 }')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'tensorflow_serving', 'keras')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert result.stdout.strip() == "[]"


# --- docker-compose.yml ----------------------------------------------------------------------------------


def test_compose_runs_a_pinned_server_on_the_mounted_configs():
    service = compose_service()
    flags = server_flags(service["command"])
    mounts = compose_mounts(service)

    assert re.fullmatch(r"tensorflow/serving:\d+\.\d+\.\d+", service["image"])
    assert service["entrypoint"] == ["tensorflow_model_server"]  # not the image's script, which adds flags
    for flag, (name, parse) in CONFIG_FLAGS.items():
        (host_dir, mode), inside = mounted_file(mounts, flags[flag])
        assert (inside, mode) == (name, "ro")
        assert host_dir / inside == DEPLOY / name
        parse(host_dir / inside)
    assert flags["model_config_file_poll_wait_seconds"] == "60"
    assert flags["enable_batching"] == flags["allow_version_labels_for_unavailable_models"] == "true"


def test_compose_mounts_the_model_base_read_only_where_models_config_points():
    service = compose_service()
    base_path = deploy_protos.parse_model_server_config(DEPLOY / "models.config").model_config_list.config[0].base_path

    (host, mode), inside = mounted_file(compose_mounts(service), base_path)
    assert (host, mode, inside) == (REPO / "models", "ro", "shoes")  # `shoes-export --model-base models`


def test_compose_publishes_the_ports_the_server_listens_on():
    service = compose_service()
    flags = server_flags(service["command"])

    assert (flags["port"], flags["rest_api_port"]) == (str(GRPC_PORT), str(REST_PORT))
    assert sorted(service["ports"]) == [f"{GRPC_PORT}:{GRPC_PORT}", f"{REST_PORT}:{REST_PORT}"]


def test_compose_healthcheck_asks_the_rest_port_for_the_model_without_curl():
    check = compose_service()["healthcheck"]["test"]

    assert check[:3] == ["CMD", "bash", "-c"]  # the image has bash, not curl or wget
    assert f"/dev/tcp/127.0.0.1/{REST_PORT}" in check[3]
    assert f"GET {MODEL_STATUS} HTTP/1.0" in check[3] and '"AVAILABLE"' in check[3]
    assert not re.search(r"\b(curl|wget)\b", check[3])


# --- kubernetes.yaml ----------------------------------------------------------------------------------------


def test_kubernetes_has_the_five_objects():
    objects = k8s_objects()

    assert set(objects) == {"ConfigMap", "PersistentVolumeClaim", "Deployment", "Service", "HorizontalPodAutoscaler"}
    assert objects["HorizontalPodAutoscaler"]["apiVersion"] == "autoscaling/v2"


def test_kubernetes_configmap_holds_the_config_files_verbatim():
    data = k8s_objects()["ConfigMap"]["data"]

    assert set(data) == {name for name, _ in CONFIG_FLAGS.values()}
    for name, text in data.items():
        assert text == (DEPLOY / name).read_text(encoding="utf-8"), f"ConfigMap {name} differs from serving/deploy/{name}"


def test_kubernetes_container_runs_the_compose_server_on_its_mounted_volumes():
    objects = k8s_objects()
    container = k8s_container(objects)
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    mounts = {mount["mountPath"]: volumes[mount["name"]] | {"readOnly": mount.get("readOnly", False)} for mount in container["volumeMounts"]}
    flags = server_flags(container["args"])
    service = compose_service()

    assert (container["image"], container["command"]) == (service["image"], service["entrypoint"])
    assert flags == server_flags(service["command"])
    for flag, (name, _) in CONFIG_FLAGS.items():
        volume, inside = mounted_file(mounts, flags[flag])
        assert (volume["configMap"]["name"], inside) == (objects["ConfigMap"]["metadata"]["name"], name)
    models, inside = mounted_file(mounts, "/models/shoes")
    assert models["persistentVolumeClaim"]["claimName"] == objects["PersistentVolumeClaim"]["metadata"]["name"]
    assert models["readOnly"] is True and inside == "shoes"


def test_kubernetes_probes_ask_the_rest_port_for_the_model():
    container = k8s_container(k8s_objects())
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}

    assert ports == {"grpc": GRPC_PORT, "http": REST_PORT}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        get = container[probe]["httpGet"]
        assert (get["path"], ports.get(get["port"], get["port"])) == (MODEL_STATUS, REST_PORT), probe


def test_kubernetes_pod_runs_unprivileged_on_a_read_only_root_with_sized_resources():
    objects = k8s_objects()
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    container = k8s_container(objects)
    volumes = {volume["name"]: volume for volume in pod["volumes"]}

    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    (tmp,) = [mount for mount in container["volumeMounts"] if mount["mountPath"] == "/tmp"]
    assert "emptyDir" in volumes[tmp["name"]]
    for kind in ("requests", "limits"):
        assert set(container["resources"][kind]) == {"cpu", "memory"}
    flags = server_flags(container["args"])
    assert flags["tensorflow_intra_op_parallelism"] == str(container["resources"]["limits"]["cpu"])


def test_kubernetes_prometheus_annotations_match_the_monitoring_config():
    annotations = k8s_objects()["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    path = parse_monitoring_config(DEPLOY / "monitoring.config").prometheus_config.path

    assert annotations == {"prometheus.io/scrape": "true", "prometheus.io/port": str(REST_PORT), "prometheus.io/path": path}


def test_kubernetes_service_and_autoscaler_point_at_the_deployment():
    objects = k8s_objects()
    deployment, service, hpa = objects["Deployment"], objects["Service"]["spec"], objects["HorizontalPodAutoscaler"]["spec"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]

    assert service["selector"].items() <= pod_labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert {(p["name"], p["port"], p["targetPort"]) for p in service["ports"]} == {("grpc", GRPC_PORT, "grpc"), ("http", REST_PORT, "http")}
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment["metadata"]["name"]}
    (metric,) = hpa["metrics"]
    assert metric["type"] == "Resource" and metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"]["type"] == "Utilization" and 0 < metric["resource"]["target"]["averageUtilization"] <= 100
    assert 1 <= hpa["minReplicas"] <= deployment["spec"]["replicas"] <= hpa["maxReplicas"]


def test_deploy_files_name_only_real_server_flags():
    for path in sorted(DEPLOY.iterdir()):
        for flag in re.findall(r"--([a-z0-9]+(?:_[a-z0-9]+)+)", path.read_text(encoding="utf-8")):
            assert flag in SERVER_FLAGS, f"{path.name} names --{flag}, which tensorflow_model_server does not define"
