"""The `pattern` family: a shoe in the print of any object (a leopard bag in, a leopard shoe out), its
shape from a type and noise or from a sketch, and its presets.

The design (`shoes_generator.models.pattern`, `shoes_generator.gans.pattern`): a pattern encoder takes
the mean and spread of its features over the exemplar object's own pixels (never the white around it),
so it describes the print whatever the object; the code modulates every block of a shoe generator
through adaptive instance norm (AdaIN). The generator's shape comes from a type embedding and noise
with a blank sketch, or from a drawn sketch (U-Net skips); a shape encoder reads the noise off the
shoe's sketch for part of the typed examples (cVAE-GAN), so a served seed's noise lands among real
shapes. Trained with a type-conditional hinge discriminator, an L1 term against the same print on the
same shoe for sketched and encoded examples, TextureGAN's local texture loss as statistics of colour,
contrast and neighbour differences inside the shoe, and optionally a colour transfer of each drawn shoe
toward the exemplar's colour moments (``model.colour_match``). With ``model.print_mapping="tiled"`` (the ``pattern_fmnist`` preset) the
generator paints only the shoe's shape and shading, as the shoe in a black and in a white print, and the
exemplar's own pixels (the largest square inside the object, repeated) are composed in: the print is
mapped, not painted, so it keeps the exemplar's colours, scale and direction. Its export (`shoes_generator.export.pattern`) serves ``serving_default`` (``pattern_bytes``,
``category``, ``seed``), ``with_sketch`` (``pattern_bytes``, ``image_bytes``) and ``labels``.

Data: ``fmnist_patterns`` makes the pairs in memory (`shoes_generator.data.patterns.pattern_pairs`:
procedural prints and `skimage.data` textures on bags, boxes and blobs, and on the Fashion-MNIST
shoes with their own shading); ``patterns`` reads a folder as `shoes-data patterns` writes it
(``exemplar/``, ``shoe/``, ``sketch/`` and ``print/`` PNGs of the same names and ``manifest.csv`` with
``file`` and ``category``), which is also the layout for a catalogue's own pairs (``print/`` optional).
"""

from __future__ import annotations

import csv
import dataclasses
import logging
from pathlib import Path

import numpy as np

from shoes_generator.configs import DataConfig, ExperimentConfig, ModelConfig, TrainConfig, register_preset
from shoes_generator.families.base import Family, register_family

IMAGE_KEYS = ("exemplar", "image", "sketch")
PRINT_MAPPINGS = ("learned", "tiled")  # Who puts the print on the shoe (`PatternModel.print_mapping`).
JUDGES = ("image", "shading")  # What the discriminator sees (`PatternModel.judge`).


@dataclasses.dataclass
class PatternModel(ModelConfig):
    """The pattern-transfer networks and losses.

    Attributes:
        latent_dim: the noise size.
        style_dim: the pattern code's size.
        g_filters: the generator's channels at full resolution (x8 at most); the encoder's first conv.
        d_filters: the discriminator's first block.
        embed_dim: the type embedding's size.
        sketch_probability: the share of training examples drawn from their sketch.
        encoded_probability: of the others, the share whose noise the shape encoder reads off the shoe's sketch
            (cVAE-GAN; the rest take N(0, 1) noise, as a served seed does).
        kl_weight: the shape encoder's KL weight (BicycleGAN's 0.01).
        l1_weight: L1 to the same print on the same shoe (sketched and encoded examples).
        texture_weight: the local texture loss (statistics inside the shoe).
        colour_match: how far each drawn shoe's colour moments are moved to the exemplar object's, in the
            graph (training and serving): 1 sets each channel's mean and spread inside the shoe to the
            exemplar's (Reinhard's colour transfer), 0 leaves the generator's colours.
        print_mapping: "learned": the generator paints the print from the style code; "tiled": it paints the
            shoe's shape and shading only and the exemplar's own print (the largest square inside the object,
            repeated) is composed in (`shoes_generator.gans.pattern`). Training data with the print each
            shoe wears (``fmnist_patterns``, or a folder with ``print/``) lets the L1 term align it.
        judge: "image": the discriminator judges the shoes in their prints; "shading" (tiled mapping and
            ``fmnist_patterns`` data only, which know each shoe in a black and a white print): it judges the
            generator's print-free output against those, so a loud print cannot hide a shoe's shape.
    """

    family: str = "pattern"
    latent_dim: int = 32
    style_dim: int = 64
    g_filters: int = 32
    d_filters: int = 32
    embed_dim: int = 16
    sketch_probability: float = 0.5
    encoded_probability: float = 0.5
    kl_weight: float = 0.01
    l1_weight: float = 20.0
    texture_weight: float = 10.0
    colour_match: float = 0.0
    print_mapping: str = "learned"
    judge: str = "image"


