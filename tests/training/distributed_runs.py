"""Trains tiny presets one after another under one strategy: a helper the distributed tests start as processes.

    python -m tests.training.distributed_runs OUT [--devices N] [--set KEY=VALUE]... PRESET...

With ``TF_CONFIG`` set (started by `shoes_generator.distribute.launch.run_workers`) every process is a
worker of one `MultiWorkerMirroredStrategy`; with ``--devices N`` one process runs a `MirroredStrategy`
over N logical CPU devices. One strategy for every preset spares the tests a cluster start-up per family.
The chief prints one JSON line: ``{preset: run directory}``.
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
    args = parser.parse_args(argv)
    strategy = make_strategy(args.devices)

    from shoes_generator.configs import get_preset, override
    from shoes_generator.trainer import train

    runs = {}
    for preset in args.presets:
        config = get_preset(preset)
        config = override(config, args.overrides) if args.overrides else config
        runs[preset] = str(train(config, out=os.path.join(args.out, preset), verbose=0, strategy=strategy).run_dir)
    if Worker(strategy).is_chief:
        print(json.dumps(runs), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
