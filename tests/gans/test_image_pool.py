"""`ImagePool` through the layer harness (tests/layer_harness.py): shape, config round trip, a `.keras`
reload that keeps the buffer, the fill count and the RNG state, and float32 under mixed policies."""

import numpy as np
import pytest

from shoes_generator.gans.image_pool import ImagePool
from tests.layer_harness import run_layer_test

FAKES = np.random.default_rng(0).uniform(-1, 1, (4, 4, 4, 3)).astype("float32")


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        # The first call fills the 3 slots and draws for the 4th image; the calls after the reload all draw.
        ({"size": 3, "image_shape": (4, 4, 3), "seed": 5}, None),
        ({"size": 0}, FAKES),  # No pool: the images pass through.
    ],
    ids=["pool", "no_pool"],
)
def test_image_pool(kwargs, expected, tmp_path):
    run_layer_test(ImagePool, kwargs, FAKES, FAKES.shape, tmp_path, float32_output=True, expected_output=expected)
