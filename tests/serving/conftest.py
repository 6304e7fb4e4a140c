"""Shared serving fixtures: a model base with tiny exports and a running shoes-serve on free loopback ports."""

import json
import urllib.error
import urllib.request

import pytest

from shoes_generator.export import Route, export_generator, export_routes
from shoes_generator.labels import Vocabularies

VOCAB = Vocabularies({"color": ["black", "blue", "red"], "category": ["sandal", "sneaker"]})
LATENT = 8


def tiny_generator(seed: int = 0):
    import keras

    from shoes_generator.models.conditional import build_conditional_generator

    keras.utils.set_random_seed(seed)
    return build_conditional_generator(VOCAB.sizes, latent_dim=LATENT, embed_dim=4, image_size=16, base_filters=4)


def export_shoes_version(model_base, version: int, seed: int = 0):
    """Exports a tiny conditional generator as ``<model_base>/shoes/<version>``; returns its path."""
    return export_generator(tiny_generator(seed), LATENT, VOCAB, ("color", "category"), model_base / "shoes" / str(version))


@pytest.fixture(scope="session")
def model_base(tmp_path_factory):
    """``shoes/1`` (colour x type generator) and ``sketch/1`` (a 16 px image-to-image model)."""
    import keras

    base = tmp_path_factory.mktemp("model_base")
    export_shoes_version(base, 1)
    inputs = keras.Input((16, 16, 3), name="image")
    translator = keras.Model(inputs, keras.layers.Conv2D(3, 3, padding="same", activation="tanh")(inputs))
    export_routes({"serving_default": Route(lambda x: translator(x["image"], training=False))}, 16, base / "sketch" / "1", [translator])
    return base


@pytest.fixture(scope="module")
def server(model_base):
    """A started ShoesServer over `model_base` (gRPC and REST on free loopback ports)."""
    from serving.server.app import ShoesServer
    from serving.server.model_store import entries_from_base

    running = ShoesServer(entries_from_base(model_base), port=0, rest_port=0, poll_seconds=0).start()
    yield running
    running.stop(grace=1)


def rest(server, method: str, path: str, body=None, raw: bytes | None = None):
    """One REST call -> ``(http status, parsed JSON)``."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(f"http://127.0.0.1:{server.rest_port}{path}", data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
