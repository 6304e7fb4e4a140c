"""Attribute probes: UT-Zappos meta-data columns measured on generated shoes.

Generated shoes carry no meta-data, so a column such as ``HeelHeight`` is measured through a probe:
a small linear read-out trained on the REAL UT-Zappos images that have a value in that column and then
applied to generated images. `latent.explore_direction` uses a probe like any other attribute measure,
in whichever latent space the generator is explored (``z``, or a StyleGAN2 export's ``w``): it only sees images.

- Attribute syntax (`parse_attribute`): ``height`` / ``boot`` (built in), ``meta:COLUMN`` (ordinal, e.g.
  ``meta:heel_height``) or ``meta:COLUMN=VALUE`` (categorical, e.g. ``meta:closure=Lace up``). Columns are
  matched in snake_case, so ``meta:HeelHeight`` works too.
- Ordinal targets (`ordinal_targets`): values in inches (``"1in - 1 3/4in"`` -> 1.375, ``"Flat"`` -> 0,
  ``"Under 1in"`` -> 0.5, ``"5in & over"`` -> 5) or plain numbers; any other column needs an order given by
  the user (``Flat,Low,High`` -> 0, 1, 2). Categorical targets: 1 for the chosen value, 0 for the others;
  the probe then measures the probability of that value (like ``boot``).
- Features (`pixel_features`, the default): the real images are fitted to the generator's size exactly as
  training fits them (``pad`` on white), then area-averaged to at most 12x12 RGB. Measured on 400 synthetic
  shoes whose shaft height encodes the value (held-out r2): pixels 0.93 at 16 px and 0.93 at 32 px, the
  project classifier's features (``features="classifier"``, `metrics.ClassifierFeatures`) 0.70 and 0.96;
  pixels are steadier at tiny sizes and need no classifier, the classifier is worth a try at 32 px and up.
- Read-out: ridge regression (ordinal) or L2 logistic regression (categorical) in numpy, on standardised
  features, the penalty picked on a validation part of the training images. The probe's quality is
  measured on held-out real images (``r2`` and Spearman's rho, or accuracy against chance) and reported with
  the direction, so a probe that cannot read the column (low r2) says so instead of steering noise.
  Nothing is cached: fitting takes seconds once the images are decoded.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from shoes_generator.data.folders import value_listing

META_PREFIX = "meta:"
ATTRIBUTE_FORMS = (
    "height, boot, meta:COLUMN (an ordinal UT-Zappos meta-data column, e.g. meta:heel_height) "
    "or meta:COLUMN=VALUE (the probability of one value, e.g. 'meta:closure=Lace up')"
)
PIXEL_GRID = 12
DEFAULT_LIMIT = 2000
PENALTIES = {"ordinal": tuple(10.0 ** np.arange(-3, 3.5, 0.5)), "categorical": tuple(10.0 ** np.arange(-3, 1.5, 0.5))}
# Below these held-out scores the report warns that the probe cannot be trusted.
MIN_R2, MIN_ACCURACY_GAIN = 0.3, 0.1
# "3/4", "1 3/4" or "2.5": a bare fraction first, so "3/4" is not read as 3 and 4.
_INCH_NUMBER = re.compile(r"(\d+)/(\d+)|(\d+(?:\.\d+)?)(?:\s+(\d+)/(\d+))?")


@dataclasses.dataclass(frozen=True)
class MetaAttribute:
    """A meta-data column to measure: ordinal when `value` is None, else the probability of `value`."""

    column: str
    value: str | None = None

    @property
    def kind(self) -> str:
        """``"ordinal"`` or ``"categorical"``."""
        return "ordinal" if self.value is None else "categorical"

    @property
    def name(self) -> str:
        """The attribute as written on the command line, e.g. ``meta:heel_height``."""
        return f"{META_PREFIX}{self.column}" + ("" if self.value is None else f"={self.value}")


def parse_attribute(text: str) -> "str | MetaAttribute":
    """A built-in attribute name (``height``, ``boot``) or a `MetaAttribute` for ``meta:COLUMN[=VALUE]``.

    Args:
        text: the attribute as given by the user.

    Raises:
        ValueError: neither form; the message lists the valid forms.
    """
    from shoes_generator.data.folders import snake_case
    from shoes_generator.latent import ATTRIBUTES

    text = text.strip()
    if text in ATTRIBUTES:
        return text
    if text.startswith(META_PREFIX):
        column, sep, value = text[len(META_PREFIX) :].partition("=")
        column, value = snake_case(column), value.strip()
        if column and (value or not sep):
            return MetaAttribute(column, value if sep else None)
    raise ValueError(f"Unknown attribute. Valid forms: {ATTRIBUTE_FORMS}. Received: {text!r}")


# --- targets ---------------------------------------------------------------------------------------


def inches(text: str) -> float | None:
    """A heel-height style value in inches, or None when `text` is not one.

    ``"Flat"`` -> 0, ``"2.5"`` or ``"2 1/2in"`` -> 2.5, a range ``"1in - 1 3/4in"`` -> its middle 1.375,
    ``"Under 1in"`` -> 0.5 (half the bound), ``"5in & over"`` -> 5 (the bound).

    Args:
        text: one column value.
    """
    text = text.strip().lower()
    if text in ("flat", "none", "0"):
        return 0.0
    numbers = [float(n1) / float(d1) if n1 else float(whole) + (float(num) / float(den) if num else 0.0)
               for n1, d1, whole, num, den in _INCH_NUMBER.findall(text)]
    rest = _INCH_NUMBER.sub(" ", text)
    rest = re.sub(r"\b(in|inch|inches|under|over|and|to)\b|[\"'&+\-\s]", "", rest)
    if not numbers or len(numbers) > 2 or rest:
        return None
    return numbers[0] / 2 if "under" in text else float(np.mean(numbers))


def ordinal_targets(values: Sequence[str], order: Sequence[str] | None = None) -> tuple[np.ndarray, dict[str, float]]:
    """Numbers for the values of an ordinal column (NaN where the image has no value or an unlisted one).

    Args:
        values: the column, "" where an image has no value.
        order: the values from lowest to highest (matched case-insensitively); they become 0, 1, 2, ...
            Without it every value must read as inches or a number (`inches`).

    Returns:
        The targets and the mapping value -> number that was used.

    Raises:
        ValueError: a value that does not read as a number without `order`, or no value in `order`
            (the message lists the column's values).
    """
    distinct = sorted(set(values) - {""})
    if order:
        ranks = {text.strip().lower(): float(rank) for rank, text in enumerate(order)}
        mapping = {value: ranks[value.strip().lower()] for value in distinct if value.strip().lower() in ranks}
        if not mapping:
            raise ValueError(f"No value of the column is in the given order. Values: {value_listing(distinct)}. Received: order={list(order)}")
    else:
        mapping = {value: inches(value) for value in distinct}
        unread = [value for value, number in mapping.items() if number is None]
        if unread:
            raise ValueError(
                f"The column's values are not inches or numbers (e.g. {value_listing(unread, 5)}); give their order from low "
                f"to high (--order 'A,B,C') or pick one value (meta:COLUMN=VALUE). Values: {value_listing(distinct)}"
            )
    return np.array([mapping.get(value, np.nan) for value in values], np.float64), mapping


def categorical_targets(values: Sequence[str], value: str) -> np.ndarray:
    """1.0 where the column equals `value` (case-insensitive), 0.0 for other values, NaN without a value.

    Args:
        values: the column, "" where an image has no value.
        value: the value whose probability the probe measures.

    Raises:
        ValueError: `value` does not occur, or no other value does (the message lists the values).
    """
    distinct = sorted(set(values) - {""})
    wanted = value.strip().lower()
    hits = [text for text in distinct if text.strip().lower() == wanted]
    if not hits or len(hits) == len(distinct):
        problem = "does not occur in" if not hits else "is the only value of"
        raise ValueError(f"The value {value!r} {problem} the column. Values: {value_listing(distinct)}")
    return np.array([np.nan if not text else float(text.strip().lower() == wanted) for text in values], np.float64)


# --- features --------------------------------------------------------------------------------------


def pixel_features(images: np.ndarray, grid: int = PIXEL_GRID) -> np.ndarray:
    """Area-averaged RGB pixels, ``float64 [B, g * g * 3]`` in 0..1 with ``g = min(grid, image side)``.

    Args:
        images: ``uint8 [B, S, S, 3]``.
        grid: the largest side kept.
    """
    import tensorflow as tf

    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"Need images [B, H, W, 3]. Received: shape {images.shape}")
    side = min(grid, images.shape[1])
    small = tf.image.resize(tf.cast(images, tf.float32), (side, side), method="area").numpy()
    return small.reshape(len(images), -1).astype(np.float64) / 255.0


def feature_extractor(name: str, image_size: int) -> Callable[[np.ndarray], np.ndarray]:
    """Images -> features: ``"pixels"`` (`pixel_features`) or ``"classifier"`` (`metrics.ClassifierFeatures`).

    Args:
        name: ``"pixels"`` or ``"classifier"`` (the classifier is trained once, about a minute, if not cached).
        image_size: the side of the images the classifier reads.
    """
    if name == "pixels":
        return pixel_features
    if name == "classifier":
        from shoes_generator.metrics import ClassifierFeatures

        return ClassifierFeatures(image_size)
    raise ValueError(f"Unknown probe features. Valid: pixels, classifier. Received: {name!r}")


# --- linear read-outs ------------------------------------------------------------------------------


def fit_readout(kind: str, x: np.ndarray, y: np.ndarray, penalty: float) -> tuple[np.ndarray, float]:
    """Ridge (``ordinal``) or L2 logistic (``categorical``) weights and intercept on standardised `x`.

    Args:
        kind: ``"ordinal"`` or ``"categorical"``.
        x: ``[N, D]`` features (already standardised).
        y: ``[N]`` targets (0/1 for categorical).
        penalty: the L2 penalty per example (the intercept is not penalised).
    """
    n, d = x.shape
    if d > n:  # the L2-penalised weights lie in the span of the rows: solve there (exact, n x n instead of d x d)
        basis = row_basis(x)
        weights, intercept = fit_readout(kind, x @ basis, y, penalty)
        return basis @ weights, intercept
    if kind == "ordinal":
        centred = x - x.mean(axis=0)
        weights = np.linalg.solve(centred.T @ centred + penalty * n * np.eye(d), centred.T @ (y - y.mean()))
        return weights, float(y.mean() - x.mean(axis=0) @ weights)
    design = np.hstack([x, np.ones((n, 1))])
    ridge = np.full(d + 1, penalty)
    ridge[-1] = 1e-8
    theta = np.zeros(d + 1)
    for _ in range(30):  # Newton's method: the penalised log-loss is strictly convex
        p = _sigmoid(design @ theta)
        gradient = design.T @ (p - y) / n + ridge * theta
        hessian = (design.T * (p * (1 - p))) @ design / n + np.diag(ridge)
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if np.max(np.abs(step)) < 1e-6:
            break
    return theta[:-1], float(theta[-1])


def row_basis(x: np.ndarray) -> np.ndarray:
    """An orthonormal basis ``[D, r]`` of the span of the rows of `x`, from the eigenvectors of the ``[N, N]`` Gram matrix.

    Args:
        x: ``[N, D]`` features.
    """
    eigenvalues, vectors = np.linalg.eigh(x @ x.T)
    keep = eigenvalues > eigenvalues.max() * 1e-10
    return (x.T @ vectors[:, keep]) / np.sqrt(eigenvalues[keep])


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(logits, -500, 500)))


def readout(kind: str, x: np.ndarray, weights: np.ndarray, intercept: float) -> np.ndarray:
    """The read-out's predictions: values (ordinal) or probabilities (categorical).

    Args:
        kind: ``"ordinal"`` or ``"categorical"``.
        x: ``[N, D]`` standardised features.
        weights, intercept: from `fit_readout`.
    """
    linear = x @ weights + intercept
    return linear if kind == "ordinal" else _sigmoid(linear)


def fit_loss(kind: str, y: np.ndarray, predicted: np.ndarray) -> float:
    """Mean squared error (ordinal) or mean log-loss (categorical): the penalty choice minimises it.

    Args:
        kind: ``"ordinal"`` or ``"categorical"``.
        y: ``[N]`` targets.
        predicted: ``[N]`` `readout` predictions.
    """
    if kind == "ordinal":
        return float(np.mean((y - predicted) ** 2))
    predicted = np.clip(predicted, 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(predicted) + (1 - y) * np.log(1 - predicted)))


def stratified_split(targets: np.ndarray, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and held-out indices; the held-out part spans the targets' range (every k-th after sorting).

    Args:
        targets: ``[N]`` values or 0/1 labels.
        holdout: the held-out share (at least one example either side).
        seed: shuffles ties.
    """
    shuffled = np.random.default_rng(seed).permutation(len(targets))
    ranked = shuffled[np.argsort(targets[shuffled], kind="stable")]
    every = max(2, int(round(1 / holdout)))
    held = ranked[min(every // 2, len(ranked) - 1) :: every]
    return np.setdiff1d(ranked, held), held


def choose_penalty(kind: str, x: np.ndarray, y: np.ndarray, seed: int) -> float:
    """The penalty of `PENALTIES` with the lowest `fit_loss` on a validation part of the training data.

    Args:
        kind: ``"ordinal"`` or ``"categorical"``.
        x: ``[N, D]`` training features (raw; standardised on the fitting part).
        y: ``[N]`` training targets.
        seed: the validation split's seed.
    """
    fit, check = stratified_split(y, 0.25, seed + 1)
    mean, scale = standardiser(x[fit])
    xf, xc = (x[fit] - mean) / scale, (x[check] - mean) / scale
    losses = [fit_loss(kind, y[check], readout(kind, xc, *fit_readout(kind, xf, y[fit], penalty))) for penalty in PENALTIES[kind]]
    return PENALTIES[kind][int(np.argmin(losses))]


def standardiser(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and scale of `x` (scale 1 for constant features).

    Args:
        x: ``[N, D]`` features.
    """
    scale = x.std(axis=0)
    return x.mean(axis=0), np.where(scale > 1e-8, scale, 1.0)


# --- the probe -------------------------------------------------------------------------------------


class AttributeProbe:
    """A trained read-out that measures a meta-data column on ``uint8 [B, S, S, 3]`` images.

    Calling it returns ``float64 [B]``: the predicted column value (ordinal) or the probability of the
    chosen value (categorical). `describe` says how it was made and how well it did on held-out real images.

    Args:
        name: the attribute, e.g. ``meta:heel_height``.
        kind: ``"ordinal"`` or ``"categorical"``.
        features: images -> ``[B, D]`` features.
        mean, scale, weights, intercept: the standardiser and the read-out.
        info: the JSON-ready description (`describe`).
    """

    def __init__(self, name: str, kind: str, features: Callable, mean, scale, weights, intercept: float, info: dict):
        self.name, self.kind, self.features = name, kind, features
        self.mean, self.scale, self.weights, self.intercept = mean, scale, weights, intercept
        self.info = info

    def __call__(self, images: np.ndarray) -> np.ndarray:
        x = (np.asarray(self.features(np.asarray(images, np.uint8)), np.float64) - self.mean) / self.scale
        return readout(self.kind, x, self.weights, self.intercept)

    def describe(self) -> dict:
        """What the probe measures, on which data and features, and its held-out quality (JSON-ready)."""
        return dict(self.info)


def train_probe(
    name: str, kind: str, images: np.ndarray, targets: np.ndarray, features: Callable = pixel_features,
    holdout: float = 0.2, seed: int = 0,
) -> AttributeProbe:
    """Fits a probe on real images and scores it on a held-out part of them.

    Args:
        name: the attribute's name.
        kind: ``"ordinal"`` (ridge regression on the values) or ``"categorical"`` (logistic regression on 0/1).
        images: ``uint8 [N, S, S, 3]``.
        targets: ``[N]`` numbers (ordinal) or 0/1 (categorical).
        features: images -> ``[N, D]`` features (`pixel_features` by default).
        holdout: the share of images kept out of training to score the probe.
        seed: the split's seed.

    Raises:
        ValueError: fewer than 5 images, or constant targets.
    """
    targets = np.asarray(targets, np.float64)
    if len(targets) < 5 or np.ptp(targets) == 0:
        raise ValueError(f"A probe needs at least 5 images with at least two different values. Received: {len(targets)} "
                         f"image(s) with values {sorted(set(targets.tolist()))[:5]}")
    x = np.asarray(features(images), np.float64)
    train, held = stratified_split(targets, holdout, seed)
    penalty = choose_penalty(kind, x[train], targets[train], seed)
    mean, scale = standardiser(x[train])
    weights, intercept = fit_readout(kind, (x[train] - mean) / scale, targets[train], penalty)
    predicted = readout(kind, (x[held] - mean) / scale, weights, intercept)
    info = {
        "attribute": name,
        "kind": kind,
        "features": f"{getattr(features, '__name__', type(features).__name__)} ({x.shape[1]} per image)",
        "regression": ("ridge" if kind == "ordinal" else "logistic") + f", penalty {penalty:.3g}",
        "train_images": int(len(train)),
        "held_out_images": int(len(held)),
        "held_out": held_out_quality(kind, targets[held], predicted),
    }
    return AttributeProbe(name, kind, features, mean, scale, weights, intercept, info)


def held_out_quality(kind: str, targets: np.ndarray, predicted: np.ndarray) -> dict:
    """``r2`` and ``spearman`` (ordinal) or ``accuracy`` and ``chance`` (categorical), ``trusted``, a note when not.

    Args:
        kind: ``"ordinal"`` or ``"categorical"``.
        targets: ``[N]`` held-out targets.
        predicted: ``[N]`` the probe's values or probabilities for them.
    """
    from scipy.stats import spearmanr

    from shoes_generator.latent import r2_score

    if kind == "ordinal":
        r2 = r2_score(targets, predicted)
        rho = None if np.ptp(targets) == 0 or np.ptp(predicted) == 0 else float(spearmanr(targets, predicted)[0])
        quality = {"r2": r2, "spearman": rho, "trusted": r2 is not None and r2 >= MIN_R2}
        bar = f"held-out r2 below {MIN_R2}"
    else:
        accuracy, chance = float(np.mean((predicted >= 0.5) == (targets >= 0.5))), float(max(targets.mean(), 1 - targets.mean()))
        quality = {"accuracy": accuracy, "chance": chance, "trusted": accuracy >= chance + MIN_ACCURACY_GAIN}
        bar = f"held-out accuracy less than {MIN_ACCURACY_GAIN:.0%} above chance"
    if not quality["trusted"]:
        quality["note"] = f"{bar}: the probe barely reads this column; a direction fitted on it steers little more than noise"
    return quality


# --- UT-Zappos -------------------------------------------------------------------------------------


def find_meta_data(root: str | os.PathLike, meta_data: str | os.PathLike | None = None) -> Path:
    """The ``meta-data.csv`` of a UT-Zappos tree: `meta_data` when given, else the first of `ZAPPOS_META_PLACES`.

    Args:
        root: the ``ut-zap50k-images-square`` folder or its parent.
        meta_data: an explicit CSV, or None.

    Raises:
        FileNotFoundError: none found; the message lists the places searched.
    """
    from shoes_generator.data.folders import ZAPPOS_META_PLACES, find_zappos_images

    images = find_zappos_images(root)
    places = [Path(meta_data)] if meta_data else [Path(os.path.normpath(images / place)) for place in ZAPPOS_META_PLACES]
    for place in places:
        if place.is_file():
            return place
    raise FileNotFoundError(f"No UT-Zappos meta-data.csv found. Looked at: {', '.join(map(str, places))}. Received: data={str(root)!r}")


def meta_column(root: str | os.PathLike, column: str, meta_data: str | os.PathLike | None = None):
    """The `zappos_table` of `root` joined with its meta-data, restricted to images with a value in `column`.

    Args:
        root: the ``ut-zap50k-images-square`` folder or its parent.
        column: the snake_case column, e.g. ``heel_height``.
        meta_data: the CSV; default: found by `find_meta_data`.

    Raises:
        ValueError: `column` is not a meta-data column (lists them) or no image has a value in it.
    """
    from shoes_generator.data.folders import zappos_table

    csv_path = find_meta_data(root, meta_data)
    table = zappos_table(root, meta_data=csv_path)
    if column not in table.labels:
        raise ValueError(f"{str(csv_path)!r} has no column {column!r}. Columns: {', '.join(table.label_names)}")
    keep = [i for i, value in enumerate(table.column(column)) if value]
    if not keep:
        raise ValueError(f"No image below {table.root!r} has a value in the meta-data column {column!r}")
    return table.subset(keep)


def load_images(table, column: str, image_size: int, batch_size: int = 256) -> tuple[np.ndarray, list[str]]:
    """The table's images fitted to `image_size` as training fits them (``pad``), ``uint8``, with their `column` values.

    Files that fail to decode are dropped together with their value.

    Args:
        table: an `ImageTable` with label `column`.
        column: the label to return with the images.
        image_size: the side images are fitted to.
        batch_size: images decoded per step.
    """
    from shoes_generator.data.folders import table_elements
    from shoes_generator.data.pipeline import PipelineOptions, to_uint8

    options = PipelineOptions(image_size=image_size, shuffle=False)
    images, values = [], []
    for batch in table_elements(table, options, [column]).batch(batch_size):
        images.append(to_uint8(batch["image"]).numpy())
        values.extend(value.decode() for value in batch[column].numpy())
    return np.concatenate(images), values


def sample_rows(targets: np.ndarray, kind: str, limit: int, seed: int) -> np.ndarray:
    """At most `limit` indices of rows with a target; categorical: as balanced between 0 and 1 as the data allow.

    Balancing gives a rare value enough examples and makes accuracy meaningful; the probability the probe
    reports therefore assumes equal priors (fine for steering, not a calibrated frequency).

    Args:
        targets: ``[N]`` targets, NaN where a row has none.
        kind: ``"ordinal"`` or ``"categorical"``.
        limit: the most rows returned.
        seed: the sample's seed.
    """
    rng = np.random.default_rng(seed)
    usable = np.flatnonzero(~np.isnan(targets))
    if kind == "ordinal":
        return np.sort(rng.permutation(usable)[:limit])
    ones, zeros = rng.permutation(usable[targets[usable] == 1]), rng.permutation(usable[targets[usable] == 0])
    take = min(len(ones), max(limit // 2, limit - len(zeros)))
    return np.sort(np.concatenate([ones[:take], zeros[: limit - take]]))


def meta_probe(
    root: str | os.PathLike,
    attribute: MetaAttribute,
    image_size: int,
    order: Sequence[str] | None = None,
    features: str = "pixels",
    limit: int = DEFAULT_LIMIT,
    meta_data: str | os.PathLike | None = None,
    seed: int = 0,
) -> AttributeProbe:
    """A probe of a UT-Zappos meta-data column, trained on the real images of `root`.

    Args:
        root: the ``ut-zap50k-images-square`` folder or its parent.
        attribute: the column (and value, for a categorical probe).
        image_size: the generator's image side; real images are fitted to it.
        order: the ordinal column's values from low to high, when they are not inches or numbers.
        features: ``"pixels"`` or ``"classifier"`` (`feature_extractor`).
        limit: at most this many real images (categorical: balanced between the value and the rest).
        meta_data: the meta-data CSV; default: found next to the images (`find_meta_data`).
        seed: the sample's and the split's seed.
    """
    if order and attribute.kind == "categorical":
        raise ValueError(f"An order applies to ordinal columns (meta:COLUMN), not to {attribute.name}. Received: order={list(order)}")
    table = meta_column(root, attribute.column, meta_data)
    values = table.column(attribute.column)
    mapping = None
    if attribute.kind == "ordinal":
        targets, mapping = ordinal_targets(values, order)
    else:
        targets = categorical_targets(values, attribute.value)
    rows = sample_rows(targets, attribute.kind, limit, seed)
    images, kept = load_images(table.subset(rows.tolist()), attribute.column, image_size)
    targets = ordinal_targets(kept, order)[0] if attribute.kind == "ordinal" else categorical_targets(kept, attribute.value)
    probe = train_probe(attribute.name, attribute.kind, images, targets, feature_extractor(features, image_size), seed=seed)
    probe.info.update({"data": table.root, "column": attribute.column, "value": attribute.value,
                       "images_with_value": len(table), "image_size": int(image_size)})
    if mapping is not None:
        probe.info["mapping"] = dict(list(mapping.items())[:40])
    return probe