def read_pattern_folder(path: str | Path, image_size: int, limit: int | None = None) -> dict[str, np.ndarray]:
    """A `shoes-data patterns` folder as arrays: ``exemplar``, ``shoe``, ``sketch`` (and ``print`` when the folder
    has ``print/``) uint8 ``[N, S, S, 3]`` (fitted to the square as served images are: aspect kept, white
    padding) and ``category`` str ``[N]``.

    Args:
        path: the folder.
        image_size: the side S the images are fitted to.
        limit: read the manifest's first `limit` rows only (None: all).

    Raises:
        FileNotFoundError: no ``manifest.csv``, or a listed file is missing (it is named).
        ValueError: the manifest lacks the ``file`` or ``category`` column, or lists no rows.
    """
    import tensorflow as tf

    from shoes_generator.data.pipeline import decode_image, fit_image, to_float, to_uint8

    root = Path(path).expanduser()
    manifest = root / "manifest.csv"
    if not manifest.is_file():
        raise FileNotFoundError(f"A pattern folder needs manifest.csv (as `shoes-data patterns` writes it). Not found: {str(manifest)!r}")
    with manifest.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or not {"file", "category"} <= set(rows[0]):
        raise ValueError(f"{str(manifest)!r} must list rows with 'file' and 'category' columns. Received columns: {sorted(rows[0]) if rows else []}")
    rows = rows[:limit] if limit else rows

    def read(folder: str, name: str) -> np.ndarray:
        file = root / folder / name
        if not file.is_file():
            raise FileNotFoundError(f"{str(file)!r} is listed in manifest.csv but missing")
        return to_uint8(fit_image(to_float(decode_image(tf.constant(file.read_bytes()), 3)), image_size)).numpy()

    folders = ("exemplar", "shoe", "sketch") + (("print",) if (root / "print").is_dir() else ())
    arrays = {key: np.stack([read(key, row["file"]) for row in rows]) for key in folders}
    return {**arrays, "category": np.asarray([row["category"] for row in rows])}


def pattern_arrays(config, split: str = "train", limit: int | None = None) -> dict[str, np.ndarray]:
    """The pairs of a pattern `DataConfig`: in memory (``fmnist_patterns``) or from a folder (``patterns``)."""
    if config.source == "fmnist_patterns":
        from shoes_generator.data.patterns import pattern_pairs

        return pattern_pairs(split, config.image_size, limit, seed=config.seed)
    return read_pattern_folder(config.path, config.image_size, limit)


def pattern_columns(model, examples) -> tuple[list, list[str]]:
    """The per-epoch picture: exemplar | a shoe from a type (cycling) and a fixed seed | sketch | the shoe drawn
    from it | the real shoe in that print."""
    import tensorflow as tf

    from shoes_generator.export.generator import noise_from_seeds

    exemplar, sketch = examples["exemplar"], examples["sketch"]
    count = int(exemplar.shape[0])
    categories = tf.range(count) % model.num_categories
    from_type = model.draw(exemplar, noise_from_seeds(tf.range(count, dtype=tf.int64), model.z_dim), categories)
    from_sketch = model.draw(exemplar, tf.zeros([count, model.z_dim]), sketch=sketch)
    return [exemplar, from_type, sketch, from_sketch, examples["image"]], ["pattern", "type + seed", "sketch", "from sketch", "real"]


