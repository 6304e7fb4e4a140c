"""`shoes-client <command>`: ask a served shoe generator for shoes, its labels, status and signatures;
draw shoes from part maps, redesign a photographed shoe by its parts, extract a product shot, put the
pattern of any object on a shoe.

Needs no TensorFlow: only grpcio, protobuf, numpy and pillow (`serving.client`, `serving.part_maps`).
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from PIL import ImageDraw, ImageFont

from serving import part_maps
from serving.client import ServingError, ShoesClient
from serving.contact_sheet import contact_sheet
from serving.rest_client import RestClient
from shoes_generator.cli_common import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    add_deprecated,
    add_label_argument,
    fail,
    label,
    positive_int,
)

EXAMPLES = """\
examples:
  shoes-client generate --color red --category sneaker -n 8 -o out/
      eight red sneakers from seeds 0..7: out/red_sneaker_seed0000.png ...
  shoes-client generate --label color=black --label category=ankle_boot --seed 100 -n 4 -o out/
  shoes-client grid -n 3 -o grid/                         every colour x type, 3 shoes each, and grid/grid.png
  shoes-client grid --values color=red,blue -o grid/      only red and blue shoes, of every type
  shoes-client --rest http://localhost:8501 labels        the valid label values, over REST
  shoes-client --model sketch2shoe translate sketch.png -o shoe.png
  shoes-client --model photo2shot translate photo.png --mask mask.png -o shot.png   # photo + mask model
  shoes-client --model sneaker2boot translate sneaker.png --alpha 0.5 -o half.png  # CycleGAN blend
  shoes-client --server gpu-box:8500 status               another server (gRPC)
  shoes-client --model segmenter segment photo.png -o mask.png     # colour-coded class map
  shoes-client --model stylegan mix --seed 3 --label color=red --label category=ankle_boot \\
      --style-seed 7 --style-label category=sneaker --crossover 4 -o mixed.png
      a red boot's shape with the details of seed 7's red sneaker (StyleGAN2 style mixing)
  shoes-client --model stylegan invert my_sneaker.jpg -o recon.png --w-out my_sneaker.npy
      the photo's latent w (float32 [num_ws, w_dim]) and its reconstruction
  shoes-client --model spade synthesize my_map.png --seed 3 --style red_boot.jpg -o shoe.png
      a shoe drawn from a part map (greyscale PNG of class indices) in the look of red_boot.jpg
  shoes-client --model spade redesign photo.jpg --grow heel=3 --shrink shaft=2 -o redesign/
      the "parts" segmenter labels the photo, the heel grows 3 px, the shaft shrinks 2 px, SPADE
      redraws it in the photo's look: redesign/redesign.png is photo | parts | edited | new shoe
  shoes-client --model spade redesign photo.jpg --map redesign/edited_index.png -o again/
      the same with a map painted by hand (start from parts_index.png)
  shoes-client --model mask2product extract worn.jpg --segmenter segmenter -o shot/
      the shoe segmenter's mask, then the photo + mask model's product shot: shot/mask.png, shot/product.png
  shoes-client --model pattern pattern leopard_bag.jpg --category ankle_boot --seed 3 -o boot.png
      an ankle boot in the bag's leopard print (the pattern-transfer model's serving_default)
  shoes-client --model pattern pattern leopard_bag.jpg --label category=sneaker -n 4 -o leopard/
      four sneakers, seeds 0..3: leopard/sneaker_seed0000.png ...
  shoes-client --model pattern pattern tartan.png --sketch my_sketch.png -o sketched.png
      the sketched shoe in the tartan (with_sketch)
  shoes-client --version 2 status                         the state of version 2
  shoes-client metadata                                   every signature's inputs and outputs

