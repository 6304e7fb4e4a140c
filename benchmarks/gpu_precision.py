"""Images/s of every family's training step in float32 and in mixed_float16 on a GPU (issue 19, item 5).

For each family's reference preset (``--tiny``: its tiny variant), the training model is built at each
precision and its own ``train_step`` runs under one `tf.function`, as `fit` runs it, on batches held in
memory: the family's data pipeline gives its first batches once, cached and repeated, so only the step is
timed. After ``--warmup`` steps (tracing, autotuning) every round times ``--steps`` steps per precision,
the precisions interleaved; the median round is reported. A step ends when its step counter is read back
(the device has finished). mixed_float16 scales each optimizer's loss (`LossScaleOptimizer`; the families'
last layers stay float32). Target: mixed_float16 at least 2x float32's images/s on the same card.

Output: one JSON object: the device (the GPU's name as TensorFlow reports it, its compute capability),
TensorFlow and Keras versions, the settings, and per preset the images/s of each precision and their ratio.

Usage, on a machine with an NVIDIA GPU and TensorFlow 2.21 built with CUDA (the GPU image of
deploy/training/Dockerfile; Fashion-MNIST where `shoes_generator.data.fmnist` looks, e.g. ``$KERAS_HOME``):
    python benchmarks/gpu_precision.py --out benchmarks/gpu_precision_results.json
    python benchmarks/gpu_precision.py --families pix2pix stylegan2 --steps 50 --rounds 5
On CPUs, a smoke test of the script only (tiny presets, float16 emulated, figures meaningless):
    python benchmarks/gpu_precision.py --smoke
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PRESETS = {  # family -> the preset measured (Fashion-MNIST data: nothing to download beside it)
    "dcgan": "dcgan64_paper",
    "conditional": "cgan_fmnist_color",
    "pix2pix": "pix2pix_fmnist_edges",
    "cyclegan": "cyclegan_sneaker2boot",
    "segmentation": "segment_fmnist_unet",
    "stylegan2": "stylegan2_fmnist_color",
    "spade": "spade_fmnist_parts",
    "pattern": "pattern_fmnist",
}
PRECISIONS = ("float32", "mixed_float16")
CACHED_BATCHES = 4


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gpu_precision", description=__doc__.split("\n\n")[0], epilog="\n\n".join(__doc__.split("\n\n")[1:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--families", nargs="+", choices=sorted(PRESETS), default=sorted(PRESETS), metavar="FAMILY",
                        help=f"families to measure (default: all: {', '.join(sorted(PRESETS))})")
    parser.add_argument("--steps", type=int, default=30, help="timed steps per round and precision (default 30)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, precisions interleaved; the median counts (default 3)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (tracing, autotuning; default 5)")
    parser.add_argument("--batch-size", type=int, help="override every preset's train.batch_size")
    parser.add_argument("--jit", action="store_true", help="XLA-compile the steps (train.jit_compile=true)")
    parser.add_argument("--tiny", action="store_true", help="the families' tiny presets (16 px, 8 filters, batch 4)")
    parser.add_argument("--smoke", action="store_true",
                        help="run on CPUs too: tiny presets, 2 steps, 1 round, 1 warm-up step (checks the script, not speed)")
    parser.add_argument("-o", "--out", help="also write the JSON to this file")
    return parser


def device_name() -> dict:
    """The first GPU as TensorFlow names it (``{"device": "cpu"}`` without one)."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return {"device": "cpu", "cpu": platform.processor() or platform.machine()}
    details = tf.config.experimental.get_device_details(gpus[0])
    return {"device": details.get("device_name", gpus[0].name), "compute_capability": details.get("compute_capability"),
            "gpus": len(gpus)}


class StepTimer:
    """One preset's model at one precision, its `train_step` under `tf.function`, on cached batches.

    Args:
        config: the experiment (its ``train.precision`` set).
    """

    def __init__(self, config):
        import tensorflow as tf

        from shoes_generator.builders import build_model

        self.config = config
        data = config.family.training_data(config)
        self.batches = iter(data.stream(0).take(CACHED_BATCHES).cache().repeat())
        self.model = build_model(config, data.vocabularies, data.steps_per_epoch)
        self.step = tf.function(self.model.train_step, jit_compile=bool(config.train.jit_compile))

    def run(self, steps: int) -> float:
        """Images/s over `steps` steps."""
        start = time.perf_counter()
        for _ in range(steps):
            self.step(next(self.batches))
        self.model.step.numpy()  # The device has finished the last step.
        return steps * self.config.train.batch_size / (time.perf_counter() - start)


def experiment(preset: str, precision: str, args):
    """`preset` at `precision`, with the command line's settings and enough data for the cached batches."""
    from shoes_generator.configs import get_preset, override

    config = get_preset(f"{preset}_tiny" if args.tiny else preset)
    batch = args.batch_size or config.train.batch_size
    settings = [f"train.precision={precision}", f"train.jit_compile={str(args.jit).lower()}", f"train.batch_size={batch}",
                f"data.limit={batch * CACHED_BATCHES}"]
    return override(config, settings)


def measure(preset: str, args) -> dict:
    """Median images/s of each precision for `preset`, and mixed_float16's ratio to float32."""
    timers = {precision: StepTimer(experiment(preset, precision, args)) for precision in PRECISIONS}
    for timer in timers.values():
        timer.run(args.warmup)
    rounds = {precision: [] for precision in PRECISIONS}
    for _ in range(args.rounds):
        for precision, timer in timers.items():
            rounds[precision].append(timer.run(args.steps))
    median = {precision: round(statistics.median(values), 2) for precision, values in rounds.items()}
    config = timers["float32"].config
    return {
        "preset": config.name, "image_size": config.data.image_size, "batch_size": config.train.batch_size,
        "images_per_s": median, "rounds": {p: [round(v, 2) for v in values] for p, values in rounds.items()},
        "mixed_float16_speedup": round(median["mixed_float16"] / median["float32"], 3),
    }


def write_report(report: dict, out: str | None) -> None:
    """Prints `report` as indented JSON, and writes it to `out` too when given."""
    text = json.dumps(report, indent=2)
    print(text)
    if out:
        with open(out, "w") as handle:
            handle.write(text + "\n")


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.smoke:
        args.tiny, args.steps, args.rounds, args.warmup = True, 2, 1, 1
    if min(args.steps, args.rounds) < 1 or args.warmup < 0:
        parser.error(f"--steps and --rounds must be >= 1, --warmup >= 0. Received: {args.steps}, {args.rounds}, {args.warmup}")
    import keras
    import tensorflow as tf

    device = device_name()
    if device["device"] == "cpu" and not args.smoke:
        print("gpu_precision: no GPU visible to TensorFlow (tf.config.list_physical_devices('GPU') is empty); "
              "run it on a GPU machine, or with --smoke to check the script on CPUs.", file=sys.stderr)
        return 2
    results = {family: measure(PRESETS[family], args) for family in args.families}
    speedups = [result["mixed_float16_speedup"] for result in results.values()]
    report = {
        **device, "tensorflow": tf.__version__, "keras": keras.__version__, "smoke": args.smoke,
        "settings": {"steps": args.steps, "rounds": args.rounds, "warmup": args.warmup, "jit_compile": args.jit,
                     "tiny": args.tiny, "cached_batches": CACHED_BATCHES},
        "target": "mixed_float16 >= 2x float32 images/s",
        "families_meeting_target": sorted(family for family, result in results.items() if result["mixed_float16_speedup"] >= 2),
        "median_speedup": round(statistics.median(speedups), 3),
        "results": results,
    }
    write_report(report, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