class PatternFamily(Family):
    name = "pattern"
    model_config = PatternModel
    sources = ("fmnist_patterns", "patterns")

    def validate(self, config) -> None:
        data, model = config.data, config.model
        if data.labels != ("category",) or data.channels != 3:
            raise ValueError(
                "Pattern transfer draws RGB shoes of a type: data.labels must be ('category',) and data.channels 3. "
                f"Received: labels={data.labels!r}, channels={data.channels}"
            )
        sizes = {name: getattr(model, name) for name in ("latent_dim", "style_dim", "g_filters", "d_filters", "embed_dim")}
        small = {name: value for name, value in sizes.items() if value < 1}
        if small:
            raise ValueError(f"The pattern networks' sizes must be >= 1. Received: {small}")
        if model.print_mapping not in PRINT_MAPPINGS:
            raise ValueError(f"model.print_mapping must be one of {PRINT_MAPPINGS}. Received: print_mapping={model.print_mapping!r}")
        if model.judge not in JUDGES or (model.judge == "shading" and (model.print_mapping != "tiled" or data.source != "fmnist_patterns")):
            raise ValueError(
                f"model.judge must be one of {JUDGES}; 'shading' needs model.print_mapping='tiled' and data.source='fmnist_patterns' "
                f"(the data that knows each shoe's shading). Received: judge={model.judge!r}, print_mapping={model.print_mapping!r}, "
                f"source={data.source!r}"
            )
        if config.train.loss == "wgan_gp" or config.train.d_steps != 1:
            raise ValueError(
                "Pattern transfer takes one discriminator step of a loss without a gradient penalty. Received: "
                f"train.loss={config.train.loss!r}, train.d_steps={config.train.d_steps}"
            )
        shares = (model.sketch_probability, model.encoded_probability)
        if not all(0.0 <= share <= 1.0 for share in shares) or min(model.l1_weight, model.texture_weight, model.kl_weight) < 0:
            raise ValueError(
                "model.sketch_probability and model.encoded_probability must lie in [0, 1] and the loss weights be >= 0. Received: "
                f"sketch_probability={model.sketch_probability}, encoded_probability={model.encoded_probability}, "
                f"l1_weight={model.l1_weight}, texture_weight={model.texture_weight}, kl_weight={model.kl_weight}"
            )

    def training_data(self, config):
        """``{"exemplar", "image", "sketch", "category"}`` elements, plus ``"print"`` (tiled mapping, where the data has
        the print each shoe wears) and ``"shading"`` (the shading judge); images in [-1, 1], flips move them all.

        Args:
            config: the run's `ExperimentConfig`.
        """
        import tensorflow as tf

        from shoes_generator.data.fmnist import CATEGORY_NAMES
        from shoes_generator.data.pipeline import to_float
        from shoes_generator.data.training_data import TrainingData, check_one_batch, pipeline_options
        from shoes_generator.labels import Vocabularies

        arrays = pattern_arrays(config.data, "train", config.data.limit)
        count = len(arrays["shoe"])
        check_one_batch(count, config.train.batch_size, config.data)
        names = CATEGORY_NAMES if config.data.source == "fmnist_patterns" else tuple(sorted(set(arrays["category"].tolist())))
        # Only the tiled mapping reads the worn print: the learned one keeps its batches (and its speed) as they were.
        tiled = config.model.print_mapping == "tiled"
        if tiled and "print" not in arrays:
            logging.getLogger("shoes_generator.families").warning(
                "model.print_mapping='tiled' but %s has no print/ folder: the L1 term compares each shoe with its exemplar's "
                "tiled print, not the print it wears (other pieces, other places)", config.data.path)
        keys = IMAGE_KEYS + (("print",) if "print" in arrays and tiled else ())
        keys += ("shading",) if config.model.judge == "shading" else ()
        images = {key: arrays["shoe" if key == "image" else key] for key in keys}
        elements = tf.data.Dataset.from_tensor_slices({**images, "category": arrays["category"].astype(str)}).map(
            lambda e: {**{key: to_float(e[key]) for key in keys}, "category": e["category"]}
        )
        options = pipeline_options(config.data, config.train.batch_size, config.train.seed)
        return TrainingData(elements, count, options, Vocabularies({"category": names}), ("category",), keys)

    def build(self, config, vocabularies=None, steps_per_epoch=None):
        """A compiled `PatternGAN` (``train.g_lr`` for generator + encoder, ``train.d_lr`` for the discriminator)."""
        from shoes_generator.builders import compiled
        from shoes_generator.gans.pattern import PatternGAN
        from shoes_generator.models.conditional import build_projection_discriminator
        from shoes_generator.models.pattern import build_pattern_encoder, build_pattern_generator
        from shoes_generator.models.spade import build_style_encoder

        model, train, size = config.model, config.train, config.data.image_size
        dtype = None if train.precision == "float32" else train.precision
        categories = len(vocabularies.values("category")) if vocabularies is not None else 3
        generator = build_pattern_generator(size, categories, model.latent_dim, model.style_dim, model.g_filters, model.embed_dim,
                                            shading=model.print_mapping == "tiled", dtype=dtype)
        encoder = build_pattern_encoder(size, model.g_filters, model.style_dim, dtype=dtype)
        discriminator = build_projection_discriminator({"category": categories}, size, 6 if model.judge == "shading" else 3,
                                                       base_filters=model.d_filters, dtype=dtype)
        shape_encoder = build_style_encoder(size, model.d_filters, model.latent_dim, name="shape_encoder", dtype=dtype)
        gan = PatternGAN(generator, discriminator, encoder, shape_encoder, model.sketch_probability, model.encoded_probability,
                         model.kl_weight, model.l1_weight, model.texture_weight, model.colour_match, model.print_mapping,
                         model.judge, loss=train.loss, seed=train.seed)
        return compiled(gan, config, steps_per_epoch, "g_optimizer", "d_optimizer")

    def sample_callback(self, config, data, run_dir: Path):
        from shoes_generator.callbacks import translation_grid

        return translation_grid(config, data, run_dir, pattern_columns)

    def export(self, model, config, vocabularies, path: Path) -> Path:
        """`export_pattern`'s signatures: a print + a type + a seed, or a print + a sketch -> a shoe; the type vocabulary."""
        from shoes_generator.export.pattern import export_pattern

        return export_pattern(model, config.data.image_size, vocabularies, path)

    def evaluate(self, saved_model, config, options, metrics=()) -> dict:
        from shoes_generator.evaluation.pattern_eval import evaluate_pattern

        return evaluate_pattern(saved_model, config, cache_dir=options.cache)


