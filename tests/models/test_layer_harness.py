"""Every custom layer and network builder through the layer harness (tests/layer_harness.py):
shapes, config and `.keras` round trips, mixed_bfloat16 / mixed_float16 with float32 outputs."""

import numpy as np
import pytest

from shoes_generator.models.blocks import MinibatchStdDev
from shoes_generator.models.conditional import build_conditional_generator, build_projection_discriminator
from shoes_generator.models.dcgan import build_dcgan_discriminator, build_dcgan_generator
from shoes_generator.models.patchgan import build_patchgan_discriminator
from shoes_generator.models.resnet_generator import ReflectionPadding2D, ScaledResidual, build_resnet_generator
from shoes_generator.models.pattern import AdaIN, MaskedMoments, ObjectMask, build_pattern_encoder, build_pattern_generator
from shoes_generator.models.spade import SPADE, build_multiscale_discriminator, build_spade_generator, build_style_encoder
from shoes_generator.models.stylegan2 import build_mapping_network, build_stylegan_discriminator, build_synthesis_network, num_ws
from shoes_generator.models.stylegan2_layers import (
    BiasActivation,
    ConstantInput,
    EqualizedConv2D,
    EqualizedDense,
    FIRUpsample2D,
    GroupedMinibatchStdDev,
    ModulatedConv2D,
    NoiseInjection,
    Normalize2ndMoment,
    ToRGB,
    WSlice,
)
from shoes_generator.models.tutorial import (
    build_tutorial_discriminator,
    build_tutorial_generator,
    build_tutorial_pix2pix_discriminator,
    build_tutorial_pix2pix_generator,
)
from shoes_generator.models.unet import build_unet_generator
from shoes_generator.segmentation.models import build_fcn_segmenter, build_unet_segmenter
from tests.layer_harness import run_builder_test, run_layer_test

BATCH = 2
VOCAB = {"color": 11, "category": 3}


def images(size=16, channels=3, batch=BATCH, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (batch, size, size, channels)).astype("float32")


def labels(batch=BATCH):
    return {"color": np.arange(batch, dtype="int32") % 11, "category": np.arange(batch, dtype="int32") % 3}


def z(dim=8, batch=BATCH):
    return np.random.default_rng(1).normal(size=(batch, dim)).astype("float32")


# ------------------------------------------------------------------ layers
def minibatch_std_expected(x):
    level = np.sqrt(x.var(axis=0) + 1e-8).mean()
    return np.concatenate([x, np.full((*x.shape[:-1], 1), level, "float32")], axis=-1)


PARTS = np.eye(3, dtype="float32")[np.random.default_rng(6).integers(0, 3, (BATCH, 8, 8))]  # One-hot part maps.
H, F, ALPHA = images(4, seed=2), images(4, seed=3), np.array([1.0, 0.25], "float32")
PADDED = images(5, seed=4)[:, :, :4]

