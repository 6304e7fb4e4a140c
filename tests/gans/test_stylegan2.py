"""The StyleGAN2 wrapper: style mixing, lazy R1 and path length, ADA inside the step, EMA, truncation centres, inversion."""

import numpy as np
import pytest
import tensorflow as tf

from shoes_generator.builders import build_model
from shoes_generator.configs import get_preset, override
from shoes_generator.gans.inversion import invert_ws, nearest_centre
from shoes_generator.gans.stylegan2 import crossover, label_combination_ids
from shoes_generator.labels import Vocabularies

VOCAB = Vocabularies({"color": ["black", "red", "blue"], "category": ["sandal", "sneaker"]})
BATCH = 4


def tiny_model(*settings, labels=("color", "category")):
    config = override(get_preset("stylegan2_fmnist_color_tiny"), [f"data.labels={','.join(labels)}", *settings])
    return build_model(config, VOCAB if labels else None, steps_per_epoch=4)


def batches(count=4, size=16, seed=0):
    rng = np.random.default_rng(seed)
    return [
        {
            "image": rng.uniform(-1, 1, (BATCH, size, size, 3)).astype("float32"),
            "color": rng.integers(0, 3, BATCH).astype("int32"),
            "category": rng.integers(0, 2, BATCH).astype("int32"),
        }
        for _ in range(count)
    ]


def fit(model, data):
    dataset = tf.data.Dataset.from_tensor_slices({k: np.concatenate([b[k] for b in data]) for k in data[0]}).batch(BATCH)
    return model.fit(dataset, epochs=1, verbose=0).history


def test_crossover_takes_coarse_layers_from_the_first_latents_and_fine_ones_from_the_second():
    ws, style = tf.zeros([3, 5, 2]), tf.ones([3, 5, 2])
    mixed = crossover(ws, style, tf.constant([0, 2, 5])).numpy()
    np.testing.assert_array_equal(mixed[:, :, 0], [[1, 1, 1, 1, 1], [0, 0, 1, 1, 1], [0, 0, 0, 0, 0]])


def test_label_combination_ids_are_mixed_radix_first_label_slowest():
    ids = label_combination_ids({"color": tf.constant([0, 2, 1]), "category": tf.constant([1, 0, 1])}, {"color": 3, "category": 2})
    np.testing.assert_array_equal(ids.numpy(), [1, 4, 3])


def test_training_steps_log_finite_losses_r1_on_its_interval_and_move_every_network():
    model = tiny_model("model.r1_interval=2", "model.pl_weight=1", "model.pl_interval=2", "model.ada_interval=2")
    before = {v.path: v.numpy().copy() for net in model.networks for v in net.trainable_variables}
    history = fit(model, batches())
    for key in ("d_loss", "g_loss", "r1", "pl", "ada_p", "ada_rt"):
        assert np.isfinite(history[key][-1]), key
    assert history["r1"][-1] > 0 and history["pl"][-1] > 0  # Steps 0 and 2 regularized.
    assert int(model.step.numpy()) == 4 and model.pl_mean.numpy() > 0
    moved = {path for net in model.networks for v in net.trainable_variables if not np.array_equal(v.numpy(), before[path := v.path])}
    for net in model.networks:
        assert any(v.path in moved for v in net.trainable_variables), net.name
    ema = model.ema_synthesis.trainable_variables[0].numpy()
    assert not np.array_equal(ema, model.synthesis.trainable_variables[0].numpy())  # Averaged, not copied.


def test_ada_p_rises_when_the_discriminator_overfits_a_tiny_real_set():
    # A frozen generator and a quick discriminator that sees the same four reals again and again learns them
    # by heart: r_t = E[sign(D(real))] passes the 0.6 target and p climbs by 4 * 2 / 40 = 0.2 per interval.
    # Once p is high the augmented reals may fool it again (r_t back under 0.6): that is ADA holding r_t, so only the
    # climb is asserted, not where r_t ends.
    model = tiny_model("train.g_lr=0", "train.d_lr=0.01", "model.ada_interval=2", "model.ada_kimg=0.04")
    assert model.augment.p.numpy() == 0.0
    seen = []
    record = tf.keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: seen.append((float(model.augment.p.numpy()), float(model.augment.rt.numpy())))
    )
    dataset = tf.data.Dataset.from_tensor_slices({k: np.concatenate([b[k] for b in batches(count=1) * 40]) for k in batches()[0]})
    model.fit(dataset.batch(BATCH), epochs=1, verbose=0, callbacks=[record])
    ps, rts = np.array(seen).T
    assert rts.max() > 0.6 and ps[-1] >= 0.6, seen
    assert np.all(np.diff(ps)[rts[1:] > 0.6] >= 0), seen  # An update driven by r_t above the target never lowers p.


