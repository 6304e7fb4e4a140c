"""deploy/training: the training image's Dockerfile and the Kubernetes manifest (headless Service + indexed Job)
agree with each other and with the project; the pods' TF_CONFIG script runs here with a stand-in shoes-train."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from shoes_generator.configs import PRESETS
from shoes_generator.distribute.strategy import cluster_workers

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy" / "training"


@pytest.fixture(scope="module")
def manifest() -> dict:
    """The manifest's objects by kind (the claims as a list)."""
    objects = list(yaml.safe_load_all((DEPLOY / "kubernetes.yaml").read_text()))
    kinds = {}
    for item in objects:
        kinds.setdefault(item["kind"], []).append(item)
    assert sorted(kinds) == ["Job", "PersistentVolumeClaim", "Service"] and len(kinds["Job"]) == len(kinds["Service"]) == 1
    return {"Service": kinds["Service"][0], "Job": kinds["Job"][0], "claims": kinds["PersistentVolumeClaim"]}


def container(manifest) -> dict:
    (worker,) = manifest["Job"]["spec"]["template"]["spec"]["containers"]
    return worker


def env_of(manifest) -> dict:
    return {item["name"]: item["value"] for item in container(manifest)["env"]}


def test_the_worker_list_matches_the_parallelism_and_the_service_names_the_pods(manifest):
    service, job, env = manifest["Service"], manifest["Job"], env_of(manifest)
    spec, pod = job["spec"], job["spec"]["template"]["spec"]
    assert spec["completionMode"] == "Indexed" and spec["completions"] == spec["parallelism"] == int(env["NUM_WORKERS"])
    assert service["spec"]["clusterIP"] == "None" and pod["subdomain"] == service["metadata"]["name"] == env["WORKER_SERVICE"]
    assert service["spec"]["selector"] == {"job-name": job["metadata"]["name"]} and env["JOB_NAME"] == job["metadata"]["name"]
    (port,) = service["spec"]["ports"]
    (container_port,) = container(manifest)["ports"]
    assert port["port"] == container_port["containerPort"] == int(env["WORKER_PORT"]) and port["targetPort"] == container_port["name"]
    assert pod["restartPolicy"] == "OnFailure" and env["PRESET"] in PRESETS
    mounts = {mount["name"]: mount["mountPath"] for mount in container(manifest)["volumeMounts"]}
    claims = {volume["name"]: volume["persistentVolumeClaim"]["claimName"] for volume in pod["volumes"]}
    assert mounts["runs"] == env["RUNS"] and set(claims.values()) == {claim["metadata"]["name"] for claim in manifest["claims"]}
    runs_claim = next(claim for claim in manifest["claims"] if claim["metadata"]["name"] == claims["runs"])
    assert runs_claim["spec"]["accessModes"] == ["ReadWriteMany"]  # Every worker reads the chief's checkpoints.


def run_pod_script(manifest, tmp_path: Path, index: int, **env) -> tuple[dict, list[str]]:
    """Runs the pod's shell script with `index` as JOB_COMPLETION_INDEX and a stand-in shoes-train on PATH that
    records its TF_CONFIG and arguments; returns them."""
    shell = shutil.which("sh")
    assert container(manifest)["command"] == ["/bin/sh", "-c"] and shell
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    stand_in = bin_dir / "shoes-train"
    stand_in.write_text('#!/bin/sh\nprintf \'%s\\n\' "$TF_CONFIG" "$@"\n')
    stand_in.chmod(0o755)
    environment = {"PATH": f"{bin_dir}:{os.environ['PATH']}", **env_of(manifest), "RUNS": str(tmp_path / "runs"),
                   "JOB_COMPLETION_INDEX": str(index), **env}
    (script,) = container(manifest)["args"]
    lines = subprocess.run([shell, "-c", script], env=environment, capture_output=True, text=True, check=True).stdout.splitlines()
    return json.loads(lines[0]), lines[1:]


def test_each_pod_builds_its_tf_config_from_its_index_and_resumes_the_presets_latest_checkpointed_run(manifest, tmp_path):
    env = env_of(manifest)
    workers = int(env["NUM_WORKERS"])
    expected = [f"{env['JOB_NAME']}-{i}.{env['WORKER_SERVICE']}:{env['WORKER_PORT']}" for i in range(workers)]
    for index in range(workers):
        tf_config, arguments = run_pod_script(manifest, tmp_path, index)
        assert tf_config == {"cluster": {"worker": expected}, "task": {"type": "worker", "index": index}}
        assert cluster_workers(json.dumps(tf_config)) == workers  # What shoes-train reads.
        assert arguments == ["--config", env["PRESET"], "--out", str(tmp_path / "runs"), "--quiet"]
    _, arguments = run_pod_script(manifest, tmp_path, 0, NUM_WORKERS="3", DATA="/data/zappos")
    assert arguments == ["--config", env["PRESET"], "--data", "/data/zappos", "--out", str(tmp_path / "runs"), "--quiet"]
    for name in (f"00001-{env['PRESET']}", f"00002-{env['PRESET']}", "00003-another_preset"):
        (tmp_path / "runs" / name / "checkpoints").mkdir(parents=True)
        (tmp_path / "runs" / name / "checkpoints" / "checkpoint").write_text('model_checkpoint_path: "ckpt-500"\n')
    (tmp_path / "runs" / f"00004-{env['PRESET']}").mkdir()  # The chief's fresh run, not checkpointed yet: never resumed.
    tf_config, arguments = run_pod_script(manifest, tmp_path, 1, NUM_WORKERS="3")
    assert len(tf_config["cluster"]["worker"]) == 3  # After a restart with another worker count.
    assert arguments == ["--resume", str(tmp_path / "runs" / f"00002-{env['PRESET']}"), "--quiet"]


def dockerfile() -> str:
    return (DEPLOY / "Dockerfile").read_text()


def test_the_dockerfile_pins_a_cpu_and_a_gpu_base_of_the_projects_tensorflow():
    tensorflow = re.search(r"^tensorflow==([\d.]+)$", (REPO / "requirements.txt").read_text(), re.M).group(1)
    (cpu_base,) = re.findall(r"^ARG BASE_IMAGE=(\S+)$", dockerfile(), re.M)
    assert re.fullmatch(r"python:3\.\d+\.\d+-slim-\w+", cpu_base), cpu_base  # A full version, no moving tag.
    gpu = re.findall(r"--build-arg BASE_IMAGE=(\S+)", dockerfile())
    assert gpu == [f"tensorflow/tensorflow:{tensorflow}-gpu"]
    assert "FROM ${BASE_IMAGE}" in dockerfile() and "requirements.txt" in dockerfile()


def test_the_dockerfile_copies_what_exists_runs_shoes_train_and_exposes_the_manifests_port(manifest):
    for line in re.findall(r"^COPY (.+)$", dockerfile(), re.M):
        sources = line.split()[:-1]
        for source in sources:
            assert list(REPO.glob(source)), f"COPY {source}: not in the repository"
    assert re.search(r'^ENTRYPOINT \["shoes-train"\]$', dockerfile(), re.M)
    assert "shoes-train = training.train:main" in (REPO / "setup.py").read_text()
    assert re.findall(r"^EXPOSE (\d+)$", dockerfile(), re.M) == [env_of(manifest)["WORKER_PORT"]]
    image = container(manifest)["image"]
    assert f"-t {image} ." in dockerfile()  # The manifest runs the image the Dockerfile's build line tags.
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    assert ".venv" in ignored and ".git" in ignored
