"""Label-conditional generator and projection discriminator.

Any number of label vocabularies (colour, category, subcategory, ...) condition
the networks: each label is an int id input ``[B]`` named after its vocabulary.

Generator: ``z`` joined with one learned embedding per label, then the DCGAN
upsampling stack whose BatchNorms are conditional (label-dependent scale and
shift, as in the projection-discriminator paper's generator). Discriminator: the projection discriminator (Miyato & Koyama,
2018): ``D(x, y) = w . phi(x) + sum_k <embed_k(y_k), phi(x)>`` where ``phi`` is
the sum-pooled conv trunk; spectral norm optional.
"""

from __future__ import annotations

from typing import Mapping

import keras

from shoes_generator.models.blocks import MinibatchStdDev, maybe_spectral
from shoes_generator.models.dcgan import discriminator_trunk, generator_trunk


def label_inputs(vocab_sizes: Mapping[str, int]) -> dict[str, keras.KerasTensor]:
    """One named int32 ``[B]`` input per label vocabulary, in sorted name order."""
    if not vocab_sizes:
        raise ValueError("A conditional model needs at least one label vocabulary. Received: vocab_sizes={}")
    for label, size in vocab_sizes.items():
        if size < 1:
            raise ValueError(f"Vocabulary {label!r} must have at least one value. Received: size={size}")
    return {label: keras.Input(shape=(), dtype="int32", name=label) for label in sorted(vocab_sizes)}


def build_conditional_generator(
    vocab_sizes: Mapping[str, int],
    latent_dim: int = 100,
    embed_dim: int = 32,
    image_size: int = 64,
    channels: int = 3,
    base_filters: int = 64,
    dtype: str | None = None,
    name: str = "generator",
) -> keras.Model:
    """``{"z": [B, latent_dim], <label>: [B] int} -> image [B, S, S, C]``.

    Args:
        vocab_sizes: label name -> number of values (e.g. ``{"color": 11, "category": 3}``).
        latent_dim: size of the noise vector.
        embed_dim: size of each label embedding.
        image_size: output side, a power of two >= 8.
        channels: output channels.
        base_filters: feature maps of the last hidden block.
        dtype: layer dtype policy; the output stays float32.
        name: model name.
    """
    z = keras.Input(shape=(latent_dim,), name="z")
    labels = label_inputs(vocab_sizes)
    embeddings = [
        keras.layers.Embedding(vocab_sizes[label], embed_dim, name=f"{label}_embedding", dtype=dtype)(ids)
        for label, ids in labels.items()
    ]
    condition = (
        keras.layers.Concatenate(name="labels", dtype=dtype)(embeddings) if len(embeddings) > 1 else embeddings[0]
    )
    x = keras.layers.Concatenate(name="z_and_labels", dtype=dtype)([z, condition])
    image = generator_trunk(x, image_size, channels, base_filters, dtype, condition=condition)
    return keras.Model({"z": z, **labels}, image, name=name)


def build_projection_discriminator(
    vocab_sizes: Mapping[str, int],
    image_size: int = 64,
    channels: int = 3,
    base_filters: int = 64,
    spectral_norm: bool = True,
    batch_norm: bool = False,
    minibatch_std: bool = False,
    dtype: str | None = None,
    name: str = "discriminator",
) -> keras.Model:
    """``{"image": [B, S, S, C], <label>: [B] int} -> logit [B, 1]`` (float32).

    Args:
        vocab_sizes: label name -> number of values.
        image_size: input side, a power of two >= 8.
        channels: input channels.
        base_filters: feature maps of the first block.
        spectral_norm: spectral normalization on convs, the linear head and
            the projection embeddings' dense maps.
        batch_norm: BatchNorm in the trunk (off by default with spectral norm).
        minibatch_std: append the batch's feature spread as a channel before
            pooling (against mode collapse).
        dtype: layer dtype policy; the logit stays float32.
        name: model name.
    """
    image = keras.Input(shape=(image_size, image_size, channels), name="image")
    labels = label_inputs(vocab_sizes)
    features = discriminator_trunk(image, base_filters, batch_norm=batch_norm, spectral_norm=spectral_norm, dtype=dtype)
    if minibatch_std:
        features = MinibatchStdDev(name="minibatch_std", dtype="float32")(features)
    pooled = keras.layers.GlobalAveragePooling2D(name="pool", dtype="float32")(features)
    width = int(pooled.shape[-1])
    logit = maybe_spectral(keras.layers.Dense(1, name="linear", dtype="float32"), spectral_norm)(pooled)
    for label, ids in labels.items():
        one_hot = keras.layers.CategoryEncoding(vocab_sizes[label], output_mode="one_hot", name=f"{label}_one_hot", dtype="float32")(
            keras.layers.Reshape((1,), name=f"{label}_column", dtype="float32")(ids)
        )
        embedded = maybe_spectral(
            keras.layers.Dense(width, use_bias=False, name=f"{label}_projection", dtype="float32"), spectral_norm
        )(one_hot)
        inner = keras.layers.Dot(axes=1, name=f"{label}_inner", dtype="float32")([embedded, pooled])
        logit = keras.layers.Add(name=f"{label}_logit", dtype="float32")([logit, inner])
    return keras.Model({"image": image, **labels}, logit, name=name)
