"""The CycleGAN ResNet generator: reference size, reflection padding, batch independence, blend mode."""

import keras
import numpy as np
import pytest

from shoes_generator.models.blocks import InstanceNormalization
from shoes_generator.models.resnet_generator import ReflectionPadding2D, build_resnet_generator, with_alpha, without_alpha

# pytorch-CycleGAN-and-pix2pix prints "Total number of parameters: 11378179" for
# resnet_9blocks, ngf 64, 3 -> 3 channels, InstanceNorm2d(affine=False)
# (junyanz/pytorch-CycleGAN-and-pix2pix issue #169).
REFERENCE_PARAMETERS = 11_378_179


def tiny(**kwargs):
    keras.utils.set_random_seed(0)
    return build_resnet_generator(16, base_filters=4, n_blocks=2, **kwargs)


def images(n=3, size=16, channels=3, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, size, size, channels)).astype("float32")


def test_parameter_count_matches_the_reference():
    generator = build_resnet_generator(256, n_blocks=9)
    assert generator.count_params() == REFERENCE_PARAMETERS
    assert not generator.non_trainable_weights  # Instance norm without affine parameters, no statistics.


def test_layout_names_and_float32_output():
    generator = build_resnet_generator(16, channels=1, base_filters=4, n_blocks=2)
    assert [tensor.name for tensor in generator.inputs] == ["image"]
    assert generator.output_shape == (None, 16, 16, 1)
    shapes = {layer.name: layer.output.shape[1:] for layer in generator.layers}
    assert shapes["in_pad"] == (22, 22, 1) and shapes["down2_relu"] == (4, 4, 16)
    assert shapes["block2_add"] == (4, 4, 16) and shapes["up2_relu"] == (16, 16, 4)
    assert isinstance(generator.get_layer("block1_1_norm"), InstanceNormalization)
    output = generator(images(channels=1), training=False)
    assert output.dtype == "float32" and np.all(np.abs(output) <= 1)
    batch_norm = build_resnet_generator(16, base_filters=4, n_blocks=1, norm="batch")
    assert batch_norm.get_layer("in_conv").use_bias is False  # BatchNorm brings the offset, as in the reference.


def test_reflection_padding_validates_its_padding():
    # Values, shapes and round trips: tests/models/test_layer_harness.py.
    x = np.zeros((2, 5, 4, 3), "float32")
    with pytest.raises(ValueError, match="padding < the padded side"):
        ReflectionPadding2D(4)(x)
    with pytest.raises(ValueError, match="Received: padding=-1"):
        ReflectionPadding2D(-1)


def test_one_example_does_not_depend_on_its_batch():
    generator = tiny()
    x = images(3)
    alone = generator(x[:1], training=False)
    together = generator(x, training=False)[:1]
    np.testing.assert_allclose(alone, together, atol=1e-5)


def test_alpha_one_is_the_generator_and_smaller_alpha_blends_inside():
    generator = tiny()
    blend = with_alpha(generator)
    assert sorted(tensor.name for tensor in blend.inputs) == ["alpha", "image"]
    assert blend.count_params() == generator.count_params()
    x = images(2)
    plain = generator(x).numpy()
    np.testing.assert_array_equal(blend({"image": x, "alpha": np.ones(2, "float32")}), plain)  # [B]
    np.testing.assert_array_equal(blend({"image": x, "alpha": np.ones((2, 1), "float32")}), plain)  # [B, 1]
    half = blend({"image": x, "alpha": np.full(2, 0.5, "float32")}).numpy()
    zero = blend({"image": x, "alpha": np.zeros(2, "float32")}).numpy()
    assert np.isfinite(half).all() and np.isfinite(zero).all()
    assert np.abs(half - plain).mean() > 1e-4 and np.abs(half - zero).mean() > 1e-4
    mixed = blend({"image": x, "alpha": np.array([1.0, 0.5], "float32")}).numpy()  # One alpha per example.
    np.testing.assert_array_equal(mixed[0], plain[0])
    np.testing.assert_allclose(mixed[1], half[1], atol=1e-6)


def test_alpha_variant_shares_the_weights():
    generator = tiny()
    blend = with_alpha(generator)
    assert {id(v) for v in blend.weights} == {id(v) for v in generator.weights}
    x = images(2)
    alpha = np.full(2, 0.5, "float32")
    before = blend({"image": x, "alpha": alpha}).numpy()
    kernel = generator.get_layer("block1_1_conv").kernel
    kernel.assign(kernel + np.random.default_rng(1).normal(0, 0.1, kernel.shape).astype("float32"))
    assert np.abs(blend({"image": x, "alpha": alpha}) - before).mean() > 1e-4


def test_built_with_alpha_drops_it_again():
    # Its config and .keras round trips: tests/models/test_layer_harness.py.
    blend = tiny(residual_scale_input=True)
    x = images(2)
    plain = without_alpha(blend)
    assert [tensor.name for tensor in plain.inputs] == ["image"]
    np.testing.assert_array_equal(plain(x), blend({"image": x, "alpha": np.ones(2, "float32")}))


@pytest.mark.parametrize(
    "kwargs, message",
    [({"image_size": 30}, "image_size=30"), ({"image_size": 16, "norm": "layer"}, "norm='layer'"), ({"image_size": 16, "n_blocks": -1}, "n_blocks=-1")],
)
def test_bad_arguments_say_what_was_received(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_resnet_generator(**kwargs)
    with pytest.raises(ValueError, match="build_resnet_generator"):
        with_alpha(keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)]))
