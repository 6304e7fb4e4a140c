"""How near the CPU's limit each preset's training step runs: images/s, FLOPs per image, fraction of the matmul peak.

For every preset measured (default: each family's reference preset at its own precision):

- images/s of its own ``train_step`` under one `tf.function`, as `fit` runs it, on cached batches of its
  own data (`gpu_precision.StepTimer`: the median of ``--rounds`` rounds of ``--steps`` steps);
- FLOPs per image, counted on the step's traced graph by TensorFlow's profiler
  (`tf.compat.v1.profiler`, ``float_operation``): every Conv2D, Conv2DBackpropInput/Filter, MatMul, ...
  of the step, forward and backward, of every network call the family makes (pix2pix: the U-Net, and the
  PatchGAN on the real pair, the generated pair for D and again for G), divided by the batch size. Ops
  inside `tf.cond`/`tf.while_loop` bodies (StyleGAN2's lazy regularizers, CycleGAN's image pool) are not
  in the top-level graph and are not counted: those steps' fractions are lower bounds;
- the fraction of the matmul peak of the same precision (float32; bfloat16 for mixed_bfloat16; float16
  for mixed_float16), the peak measured in the same run: a ``--matmul`` square matmul in a loop.

With ``--compare-unfused`` each preset's step is also built as it was before the fused ops (Keras's own
Adam instead of `shoes_generator.optimizers.FusedAdam`, ``GroupNormalization(groups=-1)`` instead of
`shoes_generator.models.blocks.InstanceNormalization`, StyleGAN2's FIR filters in bfloat16 instead of
float32) and the two are timed in alternating rounds of one run: ``unfused_images_per_s`` and ``speedup``.
``--intra-op-threads`` / ``--inter-op-threads`` set TensorFlow's thread pools (compare settings by
running the script once per setting).

Usage:
    python benchmarks/efficiency.py                         # every family's reference preset
    python benchmarks/efficiency.py --compare-unfused       # ... and each step before the fused ops
    python benchmarks/efficiency.py --presets pix2pix_fmnist_edges --set data.image_size=256 --set train.batch_size=1
    python benchmarks/efficiency.py --smoke                 # tiny presets, 2 steps: checks the script
Prints JSON; ``-o FILE`` also writes it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from gpu_precision import PRESETS, StepTimer, write_report  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

PEAK_DTYPE = {"float32": "float32", "mixed_bfloat16": "bfloat16", "mixed_float16": "float16"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="efficiency", description=__doc__.split("\n\n")[0], epilog="\n\n".join(__doc__.split("\n\n")[1:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--presets", nargs="+", default=[PRESETS[family] for family in sorted(PRESETS)], metavar="PRESET",
                        help="presets to measure (default: each family's reference preset)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a setting of every preset, e.g. data.image_size=256 (repeatable)")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per round (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the median counts (default 3)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first (default 2)")
    parser.add_argument("--matmul", type=int, default=2048, help="side of the square matmul of the peak (default 2048)")
    parser.add_argument("--compare-unfused", action="store_true",
                        help="also time each step with Keras's Adam, GroupNormalization and bfloat16 FIR filters")
    parser.add_argument("--intra-op-threads", type=int, default=0, help="TensorFlow's intra-op threads (default 0: its own)")
    parser.add_argument("--inter-op-threads", type=int, default=0, help="TensorFlow's inter-op threads (default 0: its own)")
    parser.add_argument("--smoke", action="store_true", help="tiny presets, 2 steps, 1 round, a 256 matmul: checks the script")
    parser.add_argument("-o", "--out", help="also write the JSON to this file")
    return parser


def matmul_peak(dtype: str, size: int, seconds: float = 2.0) -> float:
    """GFLOP/s of a ``size x size`` matmul in `dtype`, repeated for about `seconds` (the best of 3 timings)."""
    import tensorflow as tf

    a = tf.random.normal([size, size], dtype=tf.float32)
    a, b = tf.cast(a, dtype), tf.cast(tf.transpose(a), dtype)

    @tf.function
    def repeat(count):
        total = tf.zeros([], tf.float32)
        for _ in tf.range(count):
            total += tf.cast(tf.linalg.matmul(a, b)[0, 0], tf.float32)
        return total

    repeat(tf.constant(1)).numpy()
    start = time.perf_counter()
    repeat(tf.constant(2)).numpy()
    count = max(2, int(seconds / max((time.perf_counter() - start) / 2, 1e-6)))
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        repeat(tf.constant(count)).numpy()
        best = min(best, (time.perf_counter() - start) / count)
    return 2 * size**3 / best / 1e9


def step_flops(timer: StepTimer) -> float:
    """Floating-point operations of one step of `timer` (TensorFlow's profiler over the graph it times)."""
    import tensorflow as tf

    graph = timer.step.get_concrete_function(next(timer.batches)).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return float(tf.compat.v1.profiler.profile(graph, options=options).total_float_ops)


@contextlib.contextmanager
def unfused_ops():
    """Models built (and steps traced) inside use the ops before the fused ones: Keras's Adam,
    ``GroupNormalization(groups=-1)`` for instance norm, StyleGAN2's FIR filters in their input's dtype."""
    import keras

    from shoes_generator import builders
    from shoes_generator.models import blocks, stylegan2_layers

    def group_norm(epsilon, center, scale, **kwargs):
        return keras.layers.GroupNormalization(groups=-1, epsilon=epsilon, center=center, scale=scale, **kwargs)

    saved = builders.FusedAdam, blocks.InstanceNormalization, dict(stylegan2_layers.FIR_COMPUTE_DTYPES)
    builders.FusedAdam, blocks.InstanceNormalization = keras.optimizers.Adam, group_norm
    stylegan2_layers.FIR_COMPUTE_DTYPES.clear()
    try:
        yield
    finally:
        builders.FusedAdam, blocks.InstanceNormalization = saved[:2]
        stylegan2_layers.FIR_COMPUTE_DTYPES.update(saved[2])


def measure(preset: str, args, peaks: dict) -> dict:
    """images/s, FLOPs per image and the fraction of the same precision's peak of `preset`'s step
    (with ``--compare-unfused``, also the unfused step's images/s, timed in alternating rounds)."""
    from shoes_generator.configs import get_preset, override

    config = get_preset(f"{preset}_tiny" if args.smoke else preset)
    config = override(config, [*args.overrides, f"data.limit={4 * override(config, args.overrides).train.batch_size}"])
    timer = StepTimer(config)
    timer.run(args.warmup)
    unfused = None
    if args.compare_unfused:
        with unfused_ops():
            unfused = StepTimer(config)
            unfused.run(args.warmup)
    rounds = {"fused": [], "unfused": []}
    for _ in range(args.rounds):
        rounds["fused"].append(timer.run(args.steps))
        if unfused is not None:
            rounds["unfused"].append(unfused.run(args.steps))
    speed = statistics.median(rounds["fused"])
    gflop = step_flops(timer) / config.train.batch_size / 1e9
    dtype = PEAK_DTYPE[config.train.precision]
    if dtype not in peaks:
        peaks[dtype] = round(matmul_peak(dtype, args.matmul), 1)
    achieved = speed * gflop
    return {
        "preset": config.name, "precision": config.train.precision, "image_size": config.data.image_size,
        "batch_size": config.train.batch_size, "images_per_s": round(speed, 3), "gflop_per_image": round(gflop, 4),
        "gflop_per_s": round(achieved, 2), "peak_dtype": dtype, "fraction_of_peak": round(achieved / peaks[dtype], 4),
        **({} if unfused is None else {
            "unfused_images_per_s": round(statistics.median(rounds["unfused"]), 3),
            "speedup": round(speed / statistics.median(rounds["unfused"]), 3),
        }),
    }


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.smoke:
        args.steps, args.rounds, args.warmup, args.matmul = 2, 1, 1, 256
    if min(args.steps, args.rounds, args.matmul) < 1 or args.warmup < 0:
        parser.error(f"--steps, --rounds and --matmul must be >= 1, --warmup >= 0. Received: {args.steps}, {args.rounds}, "
                     f"{args.matmul}, {args.warmup}")
    import tensorflow as tf

    if args.intra_op_threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.intra_op_threads)
    if args.inter_op_threads:
        tf.config.threading.set_inter_op_parallelism_threads(args.inter_op_threads)
    peaks = {}
    results = [measure(preset, args, peaks) for preset in args.presets]
    report = {
        "machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(), "tensorflow": tf.__version__,
        "smoke": args.smoke, "matmul": args.matmul, "peak_gflop_per_s": peaks,
        "settings": {"steps": args.steps, "rounds": args.rounds, "warmup": args.warmup, "overrides": args.overrides,
                     "intra_op_threads": args.intra_op_threads, "inter_op_threads": args.inter_op_threads},
        "method": "FLOPs of the traced train_step graph (tf.compat.v1.profiler float_operation; tf.cond/while bodies "
                  "not counted) / batch size; fraction = images/s x FLOPs per image / matmul peak of the same dtype",
        "results": results,
    }
    write_report(report, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
