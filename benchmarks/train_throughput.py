"""Training throughput (images/s) of `GAN.fit`, of plain `tf.function` loops, and of mixed precision.

Prints JSON. Every configuration is measured in interleaved rounds in one
process (median of rounds), every runner on the same in-memory random batches
(a cached `tf.data` pipeline), so only the training step and its driver are
timed. Two comparisons of `GAN.fit` against a plain loop, kept apart:

- ``wrapper_only``: `GAN.fit` vs the same `GAN` object's `train_step` wrapped
  in `tf.function` and called once per batch from a Python loop (no `fit`).
  Same networks, same algorithm, same batches: the ratio is the cost of `fit`.
- ``algorithm_and_wrapper``: `GAN.fit` vs the TensorFlow DCGAN tutorial's loop
  on the tutorial's 28x28 networks (batch 256). The tutorial updates both
  networks from one generator pass under two joint tapes; `GAN.train_step`
  updates D, then G with a second generator pass. The ratio mixes that
  algorithmic difference with the wrapper's cost.

Also `dcgan64_paper` (batch 128) and `cgan_fmnist_color` (batch 64) under
`fit`, float32 vs mixed_bfloat16, XLA off/on, with their own wrapper-only
comparison (XLA off).

Usage: python benchmarks/train_throughput.py [--steps 50] [--rounds 3] [--quick]
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

from shoes_generator.builders import build_model  # noqa: E402
from shoes_generator.configs import get_preset, override  # noqa: E402
from shoes_generator.gans import GAN  # noqa: E402
from shoes_generator.labels import Vocabularies  # noqa: E402
from shoes_generator.models.tutorial import build_tutorial_discriminator, build_tutorial_generator  # noqa: E402

FMNIST_VOCAB = Vocabularies(
    {"color": ["black", "blue", "brown", "green", "grey", "orange", "pink", "purple", "red", "white", "yellow"],
     "category": ["sandal", "sneaker", "ankle_boot"]}
)
PRECISIONS = ("float32", "mixed_bfloat16")
TUTORIAL_BATCH = 256


def random_batches(batch: int, size: int, channels: int, labels=()) -> tf.data.Dataset:
    """An endless dataset repeating 4 random batches held in memory."""
    rng = np.random.default_rng(0)
    data = {"image": rng.uniform(-1, 1, (4 * batch, size, size, channels)).astype("float32")}
    for name in labels:
        data[name] = rng.integers(0, FMNIST_VOCAB.sizes[name], 4 * batch).astype("int32")
    return tf.data.Dataset.from_tensor_slices(data).batch(batch, drop_remainder=True).cache().repeat().prefetch(4)


def layer_dtype(precision: str) -> str | None:
    """The `dtype` argument of the tutorial builders for `precision`."""
    return None if precision == "float32" else precision


class FitRunner:
    """Times `GAN.fit` for `steps` steps (one epoch; `fit` waits for the last step itself).

    Args:
        gan: a compiled `GAN`.
        batches: the endless training dataset.
        batch_size: images per batch.
    """

    def __init__(self, gan: GAN, batches: tf.data.Dataset, batch_size: int):
        self.gan, self.batches, self.batch_size = gan, batches, batch_size

    def run(self, steps: int) -> float:
        """Images/s over `steps` steps."""
        start = time.perf_counter()
        self.gan.fit(self.batches, epochs=1, steps_per_epoch=steps, verbose=0)
        return steps * self.batch_size / (time.perf_counter() - start)


class LoopRunner:
    """Times a plain Python loop calling a `tf.function` `step` on each batch (no `fit`).

    Args:
        step: a `tf.function` taking one batch dict.
        batches: the endless training dataset (a fresh iterator per run, as `fit` makes).
        batch_size: images per batch.
        counter: a variable `step` updates (read at the end to wait for the last step).
    """

    def __init__(self, step, batches: tf.data.Dataset, batch_size: int, counter: tf.Variable):
        self.step, self.batches, self.batch_size, self.counter = step, batches, batch_size, counter

    def run(self, steps: int) -> float:
        """Images/s over `steps` steps."""
        start = time.perf_counter()
        for batch in self.batches.take(steps):
            self.step(batch)
        self.counter.numpy()
        return steps * self.batch_size / (time.perf_counter() - start)


def train_step_loop(fit_runner: FitRunner) -> LoopRunner:
    """The same `GAN` object's `train_step` in a plain loop over the same batches (the same XLA setting as its `fit`).

    Args:
        fit_runner: the `fit` runner to compare with.
    """
    gan = fit_runner.gan
    if gan.steps_per_execution != 1:
        raise ValueError(f"The plain loop runs one step per call. Received: steps_per_execution={gan.steps_per_execution}")
    step = tf.function(gan.train_step, jit_compile=bool(gan.jit_compile))
    return LoopRunner(step, fit_runner.batches, fit_runner.batch_size, gan.g_optimizer.iterations)


def tutorial_loop(precision: str, batches: tf.data.Dataset, latent_dim: int = 100) -> LoopRunner:
    """The TF DCGAN tutorial's loop: fresh tutorial networks, one generator pass and two joint tapes per step.

    Args:
        precision: "float32" or "mixed_bfloat16".
        batches: the endless training dataset of 28x28x1 images.
        latent_dim: noise size.
    """
    generator = build_tutorial_generator(latent_dim, layer_dtype(precision))
    discriminator = build_tutorial_discriminator(layer_dtype(precision))
    g_opt, d_opt = keras.optimizers.Adam(1e-4), keras.optimizers.Adam(1e-4)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def step(batch):
        images = batch["image"]
        noise = tf.random.normal([tf.shape(images)[0], latent_dim])
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator(noise, training=True)
            real_out = discriminator(images, training=True)
            fake_out = discriminator(fake, training=True)
            g_loss = bce(tf.ones_like(fake_out), fake_out)
            d_loss = bce(tf.ones_like(real_out), real_out) + bce(tf.zeros_like(fake_out), fake_out)
        g_vars, d_vars = generator.trainable_variables, discriminator.trainable_variables
        g_opt.apply_gradients(zip(g_tape.gradient(g_loss, g_vars), g_vars))
        d_opt.apply_gradients(zip(d_tape.gradient(d_loss, d_vars), d_vars))

    return LoopRunner(step, batches, TUTORIAL_BATCH, g_opt.iterations)


def tutorial_fit(precision: str, batches: tf.data.Dataset) -> FitRunner:
    """`GAN.fit` on the tutorial's networks and optimizers (no EMA, as the tutorial).

    Args:
        precision: "float32" or "mixed_bfloat16".
        batches: the endless training dataset of 28x28x1 images.
    """
    dtype = layer_dtype(precision)
    gan = GAN(build_tutorial_generator(100, dtype), build_tutorial_discriminator(dtype), latent_dim=100, ema_decay=0.0)
    gan.compile(g_optimizer=keras.optimizers.Adam(1e-4), d_optimizer=keras.optimizers.Adam(1e-4))
    gan.build_optimizers()
    return FitRunner(gan, batches, TUTORIAL_BATCH)


def preset_fit(name: str, precision: str, xla: bool) -> FitRunner:
    """`GAN.fit` of preset `name` (its own batch size and image size) at `precision`, XLA on or off."""
    config = override(get_preset(name), [f"train.precision={precision}", f"train.jit_compile={xla}"])
    gan = build_model(config, FMNIST_VOCAB)
    labels = config.data.labels  # () for an unconditional preset
    batches = random_batches(config.train.batch_size, config.data.image_size, config.data.channels, labels)
    return FitRunner(gan, batches, config.train.batch_size)


def build_runners(presets: list[str]) -> dict[str, FitRunner | LoopRunner]:
    """Every timed configuration by name: ``<networks>/<driver>/<precision>[/<xla>]``."""
    runners = {}
    tutorial_batches = random_batches(TUTORIAL_BATCH, 28, 1)
    for precision in PRECISIONS:
        fit = runners[f"tutorial28/gan_fit/{precision}"] = tutorial_fit(precision, tutorial_batches)
        runners[f"tutorial28/train_step_loop/{precision}"] = train_step_loop(fit)
        runners[f"tutorial28/tutorial_loop/{precision}"] = tutorial_loop(precision, tutorial_batches)
    for preset in presets:
        for precision in PRECISIONS:
            for xla in (False, True):
                fit = runners[f"{preset}/gan_fit/{precision}/{'xla' if xla else 'no_xla'}"] = preset_fit(preset, precision, xla)
                if not xla:
                    runners[f"{preset}/train_step_loop/{precision}/no_xla"] = train_step_loop(fit)
    return runners


def ratios(median: dict[str, float], presets: list[str]) -> dict:
    """The wrapper-only, algorithm-and-wrapper and precision ratios of the median images/s."""
    ratio = lambda a, b: round(median[a] / median[b], 3)  # noqa: E731
    wrapper = {f"tutorial28/{p}": ratio(f"tutorial28/gan_fit/{p}", f"tutorial28/train_step_loop/{p}") for p in PRECISIONS}
    for preset in presets:
        for p in PRECISIONS:
            wrapper[f"{preset}/{p}"] = ratio(f"{preset}/gan_fit/{p}/no_xla", f"{preset}/train_step_loop/{p}/no_xla")
    return {
        "wrapper_only": {
            "what": "GAN.fit / the same GAN object's train_step in a plain tf.function loop, same batches, same precision: the cost of fit",
            **wrapper,
        },
        "algorithm_and_wrapper": {
            "what": "GAN.fit / the TF DCGAN tutorial's loop (one generator pass, joint tapes) on the tutorial networks, same batches: "
            "GAN.train_step's separate D and G updates (two generator passes) plus the cost of fit",
            **{p: ratio(f"tutorial28/gan_fit/{p}", f"tutorial28/tutorial_loop/{p}") for p in PRECISIONS},
            "fit_mixed_bfloat16_vs_tutorial_loop_float32": ratio("tutorial28/gan_fit/mixed_bfloat16", "tutorial28/tutorial_loop/float32"),
        },
        "mixed_bfloat16_vs_float32_fit_no_xla": {
            preset: ratio(f"{preset}/gan_fit/mixed_bfloat16/no_xla", f"{preset}/gan_fit/float32/no_xla") for preset in presets
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=50, help="timed steps per call, round and configuration (default 50)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds, median reported (default 3)")
    parser.add_argument("--quick", action="store_true", help="smoke run: skips dcgan64_paper (use with small --steps/--rounds)")
    args = parser.parse_args()
    if args.steps < 1 or args.rounds < 1:
        parser.error(f"--steps and --rounds must be >= 1. Received: --steps {args.steps} --rounds {args.rounds}")
    started = time.time()
    presets = ["cgan_fmnist_color"] if args.quick else ["dcgan64_paper", "cgan_fmnist_color"]
    runners = build_runners(presets)
    for runner in runners.values():  # Trace / compile before timing.
        runner.run(2)
    rounds = {name: [] for name in runners}
    for _ in range(args.rounds):
        for name, runner in runners.items():
            rounds[name].append(round(runner.run(args.steps), 1))
    median = {name: statistics.median(values) for name, values in rounds.items()}
    result = {
        "benchmark": "training images/s; interleaved rounds, median; random in-memory batches",
        "quick": args.quick,
        "images_per_s": median,
        "ratios": ratios(median, presets),
        "rounds": rounds,
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
