"""``shoes-studio``: the designer's web page over served shoe models (no TensorFlow in this process).

    shoes-studio --model-base models                 # the models shoes-serve --model-base models serves
    shoes-studio --server gpu-box:8500 --model shoes --model stylegan
    shoes-studio --rest http://localhost:8501 --direction explore/height
"""

from __future__ import annotations

import argparse
import sys

from shoes_generator.cli_common import EXIT_OK, EXIT_USAGE, fail

PROG = "shoes-studio"

EPILOG = """\
The page has a tab per thing a designer can do, shown when a served model can do it (read from each
model's signatures, not its name):
  Generate   colour and type pickers, seed, truncation, how many (a grid)   a generator (shoes, stylegan)
  Sketch     draw with mouse, pen or touch, or upload a sketch -> the shoe  a pix2pix sketch model
  Translate  a sneaker in another design language, or mixed (alpha)        a CycleGAN (its blend signature)
  Combine    two sneakers (seeds or photos) and how much of each            a StyleGAN2 (mix, invert)
  Edit       move a shoe along a learned direction (--direction);           a generator + shoes-explore direction
             redesign a photographed shoe by growing or shrinking parts     SPADE + a part segmenter
  Pattern    any image (a bag, a swatch) -> shoes in its pattern            a pattern-transfer model
Every result lands in the history strip with a download button and the shoes-client command (or thin-client
Python) that makes it again. The models are looked up again every --refresh seconds and after a failed call,
so a new model or version shows up without a restart; while the server is down the page says so and retries.

examples:
  shoes-serve --model-base models &  shoes-studio --model-base models        then open http://127.0.0.1:8080/
  shoes-studio --server localhost:8500 --model shoes --direction shoes=outputs/explore/height
"""


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number. Received: {text!r}")
    return value


def _port(text: str) -> int:
    if not (text.isdigit() and 1 <= int(text) <= 65535):
        raise argparse.ArgumentTypeError(f"expected a port from 1 to 65535. Received: {text!r}")
    return int(text)


def page_url(host: str, port: int) -> str:
    """The page's address for `host` and `port` (an IPv6 address in brackets)."""
    return f"http://[{host.strip('[]')}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="A local web page where a designer generates, sketches, translates, "
                                     "combines, edits and patterns shoes with the models a TF Serving (or shoes-serve) serves.",
                                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    transport = parser.add_mutually_exclusive_group()
    transport.add_argument("--server", default="localhost:8500", metavar="HOST:PORT", help="the models' gRPC server (default: %(default)s)")
    transport.add_argument("--rest", metavar="URL", help="use the REST API at URL instead, e.g. http://localhost:8501")
    models = parser.add_argument_group("which models (TF Serving cannot list them)")
    models.add_argument("--model", dest="models", action="append", default=[], metavar="NAME",
                        help="a model name on the server (repeatable)")
    models.add_argument("--model-base", metavar="DIR", help="a TF Serving model base: its folders name the models, listed again "
                        "at every refresh (no TensorFlow needed). Without --model and --model-base, the README's names are tried: "
                        "shoes, stylegan, sketch2shoe, sneaker2boot, spade, parts, pattern")
    models.add_argument("--direction", dest="directions", action="append", default=[], metavar="[MODEL=]DIR",
                        help="a latent direction for the Edit tab: a shoes-explore direction output folder (direction.json, "
                        "direction.npy); it serves every generator of its latent space and size, or MODEL alone (repeatable)")
    page = parser.add_argument_group("the page")
    page.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s, this machine only, "
                      "opened as 127.0.0.1, localhost or [::1]; another address lets anyone who reaches it use the models: "
                      "the studio has no login)")
    page.add_argument("--port", type=_port, default=8080, help="port to listen on (default: %(default)s)")
    page.add_argument("--max-upload-mb", type=_positive, default=10.0, metavar="MB", help="the largest image taken (default: %(default)s)")
    page.add_argument("--timeout", type=_positive, default=60.0, metavar="S", help="seconds a model call may take (default: %(default)s)")
    page.add_argument("--refresh", type=_positive, default=10.0, metavar="S",
                      help="how often the models are looked up again (default: %(default)s)")
    return parser


def build_studio(args):
    """The `backend.Studio` the parsed arguments ask for.

    Raises:
        FileNotFoundError, ValueError: a --model-base or --direction that is not what it must be.
    """
    from serving.studio.actions import Target
    from serving.studio.backend import Studio
    from serving.studio.directions import load_direction
    from serving.studio.discovery import model_base_names

    if args.model_base:
        model_base_names(args.model_base)  # a missing folder is a usage error now, not a message on the page
    directions = [load_direction(spec) for spec in args.directions]
    target = Target(rest=args.rest) if args.rest else Target(server=args.server)
    return Studio(target, args.models, args.model_base, directions, args.max_upload_mb, args.timeout, args.refresh)


def main(argv: list[str] | None = None) -> int:
    """Entry point of `shoes-studio`; serves the page until interrupted. Returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        studio = build_studio(args)
    except (FileNotFoundError, ValueError) as error:
        return fail(PROG, error, EXIT_USAGE)
    import uvicorn

    from serving.studio.app import create_app, loopback_hosts

    print(f"{PROG}: models at {' '.join(studio.target.flags())}; open {page_url(args.host, args.port)}", file=sys.stderr)
    uvicorn.run(create_app(studio, loopback_hosts(args.host)), host=args.host.strip("[]"), port=args.port, log_level="warning")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