LAYERS = {  # name: (class, constructor arguments, input, output shape, further run_layer_test arguments)
    "minibatch_std": (
        MinibatchStdDev, {}, images(4), (BATCH, 4, 4, 4),
        {"float32_output": True, "expected_output": minibatch_std_expected(images(4)), "tolerance": 1e-6},
    ),
    "reflection_padding": (
        ReflectionPadding2D, {"padding": (2, 3)}, PADDED, (BATCH, 9, 10, 3),
        {"expected_output": np.pad(PADDED, [(0, 0), (2, 2), (3, 3), (0, 0)], mode="reflect")},
    ),
    "scaled_residual": (ScaledResidual, {}, [H, F, ALPHA], (BATCH, 4, 4, 3), {"expected_output": H + ALPHA[:, None, None, None] * F}),
    "equalized_dense": (
        EqualizedDense, {"units": 3, "use_bias": True, "bias_init": 0.5, "lr_multiplier": 0.01, "activation": "lrelu"}, z(), (BATCH, 3), {},
    ),
    "equalized_conv_down": (
        EqualizedConv2D, {"filters": 4, "kernel_size": 3, "down": True, "activation": "lrelu"}, images(8), (BATCH, 4, 4, 4), {},
    ),
    "equalized_conv_skip": (
        EqualizedConv2D, {"filters": 4, "kernel_size": 1, "down": True, "use_bias": False}, images(8), (BATCH, 4, 4, 4), {},
    ),
    "modulated_conv_up": (
        ModulatedConv2D, {"filters": 4, "kernel_size": 3, "demodulate": True, "up": True, "use_bias": False},
        [images(4), z()], (BATCH, 8, 8, 4), {},
    ),
    "to_rgb": (ToRGB, {"channels": 3}, [images(4, channels=4), z()], (BATCH, 4, 4, 3), {}),
    "noise_injection": (NoiseInjection, {"seed": 1}, images(4), (BATCH, 4, 4, 3), {}),  # Inference: the stored noise.
    "bias_activation": (BiasActivation, {"activation": "lrelu"}, images(4), (BATCH, 4, 4, 3), {}),
    "constant_input": (ConstantInput, {"channels": 4, "size": 4}, z(), (BATCH, 4, 4, 4), {}),
    "w_slice": (WSlice, {"index": 1}, np.stack([z(), 2 * z(), 3 * z()], axis=1), (BATCH, 8), {"expected_output": 2 * z()}),
    "normalize_2nd_moment": (
        Normalize2ndMoment, {}, z(), (BATCH, 8),
        {"expected_output": z() / np.sqrt((z() ** 2).mean(-1, keepdims=True) + 1e-8), "tolerance": 1e-6},
    ),
    "fir_upsample": (FIRUpsample2D, {}, images(4), (BATCH, 8, 8, 3), {}),
    "spade": (SPADE, {"hidden": 4}, [images(4, channels=4), PARTS], (BATCH, 4, 4, 4), {}),
    "spade_spectral": (SPADE, {"hidden": 4, "spectral": True}, [images(8, channels=2), PARTS], (BATCH, 8, 8, 2), {}),
    "adain": (AdaIN, {}, [images(4, channels=4), z(5)], (BATCH, 4, 4, 4), {}),
    "masked_moments": (MaskedMoments, {}, [images(4, channels=4), (images(8, channels=1) > 0).astype("float32")], (BATCH, 8), {}),
    "object_mask": (ObjectMask, {}, images(8), (BATCH, 8, 8, 1), {"float32_output": True}),
    "grouped_minibatch_std": (GroupedMinibatchStdDev, {"group_size": 2, "num_channels": 2}, images(4, channels=4), (BATCH, 4, 4, 6), {}),
}


@pytest.mark.parametrize("name", LAYERS)
def test_layer(name, tmp_path):
    layer_class, kwargs, data, shape, options = LAYERS[name]
    run_layer_test(layer_class, kwargs, data, shape, tmp_path, **options)


