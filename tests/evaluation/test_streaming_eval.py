"""Streaming generator evaluation: bounded accumulators that equal the one-shot computation."""

import weakref
from collections import Counter

import numpy as np
import pytest

from shoes_generator.data.fmnist import CATEGORY_NAMES
from shoes_generator.evaluation.frechet import frechet_distance
from shoes_generator.evaluation.generator_eval import generate, measure_samples
from shoes_generator.evaluation.streaming import GroupSample, SetMeasures, label_accuracy, label_cells, within_group_spread
from shoes_generator.imaging.colors import COLOR_NAMES, classify_batch
from shoes_generator.metrics import fid


class FakeSampler:
    """Seeded 8 px noise shoes, with the sampler interface; records call sizes and how many earlier outputs are alive."""

    vocabularies = {"category": list(CATEGORY_NAMES), "color": ["red", "blue"]}
    description = "fake sampler"

    def __init__(self, scale=1.0):
        self.scale, self.sizes, self.most_alive, self._outputs = scale, [], 0, []

    def __call__(self, seeds, labels):
        self.sizes.append(len(seeds))
        self.most_alive = max(self.most_alive, sum(ref() is not None for ref in self._outputs))
        draws = [np.random.default_rng(int(seed)).integers(0, 256, (8, 8, 3)) * self.scale for seed in seeds]
        images = np.stack(draws).astype(np.uint8)
        self._outputs.append(weakref.ref(images))
        return images


class ChannelJudge:
    """A cheap stand-in classifier: channel means and spreads as features, the brightest channel as the type."""

    name, info = "channel_judge", {"test_accuracy": 1.0}

    def judge(self, images):
        x = np.asarray(images, np.float64)
        means = x.mean((1, 2))
        return np.concatenate([means, x.std((1, 2))], 1), np.asarray(CATEGORY_NAMES)[means.argmax(1)]


class ChannelMeans:
    name = "channel_means"

    def __call__(self, images):
        return np.asarray(images, np.float64).mean((1, 2))


def test_streaming_holds_bounded_state_and_calls_the_sampler_in_batches_whatever_the_count():
    cells = len(CATEGORY_NAMES) * 2
    for count in (120, 1500):
        sampler = FakeSampler()
        fake = measure_samples(sampler, count, lambda size: SetMeasures(ChannelJudge(), ChannelMeans(), 50, 8), batch_size=32)
        assert max(sampler.sizes) <= 32 and sum(sampler.sizes) == count
        assert sampler.most_alive <= 1  # Earlier batches are dropped: no list of all images is kept.
        assert fake.features.count == fake.metric_features.count == count and fake.image_size == 8
        assert len(fake.metric_features.features) == 50 and fake.features.max_keep == 0  # Reservoir only where used.
        assert fake.groups.kept == cells * 8  # First 8 rows per label cell, whatever the count.
        assert sum(fake.types.asked.values()) == sum(fake.colors.asked.values()) == count
        assert len(fake.types.asked) == len(CATEGORY_NAMES) and set(fake.colors.asked) == {"red", "blue"}
    one_shot = FakeSampler()
    generate(one_shot, 1500, batch_size=32)
    assert one_shot.most_alive > 40  # The contrast: `generate` keeps every batch.


def test_streamed_measures_equal_the_one_shot_computation_on_the_same_images():
    sampler, judge = FakeSampler(), ChannelJudge()
    fake = measure_samples(sampler, 300, lambda size: SetMeasures(judge, max_per_group=16), seed=5, batch_size=64)
    assert sampler.sizes == [64, 64, 64, 64, 44]
    images, labels = generate(FakeSampler(), 300, seed=5, batch_size=300)
    features, types = judge.judge(images)
    real_images, real_labels = generate(FakeSampler(scale=0.5), 200, seed=1000)
    real = fake.like().add_arrays(real_images, real_labels, batch_size=48)
    real_features = judge.judge(real_images)[0]

    np.testing.assert_allclose(fake.features.mean, features.mean(0), rtol=1e-12)
    np.testing.assert_allclose(fake.features.cov, np.cov(features, rowvar=False), rtol=1e-9, atol=1e-9)
    assert fid(fake.features, real.features) == pytest.approx(frechet_distance(features, real_features), rel=1e-9)
    assert fake.groups.spread() == pytest.approx(within_group_spread(features, label_cells(labels), 16), rel=1e-12)
    assert real.groups.spread() == pytest.approx(within_group_spread(real_features, label_cells(real_labels), 16), rel=1e-12)
    vocab = list(CATEGORY_NAMES)
    assert fake.types.report("t", vocab, vocab, "per") == label_accuracy("t", labels["category"], types, vocab, vocab, "per")
    found = np.asarray(COLOR_NAMES)[classify_batch(images)[0]]
    assert fake.colors.report("c", ["red", "blue"], COLOR_NAMES, "per") == label_accuracy(
        "c", labels["color"], found, ["red", "blue"], COLOR_NAMES, "per"
    )
    assert real.types.asked == Counter() and real.features.count == 200  # Reference images are measured, not scored.


def test_group_sample_keeps_the_first_rows_of_each_group_and_rejects_bad_input():
    rows = np.arange(20, dtype=float).reshape(10, 2)
    groups = np.array(list("ababababab"))
    sample = GroupSample(3).update(rows[:4], groups[:4]).update(rows[4:], groups[4:])
    assert sample.kept == 6 and sample.spread() == pytest.approx(within_group_spread(rows, groups, 3))
    with pytest.raises(ValueError, match="Received: 2 rows and 1 groups"):
        sample.update(rows[:2], groups[:1])
    with pytest.raises(ValueError, match="max_per_group must be >= 2. Received: 1"):
        GroupSample(1)
    with pytest.raises(ValueError, match="No group holds two items"):
        GroupSample().spread()
