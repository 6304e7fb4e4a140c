"""Limits and edge cases: the batcher's rules, a busy port, oversized or malformed requests, bad configs, moved models."""

import http.client
import json
import shutil
import threading
import time

import grpc
import numpy as np
import pytest

from serving.server.batching import Batcher, BatchingOptions
from serving.server.errors import ServingError
from serving.server.model_store import entries_from_base, entries_from_config
from tests.serving.conftest import export_shoes_version
from tests.serving.helpers import assert_serving, connected, grpc_error, model_config, outputs, reload_config, running_server, shoes_request


class SlowEcho:
    """A stand-in servable: returns its ``x`` input doubled after `delay` seconds, counting the batches it ran."""

    name = "echo"

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.batches = []

    def run(self, signature, inputs):
        self.batches.append(len(inputs["x"]))
        time.sleep(self.delay)
        return {"y": inputs["x"] * 2}


@pytest.fixture
def batcher():
    made = []

    def make(**options):
        made.append(Batcher(BatchingOptions(**options)))
        return made[-1]

    yield make
    for each in made:
        each.close()


def test_large_requests_are_split_into_execution_batches_and_reassembled(batcher):
    servable = SlowEcho()
    out = batcher(max_batch_size=20, enable_large_batch_splitting=True, max_execution_batch_size=8).run(servable, "s", {"x": np.arange(20)})
    np.testing.assert_array_equal(out["y"], np.arange(20) * 2)
    assert max(servable.batches) <= 8 and sum(servable.batches) == 20


def test_inputs_of_unequal_0th_dimension_are_refused_as_tf_serving_refuses_them(batcher):
    with pytest.raises(ServingError, match="equal 0th-dimension size") as raised:
        batcher().run(SlowEcho(), "s", {"x": np.arange(3), "t": np.zeros(1)})
    assert raised.value.code == grpc.StatusCode.INVALID_ARGUMENT


def test_an_empty_request_runs_without_queueing(batcher):
    servable = SlowEcho()
    assert batcher().run(servable, "s", {"x": np.arange(0)})["y"].shape == (0,)


def test_a_full_queue_is_unavailable_and_the_queued_work_still_finishes(batcher):
    scheduler = batcher(max_batch_size=1, max_enqueued_batches=1, num_batch_threads=1, batch_timeout_micros=0)
    servable = SlowEcho(delay=0.3)
    results = []
    threads = [threading.Thread(target=lambda i=i: results.append(scheduler.run(servable, "s", {"x": np.array([i])}))) for i in range(2)]
    threads[0].start()
    time.sleep(0.1)  # The first runs; the second waits in the queue.
    threads[1].start()
    time.sleep(0.1)
    with pytest.raises(ServingError, match="queue .* is full") as raised:
        scheduler.run(servable, "s", {"x": np.array([9])})
    assert raised.value.code == grpc.StatusCode.UNAVAILABLE
    for thread in threads:
        thread.join()
    assert sorted(int(r["y"][0]) for r in results) == [0, 2]


@pytest.mark.parametrize("field", ["max_batch_size", "num_batch_threads", "max_enqueued_batches"])
def test_batching_options_below_one_are_refused(field):
    with pytest.raises(ValueError, match=field):
        BatchingOptions(**{field: 0})


def test_a_busy_port_is_an_error_not_a_shared_port(model_base):
    with running_server(entries_from_base(model_base)) as first:
        with pytest.raises(OSError, match="in use"):
            with running_server(entries_from_base(model_base), port=first.port):
                pass
        with connected(first) as client:
            assert_serving(client)


def test_a_tensor_declaring_billions_of_elements_is_refused_before_decoding(server):
    request = shoes_request()
    request.inputs["color"].tensor_shape.dim[0].size = 2_000_000_000
    with connected(server) as client:
        grpc_error(client.predict.Predict, request, grpc.StatusCode.INVALID_ARGUMENT, "--max-request-batch", "Received: 2000000000")
        assert_serving(client)


@pytest.mark.parametrize(
    "headers, status",
    [({"Content-Length": "-5"}, 400), ({"Content-Length": "abc"}, 400), ({"Transfer-Encoding": "chunked"}, 411)],
)
def test_rest_bodies_need_a_sane_content_length(server, headers, status):
    connection = http.client.HTTPConnection("127.0.0.1", server.rest_port, timeout=30)
    connection.putrequest("POST", "/v1/models/shoes:predict", skip_accept_encoding=True)
    for name, value in headers.items():
        connection.putheader(name, value)
    connection.endheaders()
    if "Transfer-Encoding" in headers:
        connection.send(b"0\r\n\r\n")
    response = connection.getresponse()
    assert response.status == status and "error" in json.loads(response.read())
    connection.close()
    with connected(server) as client:
        assert_serving(client)


def test_configs_with_a_repeated_model_or_another_platform_are_refused(tmp_path):
    repeated = model_config(("shoes", tmp_path, {}, None), ("shoes", tmp_path, {}, None))
    with pytest.raises(ValueError, match="Repeated: \\['shoes'\\]"):
        entries_from_config(repeated, tmp_path)
    other = model_config(("shoes", tmp_path, {}, None))
    other.model_config_list.config[0].model_platform = "pytorch"
    with pytest.raises(ValueError, match="pytorch"):
        entries_from_config(other, tmp_path)


def test_a_reload_that_moves_a_model_serves_the_new_folder(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    export_shoes_version(old, 1, seed=0)
    export_shoes_version(new, 1, seed=5)
    with running_server(entries_from_base(old)) as running, connected(running) as client:
        before = outputs(client.predict.Predict(shoes_request([4]), timeout=30))["images"]
        reload_config(client, model_config(("shoes", new / "shoes", {}, None)))
        after = outputs(client.predict.Predict(shoes_request([4]), timeout=30))["images"]
    assert not np.array_equal(before, after)
    shutil.rmtree(old)
