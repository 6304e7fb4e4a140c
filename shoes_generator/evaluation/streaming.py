"""Bounded accumulators of an image set's measures, fed batch by batch.

`SetMeasures` folds each batch into float64 feature moments plus a seeded
reservoir (`FeatureStats`), running label tallies (`LabelTally`) and the first
rows of each label cell (`GroupSample`); the images themselves are not kept.
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence

import numpy as np

from shoes_generator.metrics import FeatureStats


class LabelTally:
    """Running counts, per label asked for, of samples and of those the judge found as asked."""

    def __init__(self):
        self.asked: Counter = Counter()
        self.hits: Counter = Counter()

    def update(self, asked: np.ndarray, found: np.ndarray) -> "LabelTally":
        """Counts one batch; returns self.

        Args:
            asked: ``[B]`` labels the samples were generated with.
            found: ``[B]`` labels the judge read from the samples.
        """
        asked, found = np.asarray(asked), np.asarray(found)
        if asked.shape != found.shape:
            raise ValueError(f"asked and found must have the same shape. Received: shapes {asked.shape} and {found.shape}")
        self.asked.update(asked.tolist())
        self.hits.update(asked[found == asked].tolist())
        return self

    def report(self, key: str, vocabulary: Sequence[str], judge_classes: Sequence[str], per_label_key: str | None = None) -> dict:
        """``{key: share found as asked}``, or ``{key + "_note": why}`` when the judge cannot read the labels.

        A judge that only outputs `judge_classes` would count every other label
        wrong, so the accuracy is reported only when `vocabulary` is a subset of them.

        Args:
            key: the report key, e.g. "type_accuracy".
            vocabulary: the model's vocabulary of this label.
            judge_classes: every label the judge can output.
            per_label_key: also report ``{label: share}`` under this key.
        """
        unknown = [name for name in vocabulary if name not in set(judge_classes)]
        if unknown:
            return {
                f"{key}_note": f"omitted: the judge only knows {list(judge_classes)}; "
                f"the model's labels {unknown} are not among them and would always count as wrong"
            }
        if not self.asked:
            raise ValueError(f"Need at least one counted sample for {key}. Received: 0")
        report = {key: round(sum(self.hits.values()) / sum(self.asked.values()), 4)}
        if per_label_key:
            report[per_label_key] = {name: round(self.hits[name] / self.asked[name], 3) for name in sorted(self.asked)}
        return report


def label_accuracy(
    key: str,
    asked: np.ndarray,
    found: np.ndarray,
    vocabulary: Sequence[str],
    judge_classes: Sequence[str],
    per_label_key: str | None = None,
) -> dict:
    """`LabelTally.report` of whole arrays: ``{key: share of samples found as asked}`` or a ``_note``.

    Args:
        key: the report key, e.g. "type_accuracy".
        asked: ``[N]`` labels the samples were generated with.
        found: ``[N]`` labels the judge read from the samples.
        vocabulary: the model's vocabulary of this label.
        judge_classes: every label the judge can output.
        per_label_key: also report ``{label: share}`` under this key.
    """
    return LabelTally().update(asked, found).report(key, vocabulary, judge_classes, per_label_key)


def within_group_spread(features: np.ndarray, groups: np.ndarray, max_per_group: int = 64) -> float:
    """Mean pairwise feature distance among items of the same group, averaged over groups.

    A generator that ignores its noise (mode collapse) draws near-identical
    shoes for one set of labels: its spread falls far below the real shoes'.

    Args:
        features: ``[N, D]`` features.
        groups: ``[N]`` group keys (e.g. "red|sneaker").
        max_per_group: items used per group (bounds the cost).
    """
    spreads = []
    for key in np.unique(groups):
        members = features[groups == key][:max_per_group]
        if len(members) < 2:
            continue
        distances = np.sqrt(((members[:, None, :] - members[None, :, :]) ** 2).sum(-1))
        spreads.append(distances[np.triu_indices(len(members), 1)].mean())
    if not spreads:
        raise ValueError(f"No group holds two items; cannot measure a spread. Received: {len(features)} items in {len(np.unique(groups))} groups")
    return float(np.mean(spreads))


class GroupSample:
    """The first `max_per_group` feature rows of each group: `within_group_spread` with bounded memory.

    Args:
        max_per_group: rows kept per group.
    """

    def __init__(self, max_per_group: int = 64):
        if max_per_group < 2:
            raise ValueError(f"max_per_group must be >= 2. Received: {max_per_group}")
        self.max_per_group = int(max_per_group)
        self._rows: dict[str, list[np.ndarray]] = {}

    @property
    def kept(self) -> int:
        """Rows held: at most ``max_per_group`` per group, whatever the count seen."""
        return sum(len(chunk) for chunks in self._rows.values() for chunk in chunks)

    def update(self, features: np.ndarray, groups: np.ndarray) -> "GroupSample":
        """Keeps rows of ``[B, D]`` `features` while their ``[B]`` group has room; returns self."""
        features, groups = np.asarray(features, np.float64), np.asarray(groups)
        if len(features) != len(groups):
            raise ValueError(f"Need one group per feature row. Received: {len(features)} rows and {len(groups)} groups")
        for key in dict.fromkeys(groups.tolist()):
            chunks = self._rows.setdefault(key, [])
            room = self.max_per_group - sum(len(chunk) for chunk in chunks)
            if room > 0:
                chunks.append(features[groups == key][:room].copy())  # A copy: no view keeps the batch alive.
        return self

    def spread(self) -> float:
        """`within_group_spread` of the kept rows (the same value as on all rows, which it would also cut)."""
        keys = [key for key, chunks in self._rows.items() for chunk in chunks for _ in range(len(chunk))]
        rows = [chunk for chunks in self._rows.values() for chunk in chunks]
        return within_group_spread(np.concatenate(rows) if rows else np.zeros((0, 0)), np.asarray(keys), self.max_per_group)


def label_cells(labels: dict[str, np.ndarray]) -> np.ndarray:
    """``[B]`` keys joining each row's labels in name order (e.g. "sneaker|red" for category and color)."""
    return np.asarray(["|".join(values) for values in zip(*(labels[name] for name in sorted(labels)))])


