"""Image-to-image training throughput (images/s) at 256 px: pix2pix and CycleGAN under `model.fit`,
float32 vs mixed_bfloat16, beside a plain `tf.function` loop over the TensorFlow pix2pix tutorial's
network (float32, the baseline of the 1.5x target).

Prints JSON. Every runner trains on the same in-memory random batches (a cached
`tf.data` pipeline), batch 1 as in the papers; each is warmed up (traced) first,
then timed over `--steps` steps, in interleaved rounds (median of rounds).

Usage: python benchmarks/img2img_throughput.py [--steps 8] [--rounds 2] [--size 256]
"""

from __future__ import annotations

import argparse
import dataclasses
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
from shoes_generator.configs import get_preset  # noqa: E402
from shoes_generator.models.tutorial import build_tutorial_pix2pix_discriminator, build_tutorial_pix2pix_generator  # noqa: E402


def random_pairs(keys: tuple[str, str], size: int) -> tf.data.Dataset:
    rng = np.random.default_rng(0)
    data = {key: rng.uniform(-1, 1, (4, size, size, 3)).astype("float32") for key in keys}
    return tf.data.Dataset.from_tensor_slices(data).batch(1).cache().repeat().prefetch(4)


def fit_runner(preset: str, precision: str, size: int):
    config = get_preset(preset)
    config = dataclasses.replace(config, data=dataclasses.replace(config.data, image_size=size),
                                 train=dataclasses.replace(config.train, precision=precision, batch_size=1, decay_epochs=0))
    model = build_model(config)
    keys = ("a", "b") if config.data.domain_a else ("input", "target")  # CycleGAN domains, or pix2pix pairs
    data = random_pairs(keys, size)
    model.fit(data, epochs=1, steps_per_epoch=2, verbose=0)  # Trace.

    def run(steps: int) -> float:
        began = time.perf_counter()
        model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)
        return steps / (time.perf_counter() - began)

    return run


def tutorial_runner():
    """The pix2pix tutorial's training step: BCE + 100 x L1 for G, BCE real/fake for D, two Adams (2e-4, 0.5)."""
    generator, discriminator = build_tutorial_pix2pix_generator(), build_tutorial_pix2pix_discriminator()
    g_opt, d_opt = keras.optimizers.Adam(2e-4, beta_1=0.5), keras.optimizers.Adam(2e-4, beta_1=0.5)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def step(batch):
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator(batch["input"], training=True)
            real_logits = discriminator([batch["input"], batch["target"]], training=True)
            fake_logits = discriminator([batch["input"], fake], training=True)
            g_loss = bce(tf.ones_like(fake_logits), fake_logits) + 100.0 * tf.reduce_mean(tf.abs(batch["target"] - fake))
            d_loss = bce(tf.ones_like(real_logits), real_logits) + bce(tf.zeros_like(fake_logits), fake_logits)
        g_opt.apply_gradients(zip(g_tape.gradient(g_loss, generator.trainable_variables), generator.trainable_variables))
        d_opt.apply_gradients(zip(d_tape.gradient(d_loss, discriminator.trainable_variables), discriminator.trainable_variables))

    iterator = iter(random_pairs(("input", "target"), 256))
    for _ in range(2):
        step(next(iterator))

    def run(steps: int) -> float:
        began = time.perf_counter()
        for _ in range(steps):
            step(next(iterator))
        _ = float(d_opt.iterations.numpy())  # Wait for the last step.
        return steps / (time.perf_counter() - began)

    return run


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=8, help="timed steps per round (default 8)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (default 2)")
    parser.add_argument("--size", type=int, default=256, help="image side (default 256; the tutorial baseline is always 256)")
    parser.add_argument("--out", help="also write the JSON here")
    args = parser.parse_args(argv)
    runners = {"tutorial_pix2pix_plain_loop_float32": tutorial_runner()}
    for family, preset in (("pix2pix", "pix2pix_edges2shoes"), ("cyclegan", "cyclegan_brands")):
        for precision in ("float32", "mixed_bfloat16"):
            runners[f"{family}_fit_{precision}"] = fit_runner(preset, precision, args.size)
    rates = {name: [] for name in runners}
    for _ in range(args.rounds):
        for name, run in runners.items():
            rates[name].append(run(args.steps))
    images_per_s = {name: round(statistics.median(values), 3) for name, values in rates.items()}
    baseline = images_per_s["tutorial_pix2pix_plain_loop_float32"]
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "tensorflow": tf.__version__},
        "image_size": args.size, "batch_size": 1, "steps": args.steps, "rounds": args.rounds,
        "images_per_s": images_per_s,
        "rounds_images_per_s": {name: [round(v, 3) for v in values] for name, values in rates.items()},
        "pix2pix_default_vs_tutorial_float32": round(images_per_s["pix2pix_fit_mixed_bfloat16"] / baseline, 3),
        "pix2pix_float32_vs_tutorial_float32": round(images_per_s["pix2pix_fit_float32"] / baseline, 3),
        "cyclegan_bf16_vs_float32": round(images_per_s["cyclegan_fit_mixed_bfloat16"] / images_per_s["cyclegan_fit_float32"], 3),
        "target": ">= 1.5x the plain float32 tutorial loop",
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text + "\n")


if __name__ == "__main__":
    main()