# ---------------------------------------------------------------- builders
PROJECTION_SN = ("linear_sn", "color_projection_sn", "category_projection_sn")
BUILDERS = {
    "dcgan_generator": (build_dcgan_generator, {"latent_dim": 8, "image_size": 16, "base_filters": 4}, z(), (BATCH, 16, 16, 3), ()),
    "dcgan_discriminator": (build_dcgan_discriminator, {"image_size": 16, "base_filters": 4}, images(), (BATCH, 1), ()),
    "conditional_generator": (
        build_conditional_generator,
        {"vocab_sizes": VOCAB, "latent_dim": 8, "embed_dim": 4, "image_size": 16, "base_filters": 4},
        {"z": z(), **labels()}, (BATCH, 16, 16, 3), (),
    ),
    "projection_discriminator": (
        build_projection_discriminator, {"vocab_sizes": VOCAB, "image_size": 16, "base_filters": 4, "minibatch_std": True},
        {"image": images(), **labels()}, (BATCH, 1), PROJECTION_SN,
    ),
    "projection_discriminator_bn": (
        build_projection_discriminator,
        {"vocab_sizes": VOCAB, "image_size": 16, "base_filters": 4, "spectral_norm": False, "batch_norm": True},
        {"image": images(), **labels()}, (BATCH, 1), ("linear", "color_projection", "category_projection"),
    ),
    "patchgan": (
        build_patchgan_discriminator, {"image_size": 16, "in_channels": 4, "base_filters": 4, "n_layers": 2},
        {"input": images(channels=4), "target": images()}, (BATCH, 2, 2, 1), ("logits",),
    ),
    "patchgan_unconditional_batch": (
        build_patchgan_discriminator, {"image_size": 16, "base_filters": 4, "n_layers": 2, "norm": "batch", "conditional": False},
        images(), (BATCH, 2, 2, 1), ("logits",),
    ),
    "resnet_generator": (build_resnet_generator, {"image_size": 16, "base_filters": 4, "n_blocks": 2}, images(), (BATCH, 16, 16, 3), ()),
    "resnet_generator_alpha": (
        build_resnet_generator, {"image_size": 16, "base_filters": 4, "n_blocks": 2, "residual_scale_input": True},
        {"image": images(), "alpha": np.array([[1.0], [0.25]], "float32")}, (BATCH, 16, 16, 3), (),
    ),
    "unet_generator": (build_unet_generator, {"image_size": 16, "base_filters": 4}, images(), (BATCH, 16, 16, 3), ()),
    "unet_segmenter": (build_unet_segmenter, {"image_size": 16, "num_classes": 3, "base_filters": 4}, images(), (BATCH, 16, 16, 3), ()),
    "fcn_segmenter": (build_fcn_segmenter, {"image_size": 16, "num_classes": 3, "base_filters": 4}, images(), (BATCH, 16, 16, 3), ()),
    "stylegan2_mapping": (
        build_mapping_network, {"label_sizes": VOCAB, "latent_dim": 8, "w_dim": 8, "depth": 2, "embed_dim": 4},
        {"z": z(), **labels()}, (BATCH, 8), (),
    ),
    "stylegan2_mapping_unconditional": (
        build_mapping_network, {"label_sizes": {}, "latent_dim": 8, "w_dim": 8, "depth": 2}, {"z": z()}, (BATCH, 8), (),
    ),
    "stylegan2_synthesis": (
        build_synthesis_network, {"image_size": 16, "w_dim": 8, "channel_base": 64, "channel_max": 16},
        {"w": np.random.default_rng(5).normal(size=(BATCH, num_ws(16), 8)).astype("float32")}, (BATCH, 16, 16, 3), (),
    ),
    "stylegan2_discriminator": (
        build_stylegan_discriminator, {"image_size": 16, "label_sizes": VOCAB, "channel_base": 64, "channel_max": 16},
        {"image": images(), **labels()}, (BATCH, 1), ("out", "color_embed", "category_embed"),
    ),
    "stylegan2_discriminator_unconditional": (
        build_stylegan_discriminator, {"image_size": 8, "channel_base": 32, "channel_max": 8, "mbstd_group": 4},
        {"image": images(8)}, (BATCH, 1), ("out",),
    ),
    "spade_generator": (
        build_spade_generator, {"image_size": 8, "num_classes": 3, "base_filters": 2, "z_dim": 4, "hidden": 4},
        {"parts": PARTS, "z": z(4)}, (BATCH, 8, 8, 3), (),
    ),
    "spade_style_encoder": (
        build_style_encoder, {"image_size": 8, "base_filters": 4, "z_dim": 4}, images(8), [(BATCH, 4), (BATCH, 4)], ("mu", "logvar"),
    ),
    "spade_discriminator": (
        build_multiscale_discriminator, {"image_size": 8, "num_classes": 3, "base_filters": 4, "n_layers": 2, "num_scales": 2},
        {"image": images(8), "parts": PARTS},
        [(BATCH, 5, 5, 4), (BATCH, 6, 6, 8), (BATCH, 7, 7, 1), (BATCH, 3, 3, 4), (BATCH, 4, 4, 8), (BATCH, 5, 5, 1)],
        ("d0_logits_sn", "d1_logits_sn"),
    ),
    "pattern_encoder": (build_pattern_encoder, {"image_size": 8, "base_filters": 2, "style_dim": 4}, images(8), (BATCH, 4), ("style",)),
    "pattern_generator": (
        build_pattern_generator, {"image_size": 8, "num_categories": 3, "z_dim": 4, "style_dim": 5, "base_filters": 2, "embed_dim": 2},
        {"z": z(4), "category": np.array([0, 3], "int32"), "style": z(5), "sketch": images(8)}, (BATCH, 8, 8, 3), (),
    ),
    "tutorial_generator": (build_tutorial_generator, {"latent_dim": 8}, z(), (BATCH, 28, 28, 1), ()),
    "tutorial_discriminator": (build_tutorial_discriminator, {}, images(28, 1), (BATCH, 1), ("logit",)),
    "tutorial_pix2pix_generator": (build_tutorial_pix2pix_generator, {}, images(256, batch=1), (1, 256, 256, 3), ()),
    "tutorial_pix2pix_discriminator": (
        build_tutorial_pix2pix_discriminator, {}, [images(256, batch=1), images(256, batch=1, seed=1)], (1, 30, 30, 1), ("logits",),
    ),
}


SLOW = {"tutorial_pix2pix_generator"}  # 54M parameters at a fixed 256 px: ~45 s for the three policies.


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in BUILDERS])
def test_builder(name, tmp_path):
    builder, kwargs, inputs, shape, float32_layers = BUILDERS[name]
    run_builder_test(builder, kwargs, inputs, shape, tmp_path, float32_layers=float32_layers)