register_family(PatternFamily())


@register_preset
def pattern_fmnist() -> ExperimentConfig:
    """Prints on coloured Fashion-MNIST shoes (`shoes-data patterns`' generators and `skimage.data` textures,
    held-out colourings for evaluation), 32 px, float32 (one core beside another run: ~225 ms a step, 15 minutes stop it
    near step 3,900; both cores alone: 132 ms):
    12,000 pairs, g/d filters 32, style code 64, 8-d noise, half the examples from their sketch and half of the
    others from their encoded shape (KL 0.1), L1 5, texture 30; the print mapped, not painted (the exemplar's
    largest inner square repeated, composed into the generator's black- and white-print renders), the
    discriminator judging those renders; hinge loss, Adam 2e-4 / 0.5, batch 32, 16 epochs of 250 steps.
    (15-minute runs, fidelity / type accuracy: the print painted 0.50 / 0.78; mapped, L1 20 0.86 / 0.55,
    L1 10 0.88 / 0.60, L1 5 0.89 / 0.72 (another seed 0.89 / 0.64), L1 2 0.90 / 0.63; see docs/benchmarks.md.)"""
    return ExperimentConfig(
        name="pattern_fmnist",
        data=DataConfig(source="fmnist_patterns", image_size=32, channels=3, labels=("category",), limit=12000, flip=True),
        model=PatternModel(latent_dim=8, kl_weight=0.1, l1_weight=5.0, texture_weight=30.0, print_mapping="tiled", judge="shading"),
        train=TrainConfig(batch_size=32, epochs=16, steps_per_epoch=250, loss="hinge", g_lr=2e-4, d_lr=2e-4, beta_1=0.5, beta_2=0.999,
                          ema_decay=0.0, precision="float32", sample_columns=8, checkpoint_every=500),
    )


@register_preset
def pattern_folder256() -> ExperimentConfig:
    """A catalogue's pairs at 256 px (``--data`` a folder as `shoes-data patterns` writes it: ``exemplar/``,
    ``shoe/``, ``sketch/`` and ``manifest.csv`` with ``file`` and ``category``), g filters 32, batch 4, bf16."""
    return ExperimentConfig(
        name="pattern_folder256",
        data=DataConfig(source="patterns", image_size=256, channels=3, labels=("category",), flip=True),
        model=PatternModel(style_dim=128),
        train=TrainConfig(batch_size=4, epochs=40, loss="hinge", g_lr=2e-4, d_lr=2e-4, beta_1=0.5, ema_decay=0.0, precision="mixed_bfloat16",
                          sample_columns=4, checkpoint_every=2000),
    )
