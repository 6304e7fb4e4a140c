"""Server-side batching in shoes-serve: concurrent Predicts merge into one run, yet each gets its own rows back."""

import threading
from concurrent import futures

import grpc
import numpy as np
import pytest

from serving.server.batching import BatchingOptions
from serving.server.model_store import entries_from_base
from tests.serving.helpers import CATEGORIES, COLORS, assert_serving, connected, grpc_error, outputs, running_server, shoes_request

OPTIONS = BatchingOptions(max_batch_size=8, batch_timeout_micros=50000, num_batch_threads=1)


@pytest.fixture(scope="module")
def batched(model_base):
    entries = [entry for entry in entries_from_base(model_base) if entry.name == "shoes"]
    with running_server(entries, batching=OPTIONS) as running:
        yield running


@pytest.fixture(scope="module")
def client(batched):
    with connected(batched) as connection:
        yield connection


def labels_for(seeds):
    return [COLORS[s % len(COLORS)] for s in seeds], [CATEGORIES[s % len(CATEGORIES)] for s in seeds]


def unbatched(server, seeds) -> np.ndarray:
    """The images of `seeds` from a direct call of the servable, outside the batcher."""
    servable = server.store.resolve("shoes")
    colors, categories = labels_for(seeds)
    inputs = {"seed": np.asarray(seeds, np.int64), "color": np.asarray(colors, object), "category": np.asarray(categories, object)}
    return servable.run("serving_default", servable.prepare("serving_default", inputs))["images"]


def concurrently(client, requests) -> list:
    """Sends every request at once (one thread each); returns each one's outputs or its grpc.RpcError."""
    start = threading.Barrier(len(requests))

    def send(request):
        start.wait()
        try:
            return outputs(client.predict.Predict(request, timeout=30))
        except grpc.RpcError as error:
            return error

    with futures.ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(send, requests))


def seed_request(seeds, **options):
    return shoes_request(seeds, *labels_for(seeds), **options)


def test_concurrent_requests_share_a_batch_and_match_unbatched_results(batched, client):
    before = batched.batcher.batch_sizes.copy()
    seeds = list(range(20, 28))
    results = concurrently(client, [seed_request([seed]) for seed in seeds])
    reference = unbatched(batched, seeds)
    for seed, result, expected in zip(seeds, results, reference):
        assert isinstance(result, dict), result
        np.testing.assert_array_equal(result["images"][0], expected, err_msg=f"seed {seed}")
    new_batches = batched.batcher.batch_sizes - before
    assert sum(size * count for size, count in new_batches.items()) == len(seeds)
    assert max(new_batches) > 1, new_batches


def merged_during(batched, send):
    """``send()``'s result, asserting that some of its requests were merged into one batch."""
    before = batched.batcher.batch_sizes.copy()
    result = send()
    new_batches = batched.batcher.batch_sizes - before
    assert max(new_batches) > 1, new_batches  # Otherwise nothing here tested merging.
    return result


def test_requests_of_several_examples_get_their_own_rows(batched, client):
    groups = [[1], [2, 3], [4, 5, 6], [7, 8]]
    results = merged_during(batched, lambda: concurrently(client, [seed_request(group) for group in groups]))
    for group, result in zip(groups, results):
        np.testing.assert_array_equal(result["images"], unbatched(batched, group))


def test_a_bad_request_fails_alone(batched, client):
    good_seeds = [30, 31, 32, 33, 34, 35, 36]
    bad = shoes_request([37], colors=["teal"])
    results = merged_during(batched, lambda: concurrently(client, [bad] + [seed_request([seed]) for seed in good_seeds]))
    assert isinstance(results[0], grpc.RpcError) and results[0].code() == grpc.StatusCode.INVALID_ARGUMENT
    assert all(color in results[0].details() for color in COLORS)
    for result, expected in zip(results[1:], unbatched(batched, good_seeds)):
        assert isinstance(result, dict), result
        np.testing.assert_array_equal(result["images"][0], expected)


def test_request_larger_than_a_batch_is_invalid(client):
    grpc_error(client.predict.Predict, seed_request(list(range(OPTIONS.max_batch_size + 1))), grpc.StatusCode.INVALID_ARGUMENT, "8")
    assert_serving(client)