def test_without_ada_there_is_no_augmentation_and_nothing_is_logged_for_it():
    model = tiny_model("model.ada=false")
    assert model.augment is None
    history = fit(model, batches(count=2))
    assert "ada_p" not in history and np.isfinite(history["d_loss"][-1])


def test_inference_is_deterministic_and_truncation_toward_a_centre_lands_on_it():
    model = tiny_model()
    z = np.random.default_rng(1).normal(size=(2, model.latent_dim)).astype("float32")
    labels = {"color": np.array([1, 1], "int32"), "category": np.array([0, 0], "int32")}
    first, second = model({"z": z, **labels}), model({"z": z, **labels})
    np.testing.assert_array_equal(first.numpy(), second.numpy())
    assert first.shape == (2, 16, 16, 3) and first.numpy().min() >= -1 and first.numpy().max() <= 1
    centres = model.average_w(samples=64)
    assert centres.shape == (6, model.w_dim)
    np.testing.assert_array_equal(centres, model.average_w(samples=64))  # A function of the weights and the seed.
    rows = tf.gather(centres, label_combination_ids(labels, model.label_sizes))
    ws = model.ws(z, labels, truncation=tf.zeros([2]), w_avg=rows).numpy()
    np.testing.assert_allclose(ws[0], ws[1], atol=1e-6)  # psi 0: the labels' average w whatever the noise.
    np.testing.assert_allclose(ws[0, 0], centres[1 * 2 + 0], atol=1e-5)


def test_inversion_recovers_a_generated_shoe_better_than_its_start():
    model = tiny_model()
    z = np.random.default_rng(2).normal(size=(2, model.latent_dim)).astype("float32")
    labels = {"color": np.array([0, 2], "int32"), "category": np.array([1, 0], "int32")}
    target_ws = model.ws(z, labels)
    target = model.synthesize(target_ws, clip=False)
    synthesize = lambda ws: model.synthesize(ws, clip=False)  # noqa: E731
    centres = tf.constant(model.average_w(samples=64))
    start = nearest_centre(target, centres, synthesize, model.num_ws)
    found = invert_ws(target, synthesize, start, steps=30, learning_rate=0.05)

    def error(ws):
        return tf.reduce_mean(tf.square(synthesize(ws) - target), axis=[1, 2, 3]).numpy()

    assert np.all(error(found) < error(start)), (error(found), error(start))
    alone = invert_ws(target[:1], synthesize, start[:1], steps=30, learning_rate=0.05)
    np.testing.assert_allclose(alone.numpy()[0], found.numpy()[0], rtol=1e-4, atol=1e-5)  # Independent of the batch.


@pytest.mark.parametrize("setting", ["model.r1_interval=0", "model.style_mixing=1.5", "model.ada_p=2", "train.loss=hinge"])
def test_bad_settings_are_refused_naming_the_field(setting):
    with pytest.raises(ValueError, match=setting.split("=")[0].split(".")[1]):
        override(get_preset("stylegan2_fmnist_color_tiny"), [setting])


@pytest.mark.parametrize("settings, message", [
    (["train.precision=mixed_float16"], "float32 or mixed_bfloat16"),
    (["data.labels=color,seed"], "rename these labels"),
    (["data.labels=color,style_category"], "rename these labels"),
    (["model.embed_dim=-1"], "model.embed_dim"),
])
def test_settings_the_family_cannot_serve_or_train_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        override(get_preset("stylegan2_fmnist_color_tiny"), settings)


def test_a_conditional_model_refuses_a_bare_z_and_truncation_without_centres():
    model = tiny_model()
    z = np.zeros((1, model.latent_dim), "float32")
    with pytest.raises(ValueError, match="not a bare z"):
        model(z)
    with pytest.raises(ValueError, match="give w_avg"):
        model.ws(z, {"color": np.zeros(1, "int32"), "category": np.zeros(1, "int32")}, truncation=tf.ones([1]))
