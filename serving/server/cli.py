"""shoes-serve: serve exported models over TensorFlow Serving's gRPC and REST APIs, on this machine.

    shoes-serve --model-base models                    # every <name>/<version>/ under models/
    shoes-serve --model-config serving/deploy/models.config --enable-batching
    shoes-serve --model-base models --server 0.0.0.0:8500 --rest-port 8501   # reachable from other machines

The same requests work against the real TF Serving (see serving/deploy/); this
server is for development, demos and tests. It binds 127.0.0.1:8500 unless --server
says otherwise, polls the model folders for new versions (a version that fails
to load leaves the previous one serving), and stops gracefully on SIGTERM or
Ctrl-C. Exit codes: 2 for a wrong command line (contradictory options, a model
base or config file that is not there), 1 when the server cannot start (a port in
use, an unparsable config). --host and --port still work for one release.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path

from shoes_generator.cli_common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, add_deprecated, fail, host_port

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shoes-serve", description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    models = parser.add_argument_group("models (one of)")
    models.add_argument("--model-base", type=Path, help="folder of models: <base>/<name>/<version>/ (latest version of each)")
    models.add_argument("--model-config", type=Path, help="TF Serving model config (text ModelServerConfig: versions, labels)")
    net = parser.add_argument_group("network")
    net.add_argument("--server", type=host_port, default=("127.0.0.1", 8500), metavar="HOST:PORT",
                     help="gRPC address to bind (default 127.0.0.1:8500; 0.0.0.0:PORT exposes it; port 0 = any free port)")
    add_deprecated(net, "--host", "--server HOST:PORT", dest="old_host")
    add_deprecated(net, "--port", "--server HOST:PORT", dest="old_port", type=int)
    net.add_argument("--rest-port", type=int, default=8501, help="REST port (default 8501; 0 = any free port; -1 = no REST)")
    net.add_argument("--grpc-threads", type=int, default=64, help="concurrent gRPC calls (default 64)")
    net.add_argument("--rest-threads", type=int, default=None,
                     help="REST worker threads, a fixed pool (default 4 per CPU, 8 to 64); idle connections take none")
    behaviour = parser.add_argument_group("behaviour")
    behaviour.add_argument("--poll-seconds", type=float, default=2.0, help="scan for new versions every N s (default 2; 0 = never)")
    behaviour.add_argument("--enable-batching", action="store_true", help="merge concurrent requests into batches")
    behaviour.add_argument("--batching-config", type=Path, help="text BatchingParameters (implies --enable-batching)")
    behaviour.add_argument("--monitoring-config", type=Path, help="text MonitoringConfig (Prometheus path; default /monitoring/prometheus/metrics)")
    behaviour.add_argument("--max-request-bytes", type=int, default=16 << 20, help="largest request accepted (default 16 MiB)")
    behaviour.add_argument("--max-request-batch", type=int, default=256, help="most examples in one request (default 256)")
    behaviour.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser


def bind_address(args) -> tuple[str, int]:
    """The gRPC (host, port) of ``--server``, with the deprecated --host / --port applied over it."""
    host, port = args.server
    return getattr(args, "old_host", host), getattr(args, "old_port", port)


def server_from_args(args):
    """Builds (does not start) the server the arguments describe.

    Raises:
        ValueError: contradictory or unreadable arguments (the message says which).
    """
    from serving.deploy_protos import MonitoringConfig, parse_batching_config, parse_model_server_config, parse_text_config
    from serving.server.app import ShoesServer
    from serving.server.batching import BatchingOptions
    from serving.server.model_store import entries_from_base, entries_from_config

    if (args.model_base is None) == (args.model_config is None):
        raise ValueError("Give exactly one of --model-base and --model-config.")
    if args.model_config is not None:
        if not args.model_config.is_file():
            raise ValueError(f"--model-config is not a file: {str(args.model_config)!r}")
        entries = entries_from_config(parse_model_server_config(args.model_config), args.model_config.resolve().parent)
        config_dir = args.model_config.resolve().parent
    else:
        entries = entries_from_base(args.model_base.resolve())
        config_dir = args.model_base.resolve()
    batching = None
    if args.batching_config is not None:
        batching = BatchingOptions.from_proto(parse_batching_config(args.batching_config))
    elif args.enable_batching:
        batching = BatchingOptions()
    prometheus_path = "/monitoring/prometheus/metrics"
    if args.monitoring_config is not None:
        monitoring = parse_text_config(MonitoringConfig, args.monitoring_config)
        prometheus_path = monitoring.prometheus_config.path if monitoring.prometheus_config.enable else ""
    host, port = bind_address(args)
    return ShoesServer(
        entries,
        host=host,
        port=port,
        rest_port=None if args.rest_port < 0 else args.rest_port,
        poll_seconds=args.poll_seconds,
        batching=batching,
        prometheus_path=prometheus_path,
        max_request_bytes=args.max_request_bytes,
        max_request_batch=args.max_request_batch,
        config_dir=config_dir,
        grpc_threads=args.grpc_threads,
        rest_threads=args.rest_threads,
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s shoes-serve %(levelname)s %(message)s", stream=sys.stderr)
    from google.protobuf import text_format

    try:
        server = server_from_args(args)
    except (ValueError, FileNotFoundError) as error:  # Contradictory options, a folder or config file that is not there.
        return fail("shoes-serve", error, EXIT_USAGE)
    except (OSError, text_format.ParseError) as error:  # An unreadable or unparsable config file.
        return fail("shoes-serve", error, EXIT_FAILURE)
    try:
        server.start()
    except (ValueError, OSError, RuntimeError) as error:  # A port in use, a model that cannot load...
        return fail("shoes-serve", error, EXIT_FAILURE)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: server.stop())
    print(f"shoes-serve: gRPC on {server.host}:{server.port}, REST on {server.host}:{server.rest_port}", file=sys.stderr, flush=True)
    server.wait()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
