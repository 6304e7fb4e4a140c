"""The data layer's names that command lines need before any work starts: Fashion-MNIST's shoe
classes and splits, the fit modes, the TFRecord file names and the shoe part classes.

Imports nothing beyond the standard library, so ``shoes-data <command> --help`` and other
TensorFlow-free code can use them; `fmnist`, `pipeline` and `tfrecords` take theirs from here.
"""

from __future__ import annotations

from types import MappingProxyType

SHOE_CLASSES = MappingProxyType({5: "sandal", 7: "sneaker", 9: "ankle_boot"})  # Fashion-MNIST label -> category.
CATEGORY_NAMES = tuple(SHOE_CLASSES.values())
SPLITS = ("train", "test")
FIT_MODES = ("pad", "resize", "crop")
SIDECAR = "dataset.json"
SHARD_GLOB = "data-*-of-*.tfrecord"
# Part maps (`shoes_generator.imaging.parts`, `shoes-data parts`): class index -> part, background first.
PART_CLASSES = ("background", "sole", "heel", "upper", "shaft", "opening")
# Pattern transfer data (`shoes_generator.imaging.patterns`, `shoes-data patterns`): pattern kinds and exemplar objects.
PATTERN_KINDS = ("stripes", "checks", "tartan", "dots", "spots", "leopard", "camouflage", "noise", "gradient", "photo")
OBJECT_KINDS = ("bag", "box", "blob", "sleeve", "ellipse")
# The held-out side: colourings holding both colours of one pair, these skimage.data photographs, ids from here on.
HELD_OUT_COLOR_PAIRS = (("sand", "espresso"), ("navy", "orange"), ("teal", "pink"), ("burgundy", "mustard"), ("olive", "sky"), ("purple", "green"))
HELD_OUT_TEXTURES = ("gravel", "chelsea")
HELD_OUT_ID_START = 1_000_000_000