class SetMeasures:
    """Bounded running measures of one image set, fed batch by batch with `add`.

    Holds the judge's feature moments (`features`, for the Frechet distance),
    the metric extractor's (`metric_features`, the same object when the
    extractor is the judge's classifier), the first rows of each label cell
    (`groups`) and the type / colour tallies (`types`, `colors`).

    Args:
        classifier: the judge: ``classifier.judge(images) -> ([B, D] features, [B] type names)``
            (a `ClassifierFeatures`).
        extractor: the `FeatureExtractor` of the extra metrics (None: the classifier's features).
        reservoir: feature rows kept for KID / precision-recall (0: moments only).
        max_per_group: feature rows kept per label cell for the within-label spread.
    """

    def __init__(self, classifier, extractor=None, reservoir: int = 0, max_per_group: int = 64):
        self.classifier, self.reservoir, self.max_per_group = classifier, int(reservoir), int(max_per_group)
        self.extractor = classifier if extractor is None else extractor
        separate = self.extractor is not classifier
        self.features = FeatureStats(0 if separate else self.reservoir)
        self.metric_features = FeatureStats(self.reservoir) if separate else self.features
        self.groups = GroupSample(max_per_group)
        self.types, self.colors = LabelTally(), LabelTally()
        self.image_size: int | None = None

    @property
    def tallies(self) -> dict[str, LabelTally]:
        """The tally of each label judged, by label name (what registered "labels" metrics read)."""
        return {"category": self.types, "color": self.colors}

    def like(self) -> "SetMeasures":
        """Empty measures of another set, under the same judge, extractor and bounds."""
        return SetMeasures(self.classifier, self.extractor, self.reservoir, self.max_per_group)

    def add(self, images: np.ndarray, labels: dict[str, np.ndarray], score: bool = True) -> "SetMeasures":
        """Folds one batch in; the images are not kept. Returns self.

        Args:
            images: ``uint8 [B, H, W, 3]``.
            labels: label name -> ``[B]`` values ({}: no label cells).
            score: tally the types and colours found against ``labels["category"]`` / ``labels["color"]``.
        """
        from shoes_generator.imaging.colors import COLOR_NAMES, classify_batch

        self.image_size = self.image_size or int(images.shape[1])
        features, types = self.classifier.judge(images)
        self.features.update(features)
        if self.metric_features is not self.features:
            self.metric_features.update(self.extractor(images))
        if labels:
            self.groups.update(features, label_cells(labels))
        if score and "category" in labels:
            self.types.update(labels["category"], types)
        if score and "color" in labels:
            self.colors.update(labels["color"], np.asarray(COLOR_NAMES)[classify_batch(images)[0]])
        return self

    def add_arrays(self, images: np.ndarray, labels: dict[str, np.ndarray], batch_size: int = 250) -> "SetMeasures":
        """Folds in reference images held as arrays, `batch_size` at a time, without scoring labels. Returns self.

        Args:
            images: ``uint8 [N, H, W, 3]``.
            labels: label name -> ``[N]`` values (for the label cells).
            batch_size: images per batch.
        """
        for start in range(0, len(images), batch_size):
            chunk = slice(start, start + batch_size)
            self.add(images[chunk], {name: values[chunk] for name, values in labels.items()}, score=False)
        return self
