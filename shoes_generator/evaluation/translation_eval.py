"""Measures exported image-to-image models on held-out data, through their served signatures.

pix2pix: L1 (on the [-1, 1] scale the model trains on), PSNR and SSIM of outputs
against targets, the Frechet distance of the shoe classifier's features of
outputs vs targets, and, when the data knows shoe types (Fashion-MNIST
sketches), the share of outputs the classifier calls the right type.
CycleGAN: the share of A -> B outputs the classifier calls a B shoe (e.g. a
boot), the cycle-consistency L1 of A -> B -> A (and B -> A -> B), and the
Frechet distance of translated shoes vs real B shoes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from shoes_generator.configs import SKETCH_SOURCES, ExperimentConfig
from shoes_generator.data.pipeline import to_uint8
from shoes_generator.evaluation.registry import metrics_for
from shoes_generator.evaluation.streaming import LabelTally
from shoes_generator.metrics import ClassifierFeatures, FeatureStats


def _batches(dataset: tf.data.Dataset, keys: tuple[str, ...], count: int) -> dict[str, np.ndarray]:
    """The first `count` examples of an unbatched dataset as uint8 images (other keys as they are)."""
    columns = {key: [] for key in keys}
    for batch in dataset.take(count).batch(256):
        for key in keys:
            value = batch[key]
            columns[key].append(to_uint8(value).numpy() if value.dtype.is_floating else value.numpy())
    return {key: np.concatenate(parts) for key, parts in columns.items()}


def _run(signature, images: dict[str, np.ndarray], batch_size: int = 128, alpha: float | None = None) -> np.ndarray:
    """A ``*_pixels`` signature over uint8 `images` (``{"image"[, "mask"]}``) in batches (with a blend
    `alpha` per image when given) -> uint8 outputs."""
    outputs = []
    for start in range(0, len(images["image"]), batch_size):
        chunk = {name: tf.constant(array[start : start + batch_size]) for name, array in images.items()}
        extra = {} if alpha is None else {"alpha": tf.fill([len(chunk["image"])], float(alpha))}
        outputs.append(signature(**chunk, **extra)["images"].numpy())
    return np.concatenate(outputs)


def pixel_blend(a: np.ndarray, b: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """The naive blend the ``blend`` signature is compared with: ``(1 - alpha) a + alpha b`` of uint8 images."""
    return np.round((1.0 - alpha) * a.astype(np.float32) + alpha * b.astype(np.float32)).astype(np.uint8)


def _stats(features: np.ndarray) -> FeatureStats:
    """`FeatureStats` of ``[N, D]`` feature rows (all kept), for registered "samples" metrics."""
    return FeatureStats(len(features)).update(features)


def _measured(family: str, kind: str, *args, suffix: str = "") -> dict:
    """The registered always-reported metrics of `kind` for `family`, each computed on `args` and
    rounded as reports show them (keys suffixed with `suffix`)."""
    report = {}
    for metric in metrics_for(family, kind=kind, optional=False):
        report.update({key + suffix: value for key, value in metric.rounded(metric.compute(*args)).items()})
    return report


def _held_out(saved_model, config: ExperimentConfig, cache_dir):
    """What both translators' evaluations start from: the loaded export, the held-out data, the judge, the report's head."""
    from shoes_generator.data.training_data import training_data

    model = tf.saved_model.load(str(saved_model))
    fmnist = config.data.source.startswith("fmnist")
    data = training_data(config.data, 1, config.train.seed, split="test" if fmnist else "train")
    classifier = ClassifierFeatures(config.data.image_size, cache_dir)
    report = {"model": str(saved_model), "family": config.model.family, "held_out": "test split" if fmnist else "training data",
              "classifier_test_accuracy": classifier.info["test_accuracy"]}
    return model, data, classifier.judge, report


def evaluate_pix2pix(saved_model: str | Path, config: ExperimentConfig, count: int = 1000, cache_dir=None) -> dict:
    """The held-out figures of a pix2pix export (see the module docstring).

    Args:
        saved_model: the exported SavedModel directory.
        config: the run's config.
        count: held-out examples (the test split of Fashion-MNIST sources).
        cache_dir: the shoe classifier's cache.
    """
    from shoes_generator.data.fmnist import CATEGORY_NAMES

    model, data, judge, report = _held_out(saved_model, config, cache_dir)
    keys = tuple(data.image_keys) + (("category",) if config.data.source in SKETCH_SOURCES else ())
    held = _batches(data.elements, keys, count)
    outputs = _run(model.signatures["from_pixels"], {"image": held["input"], **({"mask": held["mask"]} if "mask" in held else {})})
    targets = held["target"]
    out_features, out_types = judge(outputs)
    target_features, _ = judge(targets)
    report.update({
        "examples": int(len(outputs)),
        **_measured("pix2pix", "pairs", outputs, targets),
        **_measured("pix2pix", "samples", _stats(target_features), _stats(out_features)),
    })
    if "category" in held:
        categories = np.asarray([c.decode() if isinstance(c, bytes) else c for c in held["category"]])
        report.update(_measured("pix2pix", "labels", LabelTally().update(categories, out_types), CATEGORY_NAMES))
    return report


def evaluate_cyclegan(saved_model: str | Path, config: ExperimentConfig, count: int = 1000, cache_dir=None) -> dict:
    """The held-out figures of a CycleGAN export (see the module docstring).

    Args:
        saved_model: the exported SavedModel directory.
        config: the run's config (its domains).
        count: held-out examples (the test split of Fashion-MNIST sources).
        cache_dir: the shoe classifier's cache.
    """
    from shoes_generator.data.fmnist import CATEGORY_NAMES

    model, data, judge, report = _held_out(saved_model, config, cache_dir)
    pairs = _batches(data.elements, ("a", "b"), count)
    a, b = pairs["a"][:count], pairs["b"][:count]
    a_to_b = _run(model.signatures["from_pixels"], {"image": a})
    b_to_a = _run(model.signatures["b_to_a_pixels"], {"image": b})
    judged = {name: judge(images) for name, images in (("a", a), ("b", b), ("a_to_b", a_to_b), ("b_to_a", b_to_a))}  # Once each.
    a_to_b_to_a = _run(model.signatures["b_to_a_pixels"], {"image": a_to_b})
    b_to_a_to_b = _run(model.signatures["from_pixels"], {"image": b_to_a})
    report.update({
        "examples": int(len(a)),
        **_measured("cyclegan", "cycle", a, a_to_b_to_a, b, b_to_a_to_b),
        **_measured("cyclegan", "samples", _stats(judged["b"][0]), _stats(judged["a_to_b"][0]), suffix="_a_to_b_vs_b"),
    })

    def share(types: np.ndarray, wanted: str) -> float:
        return round(float((types == wanted).mean()), 4)

    for side, expression in (("a_to_b", config.data.domain_b), ("b_to_a", config.data.domain_a)):
        wanted = expression.split("=", 1)[-1]
        if wanted in CATEGORY_NAMES:
            report[f"{side}_classified_as_{wanted}"] = share(judged[side][1], wanted)
    wanted_b = config.data.domain_b.split("=", 1)[-1]
    if wanted_b in CATEGORY_NAMES and "blend_pixels" in model.signatures:  # How the design language shifts with alpha.
        for alpha in (0.25, 0.5, 0.75):
            blended = _run(model.signatures["blend_pixels"], {"image": a}, alpha=alpha)
            report[f"blend_{alpha:g}_classified_as_{wanted_b}"] = share(judge(blended)[1], wanted_b)
        report[f"pixel_blend_0.5_classified_as_{wanted_b}"] = share(judge(pixel_blend(a, a_to_b))[1], wanted_b)
    for side, expression in (("a", config.data.domain_b), ("b", config.data.domain_a)):
        wanted = expression.split("=", 1)[-1]
        if wanted in CATEGORY_NAMES:  # The same share for untranslated shoes: what translation adds.
            report[f"untranslated_{side}_classified_as_{wanted}"] = share(judged[side][1], wanted)
    return report
