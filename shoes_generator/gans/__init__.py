"""keras.Model wrappers that own train_step / test_step: the two-player base and its families."""

from shoes_generator.gans.adversarial import AdversarialModel
from shoes_generator.gans.gan import GAN

__all__ = ["AdversarialModel", "GAN"]
