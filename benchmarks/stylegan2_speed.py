"""StyleGAN2-ADA training speed (images/s of `StyleGAN2.fit`): float32 against mixed_bfloat16, and the cost of
the augmentation (ADA's p fixed at 0 against 0.5), beside the conditional GAN's step.

Prints JSON. Every configuration is measured in interleaved rounds in one process (median of rounds), on the
same in-memory random batches (a cached `tf.data` pipeline), so only the training step and its driver are timed.
The regularizers run on their intervals as in training (R1 every 16 steps): time at least 16 steps a round.
Whether mixed_bfloat16 pays depends on the CPU: with AVX512-BF16 it is faster than float32; without it
TensorFlow emulates bfloat16 convolutions and it is many times slower (`cpu_bf16` in the output says which).

Usage: python benchmarks/stylegan2_speed.py [--steps 16] [--rounds 3] [--preset stylegan2_fmnist_color]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).parent))

from train_throughput import FMNIST_VOCAB, FitRunner, random_batches  # noqa: E402

from shoes_generator.builders import build_model  # noqa: E402
from shoes_generator.configs import get_preset, override  # noqa: E402


def cpu_has_bf16() -> bool:
    """Whether the CPU advertises AVX512-BF16 (Linux's /proc/cpuinfo)."""
    try:
        return "avx512_bf16" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def runner(preset: str, settings: list[str]) -> FitRunner:
    """`fit` of `preset` with `settings` on random batches of its own shape."""
    config = override(get_preset(preset), settings)
    model = build_model(config, FMNIST_VOCAB)
    batches = random_batches(config.train.batch_size, config.data.image_size, config.data.channels, config.data.labels)
    return FitRunner(model, batches, config.train.batch_size)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=16, help="steps per round and configuration (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default: %(default)s)")
    parser.add_argument("--preset", default="stylegan2_fmnist_color", help="the StyleGAN2 preset (default: %(default)s)")
    parser.add_argument("--baseline", default="cgan_fmnist_color", help="the GAN preset timed beside it (default: %(default)s)")
    parser.add_argument("--no-bf16", action="store_true", help="skip mixed_bfloat16 (hours on CPUs without AVX512-BF16)")
    args = parser.parse_args(argv)

    precisions = ["float32"] + ([] if args.no_bf16 else ["mixed_bfloat16"])
    runners = {}
    for precision in precisions:
        for p in (0.0, 0.5):
            runners[f"{args.preset}/{precision}/ada_p={p}"] = runner(args.preset, [f"train.precision={precision}", f"model.ada_p={p}"])
        runners[f"{args.baseline}/{precision}"] = runner(args.baseline, [f"train.precision={precision}"])
    for item in runners.values():  # Trace and warm up outside the timed rounds.
        item.run(2)
    rates = {name: [] for name in runners}
    for _ in range(args.rounds):
        for name, item in runners.items():
            rates[name].append(item.run(args.steps))
    median = {name: round(statistics.median(values), 2) for name, values in rates.items()}
    ratio = lambda a, b: round(median[a] / median[b], 3)  # noqa: E731
    result = {
        "images_per_second": median,
        "augmentation_cost": {
            precision: {"what": "images/s with ADA p=0.5 / p=0 (same step otherwise)",
                        "ratio": ratio(f"{args.preset}/{precision}/ada_p=0.5", f"{args.preset}/{precision}/ada_p=0.0")}
            for precision in precisions
        },
        "stylegan2_over_baseline": {
            precision: ratio(f"{args.preset}/{precision}/ada_p=0.5", f"{args.baseline}/{precision}") for precision in precisions
        },
        "steps": args.steps,
        "rounds": args.rounds,
        "cpu_bf16": cpu_has_bf16(),
        "cpus": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
    }
    if "mixed_bfloat16" in precisions:
        result["bf16_over_float32"] = ratio(f"{args.preset}/mixed_bfloat16/ada_p=0.5", f"{args.preset}/float32/ada_p=0.5")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
