"""Patterns, exemplar objects, patterns on shoes, the held-out split and the texture descriptor."""

import numpy as np
import pytest

from shoes_generator.data.names import OBJECT_KINDS, PATTERN_KINDS
from shoes_generator.imaging import patterns as P
from shoes_generator.imaging.colorize import colorize
from shoes_generator.imaging.colors import REFERENCE_RGB
from tests.harness import shoe_image


def gray_shoe(level: int = 180) -> np.ndarray:
    """A Fashion-MNIST-like shoe: light on black, ``uint8 [28, 28]``."""
    return np.asarray(shoe_image(28, (level,) * 3, background=(0, 0, 0)).convert("L"))


@pytest.mark.parametrize("kind", PATTERN_KINDS)
def test_every_kind_is_deterministic_in_range_and_not_flat(kind):
    for pattern_id in (3, P.HELD_OUT_ID_START + 3):
        spec = P.pattern_spec(pattern_id, kind)
        image = P.render_pattern(spec, 24)
        assert image.shape == (24, 24, 3) and image.dtype == np.float32
        assert 0 <= image.min() and image.max() <= 1 and image.std() > 0.03, spec
        np.testing.assert_array_equal(image, P.render_pattern(P.pattern_spec(pattern_id, kind), 24))
        assert spec.held_out == (pattern_id >= P.HELD_OUT_ID_START)
    drawn = P.GENERATORS[kind](16, np.random.default_rng(1), None)
    assert drawn.shape == (16, 16, 3) and drawn.std() > 0.02
    np.testing.assert_array_equal(drawn, P.GENERATORS[kind](16, np.random.default_rng(1), None))
    if kind != "gradient":  # another phase is another piece of the same fabric (a gradient spans the object)
        assert not np.array_equal(P.render_pattern(spec, 24, phase=1), P.render_pattern(spec, 24, phase=0))


def test_a_pattern_keeps_its_scale_across_sizes():
    spec = P.pattern_spec(11, "stripes")
    small, large = P.render_pattern(spec, 32), P.render_pattern(spec, 128)
    shrunk = large.reshape(32, 4, 32, 4, 3).mean((1, 3))
    assert np.abs(np.fft.fft2(small.mean(-1)))[1:].argmax() == np.abs(np.fft.fft2(shrunk.mean(-1)))[1:].argmax()


@pytest.mark.parametrize("kind", OBJECT_KINDS)
def test_objects_are_inside_the_canvas_and_not_empty(kind):
    for seed in range(8):
        mask = P.object_mask(kind, 32, np.random.default_rng(seed))
        assert mask.dtype == bool and mask.shape == (32, 32)
        assert not (mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())
        assert 0.12 < mask.mean() < 0.8, (kind, seed, mask.mean())
    image = P.render_on_object(P.render_pattern(P.pattern_spec(1, "dots"), 32), mask)
    assert image.dtype == np.uint8 and (image[~mask] == 255).all() and (image[mask] < 250).any()


def test_a_bag_has_a_handle_loop_with_white_inside():
    mask = P.object_mask("bag", 64, np.random.default_rng(0))
    rows = np.flatnonzero(mask.any(1))
    handle = mask[rows[0] : rows[0] + 6]
    assert any(np.diff(row.astype(int)).clip(0).sum() >= 2 for row in handle)  # two separate sides of the loop


def test_render_on_shoe_follows_the_silhouette_on_white_as_colorize_shades_it():
    gray = gray_shoe()
    grey = np.broadcast_to(np.array(REFERENCE_RGB["grey"], np.float32) / 255, (32, 32, 3))
    ours = P.render_on_shoe(grey, gray).astype(int)
    tinted = colorize(gray[None], ["grey"], size=32, margin=P.PAD_MARGIN)[0].astype(int)
    assert np.abs(ours - tinted).max() <= 4  # a plain pattern is the colorize tint of that colour
    red = np.zeros((32, 32, 3), np.float32)
    red[..., 0] = 0.8
    image = P.render_on_shoe(red, gray)
    silhouette = colorize(gray[None], ["black"], size=32, margin=P.PAD_MARGIN)[0].max(-1) < 128
    assert silhouette.mean() > 0.2
    inside = image[silhouette].astype(int)
    assert (inside[:, 0] > inside[:, 1] + 60).mean() > 0.95
    assert (image[:2] == 255).all() and (image[:, :2] == 255).all()  # far from the shoe: white


def test_held_out_colourings_and_textures_never_reach_training():
    training = [P.pattern_spec(i, PATTERN_KINDS[i % len(PATTERN_KINDS)]) for i in range(600)]
    held = [P.pattern_spec(P.HELD_OUT_ID_START + i, PATTERN_KINDS[i % len(PATTERN_KINDS)]) for i in range(200)]
    assert not any(P.is_held_out_coloring(spec.colors) for spec in training)
    assert {spec.params["texture"] for spec in training if spec.kind == "photo"}.isdisjoint(P.HELD_OUT_TEXTURES)
    for spec in held:
        if spec.kind == "photo":
            assert spec.params["texture"] in P.HELD_OUT_TEXTURES
        if spec.colors:
            assert P.is_held_out_coloring(spec.colors), spec
    assert P.is_held_out_coloring(("tan", "sand", "espresso")) and not P.is_held_out_coloring(("tan", "sand", "black"))
    leopards = [spec.colors for spec in training + held if spec.kind == "leopard"]
    assert ("tan", "black", "camel") in leopards or ("sand", "black", "tan") in leopards  # realistic colourings are drawn


def test_the_same_pattern_on_two_objects_is_closer_than_two_patterns():
    kinds = ("stripes", "checks", "dots", "leopard", "camouflage", "tartan")
    specs = [P.pattern_spec(P.HELD_OUT_ID_START + 40 + i, kind) for i, kind in enumerate(kinds)]
    rng = np.random.default_rng(0)

    def on(obj, phase):
        images = [P.render_on_object(P.render_pattern(spec, 48, phase), P.object_mask(obj, 48, rng)) for spec in specs]
        return P.texture_descriptors(np.stack(images))

    bags, boxes = on("bag", 0), on("box", 1)
    assert bags.shape == (6, P.DESCRIPTOR_SIZE) and np.isfinite(bags).all()
    distances = P.descriptor_distances(boxes, bags)
    assert (distances.argmin(1) == np.arange(6)).all(), distances.round(2)
    np.testing.assert_array_equal(P.nearest_exemplar(boxes, bags), np.arange(6))
