"""`AdversarialModel`: the one base of the two-player wrappers (optimizers, step, trackers, configs, checkpoints)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from shoes_generator.builders import dtype_policy
from shoes_generator.gans.adversarial import AdversarialModel, apply_gradients, scaled_loss
from shoes_generator.gans.cyclegan import CycleGAN
from shoes_generator.gans.gan import GAN
from shoes_generator.gans.pix2pix import Pix2Pix
from shoes_generator.models.dcgan import build_dcgan_discriminator, build_dcgan_generator
from shoes_generator.models.patchgan import build_patchgan_discriminator
from shoes_generator.models.resnet_generator import build_resnet_generator
from shoes_generator.models.unet import build_unet_generator

SHARED = ("compile", "_prepare_optimizer", "build_optimizers", "get_compile_config", "compile_from_config", "from_config", "metrics")


def gan():
    return GAN(build_dcgan_generator(8, image_size=16, base_filters=4), build_dcgan_discriminator(image_size=16, base_filters=4), latent_dim=8)


def pix2pix():
    return Pix2Pix(build_unet_generator(16, base_filters=4, depth=2), build_patchgan_discriminator(16, base_filters=4, n_layers=1))


def cyclegan():
    generator = lambda name: build_resnet_generator(16, 3, base_filters=4, n_blocks=1, name=name)
    discriminator = lambda name: build_patchgan_discriminator(16, base_filters=4, n_layers=1, conditional=False, name=name)
    return CycleGAN(generator("generator_ab"), generator("generator_ba"), discriminator("discriminator_a"), discriminator("discriminator_b"),
                    pool_size=2)


WRAPPERS = {"gan": gan, "pix2pix": pix2pix, "cyclegan": cyclegan}
CHECKPOINT_NAMES = {  # The names every run's checkpoints were written under: old runs must keep restoring.
    "gan": {"step", "generator", "discriminator", "ema_generator", "noise_seed", "g_optimizer", "d_optimizer"},
    "pix2pix": {"step", "generator", "discriminator", "g_optimizer", "d_optimizer"},
    "cyclegan": {"step", "generator_ab", "generator_ba", "discriminator_a", "discriminator_b", "pool_a", "pool_b", "g_optimizer",
                 "d_optimizer"},
}


@pytest.mark.parametrize("cls", [GAN, Pix2Pix, CycleGAN])
def test_the_wrappers_inherit_the_plumbing_and_borrow_nothing(cls):
    assert issubclass(cls, AdversarialModel)
    assert not [name for name in SHARED if name in vars(cls)]


@pytest.mark.parametrize("name", sorted(WRAPPERS))
def test_compile_leaves_keras_own_optimizer_unset_and_checkpoints_keep_their_names(name):
    model = WRAPPERS[name]()
    model.compile(g_optimizer=keras.optimizers.Adam(1e-3), d_optimizer="sgd")
    assert model.optimizer is None and isinstance(model.d_optimizer, keras.optimizers.SGD)
    assert set(model.checkpoint_objects()) == CHECKPOINT_NAMES[name]
    assert set(model.checkpoint_objects(optimizers=False)) == CHECKPOINT_NAMES[name] - {"g_optimizer", "d_optimizer"}
    assert [metric.name for metric in model.metrics] == list(type(model).TRACKED)


def test_float16_networks_get_loss_scaled_optimizers():
    with dtype_policy("mixed_float16"):
        model = pix2pix()
    model.compile()
    assert model.uses_float16
    assert all(isinstance(opt, keras.optimizers.LossScaleOptimizer) for opt in (model.g_optimizer, model.d_optimizer))
    plain = pix2pix()
    plain.compile()
    assert not plain.uses_float16 and not isinstance(plain.g_optimizer, keras.optimizers.LossScaleOptimizer)


@keras.saving.register_keras_serializable(package="tests")
class ToyAdversary(AdversarialModel):
    """A new two-player wrapper needs its networks, its tracked losses and `train_step`, nothing more."""

    NETWORK_KEYS = ("generator", "discriminator")
    TRACKED = ("d_loss", "g_loss")

    def __init__(self, generator, discriminator, **kwargs):
        super().__init__(**kwargs)
        self.generator, self.discriminator = generator, discriminator

    def train_step(self, data):
        real = data["image"]
        noise = tf.random.stateless_normal([tf.shape(real)[0], 4], seed=[0, tf.cast(self.step, tf.int32)])
        with tf.GradientTape() as tape:
            d_loss = tf.reduce_mean(tf.nn.softplus(-self.discriminator(real)) + tf.nn.softplus(self.discriminator(self.generator(noise))))
        apply_gradients(self.d_optimizer, tape, scaled_loss(self.d_optimizer, d_loss), self.discriminator_variables)
        with tf.GradientTape() as tape:
            g_loss = tf.reduce_mean(tf.nn.softplus(-self.discriminator(self.generator(noise))))
        apply_gradients(self.g_optimizer, tape, scaled_loss(self.g_optimizer, g_loss), self.generator_variables)
        self.step.assign_add(1)
        return self._track(d_loss=d_loss, g_loss=g_loss)


def test_a_new_wrapper_trains_saves_and_reloads_with_the_base_alone(tmp_path):
    generator = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)], name="generator")
    discriminator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)], name="discriminator")
    model = ToyAdversary(generator, discriminator)
    model.compile(g_optimizer=keras.optimizers.Adam(1e-2), d_optimizer=keras.optimizers.Adam(1e-2))
    data = tf.data.Dataset.from_tensor_slices({"image": np.ones((8, 2), "float32")}).batch(4)
    history = model.fit(data, epochs=2, verbose=0).history
    assert set(history) == {"d_loss", "g_loss"} and int(model.step.numpy()) == 4
    assert int(model.g_optimizer.iterations) == 4 and int(model.d_optimizer.iterations) == 4
    model.save(tmp_path / "toy.keras")
    loaded = keras.models.load_model(tmp_path / "toy.keras")
    assert isinstance(loaded, ToyAdversary) and isinstance(loaded.g_optimizer, keras.optimizers.Adam)
    np.testing.assert_allclose(loaded.generator(np.ones((1, 4))), model.generator(np.ones((1, 4))))
