"""The `dcgan` family: unconditional DCGAN shoes from noise (Radford et al. 2016) and its presets."""

from __future__ import annotations

import dataclasses

from shoes_generator.configs import DataConfig, ExperimentConfig, TrainConfig, register_preset
from shoes_generator.families.base import register_family
from shoes_generator.families.noise import NoiseFamily, NoiseModel


@dataclasses.dataclass
class DCGANModel(NoiseModel):
    """The DCGAN generator and discriminator (transposed convs + BN + ReLU; strided convs + BN + LeakyReLU)."""

    family: str = "dcgan"


class DCGANFamily(NoiseFamily):
    name = "dcgan"
    model_config = DCGANModel

    def networks(self, config, vocabularies, dtype):
        from shoes_generator.models.dcgan import build_dcgan_discriminator, build_dcgan_generator

        model, data = config.model, config.data
        common = {"image_size": data.image_size, "channels": data.channels, "dtype": dtype}
        generator = build_dcgan_generator(model.latent_dim, base_filters=model.g_filters, **common)
        return generator, build_dcgan_discriminator(base_filters=model.d_filters, **common)


register_family(DCGANFamily())


@register_preset
def dcgan64_paper() -> ExperimentConfig:
    """The DCGAN reference: nz 100, ngf/ndf 64, 64x64x3, Adam 2e-4/0.5, batch 128, 25 epochs."""
    return ExperimentConfig(
        name="dcgan64_paper",
        data=DataConfig(source="fmnist", image_size=64, channels=3),
        model=DCGANModel(latent_dim=100, g_filters=64, d_filters=64),
        train=TrainConfig(batch_size=128, epochs=25, g_lr=2e-4, d_lr=2e-4, beta_1=0.5, ema_decay=0.0),
    )
