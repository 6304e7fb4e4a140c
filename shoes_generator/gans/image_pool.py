"""`ImagePool`: CycleGAN's history of generated images (Shrivastava et al. 2017), usable inside a compiled step.

The discriminator sees, per image, either the newest fake or one generated
earlier, which damps oscillation. The buffer, its fill count and the RNG
state are variables of a keras Layer, so `tf.train.Checkpoint`, `.keras` files
and Keras weight files keep them and a resumed run draws the same images.
"""

from __future__ import annotations

from typing import Sequence

import keras
import tensorflow as tf

from shoes_generator.gans.adversarial import replica_rows


@keras.saving.register_keras_serializable(package="shoes_generator")
class ImagePool(keras.layers.Layer):
    """The reference image buffer, in graph-mode TensorFlow.

    `query(images)` goes through the batch in order, per image: while the pool
    holds fewer than `size` images, it stores the image and returns it; once
    full, with probability 0.5 it returns a random stored image and keeps the
    new one in its place, otherwise it returns the new image.

    Args:
        size: images kept (50 in the reference); 0 disables the pool.
        image_shape: ``(H, W, C)`` of the images.
        seed: seed of the draws (a ``keras.random.SeedGenerator``, its state a variable).
        **kwargs: base layer arguments (`name`); the pool is always float32.
    """

    def __init__(self, size: int = 50, image_shape: Sequence[int] = (), seed: int = 0, **kwargs):
        kwargs["dtype"] = "float32"
        super().__init__(**kwargs)
        image_shape = tuple(int(d) for d in image_shape) if image_shape is not None else ()
        if size < 0 or (size > 0 and (len(image_shape) != 3 or min(image_shape) < 1)):
            raise ValueError(
                f"ImagePool needs size >= 0 and, when size > 0, a static image_shape (H, W, C). "
                f"Received: size={size}, image_shape={image_shape}"
            )
        self.size = int(size)
        self.image_shape = image_shape
        self.seed = int(seed)
        if self.size:
            self.images = self.add_weight(
                shape=(self.size, *image_shape), initializer="zeros", trainable=False, name="images", dtype="float32"
            )
            self.count = self.add_weight(shape=(), initializer="zeros", trainable=False, name="count", dtype="int32")
            self.seed_generator = keras.random.SeedGenerator(seed, name="pool_seed")
        self.built = True

    def call(self, images):
        return self.query(images)

    def query(self, images):
        """Returns as many images as it gets ``[B, H, W, C]``, some swapped for stored ones (float32).

        Under N `tf.distribute` replicas every replica runs the pool on the global batch (the replicas'
        images gathered in replica order) with the same stored images and draws, then keeps its own rows:
        the pool's copies stay equal, and each example meets the image one process's pool gives it.
        """
        images = tf.cast(images, tf.float32)
        if not self.size:
            return images
        context = tf.distribute.get_replica_context()
        if context is None or context.num_replicas_in_sync == 1:
            return self._query(images)
        return replica_rows(self._query(context.all_gather(images, axis=0)), tf.shape(images)[0])

    def _query(self, images):
        """`query` of one batch, in order."""
        batch = tf.shape(images)[0]
        swap = keras.random.uniform([batch], seed=self.seed_generator) < 0.5
        slots = keras.random.randint([batch], 0, self.size, seed=self.seed_generator, dtype="int32")

        def step(i, count, stored, out):
            # tf.gather, not x[i]: XLA would take a sliced index as a compile-time
            # constant and recompile the whole step for every new value.
            image = tf.gather(images, i)
            filling = count < self.size
            use_stored = tf.logical_and(tf.logical_not(filling), tf.gather(swap, i))
            slot = tf.where(filling, count, tf.gather(slots, i))
            previous = tf.gather(stored, slot)
            kept = tf.where(tf.logical_or(filling, use_stored), image, previous)
            stored = tf.tensor_scatter_nd_update(stored, [[slot]], [kept])
            out = tf.tensor_scatter_nd_update(out, [[i]], [tf.where(use_stored, previous, image)])
            return i + 1, count + tf.cast(filling, tf.int32), stored, out

        _, count, stored, out = tf.while_loop(
            lambda i, *_: i < batch,
            step,
            (tf.constant(0), tf.convert_to_tensor(self.count.value), tf.convert_to_tensor(self.images.value), images),
        )
        self.images.assign(stored)
        self.count.assign(count)
        return out

    def _trackable_children(self, save_type="checkpoint", **kwargs):
        # Keras keeps the SeedGenerator's state out of tf.train.Checkpoint; a resumed run needs it.
        children = super()._trackable_children(save_type, **kwargs)
        if self.size:
            children["rng_state"] = self.seed_generator.state
        return children

    def save_own_variables(self, store):
        # `.keras` and `.weights.h5` files save a layer's variables but not its SeedGenerator's state.
        super().save_own_variables(store)
        if self.size:
            store["rng_state"] = self.seed_generator.state

    def load_own_variables(self, store):
        keys = list(store.keys())
        if "rng_state" in keys:  # Files saved before the state was kept leave the draws at their start.
            self.seed_generator.state.assign(store["rng_state"])
        super().load_own_variables({key: store[key] for key in keys if key != "rng_state"})

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "size": self.size, "image_shape": list(self.image_shape), "seed": self.seed}
