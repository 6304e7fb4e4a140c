"""One home per model family: each module declares its config section, presets, model, per-epoch
picture, export and evaluation, and registers itself (see `base.Family`).

Adding a family is one module plus one line here (see docs/families.md).
"""

from shoes_generator.families.base import (
    Family,
    families_for_source,
    get_family,
    register_family,
    registered_families,
    unregister_family,
)

from shoes_generator.families import dcgan, conditional, pix2pix, cyclegan, segmentation, stylegan2, spade, pattern  # noqa: E402,F401,I001  (registration)

__all__ = ["Family", "families_for_source", "get_family", "register_family", "registered_families", "unregister_family"]
