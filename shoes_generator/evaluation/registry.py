"""The metric registry: every metric is registered once by name and looked up by name.

`MetricsCallback` (training), `shoes_generator.metrics.compare`, the generator,
translation and segmentation evaluations and `shoes-eval --metrics` all ask
this registry instead of listing metric names themselves. A metric is a
`Metric` record: its name, its kind (what its ``compute`` takes), a one-line
description, the model capabilities it applies to, the function and the report keys it
gives. A metric names capabilities (`shoes_generator.families.base.CAPABILITIES`: "noise_generator",
"translator", ...), never families: it applies to every registered family that declares one of them
(`Family.noise_generator`, `Family.translator`, ...), so a new family gets its metrics without an
edit here. `register_metric` adds one; the built-in ones are registered at the end
of this module. Each ``compute`` here is a thin adapter: the arithmetic lives
beside its data (`shoes_generator.metrics`, `shoes_generator.evaluation.streaming`,
`shoes_generator.segmentation.metrics`), imported only when a metric runs, so
listing the registry (``shoes-eval --help``) does not load TensorFlow.

Kinds and the ``compute`` each is called with:

- "samples": ``compute(real, fake, **options) -> {key: float}``, two `FeatureStats`
  (generated vs real feature statistics); options are ``kid_subset_size`` and ``pr_k``
  (a metric ignores the ones it does not use).
- "pairs": ``compute(outputs, targets) -> {key: float}``, uint8 images ``[N, H, W, 3]``.
- "cycle": ``compute(a, a_to_b_to_a, b, b_to_a_to_b) -> {key: float}``, uint8 images.
- "labels": ``compute(tally, vocabulary) -> {key: value}``, a `LabelTally` of the labels
  asked for vs those the judge found, for the label ``Metric.label``; the model's vocabulary of it.
- "classes": ``compute(cm, class_names) -> {key: value}``, a ``[C, C]`` confusion matrix.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Iterable, Sequence

from shoes_generator.families.base import CAPABILITIES

KINDS = {
    "samples": "generated vs real feature statistics",
    "pairs": "outputs vs their targets",
    "cycle": "images vs their round trip through both generators",
    "labels": "the label asked for vs the one the judge reads",
    "classes": "predicted vs true classes per pixel",
}
GENERATOR = "noise_generator"  # The capability of every noise-generator family (dcgan, conditional, ...).


@dataclasses.dataclass(frozen=True)
class Metric:
    """One registered metric.

    Attributes:
        name: the name `--metrics`, `compare` and `MetricsCallback` take.
        kind: one of `KINDS` (what ``compute`` takes; see the module docstring).
        description: one line for ``shoes-eval --metrics list``.
        applies_to: the capabilities of the models it measures (`CAPABILITIES`, e.g. "noise_generator",
            "paired_translator"): it applies to every family that declares one of them.
        compute: the function (see the module docstring for each kind's arguments).
        outputs: the keys ``compute`` gives (e.g. "kid" and "kid_std").
        optional: computed only when asked for (``shoes-eval --metrics``; the training callback
            computes the optional "samples" metrics); otherwise always in the reports it applies to.
        digits: reports round its values to this many digits (None: as computed).
        label: for a "labels" metric, the label it judges (e.g. "category").
    """

    name: str
    kind: str
    description: str
    applies_to: tuple[str, ...]
    compute: Callable[..., dict]
    outputs: tuple[str, ...]
    optional: bool = False
    digits: int | None = None
    label: str | None = None

    def rounded(self, values: dict) -> dict:
        """`values` with floats rounded to `digits` (as the reports show them)."""
        if self.digits is None:
            return dict(values)
        return {key: round(float(value), self.digits) if isinstance(value, float) else value for key, value in values.items()}


_METRICS: dict[str, Metric] = {}
_ALIASES: dict[str, tuple[tuple[str, ...], str]] = {}


def register_metric(metric: Metric) -> Metric:
    """Registers `metric` under its name; returns it.

    Raises:
        ValueError: an unknown kind, no outputs, a "labels" metric without a label, an `applies_to`
            that is not a non-empty tuple of `CAPABILITIES`, or a name registered already (as a metric
            or an alias).
    """
    if metric.kind not in KINDS:
        raise ValueError(f"Metric kind must be one of {list(KINDS)}. Received: {metric.name!r} of kind {metric.kind!r}")
    if isinstance(metric.applies_to, str) or not metric.applies_to or not set(metric.applies_to) <= set(CAPABILITIES):
        raise ValueError(f"Metric applies_to must name model capabilities among {list(CAPABILITIES)} (families declare them). "
                         f"Received: {metric.name!r} applies to {metric.applies_to!r}")
    if not metric.name or not metric.outputs or (metric.kind == "labels") != bool(metric.label):
        raise ValueError(f"A metric needs a name and outputs, and a label exactly when its kind is 'labels'. Received: {metric}")
    if metric.name in _METRICS or metric.name in _ALIASES:
        raise ValueError(f"Metric {metric.name!r} is registered already.")
    _METRICS[metric.name] = metric
    return metric


def register_alias(name: str, members: Sequence[str], description: str) -> None:
    """Registers `name` as a shorthand for the registered metrics `members` (e.g. "acc")."""
    if name in _METRICS or name in _ALIASES:
        raise ValueError(f"Metric {name!r} is registered already.")
    unknown = [member for member in members if member not in _METRICS]
    if unknown or not members:
        raise ValueError(f"An alias needs registered members. Received: {name!r} -> {list(members)}")
    _ALIASES[name] = (tuple(members), description)


def unregister_metric(name: str) -> Metric:
    """Removes metric `name` (e.g. a test's toy metric) and returns it; aliases naming it go too."""
    metric = _METRICS.pop(name)
    for alias in [alias for alias, (members, _) in _ALIASES.items() if name in members]:
        del _ALIASES[alias]
    return metric


def registered_metrics() -> dict[str, Metric]:
    """Every registered metric by name, in registration order."""
    return dict(_METRICS)


def registered_names() -> list[str]:
    """Every name `resolve_metrics` takes: the metrics, then the aliases."""
    return [*_METRICS, *_ALIASES]


def get_metric(name: str) -> Metric:
    """The metric registered as `name`.

    Raises:
        ValueError: no such metric (the message lists the registered names).
    """
    if name not in _METRICS:
        raise ValueError(f"Unknown metric {name!r}; registered: {', '.join(registered_names())}")
    return _METRICS[name]


def capabilities_of(model: str) -> frozenset[str]:
    """What `model` stands for: a capability (e.g. `GENERATOR`) itself, or a registered family's name
    the capabilities that family declares.

    Raises:
        ValueError: neither (the message lists the registered families).
    """
    if model in CAPABILITIES:
        return frozenset((model,))
    from shoes_generator.families import get_family

    return frozenset(get_family(model).capabilities())


def applies(metric: Metric, model: str) -> bool:
    """Whether `metric` measures `model` (a capability or a family name): they share a capability."""
    return not capabilities_of(model).isdisjoint(metric.applies_to)


def metrics_for(model: str | None = None, kind: str | None = None, optional: bool | None = None) -> list[Metric]:
    """The registered metrics, in registration order, that apply to `model` (a capability such as
    `GENERATOR`, or a registered family's name), are of `kind` and (when `optional` is given) are
    optional or not; None matches any."""
    return [
        metric for metric in _METRICS.values()
        if (model is None or applies(metric, model)) and (kind is None or metric.kind == kind)
        and (optional is None or metric.optional == optional)
    ]


def metric_names(model: str | None = None, kind: str | None = None, optional: bool | None = None) -> tuple[str, ...]:
    """The names of `metrics_for` the same arguments."""
    return tuple(metric.name for metric in metrics_for(model, kind, optional))


def resolve_metrics(names: Iterable[str], kind: str | None = None, model: str | None = None, user: str = "metrics") -> list[Metric]:
    """The metrics `names` asks for (aliases expanded), once each, in registration order.

    Args:
        names: metric names or aliases.
        kind: the one kind the caller computes (None: any).
        model: the model they must apply to: a capability or a family name (None: any).
        user: who asks, for the messages (e.g. "MetricsCallback").

    Raises:
        ValueError: an unknown name (the message lists the registered ones), or a metric of
            another kind or for another model (the message lists the ones that fit).
    """
    names = list(names)
    unknown = [name for name in names if name not in _METRICS and name not in _ALIASES]
    if unknown:
        raise ValueError(f"Unknown metrics {unknown} for {user}; registered: {', '.join(registered_names())}. Received: {names}")
    wanted = {member for name in names for member in (_ALIASES[name][0] if name in _ALIASES else (name,))}
    chosen = [metric for metric in _METRICS.values() if metric.name in wanted]
    wrong = [metric.name for metric in chosen if (kind is not None and metric.kind != kind) or (model is not None and not applies(metric, model))]
    if wrong:
        fits = metric_names(model, kind)
        what = " ".join(part for part in (f"{kind!r}" if kind else "", "metrics", f"of {model!r} models" if model else "") if part)
        raise ValueError(f"{user} computes {what}: {', '.join(fits)}; {wrong} are not among them. Received: {names}")
    return chosen


def requested_metrics(text: str, user: str = "--metrics") -> list[str]:
    """The optional metrics (to compute on request) a comma-separated list of names asks for.

    Every registered name and alias is accepted; the always-reported metrics it names
    (e.g. "acc", "frechet") need no asking and are left out.

    Raises:
        ValueError: an unknown name (the message lists the registered ones).
    """
    names = [name.strip() for name in text.split(",") if name.strip()]
    return [metric.name for metric in resolve_metrics(names, user=user) if metric.optional]


def describe_metrics() -> str:
    """One line per registered name: name, kind, the capabilities it applies to, description and output
    keys; then one line per capability with the registered families that declare it
    (``shoes-eval --metrics list``)."""
    from shoes_generator.families import registered_families

    rows = [(m.name, m.kind, ",".join(m.applies_to), f"{m.description} -> {', '.join(m.outputs)}"
             + ("" if m.optional else " (always reported)")) for m in _METRICS.values()]
    rows += [(alias, "alias", "", f"{description}: {', '.join(members)}") for alias, (members, description) in _ALIASES.items()]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = [f"{name:<{widths[0]}}  {kind:<{widths[1]}}  {models:<{widths[2]}}  {text}" for name, kind, models, text in rows]
    families = registered_families().values()
    lines.append("The capabilities (a metric applies to every family that declares one of its own):")
    width = max(len(capability) for capability in CAPABILITIES)
    for capability, description in CAPABILITIES.items():
        declaring = ", ".join(family.name for family in families if capability in family.capabilities()) or "no family"
        lines.append(f"  {capability:<{width}}  {description}; declared by {declaring}")
    return "\n".join(lines)


# The built-in metrics. Adapters import their arithmetic when called (see the module docstring).


def _frechet(real, fake, **_) -> dict:
    from shoes_generator.metrics import fid

    return {"frechet_distance": fid(fake, real)}


def _fid(real, fake, **_) -> dict:
    from shoes_generator.metrics import fid

    return {"fid": fid(fake, real)}


def _kid(real, fake, kid_subset_size: int = 1000, **_) -> dict:
    from shoes_generator.metrics import kid

    mean, std = kid(fake.features, real.features, subset_size=kid_subset_size)
    return {"kid": mean, "kid_std": std}


def _precision_recall(real, fake, pr_k: int = 3, **_) -> dict:
    from shoes_generator.metrics import precision_recall

    precision, recall = precision_recall(real.features, fake.features, pr_k)
    return {"precision": precision, "recall": recall}


def _l1_of(a, b) -> float:
    """Mean absolute difference of uint8 images on the [-1, 1] scale the models train on."""
    import numpy as np

    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean() / 127.5)


def _l1(outputs, targets) -> dict:
    return {"l1": _l1_of(outputs, targets)}


def _psnr(outputs, targets) -> dict:
    import tensorflow as tf

    return {"psnr": float(tf.reduce_mean(tf.image.psnr(outputs, targets, 255)).numpy())}


def _ssim(outputs, targets) -> dict:
    import tensorflow as tf

    return {"ssim": float(tf.reduce_mean(tf.image.ssim(outputs, targets, 255)).numpy())}


def _cycle_l1(a, a_to_b_to_a, b, b_to_a_to_b) -> dict:
    return {"cycle_l1_aba": _l1_of(a_to_b_to_a, a), "cycle_l1_bab": _l1_of(b_to_a_to_b, b)}


def _type_accuracy(tally, vocabulary) -> dict:
    from shoes_generator.data.fmnist import CATEGORY_NAMES

    return tally.report("type_accuracy", vocabulary, CATEGORY_NAMES)


def _color_accuracy(tally, vocabulary) -> dict:
    from shoes_generator.imaging.colors import COLOR_NAMES

    return tally.report("color_accuracy", vocabulary, COLOR_NAMES, "color_accuracy_per_color")


def _pixel_accuracy(cm, class_names=None) -> dict:
    from shoes_generator.segmentation.metrics import pixel_accuracy

    return {"pixel_accuracy": pixel_accuracy(cm)}


def _iou(cm, class_names=None) -> dict:
    import numpy as np

    from shoes_generator.segmentation.metrics import mean_iou, per_class_iou

    names = [str(name) for name in class_names] if class_names is not None else [str(index) for index in range(len(cm))]
    return {
        "mean_iou": mean_iou(cm),
        "per_class_iou": {name: (None if np.isnan(iou) else float(iou)) for name, iou in zip(names, per_class_iou(cm))},
    }


_IMAGES = (GENERATOR, "translator")
for _metric in (
    Metric("frechet", "samples", "Frechet distance of the shoe classifier's features (the judge's; FID formula)",
           _IMAGES, _frechet, ("frechet_distance",), digits=3),
    Metric("fid", "samples", "Frechet distance of the chosen features (--features; FID on inception)",
           (GENERATOR,), _fid, ("fid",), optional=True, digits=4),
    Metric("kid", "samples", "kernel distance (cubic polynomial MMD^2), mean and std over subsets",
           (GENERATOR,), _kid, ("kid", "kid_std"), optional=True, digits=4),
    Metric("pr", "samples", "improved precision (fidelity) and recall (diversity), k-NN manifolds",
           (GENERATOR,), _precision_recall, ("precision", "recall"), optional=True, digits=4),
    Metric("l1", "pairs", "mean absolute error of outputs vs targets on the [-1, 1] scale",
           ("paired_translator",), _l1, ("l1",), digits=4),
    Metric("psnr", "pairs", "peak signal-to-noise ratio of outputs vs targets (dB)", ("paired_translator",), _psnr, ("psnr",), digits=3),
    Metric("ssim", "pairs", "structural similarity of outputs vs targets", ("paired_translator",), _ssim, ("ssim",), digits=4),
    Metric("cycle", "cycle", "cycle-consistency L1 of A->B->A and B->A->B",
           ("cycle_translator",), _cycle_l1, ("cycle_l1_aba", "cycle_l1_bab"), digits=4),
    Metric("type_accuracy", "labels", "share of images the classifier calls the shoe type asked for",
           (GENERATOR, "paired_translator"), _type_accuracy, ("type_accuracy",), label="category"),
    Metric("color_accuracy", "labels", "share of samples whose dominant colour is the one asked for",
           (GENERATOR,), _color_accuracy, ("color_accuracy", "color_accuracy_per_color"), label="color"),
    Metric("pixel_accuracy", "classes", "share of pixels given their true class", ("segmenter",), _pixel_accuracy, ("pixel_accuracy",)),
    Metric("iou", "classes", "intersection over union per class and its mean over the classes present",
           ("segmenter",), _iou, ("mean_iou", "per_class_iou")),
):
    register_metric(_metric)
register_alias("acc", ("type_accuracy", "color_accuracy"), "the label accuracies")
