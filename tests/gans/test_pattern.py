"""`PatternGAN` and its networks: the texture statistics, the object mask, an encoder that reads the print and not the
object, what a step updates, sketched examples, that it learns a tiny set, and the tiled print mapping (the largest
square inside the object repeated, composed into the generator's black- and white-print renders)."""

import numpy as np
import pytest
import tensorflow as tf

from shoes_generator.gans.pattern import PatternGAN, masked_moments, match_colours, texture_statistics
from shoes_generator.models.conditional import build_projection_discriminator
from shoes_generator.imaging.patterns import DARK_REFERENCE, LIGHT_REFERENCE, render_on_shoes
from shoes_generator.models.pattern import build_pattern_encoder, build_pattern_generator, object_mask, render_print, tiled_print
from shoes_generator.models.spade import build_style_encoder

SIZE, CATEGORIES = 16, 3


def tiny_gan(shading=None, judged_channels=None, **options) -> PatternGAN:
    shading = options.get("print_mapping") == "tiled" if shading is None else shading
    generator = build_pattern_generator(SIZE, CATEGORIES, z_dim=4, style_dim=8, base_filters=4, embed_dim=4, shading=shading)
    encoder = build_pattern_encoder(SIZE, base_filters=4, style_dim=8)
    channels = judged_channels or (6 if options.get("judge") == "shading" else 3)
    discriminator = build_projection_discriminator({"category": CATEGORIES}, SIZE, channels, base_filters=4)
    shape_encoder = build_style_encoder(SIZE, base_filters=4, z_dim=4, name="shape_encoder")
    gan = PatternGAN(generator, discriminator, encoder, shape_encoder, **options)
    gan.compile(tf.keras.optimizers.Adam(2e-3, beta_1=0.5), tf.keras.optimizers.Adam(2e-3, beta_1=0.5))
    gan.build_optimizers()
    return gan


def stripes(colors, shift=0, size=SIZE) -> np.ndarray:
    """Vertical stripes of two colours in [-1, 1] (the print), rolled by `shift` columns."""
    columns = (np.arange(size) + shift) // 2 % 2
    return np.asarray(colors, np.float32)[columns][None].repeat(size, axis=0)


def on_object(print_, top, left, height, width) -> np.ndarray:
    """The print inside a rectangle of white."""
    image = np.ones((SIZE, SIZE, 3), np.float32)
    image[top : top + height, left : left + width] = print_[top : top + height, left : left + width]
    return image


