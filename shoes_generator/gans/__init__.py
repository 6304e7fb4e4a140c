"""keras.Model wrappers that own train_step / test_step."""

from shoes_generator.gans.gan import GAN
