"""Training throughput (images/s) of the GAN `fit` wrapper against a plain `tf.function` loop.

Prints JSON. Every configuration is measured in interleaved rounds in one
process (median of rounds), on in-memory random batches so only the training
step is timed:
- `dcgan64_paper` (batch 128) and `cgan_fmnist_color` (batch 64): float32 vs
  mixed_bfloat16, XLA off/on;
- the TensorFlow DCGAN tutorial's 28x28 networks (batch 256) trained by
  `GAN.fit` and by the tutorial's plain `tf.function` loop, float32 and
  mixed_bfloat16.

Usage: python benchmarks/train_throughput.py [--steps 12] [--rounds 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from shoes_generator.builders import build_gan  # noqa: E402
from shoes_generator.configs import get_preset, override  # noqa: E402
from shoes_generator.gans import GAN  # noqa: E402
from shoes_generator.labels import Vocabularies  # noqa: E402
from shoes_generator.models.tutorial import build_tutorial_discriminator, build_tutorial_generator  # noqa: E402

FMNIST_VOCAB = Vocabularies(
    {"color": ["black", "blue", "brown", "green", "grey", "orange", "pink", "purple", "red", "white", "yellow"],
     "category": ["sandal", "sneaker", "ankle_boot"]}
)


def random_batches(batch: int, size: int, channels: int, labels=()) -> tf.data.Dataset:
    """An endless dataset repeating 4 random batches held in memory."""
    rng = np.random.default_rng(0)
    data = {"image": rng.uniform(-1, 1, (4 * batch, size, size, channels)).astype("float32")}
    for name in labels:
        data[name] = rng.integers(0, FMNIST_VOCAB.sizes[name], 4 * batch).astype("int32")
    return tf.data.Dataset.from_tensor_slices(data).batch(batch, drop_remainder=True).cache().repeat().prefetch(4)


class FitRunner:
    """Times `GAN.fit` over `steps` steps (the first call compiles and is discarded)."""

    def __init__(self, gan: GAN, batches: tf.data.Dataset, batch_size: int):
        self.gan, self.batches, self.batch_size = gan, batches, batch_size

    def run(self, steps: int) -> float:
        start = time.perf_counter()
        self.gan.fit(self.batches, epochs=1, steps_per_epoch=steps, verbose=0)
        return steps * self.batch_size / (time.perf_counter() - start)


class PlainLoopRunner:
    """The TF DCGAN tutorial's training loop: one `tf.function` step with two tapes."""

    def __init__(self, dtype: str | None, batch_size: int, latent_dim: int = 100):
        self.generator = build_tutorial_generator(latent_dim, dtype)
        self.discriminator = build_tutorial_discriminator(dtype)
        self.g_opt, self.d_opt = keras.optimizers.Adam(1e-4), keras.optimizers.Adam(1e-4)
        self.batch_size, self.latent_dim = batch_size, latent_dim
        self.images = tf.constant(np.random.default_rng(0).uniform(-1, 1, (batch_size, 28, 28, 1)).astype("float32"))
        bce = keras.losses.BinaryCrossentropy(from_logits=True)

        @tf.function
        def step(images):
            noise = tf.random.normal([self.batch_size, self.latent_dim])
            with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
                fake = self.generator(noise, training=True)
                real_out = self.discriminator(images, training=True)
                fake_out = self.discriminator(fake, training=True)
                g_loss = bce(tf.ones_like(fake_out), fake_out)
                d_loss = bce(tf.ones_like(real_out), real_out) + bce(tf.zeros_like(fake_out), fake_out)
            g_vars, d_vars = self.generator.trainable_variables, self.discriminator.trainable_variables
            self.g_opt.apply_gradients(zip(g_tape.gradient(g_loss, g_vars), g_vars))
            self.d_opt.apply_gradients(zip(d_tape.gradient(d_loss, d_vars), d_vars))

        self.step = step

    def run(self, steps: int) -> float:
        start = time.perf_counter()
        for _ in range(steps):
            self.step(self.images)
        self.g_opt.iterations.numpy()  # Waits for the last step.
        return steps * self.batch_size / (time.perf_counter() - start)


def preset_runner(name: str, precision: str, xla: bool) -> FitRunner:
    config = override(get_preset(name), [f"train.precision={precision}", f"train.jit_compile={xla}"])
    gan = build_gan(config, FMNIST_VOCAB)
    labels = config.data.labels if config.model.family == "conditional" else ()
    batches = random_batches(config.train.batch_size, config.data.image_size, config.data.channels, labels)
    return FitRunner(gan, batches, config.train.batch_size)


def tutorial_fit_runner(precision: str, batch_size: int = 256) -> FitRunner:
    dtype = None if precision == "float32" else precision
    gan = GAN(build_tutorial_generator(100, dtype), build_tutorial_discriminator(dtype), latent_dim=100, ema_decay=0.0)
    gan.compile(g_optimizer=keras.optimizers.Adam(1e-4), d_optimizer=keras.optimizers.Adam(1e-4))
    return FitRunner(gan, random_batches(batch_size, 28, 1), batch_size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=12, help="timed steps per round and configuration")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median reported)")
    parser.add_argument("--quick", action="store_true", help="tutorial comparison and cgan only (skips dcgan64)")
    args = parser.parse_args()
    started = time.time()
    runners = {}
    for precision in ("float32", "mixed_bfloat16"):
        runners[f"tutorial28/plain_loop/{precision}"] = PlainLoopRunner(None if precision == "float32" else precision, 256)
        runners[f"tutorial28/gan_fit/{precision}"] = tutorial_fit_runner(precision)
    presets = ["cgan_fmnist_color"] if args.quick else ["dcgan64_paper", "cgan_fmnist_color"]
    for preset in presets:
        for precision in ("float32", "mixed_bfloat16"):
            for xla in (False, True):
                runners[f"{preset}/{precision}/{'xla' if xla else 'no_xla'}"] = preset_runner(preset, precision, xla)
    for runner in runners.values():  # Trace / compile before timing.
        runner.run(2)
    rounds = {name: [] for name in runners}
    for _ in range(args.rounds):
        for name, runner in runners.items():
            rounds[name].append(round(runner.run(args.steps), 1))
    median = {name: statistics.median(values) for name, values in rounds.items()}
    result = {
        "benchmark": "training images/s; interleaved rounds, median; random in-memory batches",
        "images_per_s": median,
        "rounds": rounds,
        "ratios": {
            "fit_vs_plain_loop_float32": round(median["tutorial28/gan_fit/float32"] / median["tutorial28/plain_loop/float32"], 3),
            "fit_vs_plain_loop_bf16": round(median["tutorial28/gan_fit/mixed_bfloat16"] / median["tutorial28/plain_loop/mixed_bfloat16"], 3),
            "fit_bf16_vs_plain_loop_float32": round(median["tutorial28/gan_fit/mixed_bfloat16"] / median["tutorial28/plain_loop/float32"], 3),
            **{
                f"{preset}_bf16_vs_float32": round(median[f"{preset}/mixed_bfloat16/no_xla"] / median[f"{preset}/float32/no_xla"], 3)
                for preset in presets
            },
        },
        "steps_per_round": args.steps,
        "cpus": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "machine": platform.machine(),
        "seconds": round(time.time() - started, 1),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