def tiny_batch(count=4) -> dict:
    red_blue, green_black = stripes([[1, -1, -1], [-1, -1, 1]]), stripes([[-1, 1, -1], [-1, -1, -1]])
    prints = [red_blue, green_black] * (count // 2)
    exemplars = np.stack([on_object(p, 2, 2, 8, 10) for p in prints])
    shoes = np.stack([on_object(p, 8, 1, 6, 14) for p in prints])
    sketches = np.ones_like(shoes)
    sketches[:, 8, 1:15] = sketches[:, 13, 1:15] = -1.0
    return {"exemplar": tf.constant(exemplars), "image": tf.constant(shoes), "sketch": tf.constant(sketches),
            "category": tf.constant(np.arange(count) % CATEGORIES, tf.int32)}


def test_texture_statistics_are_colour_moments_and_neighbour_differences_inside_the_mask():
    image = stripes([[1, -1, -1], [-1, -1, 1]])[None]
    mask = np.zeros((1, SIZE, SIZE, 1), np.float32)
    mask[:, 4:12, 4:12] = 1.0
    stats = texture_statistics(image, mask).numpy()[0]
    np.testing.assert_allclose(stats[:3], [0, -1, 0], atol=1e-6)  # Half red, half blue columns.
    np.testing.assert_allclose(stats[3:6], [1, 0, 1], atol=2e-3)  # sqrt(variance + 1e-6).
    right, down = stats[6:9], stats[9:12]
    np.testing.assert_allclose(down, 0, atol=1e-6)  # Vertical stripes: no change downwards...
    assert right[0] > 0.5 and right[1] == 0  # ...and every other step to the right flips red and blue.
    outside = image.copy()
    outside[:, :4] = 0.3
    np.testing.assert_allclose(texture_statistics(outside, mask).numpy(), stats[None], atol=1e-6)


def test_colour_matching_gives_the_shoe_the_exemplars_colour_moments_and_keeps_the_white():
    rng = np.random.default_rng(0)
    shoe = np.ones((1, SIZE, SIZE, 3), np.float32)
    shoe[0, 6:12, 2:14] = rng.uniform(-0.8, 0.2, (6, 12, 3))
    bag = np.ones((1, SIZE, SIZE, 3), np.float32)
    bag[0, 2:10, 4:12] = rng.uniform(-1.0, -0.2, (8, 8, 3)) * np.array([1.0, 0.3, 0.5], np.float32)
    matched = match_colours(shoe, bag).numpy()
    for got, want in zip(masked_moments(matched, object_mask(matched)), masked_moments(bag, object_mask(bag))):
        np.testing.assert_allclose(got.numpy(), want.numpy(), atol=2e-3)
    np.testing.assert_array_equal(matched[0, :6], 1.0)  # The white around the shoe stays white.
    halfway = match_colours(shoe, bag, 0.5).numpy()
    np.testing.assert_allclose(halfway, (shoe + matched) / 2, atol=1e-5)
    np.testing.assert_array_equal(match_colours(shoe, bag, 0.0), shoe)


def test_object_mask_is_what_differs_from_white_and_everything_for_a_full_frame_swatch():
    image = np.ones((1, 8, 8, 3), np.float32)
    image[0, 2:5, 3:6] = -0.5
    np.testing.assert_array_equal(object_mask(image).numpy()[0, ..., 0], (image[0, ..., 0] < 0).astype(np.float32))
    swatch = np.full((1, 8, 8, 3), -0.2, np.float32)
    assert object_mask(swatch).numpy().min() == 1.0
    assert object_mask(np.ones((1, 8, 8, 3), np.float32)).numpy().min() == 1.0  # Nothing there: read everything.


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_encoder_reads_the_print_not_the_objects_outline(seed):
    tf.keras.utils.set_random_seed(seed)
    size = 32  # Objects much larger than the convs' reach: their outline is a small share of their pixels.
    encoder = build_pattern_encoder(size, base_filters=4, style_dim=8)
    red_blue, green_black = (stripes(colors, size=size) for colors in ([[1, -1, -1], [-1, -1, 1]], [[-1, 1, -1], [-1, -1, -1]]))

    def on(print_, top, left, height, width):
        image = np.ones((size, size, 3), np.float32)
        image[top : top + height, left : left + width] = print_[top : top + height, left : left + width]
        return image[None]

    a = encoder(on(red_blue, 2, 2, 24, 28)).numpy()
    moved = encoder(on(red_blue, 10, 6, 18, 18)).numpy()  # Another object, elsewhere, the same print.
    other = encoder(on(green_black, 2, 2, 24, 28)).numpy()
    assert np.abs(a - moved).sum() < 0.5 * np.abs(a - other).sum()


def test_examples_follow_their_sketch_their_encoded_shape_or_random_noise():
    batch = tiny_batch(count=64)
    sketched, encoded, sketch, category, _ = tiny_gan(sketch_probability=1.0)._inputs(batch)
    assert bool(tf.reduce_all(sketched)) and not bool(tf.reduce_any(encoded)) and set(category.numpy()) == {CATEGORIES}
    np.testing.assert_array_equal(sketch.numpy(), batch["sketch"].numpy())
    sketched, encoded, blank, category, _ = tiny_gan(sketch_probability=0.0, encoded_probability=0.5)._inputs(batch)
    assert not bool(tf.reduce_any(sketched)) and 16 < int(tf.reduce_sum(tf.cast(encoded, tf.int32))) < 48
    assert blank.numpy().min() == 1.0 and np.array_equal(category.numpy(), batch["category"].numpy())


@pytest.mark.parametrize("sketch_probability, encoded_probability, resting", [(0.5, 0.5, ()), (0.0, 0.0, ("shape_encoder",))])
def test_a_step_updates_every_network_the_losses_reach(sketch_probability, encoded_probability, resting):
    gan = tiny_gan(sketch_probability=sketch_probability, encoded_probability=encoded_probability)
    batch = tiny_batch(count=8)
    before = {name: [v.numpy().copy() for v in getattr(gan, name).trainable_variables] for name in gan.NETWORK_KEYS}
    gan.train_step(batch)  # AdaIN starts as plain instance norm (zero kernels): the encoder's gradient flows from step 2.
    logs = gan.train_step(batch)
    assert set(logs) == {"d_loss", "g_adversarial", "g_l1", "g_kl", "g_texture"} and all(np.isfinite(float(v)) for v in logs.values())
    for name in gan.NETWORK_KEYS:
        moved = [not np.array_equal(b, v.numpy()) for b, v in zip(before[name], getattr(gan, name).trainable_variables)]
        if name in resting:  # No example takes its noise from the shape encoder: no loss reaches it.
            assert not any(moved), name
        else:
            assert sum(moved) >= len(moved) - 1, f"{name}: {moved.count(False)} variables did not move"
    assert {"noise_seed", "shape_encoder"} <= set(gan.checkpoint_objects())


def test_it_learns_the_print_of_a_tiny_set():
    gan = tiny_gan(sketch_probability=1.0, l1_weight=20.0)
    batch = tiny_batch()
    step = tf.function(gan.train_step)
    first = float(gan.test_step(batch)["l1"])
    for _ in range(60):
        step(batch)
    gan.trackers["l1"].reset_state()
    assert float(gan.test_step(batch)["l1"]) < 0.5 * first


def test_bad_settings_are_refused_with_what_was_received():
    with pytest.raises(ValueError, match="'sketch_probability': 1.5"):
        tiny_gan(sketch_probability=1.5)
    with pytest.raises(ValueError, match="kl_weight=-1"):
        tiny_gan(kl_weight=-1.0)
    with pytest.raises(ValueError, match="texture_weight=-1"):
        tiny_gan(texture_weight=-1.0)
    with pytest.raises(ValueError, match="Unknown GAN loss"):
        tiny_gan(loss="nope")


# --------------------------------------------------------------------------------------- the tiled print


def test_the_tiled_print_repeats_the_largest_square_inside_the_object():
    rng = np.random.default_rng(0)
    print_ = rng.uniform(-1.0, 0.8, (SIZE, SIZE, 3)).astype(np.float32)
    exemplar = np.ones((SIZE, SIZE, 3), np.float32)
    exemplar[3:10, 5:15] = print_[3:10, 5:15]  # A 7 x 10 box: its largest odd square is 7 x 7, first at column 5...
    tiled = tiled_print(exemplar[None], rim=0).numpy()[0]
    np.testing.assert_allclose(tiled, np.tile(print_[3:10, 5:12], (3, 3, 1))[:SIZE, :SIZE], atol=1e-6)
    inner = tiled_print(exemplar[None], rim=1).numpy()[0]  # ...and clear of the box's outer ring, 5 x 5 about the same centre.
    np.testing.assert_allclose(inner, np.tile(print_[4:9, 6:11], (4, 4, 1))[:SIZE, :SIZE], atol=1e-6)
    thin = np.ones((1, SIZE, SIZE, 3), np.float32)
    thin[0, 6, 2:12] = -0.5  # One pixel high: its first pixel, repeated, whatever the rim.
    np.testing.assert_allclose(tiled_print(thin, rim=1).numpy(), np.full((1, SIZE, SIZE, 3), -0.5), atol=1e-6)


def test_a_full_frame_swatch_tiles_into_almost_itself_and_a_print_keeps_its_direction():
    swatch = np.random.default_rng(1).uniform(-1.0, 0.5, (1, SIZE, SIZE, 3)).astype(np.float32)
    tiled = tiled_print(swatch, rim=0).numpy()[0]
    np.testing.assert_allclose(tiled[: SIZE - 1, : SIZE - 1], swatch[0, : SIZE - 1, : SIZE - 1], atol=1e-6)  # A 15 x 15 square from the corner.
    diagonal = np.where((np.arange(SIZE)[:, None] + np.arange(SIZE)[None]) % 4 < 2, -1.0, 0.4).astype(np.float32)
    blob = np.ones((1, SIZE, SIZE, 3), np.float32)
    blob[0, 2:14, 2:14] = diagonal[2:14, 2:14, None]
    out = tiled_print(blob, rim=0).numpy()[0, ..., 0]
    # An 11 x 11 square (a period of 4 would line up across the seam; 11 does not): within each repeat the stripes
    # run the same diagonal way, and the repeat below starts where the square's top row starts, not mirrored.
    np.testing.assert_array_equal(out[:10, :10][1:, :-1], out[:10, :10][:-1, 1:])
    np.testing.assert_array_equal(out[11:13], out[0:2])
    np.testing.assert_array_equal(out[11:16, 11:16][1:, :-1], out[11:16, 11:16][:-1, 1:])


def test_the_print_composed_into_black_and_white_renders_is_the_rendered_shoe():
    rng = np.random.default_rng(2)
    gray = np.zeros((2, 28, 28), np.uint8)
    gray[:, 12:22, 3:25] = rng.integers(90, 255, (2, 10, 22))
    prints = rng.uniform(0, 1, (2, SIZE, SIZE, 3)).astype(np.float32)
    references = [np.broadcast_to(np.asarray(c, np.float32), prints.shape) for c in (DARK_REFERENCE, LIGHT_REFERENCE)]
    dark, light = (render_on_shoes(r, gray) for r in references)
    shading = np.concatenate([dark, light], -1).astype(np.float32) / 127.5 - 1.0
    got = (render_print(shading, prints * 2 - 1).numpy() + 1) * 127.5
    # The renders are uint8 (half a level each): the straight line through them is off by a few levels at most.
    np.testing.assert_allclose(got, render_on_shoes(prints, gray), atol=3.0)
    assert np.abs(got - render_on_shoes(prints[::-1], gray)).mean() > 20  # Another print gives another shoe.


def test_tiled_mapping_composes_the_worn_print_in_training_and_the_exemplars_when_served(monkeypatch):
    import shoes_generator.gans.pattern as pattern_gan

    gan = tiny_gan(print_mapping="tiled")
    batch = tiny_batch(count=4)
    shading = tf.random.uniform([4, SIZE, SIZE, 6], -1.0, 1.0, seed=3)
    worn = tf.constant(np.stack([stripes([[1, 1, -1], [-1, 1, 1]])] * 4))
    np.testing.assert_allclose(gan._finish(shading, batch["exemplar"], worn), render_print(shading, worn), atol=1e-6)
    served = gan._finish(shading, batch["exemplar"])
    np.testing.assert_allclose(served, render_print(shading, tiled_print(batch["exemplar"])), atol=1e-6)
    drawn = gan.draw(batch["exemplar"], tf.zeros([4, 4]), batch["category"])
    assert drawn.shape == (4, SIZE, SIZE, 3) and float(tf.reduce_min(drawn)) >= -1.0 and float(tf.reduce_max(drawn)) <= 1.0
    composed = []
    monkeypatch.setattr(pattern_gan, "render_print", lambda shading, prints: composed.append(prints) or render_print(shading, prints))
    logs = gan.train_step({**batch, "print": worn})
    assert all(np.isfinite(float(v)) for v in logs.values())
    np.testing.assert_array_equal(composed[-1], worn)  # The step composed the print the real shoes wear.
    logs = gan.train_step(batch)  # Without the worn print (a folder without print/): the tiled exemplar stands in.
    assert all(np.isfinite(float(v)) for v in logs.values())
    np.testing.assert_allclose(composed[-1], tiled_print(batch["exemplar"]), atol=1e-6)


def test_the_shading_judge_sees_the_generators_print_free_output_against_the_real_shoes_shading():
    gan = tiny_gan(print_mapping="tiled", judge="shading")
    batch = tiny_batch(count=4)
    seen = []
    judge = gan.discriminator

    class Spy(tf.keras.Model):  # The same discriminator (its variables too), noting what it is shown.
        def __init__(self):
            super().__init__()
            self.inner = judge

        def call(self, inputs, training=False):
            seen.append(inputs["image"])
            return self.inner(inputs, training=training)

    gan.discriminator = Spy()
    shading = tf.concat([batch["image"] * 0.2 - 0.6, batch["image"]], -1)  # Any six channels: only who is judged matters.
    logs = gan.train_step({**batch, "shading": shading})
    gan.discriminator = judge
    assert all(np.isfinite(float(v)) for v in logs.values())
    real_and_fake, fake = seen
    assert real_and_fake.shape == (8, SIZE, SIZE, 6) and fake.shape == (4, SIZE, SIZE, 6)
    np.testing.assert_allclose(real_and_fake[:4], shading, atol=1e-6)
    np.testing.assert_allclose(real_and_fake[4:], fake, atol=1e-6)  # The generator's own six channels, not a printed shoe.
    with pytest.raises(ValueError, match=r"Missing: \['shading'\]"):
        gan.train_step(batch)


def test_the_mapping_and_the_generators_channels_must_agree():
    with pytest.raises(ValueError, match="print_mapping must be one of"):
        tiny_gan(print_mapping="painted")
    with pytest.raises(ValueError, match="needs a generator of 6 output channels.*Received: 3"):
        tiny_gan(shading=False, print_mapping="tiled")
    with pytest.raises(ValueError, match="needs a generator of 3 output channels.*Received: 6"):
        tiny_gan(shading=True)
    with pytest.raises(ValueError, match="judge must be one of.*judge='shading', print_mapping='learned'"):
        tiny_gan(judge="shading")
    with pytest.raises(ValueError, match="discriminator channels 3"):
        tiny_gan(print_mapping="tiled", judge="shading", judged_channels=3)
