"""`PatternGAN`: a shoe in the print of any object, trained with `fit` (after TextureGAN, Xian et al. 2018).

Batches are dicts ``{"exemplar", "image", "sketch": [B, S, S, 3] in [-1, 1], "category": int [B]}``: a
print on some object (a bag, a box, a blob, a swatch), the same print on a shoe, that shoe's sketch and
its type. One step:

- the pattern encoder reads the exemplar's style code;
- each example is drawn from its sketch with probability ``sketch_probability`` (category id
  ``num_categories``: "from the sketch"), else from its type and noise with a blank (white) sketch;
  of those, a share ``encoded_probability`` takes its noise from the shape encoder's reading of the
  shoe's sketch (``z = mu + exp(logvar / 2) * eps``, a KL term toward N(0, 1): cVAE-GAN, as in
  BicycleGAN), the rest from N(0, 1) (what a seed gives when served): so the noise path learns real
  shapes from the L1 term, and random noise lands among them;
- the projection discriminator (type-conditional) is updated on the adversarial loss (``loss``,
  hinge in the presets) of real shoes against generated ones;
- generator and encoders are updated together on that loss's generator term, ``l1_weight`` x the L1 distance
  to the real shoe for the sketched and encoded examples (the same shoe in the same print), ``kl_weight`` x
  the KL term, and ``texture_weight`` x
  the local texture loss: the L1 distance between `texture_statistics` inside the generated shoe
  and inside the real one (each channel's mean and standard deviation, and the mean absolute
  difference to the neighbouring pixel in four directions: colour, contrast, and the print's
  orientation and scale).

Every drawn shoe (in training and when served) then goes through `match_colours` at ``colour_match``:
its colour moments inside the clearly drawn shoe are moved toward the exemplar object's.

``print_mapping`` says who puts the print on the shoe. ``"learned"``: the generator paints it, steered
by the style code alone. ``"tiled"``: the generator paints the shoe's shape and shading only (the shoe in
a black and in a white print, `build_pattern_generator(shading=True)`), and `render_print` composes a
print field into it: served, the exemplar's own pixels (`tiled_print`: the largest square inside the
object, repeated); in training, the print the real shoe wears when the batch has it (key ``"print"``,
so the L1 term compares the same print at the same place), else the tiled exemplar as served. With
``judge="shading"`` the discriminator judges that print-free output against the real shoe's (batch key
``"shading"``, six channels) instead of the printed shoes: it then learns shoe shapes as it would on plain
shoes, where a loud print would hide them.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from shoes_generator.families.pattern import JUDGES, PRINT_MAPPINGS
from shoes_generator.gans.adversarial import AdversarialModel, apply_gradients, replica_share, scaled_loss
from shoes_generator.losses import gaussian_kl, get_loss
from shoes_generator.models.pattern import masked_moments, object_mask, render_print, tiled_print

SHIFTS = ((0, 1), (1, 0), (1, 1), (1, -1))  # Right, down and the two diagonals.
SHOE_THRESHOLD = 0.25  # In [-1, 1] units (about 32/255): how much darker than white a drawn pixel must be to be recoloured.


def texture_statistics(images, mask) -> tf.Tensor:
    """``[B, K]`` statistics of the print inside `mask`: per channel the mean, the standard deviation and the
    mean absolute difference to the neighbour in each of `SHIFTS` (float32).

    Args:
        images: ``[B, S, S, 3]`` in [-1, 1].
        mask: ``[B, S, S, 1]`` 1 on the object (no gradient flows into it).
    """
    images, mask = tf.cast(images, tf.float32), tf.stop_gradient(tf.cast(mask, tf.float32))
    mean, std = masked_moments(images, mask)
    statistics = [mean[:, 0, 0], std[:, 0, 0]]
    size = int(images.shape[1])
    for dy, dx in SHIFTS:
        rows, first, second = slice(0, size - dy), slice(max(0, -dx), size - max(0, dx)), slice(max(0, dx), size - max(0, -dx))
        a, b = images[:, rows, first], images[:, dy:, second]
        both = mask[:, rows, first] * mask[:, dy:, second]
        statistics.append(tf.reduce_sum(tf.abs(a - b) * both, axis=[1, 2]) / tf.maximum(tf.reduce_sum(both, axis=[1, 2]), 1.0))
    return tf.concat(statistics, axis=-1)


def match_colours(images, exemplars, strength: float = 1.0) -> tf.Tensor:
    """`images` whose colour moments inside the shoe are moved toward the exemplar object's (`strength` 1:
    each channel's mean and spread become the exemplar's, as Reinhard et al.'s colour transfer does; 0:
    unchanged). The white around the shoe stays; the result is clipped to [-1, 1]."""
    if strength == 0:
        return images
    images = tf.cast(images, tf.float32)
    shoe = object_mask(images, SHOE_THRESHOLD)  # Stricter than an exemplar's: a drawn near-white halo is no shoe.
    mean, std = masked_moments(images, shoe)
    target_mean, target_std = masked_moments(exemplars, object_mask(exemplars))
    matched = (images - mean) / std * target_std + target_mean
    moved = images + strength * (matched - images)
    return tf.clip_by_value(tf.where(shoe > 0, moved, images), -1.0, 1.0)


def masked_mean(values, keep) -> tf.Tensor:
    """The mean of ``[B]`` `values` where `keep` is True (0 when none is)."""
    weights = tf.cast(keep, tf.float32)
    return tf.reduce_sum(tf.cast(values, tf.float32) * weights) / tf.maximum(tf.reduce_sum(weights), 1.0)


@keras.saving.register_keras_serializable(package="shoes_generator")
class PatternGAN(AdversarialModel):
    """Pattern encoder + AdaIN shoe generator against a type-conditional projection discriminator.

    Args:
        generator: `build_pattern_generator`'s model.
        discriminator: ``{"image", "category"} -> logit`` (`build_projection_discriminator`).
        encoder: `build_pattern_encoder`'s model.
        shape_encoder: ``sketch -> {"mu", "logvar"}`` of ``z`` (`shoes_generator.models.spade.build_style_encoder`).
        sketch_probability: the share of examples drawn from their sketch.
        encoded_probability: of the others, the share whose noise is the shape encoder's.
        kl_weight: weight of the shape encoder's KL term.
        l1_weight: weight of the L1 distance to the real shoe (sketched examples).
        texture_weight: weight of the local texture loss.
        colour_match: how far `match_colours` moves each shoe's colour moments to the exemplar's (0: not at all).
        print_mapping: ``"learned"`` (the generator paints the print) or ``"tiled"`` (it paints shading; the
            exemplar's print is composed in, see the module docstring).
        judge: what the discriminator sees: ``"image"`` (the shoes) or ``"shading"`` (``"tiled"`` only: the
            generator's six channels against the batch's ``"shading"``).
        loss: the adversarial loss, a `shoes_generator.losses.LOSSES` name without a gradient penalty.
        seed: seed of the noise and the sketch draws (its state is checkpointed).
    """

    NETWORK_KEYS = ("generator", "discriminator", "encoder", "shape_encoder")
    TRACKED = ("d_loss", "g_adversarial", "g_l1", "g_kl", "g_texture", "l1")

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        encoder: keras.Model,
        shape_encoder: keras.Model,
        sketch_probability: float = 0.5,
        encoded_probability: float = 0.5,
        kl_weight: float = 0.01,
        l1_weight: float = 20.0,
        texture_weight: float = 10.0,
        colour_match: float = 0.0,
        print_mapping: str = "learned",
        judge: str = "image",
        loss: str = "hinge",
        seed: int = 0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if print_mapping not in PRINT_MAPPINGS:
            raise ValueError(f"print_mapping must be one of {PRINT_MAPPINGS}. Received: print_mapping={print_mapping!r}")
        channels = int(generator.output.shape[-1])
        if channels != (6 if print_mapping == "tiled" else 3):
            raise ValueError(
                f"print_mapping={print_mapping!r} needs a generator of {6 if print_mapping == 'tiled' else 3} output channels "
                f"(build_pattern_generator(shading={print_mapping == 'tiled'})). Received: {channels}"
            )
        judged = int(discriminator.input["image"].shape[-1])
        if judge not in JUDGES or (judge == "shading" and print_mapping != "tiled") or judged != (6 if judge == "shading" else 3):
            raise ValueError(
                f"judge must be one of {JUDGES} ('shading' with print_mapping='tiled'), its discriminator taking 6 channels for "
                f"'shading' and 3 for 'image'. Received: judge={judge!r}, print_mapping={print_mapping!r}, discriminator channels {judged}"
            )
        self.print_mapping, self.judge = print_mapping, judge
        self.loss_name, self.adversarial = loss, get_loss(loss)
        if not 0.0 <= colour_match <= 1.0:
            raise ValueError(f"colour_match must lie in [0, 1]. Received: colour_match={colour_match}")
        self.colour_match = float(colour_match)
        shares = {"sketch_probability": sketch_probability, "encoded_probability": encoded_probability}
        outside = {name: value for name, value in shares.items() if not 0.0 <= value <= 1.0}
        if outside:
            raise ValueError(f"These shares must lie in [0, 1]. Received: {outside}")
        if min(l1_weight, texture_weight, kl_weight) < 0:
            raise ValueError(
                f"The loss weights must be >= 0. Received: l1_weight={l1_weight}, texture_weight={texture_weight}, kl_weight={kl_weight}"
            )
        self.generator, self.discriminator, self.encoder, self.shape_encoder = generator, discriminator, encoder, shape_encoder
        self.sketch_probability, self.encoded_probability, self.kl_weight = float(sketch_probability), float(encoded_probability), float(kl_weight)
        self.l1_weight, self.texture_weight = float(l1_weight), float(texture_weight)
        self.seed = int(seed)
        self.z_dim = int(generator.input["z"].shape[-1])
        self.num_categories = int(generator.get_layer("category_embedding").input_dim) - 1
        self.noise_seed = keras.random.SeedGenerator(seed, name="noise_seed")

    @property
    def generator_variables(self) -> list:
        """The generator and both encoders learn together."""
        return self.generator.trainable_variables + self.encoder.trainable_variables + self.shape_encoder.trainable_variables

    def extra_checkpoint_objects(self) -> dict:
        return {"noise_seed": self.noise_seed.state}

    # ---------------------------------------------------------------- inference
    def _finish(self, drawn, exemplars, prints=None) -> tf.Tensor:
        """The generator's output as shoes: the print composed in (``"tiled"``: `prints`, else the exemplars'
        `tiled_print`), then `match_colours`.

        Args:
            drawn: the generator's output (3 channels, or 6 for ``"tiled"``).
            exemplars: ``[B, S, S, 3]`` the exemplar objects.
            prints: ``[B, S, S, 3]`` the print fields to compose (``"tiled"``), or None for the exemplars' own.
        """
        if self.print_mapping == "tiled":
            drawn = render_print(drawn, tiled_print(exemplars) if prints is None else prints)
        return match_colours(drawn, exemplars, self.colour_match)

    def draw(self, pattern, z, category=None, sketch=None, training: bool = False) -> tf.Tensor:
        """Shoes ``[B, S, S, 3]`` in [-1, 1] in the print of `pattern`: shaped by `sketch` when given (the
        category is then "from the sketch"), else by `category` ids and noise `z`."""
        pattern = tf.convert_to_tensor(pattern, tf.float32)
        size = tf.shape(pattern)[0]
        if sketch is None:
            side = self.generator.input["sketch"].shape[1]
            sketch = tf.ones([size, side, side, 3])
        if category is None:
            category = tf.fill([size], self.num_categories)
        inputs = {"z": tf.convert_to_tensor(z, tf.float32), "category": tf.cast(category, tf.int32),
                  "style": self.encoder(pattern, training=training), "sketch": tf.convert_to_tensor(sketch, tf.float32)}
        return self._finish(self.generator(inputs, training=training), pattern)

    def call(self, inputs, training=False):
        """``{"exemplar", "z", "category"}`` or ``{"exemplar", "sketch"}`` -> shoes."""
        z = inputs.get("z")
        if z is None:
            z = tf.zeros([tf.shape(inputs["exemplar"])[0], self.z_dim])
        return self.draw(inputs["exemplar"], z, inputs.get("category"), inputs.get("sketch"), training=training)

    # -------------------------------------------------------------- the steps
    def _inputs(self, batch):
        """The step's example modes and generator inputs: which examples follow their sketch and which take
        their noise from the shape encoder, the sketches (white when not followed), the categories ("from
        the sketch" when followed) and the N(0, 1) noise."""
        size = tf.shape(batch["image"])[0]
        draw = lambda sample: replica_share(sample, size)  # noqa: E731  (example j's draws, whatever the replica count)
        sketched = draw(lambda rows: keras.random.uniform([rows], seed=self.noise_seed)) < self.sketch_probability
        encoded = tf.logical_and(~sketched, draw(lambda rows: keras.random.uniform([rows], seed=self.noise_seed)) < self.encoded_probability)
        sketch = tf.where(sketched[:, None, None, None], tf.cast(batch["sketch"], tf.float32), tf.ones_like(batch["sketch"], tf.float32))
        category = tf.where(sketched, self.num_categories, tf.cast(batch["category"], tf.int32))
        z = draw(lambda rows: keras.random.normal([rows, self.z_dim], seed=self.noise_seed))
        return sketched, encoded, sketch, category, z

    def train_step(self, data):
        batch = self._batch(data, ("exemplar", "image", "sketch", "category") + (("shading",) if self.judge == "shading" else ()))
        real, labels = batch["image"], tf.cast(batch["category"], tf.int32)
        sketched, encoded, sketch, category, noise = self._inputs(batch)
        eps = replica_share(lambda rows: keras.random.normal([rows, self.z_dim], seed=self.noise_seed), tf.shape(noise)[0])
        real_mask = object_mask(real)
        with tf.GradientTape() as g_tape:
            style = self.encoder(batch["exemplar"], training=True)
            shape = self.shape_encoder(tf.cast(batch["sketch"], tf.float32), training=True)
            z = tf.where(encoded[:, None], shape["mu"] + tf.exp(0.5 * shape["logvar"]) * eps, noise)
            drawn = self.generator({"z": z, "category": category, "style": style, "sketch": sketch}, training=True)
            fake = self._finish(drawn, batch["exemplar"], batch.get("print"))
            real_judged, fake_judged = (tf.cast(batch["shading"], tf.float32), drawn) if self.judge == "shading" else (real, fake)
            with g_tape.stop_recording():
                with tf.GradientTape() as d_tape:
                    logits = self.discriminator({"image": tf.concat([real_judged, tf.stop_gradient(fake_judged)], 0),
                                                 "category": tf.concat([labels, labels], 0)}, training=True)
                    real_logits, fake_logits = tf.split(logits, 2)
                    d_loss = self.adversarial.discriminator(real_logits, fake_logits)
                    scaled = scaled_loss(self.d_optimizer, d_loss)
                apply_gradients(self.d_optimizer, d_tape, scaled, self.discriminator_variables)
            g_adversarial = self.adversarial.generator(self.discriminator({"image": fake_judged, "category": labels}, training=True))
            supervised = tf.logical_or(sketched, encoded)
            g_l1 = masked_mean(tf.reduce_mean(tf.abs(tf.cast(fake, tf.float32) - tf.cast(real, tf.float32)), axis=[1, 2, 3]), supervised)
            g_kl = masked_mean(gaussian_kl(shape["mu"], shape["logvar"]), encoded)
            fake_mask = tf.where(supervised[:, None, None, None], real_mask, object_mask(fake))
            g_texture = tf.reduce_mean(tf.abs(texture_statistics(fake, fake_mask) - texture_statistics(real, real_mask)))
            total = g_adversarial + self.l1_weight * g_l1 + self.kl_weight * g_kl + self.texture_weight * g_texture
            scaled = scaled_loss(self.g_optimizer, total)
        apply_gradients(self.g_optimizer, g_tape, scaled, self.generator_variables)
        self.step.assign_add(1)
        return self._track(d_loss=d_loss, g_adversarial=g_adversarial, g_l1=g_l1, g_kl=g_kl, g_texture=g_texture)

    def test_step(self, data):
        batch = self._batch(data, ("exemplar", "image", "sketch"))
        fake = self.draw(batch["exemplar"], tf.zeros([tf.shape(batch["image"])[0], self.z_dim]), sketch=batch["sketch"])
        return self._track(l1=tf.reduce_mean(tf.abs(tf.cast(fake, tf.float32) - tf.cast(batch["image"], tf.float32))))

    # ------------------------------------------------------------ serialization
    def get_config(self):
        return {
            **super().get_config(),
            "sketch_probability": self.sketch_probability,
            "encoded_probability": self.encoded_probability,
            "kl_weight": self.kl_weight,
            "l1_weight": self.l1_weight,
            "texture_weight": self.texture_weight,
            "colour_match": self.colour_match,
            "print_mapping": self.print_mapping,
            "judge": self.judge,
            "loss": self.loss_name,
            "seed": self.seed,
        }