Every command prints JSON on stdout. A failed call prints
"shoes-client: error: <CODE>: <message>" (CODE as in gRPC, e.g. INVALID_ARGUMENT) and exits 1;
a wrong command line exits 2. Old spellings (--target, --output) still work for one release.
"""


def _alpha(text: str) -> float:
    try:
        alpha = float(text)
    except ValueError:
        alpha = -1.0
    if not 0.0 <= alpha <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1]. Received: {text!r}")
    return alpha


def _part_edit(text: str) -> tuple[str, int]:
    """The argparse type of ``--grow`` / ``--shrink PART=N``: ``(part, pixels)``."""
    name, sep, pixels = text.partition("=")
    if not sep or not name or not (pixels.isascii() and pixels.isdigit()):
        raise argparse.ArgumentTypeError(f"expected PART=N (N pixels, a whole number >= 0), e.g. heel=2. Received: {text!r}")
    return name, int(pixels)


def _add_out_argument(command: argparse.ArgumentParser, metavar: str, help: str) -> None:
    """The required -o/--out (or the deprecated --output)."""
    out = command.add_mutually_exclusive_group(required=True)
    out.add_argument("-o", "--out", dest="out", metavar=metavar, help=help)
    add_deprecated(out, "--output", "--out", dest="out", metavar=metavar)


def _add_image_command(commands, name: str, help: str, description: str, out_help: str, metavar: str = "IN",
                       in_help: str = "input image (PNG, JPEG, ...)") -> argparse.ArgumentParser:
    """A subcommand reading one image (`metavar`, dest ``input``) and writing OUT (-o/--out)."""
    command = commands.add_parser(name, help=help, description=description)
    command.add_argument("input", metavar=metavar, help=in_help)
    _add_out_argument(command, "OUT", out_help)
    return command


def _add_batch_arguments(command: argparse.ArgumentParser, count: int) -> None:
    """-n/--count, --seed and -o/--out: how many shoes (per label combination), from which seed, where."""
    command.add_argument("-n", "--count", type=positive_int, default=count, help="shoes per request (default: %(default)s)")
    command.add_argument("--seed", type=int, default=0, help="first seed; shoe i uses seed+i (default: %(default)s)")
    _add_out_argument(command, "DIR", "folder for the PNGs (created)")


def build_parser() -> argparse.ArgumentParser:
    """The `shoes-client` parser."""
    parser = argparse.ArgumentParser(
        prog="shoes-client",
        description="Talk to shoe generators served by TF Serving or shoes-serve, over gRPC (default) or REST.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    transport = parser.add_mutually_exclusive_group()
    transport.add_argument("--server", default="localhost:8500", metavar="HOST:PORT", help="gRPC server (default: %(default)s)")
    add_deprecated(transport, "--target", "--server", dest="server")
    transport.add_argument("--rest", metavar="URL", help="use the REST API at URL instead, e.g. http://localhost:8501")
    parser.add_argument("--model", default="shoes", help="model name on the server (default: %(default)s)")
    version = parser.add_mutually_exclusive_group()
    version.add_argument("--version", type=int, help="pin this model version (default: the server's choice)")
    version.add_argument("--version-label", metavar="LABEL", help="pin the version with this label, e.g. stable")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per call (default: %(default)s)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    generate = commands.add_parser(
        "generate",
        help="generate shoes and write them as PNGs",
        description="Generate shoes from seeds SEED..SEED+N-1 and write <labels>_seed<NNNN>.png files into DIR. "
        "The same seed and labels always give the same shoe.",
    )
    _add_batch_arguments(generate, count=8)
    generate.add_argument("--truncation", type=float, help="truncation threshold, e.g. 1.0, or a StyleGAN2's psi (1 = off, 0.7 usual); calls the 'truncated' "
                          "signature (default: none)")
    generate.add_argument("--color", help="shortcut for --label color=COLOR")
    generate.add_argument("--category", help="shortcut for --label category=CATEGORY")
    add_label_argument(generate)

    grid = commands.add_parser(
        "grid",
        help="generate every label combination and a contact sheet",
        description="Ask for N shoes of every combination of the model's label values (its labels signature) "
        "and write them as PNGs plus DIR/grid.png, one captioned row per combination.",
    )
    _add_batch_arguments(grid, count=3)
    grid.add_argument(
        "--values", type=label, action="append", default=[], metavar="NAME=V1,V2",
        help="restrict a label to these values, e.g. color=red,blue; repeatable",
    )

    translate = _add_image_command(
        commands,
        "translate",
        help="run an image-to-image model on one image",
        description="Send IN (any image PIL reads) as PNG image_bytes to an image-to-image model; write its answer. "
        "--mask adds the mask of a photo + mask pix2pix model (mask_bytes); --alpha asks a CycleGAN for its "
        "blend signature (0 keeps the input's design, 1 is the full translation).",
        out_help="output image file (created)",
    )
    translate.add_argument("--mask", metavar="FILE", help="mask image of a photo + mask model, sent as mask_bytes")
    translate.add_argument("--alpha", type=_alpha, metavar="A", help="CycleGAN blend weight in [0, 1] (calls the blend signature)")
    translate.add_argument("--signature", default="serving_default", help="signature to run (default: %(default)s)")
    _add_image_command(
        commands,
        "segment",
        help="segment one image with a served segmenter",
        description="Sends one image to a segmenter's segment signature and writes its class map as a colour-coded "
        "PNG (background white); prints the share of pixels per class name.",
        out_help="class map PNG (created)",
    )

    mix = commands.add_parser(
        "mix",
        help="combine two shoes of a StyleGAN2 model",
        description="Ask a StyleGAN2 model's mix signature for the shoe with the coarse layers (shape) of the first "
        "shoe (--seed, --label) and the fine layers (details, colours) of the second (--style-seed, --style-label; "
        "its labels default to the first's). --crossover is the first layer taken from the second shoe.",
    )
    mix.add_argument("--seed", type=int, default=0, help="the first shoe's seed (default: %(default)s)")
    mix.add_argument("--style-seed", type=int, default=1, help="the second shoe's seed (default: %(default)s)")
    mix.add_argument("--crossover", type=int, required=True, metavar="LAYER",
                     help="first synthesis layer from the second shoe (0 = all of it; see the w shape in metadata)")
    mix.add_argument("--truncation", type=float, default=1.0, help="psi toward the labels' average shoe (default: 1 = off)")
    add_label_argument(mix)
    mix.add_argument("--style-label", type=label, action="append", default=[], metavar="NAME=VALUE",
                     help="a label of the second shoe where it differs from the first's, e.g. category=sneaker; repeatable")
    _add_out_argument(mix, "OUT", "output image file (created)")

    invert = _add_image_command(
        commands,
        "invert",
        help="find a StyleGAN2 model's latent of a photo",
        description="Send IN to a StyleGAN2 model's invert signature; write its reconstruction to OUT and, with "
        "--w-out, the latent w (float32 [num_ws, w_dim]) as a .npy file.",
        out_help="reconstruction PNG (created)",
    )
    invert.add_argument("--w-out", metavar="FILE", help="also save the latent w as a .npy file")

    synthesize = _add_image_command(
        commands,
        "synthesize",
        help="draw a shoe from a part map with a SPADE model",
        description="Send a part map to a SPADE model (its serving_default; with_style with --style) and write the "
        "shoe. The map is a single-channel PNG (8-bit greyscale, or palette) whose pixel values are class indices, "
        "0 the background (see the model's class_names; `redesign` writes one to start from); colour images are "
        "refused. Any size: the model fits it to its square.",
        out_help="output image file (created)",
        metavar="LABEL_MAP",
        in_help="part map: single-channel PNG of class indices",
    )
    synthesize.add_argument("--seed", type=int, default=0, help="the shoe's seed (default: %(default)s)")
    synthesize.add_argument("--style", metavar="IMAGE", help="an image whose look the shoe takes (calls with_style)")

    redesign = commands.add_parser(
        "redesign",
        help="redraw a photographed shoe with edited parts (part segmenter + SPADE)",
        description="The part segmenter (--segmenter) labels PHOTO's parts; the map is edited (--shrink edits first, "
        "then --grow, by N pixels of the map along a disk) or replaced by a painted map (--map); the SPADE model "
        "(--model) draws the edited map in the photo's look. Writes into DIR: photo.png, parts.png and edited.png "
        "(coloured), parts_index.png and edited_index.png (class indices: paint on them, give them back with --map), "
        "shoe.png and redesign.png (photo | parts | edited parts | new shoe).",
    )
    redesign.add_argument("input", metavar="PHOTO", help="photo of a shoe (PNG, JPEG, ...)")
    for verb in ("grow", "shrink"):
        redesign.add_argument(f"--{verb}", type=_part_edit, action="append", default=[], metavar="PART=N",
                              help=f"{verb} a part by N pixels, e.g. heel=2 (repeatable; part names from the model's class_names)")
    redesign.add_argument("--map", metavar="EDITED.png", help="a painted part map to draw instead of edits (single-channel class indices)")
    redesign.add_argument("--segmenter", default="parts", metavar="MODEL", help="the part segmenter's model name (default: %(default)s)")
    redesign.add_argument("--seed", type=int, default=0, help="SPADE's seed (default: %(default)s)")
    _add_out_argument(redesign, "DIR", "folder for the pictures (created)")

    extract = commands.add_parser(
        "extract",
        help="a product shot from a photo (shoe segmenter + photo + mask model)",
        description="The shoe segmenter (--segmenter) masks the shoe in PHOTO (every class but the background); the "
        "photo + mask model (--model, a pix2pix_mask2product export) turns photo and mask into the product shot. "
        "Writes DIR/mask.png and DIR/product.png.",
    )
    extract.add_argument("input", metavar="PHOTO", help="photo of a shoe, e.g. worn (PNG, JPEG, ...)")
    extract.add_argument("--segmenter", default="segmenter", metavar="MODEL", help="the shoe segmenter's model name (default: %(default)s)")
    _add_out_argument(extract, "DIR", "folder for mask.png and product.png (created)")

    pattern = commands.add_parser(
        "pattern",
        help="a shoe in the pattern of any object or swatch (pattern-transfer model)",
        description="Send a photo of any object or swatch (a bag, a scarf, a fabric sample; PNG, JPEG, any size) to a "
        "pattern-transfer model and write the shoe in its pattern. Either the shoe's type and seeds give the shape "
        "(--category NAME, or --label category=NAME; --seed, -n; its serving_default; the model's labels command "
        "lists the types), or a sketch does (--sketch: dark lines on white, as a pix2pix sketch model takes it; "
        "with_sketch). OUT is a PNG file, or a folder (an existing one, or OUT without an image suffix) that gets "
        "<category>_seed<NNNN>.png per seed (shoe.png for a sketch); several seeds with a file name add "
        "_seed<NNNN> to it: -o boot.png --seed 1 --seed 2 writes boot_seed0001.png and boot_seed0002.png.",
    )
    pattern.add_argument("input", metavar="PATTERN_IMAGE", help="photo of the object or swatch whose pattern the shoe takes")
    shape = pattern.add_mutually_exclusive_group()
    shape.add_argument("--category", metavar="NAME", help="the shoe type, e.g. ankle_boot (calls serving_default)")
    shape.add_argument("--sketch", metavar="SKETCH", help="a sketch that gives the shape instead of --category and seeds (calls with_sketch)")
    add_label_argument(pattern, help="category=NAME, the shared label spelling of --category")
    pattern.add_argument("--seed", type=int, action="append", metavar="N",
                         help="a seed (repeatable: one shoe per seed; with -n, the first of N seeds; default 0)")
    pattern.add_argument("-n", "--count", type=positive_int, default=1, help="shoes from seeds SEED..SEED+COUNT-1 (default: %(default)s)")
    _add_out_argument(pattern, "OUT", "output PNG, or a folder for one PNG per seed (created)")

    commands.add_parser("status", help="the model's versions and their states")
    commands.add_parser("metadata", help="the model's signatures: input and output names, dtypes, shapes")
    commands.add_parser("labels", help="the valid label values")
    return parser


def _file_stem(labels: dict[str, str], seed: int) -> str:
    parts = [re.sub(r"[^A-Za-z0-9_-]+", "-", value) for value in labels.values()]
    return "_".join([*parts, f"seed{seed:04d}"])


def _save(images, labels: dict[str, str], seed: int, output: Path) -> list[str]:
    """Writes ``<labels>_seed<NNNN>.png`` files into `output` (created); returns their paths."""
    output.mkdir(parents=True, exist_ok=True)
    files = []
    for index, image in enumerate(images):
        path = output / f"{_file_stem(labels, seed + index)}.png"
        image.save(path)
        files.append(str(path))
    return files


def _generate(client, args) -> dict:
    labels = {"color": args.color, "category": args.category, **dict(args.label)}
    labels = {name: value for name, value in labels.items() if value is not None}
    images = client.generate(args.count, seed=args.seed, truncation=args.truncation, **labels)
    files = _save(images, labels, args.seed, Path(args.out))
    return {"count": len(files), "seeds": [args.seed, args.seed + len(files) - 1], "labels": labels, "files": files}


def _grid(client, args) -> dict:
    vocabularies = client.labels()
    for name, values in args.values:
        if name not in vocabularies:
            raise ValueError(f"Unknown label {name!r}. The model's labels: {', '.join(vocabularies) or 'none'}")
        vocabularies[name] = values.split(",")
    names = sorted(vocabularies, key=lambda name: (name != "color", name))  # "red sneaker", not "sneaker red".
    rows, files = [], []
    for combination in itertools.product(*(vocabularies[name] for name in names)):
        labels = dict(zip(names, combination))
        images = client.generate(args.count, seed=args.seed, **labels)
        files += _save(images, labels, args.seed, Path(args.out))
        rows.append((" ".join(combination) or "samples", images))
    sheet = Path(args.out) / "grid.png"
    contact_sheet(rows).save(sheet)
    return {"combinations": len(rows), "per_combination": args.count, "labels": vocabularies, "sheet": str(sheet), "files": len(files)}


def _translate(client, args) -> dict:
    mask = None if args.mask is None else Path(args.mask)
    image = client.translate(Path(args.input), mask=mask, alpha=args.alpha, signature=args.signature)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    image.save(args.out)
    extras = {key: value for key, value in (("mask", args.mask), ("alpha", args.alpha)) if value is not None}
    return {"input": args.input, **extras, "output": args.out, "size": list(image.size)}


def _segment(client, args) -> dict:
    from shoes_generator.imaging.palette import class_colors  # NumPy only: fine in the TensorFlow-free client.

    classes, names = client.segment(Path(args.input))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(class_colors(classes)).save(args.out)
    shares = {names[index]: round(float(np.mean(classes == index)), 4) for index in names}
    return {"input": args.input, "output": args.out, "size": list(classes.shape), "class_shares": shares}


def _mix(client, args) -> dict:
    labels, style_labels = dict(args.label), {**dict(args.label), **dict(args.style_label)}
    image = client.mix(seed=args.seed, style_seed=args.style_seed, crossover=args.crossover, labels=labels,
                       style_labels=style_labels, truncation=args.truncation)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    image.save(args.out)
    return {"seed": args.seed, "labels": labels, "style_seed": args.style_seed, "style_labels": style_labels,
            "crossover": args.crossover, "truncation": args.truncation, "output": args.out}


def _invert(client, args) -> dict:
    w, image = client.invert(Path(args.input))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    image.save(args.out)
    summary = {"input": args.input, "output": args.out, "w_shape": list(w.shape)}
    if args.w_out:
        w_out = args.w_out if args.w_out.endswith(".npy") else args.w_out + ".npy"  # np.save would add it unasked
        Path(w_out).parent.mkdir(parents=True, exist_ok=True)
        np.save(w_out, w)
        summary["w"] = w_out
    return summary


def _synthesize(client, args) -> dict:
    shoe = client.synthesize(Path(args.input), seed=args.seed, style=None if args.style is None else Path(args.style))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    shoe.save(args.out)
    return {"label_map": args.input, "seed": args.seed, **({"style": args.style} if args.style else {}), "output": args.out,
            "size": list(shoe.size)}


def _pattern_usage(args) -> str | None:
    """What is wrong with a ``pattern`` command line (None when nothing is); sets ``args.category`` from
    ``--label category=NAME`` and ``args.seeds``."""
    for name, value in args.label:
        if name != "category":
            return f"pattern takes one label, category. Received: --label {name}={value}"
    categories = {value for value in [args.category, *(value for _, value in args.label)] if value is not None}
    if len(categories) > 1:
        return f"pattern takes one category. Received: {', '.join(sorted(categories))}"
    args.category = next(iter(categories), None)
    if args.sketch is not None:
        if args.category is not None or args.seed or args.count != 1:
            return "pattern takes --sketch or --category with --seed/-n, not both (the sketch gives the shape)"
        args.seeds = None
        return None
    if args.category is None:
        return "pattern needs --category NAME (or --label category=NAME) or --sketch SKETCH"
    if args.seed and len(args.seed) > 1:
        if args.count != 1:
            seeds = " ".join(f"--seed {seed}" for seed in args.seed)
            return f"pattern takes several --seed values or -n with one --seed, not both. Received: {seeds} -n {args.count}"
        args.seeds = args.seed
        return None
    first = args.seed[0] if args.seed else 0
    args.seeds = list(range(first, first + args.count))
    return None


def _pattern(client, args) -> dict:
    out = Path(args.out)
    folder = out.is_dir() or out.suffix.lower() not in Image.registered_extensions()
    if args.sketch is not None:
        shoes = [client.pattern(Path(args.input), sketch=Path(args.sketch))]
        files = [out / "shoe.png" if folder else out]
    else:
        shoes = client.pattern(Path(args.input), category=args.category, seed=args.seeds)
        if folder:
            files = [out / f"{_file_stem({'category': args.category}, seed)}.png" for seed in args.seeds]
        elif len(args.seeds) == 1:
            files = [out]
        else:
            files = [out.with_name(f"{out.stem}_seed{seed:04d}{out.suffix}") for seed in args.seeds]
    files[0].parent.mkdir(parents=True, exist_ok=True)
    for shoe, path in zip(shoes, files):
        shoe.save(path)
    shape = {"sketch": args.sketch} if args.sketch is not None else {"category": args.category, "seeds": args.seeds}
    return {"pattern": args.input, **shape, "files": [str(path) for path in files], "size": list(shoes[0].size)}


def strip(columns: list[tuple[str, Image.Image]], cell: int = 128) -> Image.Image:
    """Images side by side, each scaled to `cell` px (nearest neighbour: maps keep their classes), captioned above.

    Args:
        columns: ``(caption, image)`` pairs.
        cell: the side of each picture.
    """
    caption = 16
    sheet = Image.new("RGB", (len(columns) * cell, cell + caption), "white")
    draw, font = ImageDraw.Draw(sheet), ImageFont.load_default()
    for index, (text, image) in enumerate(columns):
        draw.text((index * cell + 4, 2), text, fill="black", font=font)
        sheet.paste(image.convert("RGB").resize((cell, cell), Image.NEAREST), (index * cell, caption))
    return sheet


def _redesign(client, args) -> dict:
    with Image.open(args.input) as opened:
        photo = opened.convert("RGB")
    result = client.redesign(photo, grow=dict(args.grow), shrink=dict(args.shrink), edited_map=args.map and Path(args.map),
                             seed=args.seed, segmenter=args.segmenter)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pictures = {
        "photo.png": photo,
        "parts.png": part_maps.colorize(result.parts),
        "edited.png": part_maps.colorize(result.edited),
        "parts_index.png": Image.fromarray(result.parts),
        "edited_index.png": Image.fromarray(result.edited),
        "shoe.png": result.shoe,
    }
    square = max(photo.size)
    framed = Image.new("RGB", (square, square), "white")  # The photo as the models saw it: centred on white.
    framed.paste(photo, ((square - photo.width) // 2, (square - photo.height) // 2))
    columns = [("photo", framed), ("parts", pictures["parts.png"]), ("edited parts", pictures["edited.png"]), ("new shoe", result.shoe)]
    pictures["redesign.png"] = strip(columns)
    for name, picture in pictures.items():
        picture.save(out / name)
    changed = {name: int(np.sum(result.edited == index) - np.sum(result.parts == index)) for index, name in enumerate(result.class_names)}
    return {"input": args.input, "segmenter": args.segmenter, "grow": dict(args.grow), "shrink": dict(args.shrink),
            **({"map": args.map} if args.map else {}), "seed": args.seed, "class_names": result.class_names,
            "pixels_changed": {name: delta for name, delta in changed.items() if delta}, "files": [str(out / name) for name in pictures]}


def _extract(client, args) -> dict:
    mask, product = client.extract(Path(args.input), segmenter=args.segmenter)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    mask.save(out / "mask.png")
    product.save(out / "product.png")
    return {"input": args.input, "segmenter": args.segmenter, "mask": str(out / "mask.png"), "product": str(out / "product.png"),
            "shoe_share": round(float(np.mean(np.asarray(mask) > 0)), 4), "size": list(product.size)}


RUNS = {
    "generate": _generate,
    "grid": _grid,
    "translate": _translate,
    "segment": _segment,
    "mix": _mix,
    "invert": _invert,
    "synthesize": _synthesize,
    "redesign": _redesign,
    "extract": _extract,
    "pattern": _pattern,
    "status": lambda client, args: {"model": args.model, "versions": client.status()},
    "metadata": lambda client, args: {"model": args.model, "signatures": client.metadata()},
    "labels": lambda client, args: client.labels(),
}


def make_client(args):
    """The client the parsed arguments ask for (gRPC unless ``--rest``)."""
    pins = {"version": args.version, "version_label": args.version_label, "timeout": args.timeout}
    if args.rest:
        return RestClient(args.rest, args.model, **pins)
    return ShoesClient(args.server, args.model, **pins)


def main(argv: list[str] | None = None) -> int:
    """Entry point of `shoes-client`; returns the exit code.

    Args:
        argv: the arguments (``sys.argv[1:]`` when None).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "translate" and args.alpha is not None and args.signature != "serving_default":
        parser.error(f"--alpha calls the blend signature; it cannot be combined with --signature {args.signature}")
    if args.command == "redesign" and args.map and (args.grow or args.shrink):
        parser.error("redesign takes edits (--grow, --shrink) or a painted map (--map), not both")
    problem = _pattern_usage(args) if args.command == "pattern" else None
    if problem:
        parser.error(problem)
    try:
        with make_client(args) as client:
            summary = RUNS[args.command](client, args)
    except ServingError as error:
        return fail(parser.prog, f"{error.code}: {error.message}", EXIT_FAILURE)
    except part_maps.UnknownPartError as error:  # --grow/--shrink named a part the model does not have.
        return fail(f"{parser.prog} {args.command}", error, EXIT_USAGE)
    except (OSError, ValueError) as error:  # a missing input file, an unreadable image, a bad label list...
        return fail(parser.prog, error, EXIT_FAILURE)
    print(json.dumps(summary, indent=2))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
