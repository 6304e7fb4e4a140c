"""The network builders: shapes at every resolution, the DCGAN reference numbers, conditioning."""

import keras
import numpy as np
import pytest

from shoes_generator.models.conditional import build_conditional_generator, build_projection_discriminator
from shoes_generator.models.dcgan import build_dcgan_discriminator, build_dcgan_generator

VOCAB = {"color": 11, "category": 3}


def labels(batch):
    return {"color": np.arange(batch, dtype="int32") % 11, "category": np.arange(batch, dtype="int32") % 3}


@pytest.mark.parametrize("size", [16, 32, 64])
def test_dcgan_shapes_at_each_resolution(size):
    generator = build_dcgan_generator(latent_dim=8, image_size=size, base_filters=4)
    discriminator = build_dcgan_discriminator(image_size=size, base_filters=4)
    images = generator(np.random.normal(size=(3, 8)).astype("float32"))
    assert images.shape == (3, size, size, 3)
    assert float(np.abs(images).max()) <= 1.0
    assert discriminator(images).shape == (3, 1)


def test_dcgan64_matches_the_reference_parameter_counts():
    # The PyTorch DCGAN (nz=100, ngf=ndf=64, nc=3) has 3,576,704 G and 2,765,568 D parameters.
    generator, discriminator = build_dcgan_generator(), build_dcgan_discriminator()
    count = lambda model: sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert count(generator) == 3_576_704
    assert count(discriminator) == 2_765_568
    batch_norms = [layer for layer in generator.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert batch_norms and all(bn.momentum == 0.9 and bn.epsilon == 1e-5 for bn in batch_norms)
    kernel = generator.get_layer("up1").kernel.numpy()
    assert abs(kernel.std() - 0.02) < 0.002 and abs(kernel.mean()) < 0.002


def test_no_static_batch_size_anywhere():
    generator = build_conditional_generator(VOCAB, latent_dim=8, image_size=16, base_filters=4)
    discriminator = build_projection_discriminator(VOCAB, image_size=16, base_filters=4)
    for model in (generator, discriminator):
        for tensor in model.inputs:
            assert tensor.shape[0] is None
    for batch in (1, 5):
        out = generator({"z": np.zeros((batch, 8), "float32"), **labels(batch)})
        assert discriminator({"image": np.asarray(out), **labels(batch)}).shape == (batch, 1)


def test_labels_change_the_generated_image():
    generator = build_conditional_generator(VOCAB, latent_dim=8, image_size=16, base_filters=4)
    z = np.random.default_rng(0).normal(size=(1, 8)).astype("float32")
    red = generator({"z": z, "color": np.array([8], "int32"), "category": np.array([0], "int32")})
    blue = generator({"z": z, "color": np.array([1], "int32"), "category": np.array([0], "int32")})
    assert not np.allclose(red, blue)


def test_projection_discriminator_uses_spectral_norm_when_asked():
    with_sn = build_projection_discriminator(VOCAB, image_size=16, base_filters=4, spectral_norm=True)
    without = build_projection_discriminator(VOCAB, image_size=16, base_filters=4, spectral_norm=False)
    assert any(isinstance(layer, keras.layers.SpectralNormalization) for layer in with_sn.layers)
    assert not any(isinstance(layer, keras.layers.SpectralNormalization) for layer in without.layers)


@pytest.mark.parametrize("size", [12, 4, 48])
def test_bad_resolution_names_the_received_size(size):
    with pytest.raises(ValueError, match=f"image_size={size}"):
        build_dcgan_generator(image_size=size)


def test_conditional_needs_a_vocabulary():
    with pytest.raises(ValueError, match="at least one label vocabulary"):
        build_conditional_generator({}, image_size=16)
