"""The studio's fixtures: one model base with a tiny model of every tabbed family, served by a real shoes-serve.

Cheap where it can be: the generator, sketch, CycleGAN-shaped and segmenter models are untrained tiny networks
exported directly; StyleGAN2, SPADE and pattern transfer reuse the session's tiny runs (tests/conftest.py),
copied from their run folders' ``saved_model/`` rather than exported again.
"""

import json
import shutil

import numpy as np
import pytest

from tests.serving.conftest import LATENT, export_shoes_version

SIZE = 16


def write_direction(folder, space: str, dim: int, seed: int):
    """A ``shoes-explore direction`` output folder holding a random unit direction."""
    folder.mkdir(parents=True)
    vector = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    np.save(folder / "direction.npy", vector / np.linalg.norm(vector))
    info = {"attribute": "height", "latent_space": space, "latent_dim": dim, "strength_unit": 0.5, "strengths": [-3.0, 0.0, 3.0]}
    (folder / "direction.json").write_text(json.dumps(info))
    return folder


def export_translators(base):
    """``sketch2shoe`` (image -> image) and ``sneaker2boot`` (serving_default, b_to_a, blend with alpha)."""
    import keras
    import tensorflow as tf

    from shoes_generator.export import Route, export_routes
    from shoes_generator.models.unet import build_unet_generator

    keras.utils.set_random_seed(1)
    sketch = build_unet_generator(SIZE, base_filters=4)
    export_routes({"serving_default": Route(lambda x: sketch(x["image"], training=False))}, SIZE, base / "sketch2shoe" / "1", [sketch])
    forward, backward = (keras.Sequential([keras.Input((SIZE, SIZE, 3)), keras.layers.Conv2D(3, 3, padding="same", activation="tanh")])
                         for _ in range(2))
    images = (("image", 3),)
    routes = {
        "serving_default": Route(lambda x: forward(x["image"], training=False), images),
        "b_to_a": Route(lambda x: backward(x["image"], training=False), images),
        "blend": Route(lambda x: forward(x["image"] * tf.reshape(x["alpha"], [-1, 1, 1, 1]), training=False), images, scalars=("alpha",)),
    }
    export_routes(routes, SIZE, base / "sneaker2boot" / "1", [forward, backward])


def export_parts(base):
    """``parts``: an untrained part segmenter with SPADE's part names (what redesign pairs it by)."""
    import keras

    from shoes_generator.data.names import PART_CLASSES
    from shoes_generator.segmentation.export import export_segmenter
    from shoes_generator.segmentation.models import build_fcn_segmenter

    keras.utils.set_random_seed(2)
    export_segmenter(build_fcn_segmenter(SIZE, len(PART_CLASSES), base_filters=4), SIZE, base / "parts" / "1", PART_CLASSES)


@pytest.fixture(scope="session")
def studio_base(tmp_path_factory, stylegan2_run, spade_run, pattern_run):
    """``(model base, [direction folders])``: shoes, sketch2shoe, sneaker2boot, stylegan, spade, parts, pattern;
    a z direction for shoes and a w direction for stylegan."""
    root = tmp_path_factory.mktemp("studio")
    base = root / "models"
    export_shoes_version(base, 1)
    export_translators(base)
    export_parts(base)
    for name, run in (("stylegan", stylegan2_run), ("spade", spade_run), ("pattern", pattern_run)):
        shutil.copytree(run / "saved_model", base / name / "1")
    w_dim = json.loads((stylegan2_run / "config.json").read_text())["model"]["w_dim"]
    directions = [write_direction(root / "shoes_height", "z", LATENT, 0), write_direction(root / "stylegan_height", "w", w_dim, 1)]
    return base, directions


@pytest.fixture(scope="session")
def models_server(studio_base):
    """shoes-serve over `studio_base` (gRPC and REST on free loopback ports)."""
    from serving.server.app import ShoesServer
    from serving.server.model_store import entries_from_base

    running = ShoesServer(entries_from_base(studio_base[0]), port=0, rest_port=0, poll_seconds=0).start()
    yield running
    running.stop(grace=1)


def new_studio(studio_base, models_server, rest: bool = False, **options):
    """A `Studio` over `models_server` (gRPC; ``rest=True`` for REST) with the base's models and directions."""
    from serving.studio.actions import Target
    from serving.studio.backend import Studio
    from serving.studio.directions import load_direction

    target = Target(rest=f"http://127.0.0.1:{models_server.rest_port}") if rest else Target(server=f"127.0.0.1:{models_server.port}")
    options.setdefault("model_base", studio_base[0])
    options.setdefault("directions", [load_direction(str(folder)) for folder in studio_base[1]])
    return Studio(target, **options)


@pytest.fixture
def make_studio(studio_base, models_server):
    """``make_studio(**options)`` -> `new_studio` over the served models, closed after the test."""
    made = []

    def make(**options):
        made.append(new_studio(studio_base, models_server, **options))
        return made[-1]

    yield make
    for studio in made:
        studio.close()


@pytest.fixture
def web(make_studio):
    """A Starlette TestClient of the studio app over the served models."""
    from starlette.testclient import TestClient

    from serving.studio.app import create_app

    with TestClient(create_app(make_studio())) as client:
        yield client


def offline_studio(**options):
    """A `Studio` whose model server is down (nothing listens on port 1): for what the app does before a model call."""
    from serving.studio.actions import Target
    from serving.studio.backend import Studio

    options.setdefault("timeout", 1)
    return Studio(Target(server="127.0.0.1:1"), ["shoes"], **options)
