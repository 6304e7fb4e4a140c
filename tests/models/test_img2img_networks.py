"""The image-to-image networks: U-Net generator and PatchGAN discriminator, against the pix2pix reference."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from shoes_generator.models.blocks import InstanceNormalization
from shoes_generator.models.patchgan import build_patchgan_discriminator, patch_map_size, receptive_field
from shoes_generator.models.unet import UNET_DEPTHS, build_unet_generator


def count(model):
    """Trainable parameters, as PyTorch counts them (BatchNorm's moving statistics left out)."""
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def images(batch, size, channels=3, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (batch, size, size, channels)).astype("float32")


@pytest.mark.parametrize("size, depth", [(16, 4), (32, 5)])
def test_unet_goes_down_to_1x1_by_default_and_keeps_the_size(size, depth):
    generator = build_unet_generator(size, in_channels=4, base_filters=4)
    downs = [layer for layer in generator.layers if isinstance(layer, keras.layers.Conv2D) and layer.name.startswith("down")]
    assert len(downs) == depth and downs[-1].output.shape[1:3] == (1, 1)
    assert [l.filters for l in downs] == [4, 8, 16, 32, 32][:depth]  # Capped at 8 * base_filters.
    assert generator.inputs[0].name == "input" and generator.inputs[0].shape == (None, size, size, 4)
    out = generator(images(3, size, 4))
    assert out.shape == (3, size, size, 3) and out.dtype == "float32"
    assert float(np.abs(out).max()) <= 1.0


def test_unet_256_matches_the_reference_parameter_count():
    # pytorch-CycleGAN-and-pix2pix, --norm batch, 3 -> 3 channels, counted from its networks.py
    # (prints "[Network G] Total number of parameters : 54.414 M" for unet_256).
    unet_256 = build_unet_generator(256, base_filters=64, norm="batch", depth=UNET_DEPTHS["unet_256"])
    assert count(unet_256) == 54_413_955
    assert unet_256.get_layer("down0").bias is None  # The reference drops every bias before BatchNorm ... and the first.
    assert unet_256.get_layer("down7").output.shape[1:3] == (1, 1)
    assert UNET_DEPTHS["unet_128"] == 7  # 41,828,995 parameters at 128 px (not built here: 2 s).


def test_unet_depth_can_stop_above_1x1():
    generator = build_unet_generator(32, base_filters=4, depth=3)
    assert generator.get_layer("down2").output.shape[1:3] == (4, 4)
    assert generator(images(1, 32)).shape == (1, 32, 32, 3)


@pytest.mark.parametrize(
    "kwargs, received",
    [
        ({"image_size": 48}, "image_size=48"),
        ({"image_size": 1}, "image_size=1"),
        ({"image_size": 16, "depth": 5}, "depth=5"),
        ({"image_size": 16, "norm": "layer"}, "norm='layer'"),
        ({"image_size": 16, "dropout": 1.0}, "dropout=1.0"),
    ],
)
def test_unet_arguments_are_validated(kwargs, received):
    with pytest.raises(ValueError, match=f"Received: .*{received}"):
        build_unet_generator(base_filters=4, **kwargs)


def test_unet_dropout_is_active_in_training_only():
    generator = build_unet_generator(16, base_filters=4)
    dropouts = [layer.name for layer in generator.layers if isinstance(layer, keras.layers.Dropout)]
    assert dropouts == ["up2_dropout", "up1_dropout", "up0_dropout"]  # The first three decoder blocks.
    x = images(2, 16)
    assert not np.allclose(generator(x, training=True), generator(x, training=True))
    np.testing.assert_array_equal(generator(x, training=False), generator(x, training=False))
    deep = build_unet_generator(64, base_filters=2)
    assert [l.name for l in deep.layers if isinstance(l, keras.layers.Dropout)] == ["up4_dropout", "up3_dropout", "up2_dropout"]
    plain = build_unet_generator(16, base_filters=4, dropout=0.0)
    assert not any(isinstance(layer, keras.layers.Dropout) for layer in plain.layers)


def test_instance_norm_output_does_not_depend_on_the_rest_of_the_batch():
    generator = build_unet_generator(16, base_filters=4)  # norm="instance"
    assert any(isinstance(layer, InstanceNormalization) for layer in generator.layers)
    x = images(2, 16)
    together = generator(x, training=False)
    alone = generator(x[:1], training=False)
    np.testing.assert_allclose(together[:1], alone, atol=1e-5)
    with_other = generator(np.concatenate([x[:1], images(1, 16, seed=7)]), training=False)
    np.testing.assert_allclose(with_other[:1], alone, atol=1e-5)


def test_patchgan_matches_the_reference_70x70_discriminator():
    # pytorch-CycleGAN-and-pix2pix "basic" D, --norm batch: pix2pix sees 3 + 3 channels
    # ("[Network D] Total number of parameters : 2.769 M"), CycleGAN 3 ("2.765 M").
    pix2pix = build_patchgan_discriminator(256, base_filters=64, n_layers=3, norm="batch")
    assert pix2pix.output_shape == (None, 30, 30, 1) and patch_map_size(256) == 30
    assert count(pix2pix) == 2_768_705
    cyclegan = build_patchgan_discriminator(256, base_filters=64, norm="batch", conditional=False)
    assert count(cyclegan) == 2_765_633
    assert [t.name for t in cyclegan.inputs] == ["image"]


def test_receptive_field_follows_the_layer_arithmetic_and_the_network():
    assert [receptive_field(n) for n in (1, 2, 3, 4)] == [16, 34, 70, 142]
    with pytest.raises(ValueError, match="n_layers=0"):
        receptive_field(0)
    for n_layers, size in ((1, 32), (3, 128)):
        # Batch norm in inference mode is per pixel, so one logit's gradient covers exactly its patch.
        discriminator = build_patchgan_discriminator(size, base_filters=2, n_layers=n_layers, norm="batch", conditional=False)
        x = tf.constant(images(1, size))
        with tf.GradientTape() as tape:
            tape.watch(x)
            logits = discriminator(x, training=False)
            centre = logits[0, logits.shape[1] // 2, logits.shape[2] // 2, 0]
        support = np.abs(tape.gradient(centre, x).numpy()[0]).sum(axis=-1) > 0
        rows, cols = np.nonzero(support)
        assert rows.max() - rows.min() + 1 == receptive_field(n_layers)
        assert cols.max() - cols.min() + 1 == receptive_field(n_layers)


def test_patchgan_inputs_shapes_and_validation():
    discriminator = build_patchgan_discriminator(16, in_channels=4, base_filters=4, n_layers=2)
    assert sorted(t.name for t in discriminator.inputs) == ["input", "target"]
    logits = discriminator({"input": images(2, 16, 4), "target": images(2, 16)})
    assert logits.shape == (2, patch_map_size(16, 2), patch_map_size(16, 2), 1) == (2, 2, 2, 1)  # dtypes: test_layer_harness.py
    assert build_patchgan_discriminator(24, base_filters=2, n_layers=3).output_shape == (None, 1, 1, 1)
    with pytest.raises(ValueError, match="Received: image_size=16"):
        build_patchgan_discriminator(16, base_filters=4, n_layers=3)
    with pytest.raises(ValueError, match="Received: norm='spectral'"):
        build_patchgan_discriminator(32, norm="spectral")
    with pytest.raises(ValueError, match="Received: n_layers=0"):
        build_patchgan_discriminator(32, n_layers=0)


@pytest.mark.parametrize("shape", [(1, 64, 64, 16), (3, 64, 64, 16), (3, 8, 6, 16), (None, 64, 64, 16)])
def test_instance_norm_equals_group_norm_per_channel_in_values_gradients_and_weight_names(shape):
    """Maps of 2**16 values per example take the fused kernel per example; smaller ones and an unknown batch (None:
    traced so) the moments."""
    rng = np.random.default_rng(len(shape))
    x = tf.constant(rng.normal(2.0, 3.0, (shape[0] or 2, *shape[1:])).astype("float32"))
    fused = InstanceNormalization(name="norm")
    grouped = keras.layers.GroupNormalization(groups=-1, epsilon=1e-5, name="norm")
    weights = [rng.normal(1.0, 0.3, 16).astype("float32"), rng.normal(0.0, 0.3, 16).astype("float32")]
    for layer in (fused, grouped):
        layer.build(x.shape)
        layer.set_weights(weights)
    assert [v.path for v in fused.weights] == [v.path for v in grouped.weights] == ["norm/gamma", "norm/beta"]

    @tf.function(input_signature=[tf.TensorSpec(shape, tf.float32)])
    def fused_run(x):
        return outputs_and_gradients(fused, x)

    def outputs_and_gradients(layer, x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = layer(x)
            loss = tf.reduce_sum(out * tf.sin(x))  # Not a plain sum: its gradient through a norm is not zero.
        return [out, *tape.gradient(loss, [x, *layer.trainable_variables])]

    graph = fused_run.get_concrete_function().graph
    assert any(op.type.startswith("FusedBatchNorm") for op in graph.get_operations()) == (None not in shape and shape[1] * shape[2] * shape[3] >= 2**16)
    mine, reference = fused_run(x), outputs_and_gradients(grouped, x)
    for index, tolerance in enumerate([2e-5, 2e-5, 1e-3, 1e-3]):  # The gamma and beta gradients: sums of 4,096 terms.
        np.testing.assert_allclose(mine[index], reference[index], rtol=1e-5, atol=tolerance)
    assert float(tf.reduce_max(tf.abs(fused_run(x)[1]))) > 0.1


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_the_fused_path_under_mixed_precision_matches_float32_to_the_compute_dtypes_rounding(policy):
    x = tf.random.normal([2, 64, 64, 16], mean=1.0, stddev=2.0, seed=3)
    exact, mixed = InstanceNormalization(), InstanceNormalization(dtype=policy)
    exact.build(x.shape)
    mixed.build(x.shape)

    @tf.function
    def run(layer, x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = layer(x)
            loss = tf.reduce_sum(tf.cast(out, tf.float32) * tf.sin(x))
        return out, tape.gradient(loss, x)

    (out, grad), (mixed_out, mixed_grad) = run(exact, x), run(mixed, x)
    assert mixed_out.dtype == keras.mixed_precision.Policy(policy).compute_dtype
    graph = run.get_concrete_function(mixed, x).graph
    assert any(op.type.startswith("FusedBatchNorm") for op in graph.get_operations())
    np.testing.assert_allclose(tf.cast(mixed_out, tf.float32), out, atol=0.05 if policy == "mixed_bfloat16" else 5e-3)
    np.testing.assert_allclose(mixed_grad, grad, atol=0.05 if policy == "mixed_bfloat16" else 5e-3)


def test_fused_instance_norm_reads_float32_weights_under_mixed_precision_and_round_trips_its_config():
    layer = InstanceNormalization(epsilon=1e-3, center=False, dtype="mixed_bfloat16", name="n")
    out = layer(tf.random.normal([2, 4, 4, 3], seed=1))
    assert out.dtype == tf.bfloat16 and layer.gamma.dtype == "float32" and layer.beta is None
    again = InstanceNormalization.from_config(layer.get_config())
    assert (again.epsilon, again.center, again.scale) == (1e-3, False, True)
    with pytest.raises(ValueError, match=r"NHWC.*Received: shape \(2, 3\)"):
        InstanceNormalization().build((2, 3))
