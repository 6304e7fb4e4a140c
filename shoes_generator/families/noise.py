"""What the noise-to-shoe families (`dcgan`, `conditional`) share: the `GAN` wrapper, the sample grid,
the generator export and the generator evaluation. Each family supplies its networks."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from shoes_generator.configs import IMAGE_SOURCES, ModelConfig
from shoes_generator.families.base import Family


@dataclasses.dataclass
class NoiseModel(ModelConfig):
    """A noise generator against a discriminator.

    Attributes:
        latent_dim: noise size (nz).
        g_filters: generator feature maps of the last hidden block (ngf).
        d_filters: discriminator feature maps of the first block (ndf).
    """

    latent_dim: int = 100
    g_filters: int = 64
    d_filters: int = 64


class NoiseFamily(Family):
    """A `GAN` of the family's networks (`networks`), with the run's losses, EMA and mode seeking."""

    sources = IMAGE_SOURCES
    noise_generator = True

    def networks(self, config, vocabularies, dtype):
        """The generator and the discriminator of `config` under compute `dtype` (None: float32)."""
        raise NotImplementedError

    def label_sizes(self, config, vocabularies) -> dict:
        """The conditioning labels and their vocabulary sizes ({} for an unconditional GAN)."""
        return {}

    def build(self, config, vocabularies=None, steps_per_epoch=None):
        from shoes_generator.builders import compiled
        from shoes_generator.gans.gan import GAN

        train = config.train
        dtype = None if train.precision == "float32" else train.precision
        generator, discriminator = self.networks(config, vocabularies, dtype)
        sizes = self.label_sizes(config, vocabularies)
        gan = GAN(
            generator,
            discriminator,
            latent_dim=config.model.latent_dim,
            label_names=tuple(sizes),
            label_sizes=sizes or None,
            loss=train.loss,
            gp_weight=train.gp_weight,
            d_steps=train.d_steps,
            ema_decay=train.ema_decay,
            mode_seeking=train.mode_seeking,
            seed=train.seed,
        )
        return compiled(gan, config, steps_per_epoch, "g_optimizer", "d_optimizer")

    def sample_callback(self, config, data, run_dir: Path):
        from shoes_generator.callbacks import SampleGrid

        return SampleGrid(
            run_dir / "samples",
            config.model.latent_dim,
            data.vocabularies if data.labels else None,
            data.labels,
            per_cell=config.train.sample_columns,
            seed=config.train.seed + 1234,
            log_dir=run_dir / "logs" / "samples",
        )

    def export(self, model, config, vocabularies, path: Path) -> Path:
        """The EMA generator (BatchNorm statistics refreshed first) with `export_generator`'s signatures."""
        from shoes_generator.export import export_generator

        model.refresh_sampler_statistics()
        return export_generator(model.sampler, config.model.latent_dim, vocabularies, model.label_names, path)

    def evaluate(self, saved_model, config, options, metrics=()) -> dict:
        return evaluate_noise_generator(saved_model, options, metrics)


def evaluate_noise_generator(saved_model, options, metrics=()) -> dict:
    """A generator's `shoes-eval` report (a run's export, a bare SavedModel or a served model).

    Args:
        saved_model: the SavedModel directory (None with ``options.server``).
        options: the parsed command line (``samples``, ``seed``, ``cache``, ``features``,
            ``inception_weights``, ``server``, ``name``).
        metrics: the feature metrics asked for (``fid``, ``kid``, ``pr``, ...).

    Raises:
        RuntimeError: the InceptionV3 weights could not be loaded.
    """
    from shoes_generator.evaluation.generator_eval import ServedSampler, evaluate_saved_model

    extractor = None
    if metrics and options.features == "inception":
        from shoes_generator.metrics import InceptionFeatures

        extractor = InceptionFeatures(options.inception_weights)
    server = ServedSampler(options.server, options.name) if options.server else None
    return evaluate_saved_model(saved_model, options.samples, options.seed, options.cache, metrics=list(metrics),
                                metric_features=extractor, server=server)
