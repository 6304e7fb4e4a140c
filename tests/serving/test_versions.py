"""Version lifecycle in shoes-serve, as TF Serving's file-system source and manager behave.

New versions are picked up while serving, corrupt or half-copied ones leave the previous version
serving (and are retried once their files change), hidden staging folders are ignored, the
``specific`` policy serves exactly its versions, and a model dropped from the config is gone.
One server (polling every 0.2 s) over a fresh model base; tests also poll by hand for determinism.
"""

import shutil
import tempfile
import time
from pathlib import Path

import grpc
import pytest
from google.protobuf import text_format
from tensorflow_serving.apis import get_model_status_pb2

from serving.deploy_protos import parse_model_server_config
from serving.server.model_store import entries_from_config
from tests.serving.conftest import export_shoes_version
from tests.serving.helpers import (
    assert_serving,
    connected,
    grpc_error,
    model_config,
    outputs,
    reload_config,
    running_server,
    shoes_request,
    status_request,
)

STATE = get_model_status_pb2.ModelVersionStatus.State
# name -> versions on disk at start, versions of a `specific` policy (None: latest).
MODELS = {
    "shoes": ((1,), None),
    "garbled": ((1,), None),
    "novars": ((1,), None),
    "partial": ((1,), None),
    "staged": ((1,), None),
    "pinned": ((1, 2, 3), (1, 3)),
    "removed": ((1,), None),
}


def config_of(names):
    """The ModelServerConfig of `names` (base paths relative to the model base)."""
    return model_config(*((name, name, {}, MODELS[name][1]) for name in names))


@pytest.fixture(scope="module")
def base(model_base, tmp_path_factory):
    """A fresh model base: every model of MODELS as copies of the session's ``shoes/1``, plus its models.config."""
    root = tmp_path_factory.mktemp("versions_base")
    for name, (versions, _) in MODELS.items():
        for version in versions:
            shutil.copytree(model_base / "shoes" / "1", root / name / str(version))
    (root / "models.config").write_text(text_format.MessageToString(config_of(MODELS)))
    return root


@pytest.fixture(scope="module")
def served(base):
    entries = entries_from_config(parse_model_server_config(base / "models.config"), base)
    with running_server(entries, poll_seconds=0.2, config_dir=base) as running:
        yield running


@pytest.fixture(scope="module")
def client(served):
    with connected(served) as connection:
        yield connection


def staged_copy(source: Path, destination: Path, spoil=None) -> None:
    """Copies a version into a hidden staging folder beside `destination`, spoils it, then renames it into place."""
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.tmp", dir=destination.parent))
    shutil.copytree(source, staging / "model")
    if spoil is not None:
        spoil(staging / "model")
    (staging / "model").rename(destination)
    staging.rmdir()


def versions(client, model: str) -> dict[int, tuple[int, int, str]]:
    """version -> (state, error code, error message) from GetModelStatus."""
    response = client.model.GetModelStatus(status_request(model), timeout=30)
    return {s.version: (s.state, s.status.error_code, s.status.error_message) for s in response.model_version_status}


def served_version(client, model: str, version=None) -> int:
    return client.predict.Predict(shoes_request(model=model, version=version), timeout=30).model_spec.version.value


def test_new_version_is_picked_up_while_serving_and_becomes_latest(base, client):
    before = outputs(client.predict.Predict(shoes_request([5]), timeout=30))["images"]
    export_shoes_version(base, 2, seed=1)  # Staged in a hidden folder, then renamed: the poller finds it on its own.
    deadline = time.monotonic() + 30
    while served_version(client, "shoes") != 2:
        assert time.monotonic() < deadline, versions(client, "shoes")
        time.sleep(0.1)
    after = outputs(client.predict.Predict(shoes_request([5]), timeout=30))["images"]
    assert (after != before).any()
    assert versions(client, "shoes")[2][:2] == (STATE.AVAILABLE, 0)
    deadline = time.monotonic() + 10  # The latest policy (one version) unloads version 1 once 2 serves.
    while versions(client, "shoes")[1][0] == STATE.AVAILABLE:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert versions(client, "shoes")[1][:2] == (STATE.END, 0)  # Listed as TF Serving lists a replaced version.
    grpc_error(client.predict.Predict, shoes_request(version=1), grpc.StatusCode.NOT_FOUND, "shoes", "1")


def garble(path: Path) -> None:
    (path / "saved_model.pb").write_bytes(b"\x08not a saved model" * 10)


def drop_variables(path: Path) -> None:
    shutil.rmtree(path / "variables")


@pytest.mark.parametrize("model, spoil", [("garbled", garble), ("novars", drop_variables)])
def test_corrupt_version_is_refused_and_the_previous_one_keeps_serving(base, served, client, model, spoil):
    staged_copy(base / model / "1", base / model / "3", spoil)
    served.store.poll()
    states = versions(client, model)
    assert set(states) == {1, 3}
    state, code, message = states[3]
    assert state == STATE.END and code != 0 and message
    assert states[1][:2] == (STATE.AVAILABLE, 0)
    [only] = client.model.GetModelStatus(status_request(model, version=3), timeout=30).model_version_status
    assert only.state == STATE.END and only.status.error_code == code
    assert served_version(client, model) == 1
    grpc_error(client.predict.Predict, shoes_request(model=model, version=3), grpc.StatusCode.NOT_FOUND, "3")
    served.store.poll()  # Unchanged files: not retried, still refused.
    assert versions(client, model)[3][0] == STATE.END and served_version(client, model) == 1


def test_half_copied_version_is_retried_once_complete(base, served, client):
    source, target = base / "partial" / "1", base / "partial" / "3"
    target.mkdir()
    shutil.copytree(source / "variables", target / "variables")
    served.store.poll()
    state, code, _ = versions(client, "partial")[3]
    assert state == STATE.END and code != 0
    assert served_version(client, "partial") == 1
    shutil.copytree(source, target, dirs_exist_ok=True)
    served.store.poll()
    assert versions(client, "partial")[3][:2] == (STATE.AVAILABLE, 0)
    assert served_version(client, "partial") == 3


def test_hidden_staging_and_other_folders_are_ignored(base, served, client):
    shutil.copytree(base / "staged" / "1", base / "staged" / ".3.tmpk2j4")
    shutil.copytree(base / "staged" / "1", base / "staged" / "latest")
    served.store.poll()
    assert list(versions(client, "staged")) == [1]
    assert served_version(client, "staged") == 1


def test_specific_policy_serves_exactly_its_versions(client):
    states = versions(client, "pinned")
    assert sorted(states) == [1, 3] and {s[:2] for s in states.values()} == {(STATE.AVAILABLE, 0)}
    assert served_version(client, "pinned") == 3
    assert served_version(client, "pinned", 1) == 1
    grpc_error(client.predict.Predict, shoes_request(model="pinned", version=2), grpc.StatusCode.NOT_FOUND, "pinned", "2")
    grpc_error(client.model.GetModelStatus, status_request("pinned", version=2), grpc.StatusCode.NOT_FOUND, "2")


def test_model_removed_by_reload_config_is_not_found(client):
    assert served_version(client, "removed") == 1
    reload_config(client, config_of([name for name in MODELS if name != "removed"]))
    grpc_error(client.predict.Predict, shoes_request(model="removed"), grpc.StatusCode.NOT_FOUND, "removed")
    grpc_error(client.predict.Predict, shoes_request(model="removed", version=1), grpc.StatusCode.NOT_FOUND, "removed")
    assert served_version(client, "pinned") == 3
    assert_serving(client)
