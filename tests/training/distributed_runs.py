"""Trains tiny presets one after another under one strategy: a helper the distributed tests start as processes.

    python -m tests.training.distributed_runs OUT [--devices N] [--set KEY=VALUE]... [--one-step] PRESET...

With ``TF_CONFIG`` set (started by `shoes_generator.distribute.launch.run_workers`) every process is a
worker of one `MultiWorkerMirroredStrategy`; with ``--devices N`` one process runs a `MirroredStrategy`
over N logical CPU devices. One strategy for every preset spares the tests a cluster start-up per family.
The chief prints one JSON line: ``{preset: run directory}``, or with ``--one-step`` (one `DistributedFit`
step of the family's model, no run directory, callbacks or export) ``{preset: {"step": 1, "logs": {...}}}``.
"""

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from shoes_generator.distribute.strategy import Worker, make_strategy  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="distributed_runs")
    parser.add_argument("out")
    parser.add_argument("presets", nargs="+")
    parser.add_argument("--devices", type=int, default=1)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--one-step", action="store_true")
    args = parser.parse_args(argv)
    strategy = make_strategy(args.devices)

    from shoes_generator.configs import get_preset, override
    from shoes_generator.trainer import train

    runs = {}
    for preset in args.presets:
        config = get_preset(preset)
        config = override(config, args.overrides) if args.overrides else config
        if args.one_step:
            runs[preset] = one_step(config, strategy)
        else:
            runs[preset] = str(train(config, out=os.path.join(args.out, preset), verbose=0, strategy=strategy).run_dir)
    if Worker(strategy).is_chief:
        print(json.dumps(runs), flush=True)
    return 0


def one_step(config, strategy) -> dict:
    """One step of `config`'s model under `strategy` (`DistributedFit`, no callbacks): its step counter and logs."""
    import keras

    from shoes_generator.builders import build_model
    from shoes_generator.distribute.loop import DistributedFit

    worker = Worker(strategy)
    worker.check_batch(config.train.batch_size)
    keras.utils.set_random_seed(config.train.seed)
    data = config.family.training_data(config)
    with worker.scope():
        model = worker.prepare(build_model(config, data.vocabularies, data.steps_per_epoch))
    history = DistributedFit(strategy, model, config.train.batch_size)(
        lambda rows: data.stream(0, rows), epochs=1, steps_per_epoch=1, verbose=0
    )
    return {"step": int(model.step.numpy()), "logs": {key: values[-1] for key, values in history.history.items()}}


if __name__ == "__main__":
    raise SystemExit(main())
