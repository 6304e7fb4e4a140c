"""The export layer: serving inputs fitted as the models expect, and every route kind round-trips.

Each kind (translator routes with a mask and a scalar, segmenter, generator, a custom `Signature`)
is exported from a tiny network; the loaded SavedModel answers every signature, replayed from its
own warm-up records, with exactly the input and output names, dtypes and shapes pinned here.
"""

import numpy as np
import pytest
import tensorflow as tf

from shoes_generator.export import (
    ImageInput,
    Route,
    Signature,
    TensorInput,
    export_generator,
    export_routes,
    export_signatures,
    fit_encoded,
    fit_pixels,
    named_outputs,
)
from shoes_generator.labels import Vocabularies
from shoes_generator.segmentation.export import export_segmenter
from shoes_generator.warmup import read_warmup_requests

SIZE = 8
VOCAB = Vocabularies({"color": ["black", "blue", "red"], "category": ["sandal", "sneaker"]})
B = -1  # An unknown (batch) dimension in a SignatureDef.


def test_images_are_fitted_with_white_padding_and_masks_with_background():
    wide = np.zeros((4, 8, 3), np.uint8)  # Black, 4 high and 8 wide: fitted to 4 x 4 it is 2 high, padded 1 above and below.
    image = fit_encoded(tf.io.encode_png(wide), 4).numpy()
    assert image.shape == (4, 4, 3)
    np.testing.assert_array_equal(image[[0, 3]], 1.0)
    np.testing.assert_array_equal(image[1:3], -1.0)
    np.testing.assert_array_equal(fit_pixels(tf.constant(wide), 4).numpy(), image)
    jpeg = fit_encoded(tf.io.encode_jpeg(wide), 4).numpy()
    np.testing.assert_array_equal(jpeg[[0, 3]], 1.0)
    mask = fit_encoded(tf.io.encode_png(np.full((4, 8, 1), 255, np.uint8)), 4, channels=1).numpy()
    assert mask.shape == (4, 4, 1)
    np.testing.assert_array_equal(mask[[0, 3]], -1.0)  # Background.
    np.testing.assert_array_equal(mask[1:3], 1.0)
    rgb_as_mask = fit_encoded(tf.io.encode_png(np.full((8, 8, 3), 255, np.uint8)), 4, channels=1).numpy()
    np.testing.assert_array_equal(rgb_as_mask, 1.0)  # Any format: an RGB mask is read as grey.


def test_image_inputs_name_their_wire_inputs_by_encoding():
    assert ImageInput("mask", SIZE, 1, "bytes").spec == tf.TensorSpec([None], tf.string, name="mask_bytes")
    assert ImageInput("mask", SIZE, 1, "pixels").spec == tf.TensorSpec([None, None, None, 1], tf.uint8, name="mask")
    with pytest.raises(ValueError, match="encoding"):
        ImageInput("image", SIZE, 3, "base64")


def translator_export(path):
    import keras

    inputs = keras.Input((SIZE, SIZE, 4))
    network = keras.Model(inputs, keras.layers.Conv2D(3, 1, activation="tanh")(inputs))

    def product(x):
        return network(tf.concat([x["image"], x["mask"]], -1), training=False)

    def blend(x):
        return network(tf.concat([x["image"] * x["alpha"][:, None, None, None], x["mask"]], -1), training=False)

    images = (("image", 3), ("mask", 1))
    routes = {"serving_default": Route(product, images), "blend": Route(blend, images, scalars=("alpha",))}
    return export_routes(routes, SIZE, path, [network])


def segmenter_export(path):
    import keras

    inputs = keras.Input((SIZE, SIZE, 3))
    network = keras.Model(inputs, keras.layers.Conv2D(3, 1)(inputs))
    return export_segmenter(network, SIZE, path, ["background", "sole", "upper"])


def generator_export(path):
    from shoes_generator.models.conditional import build_conditional_generator

    generator = build_conditional_generator(VOCAB.sizes, latent_dim=8, embed_dim=4, image_size=16, base_filters=4)
    return export_generator(generator, 8, VOCAB, ("color", "category"), path)


def custom_export(path):
    """A family of its own: any inputs, any function, named outputs."""
    pairs = TensorInput("pair", tf.float32, (2,), example_fn=lambda batch: np.ones((batch, 2), np.float32))
    signature = Signature("serving_default", (pairs,), lambda x: {"total": tf.reduce_sum(x["pair"], -1)}, named_outputs, (1, 3))
    return export_signatures([signature], path)


IMAGES = {"images": (tf.uint8, [B, SIZE, SIZE, 3]), "image_bytes": (tf.string, [B])}
SHOES = {"images": (tf.uint8, [B, 16, 16, 3]), "image_bytes": (tf.string, [B])}
LABELS = {"color": (tf.string, [B]), "category": (tf.string, [B])}
# kind -> (export, signature -> (inputs, outputs as answered)): name -> (dtype, shape).
KINDS = {
    "translator": (translator_export, {
        "serving_default": ({"image_bytes": (tf.string, [B]), "mask_bytes": (tf.string, [B])}, IMAGES),
        "from_pixels": ({"image": (tf.uint8, [B, B, B, 3]), "mask": (tf.uint8, [B, B, B, 1])}, IMAGES),
        "blend": ({"image_bytes": (tf.string, [B]), "mask_bytes": (tf.string, [B]), "alpha": (tf.float32, [B])}, IMAGES),
        "blend_pixels": ({"image": (tf.uint8, [B, B, B, 3]), "mask": (tf.uint8, [B, B, B, 1]), "alpha": (tf.float32, [B])}, IMAGES),
    }),
    "segmenter": (segmenter_export, {
        "segment": ({"image_bytes": (tf.string, [B])}, {"classes": (tf.uint8, [B, SIZE, SIZE]), "mask_bytes": (tf.string, [B])}),
        "serving_default": ({"image_bytes": (tf.string, [B])}, {"classes": (tf.uint8, [B, SIZE, SIZE]), "mask_bytes": (tf.string, [B])}),
        "class_names": ({"class_id": (tf.int64, [B])}, {"name": (tf.string, [B]), "num_classes": (tf.int64, [B])}),
    }),
    "generator": (generator_export, {
        "serving_default": ({"seed": (tf.int64, [B]), **LABELS}, SHOES),
        "truncated": ({"seed": (tf.int64, [B]), **LABELS, "truncation": (tf.float32, [B])}, SHOES),
        "from_latent": ({"z": (tf.float32, [B, 8]), **LABELS}, SHOES),
        "labels": ({"name": (tf.string, [B])}, {"values": (tf.string, [B, B]), "counts": (tf.int64, [B])}),
    }),
    "custom": (custom_export, {"serving_default": ({"pair": (tf.float32, [B, 2])}, {"total": (tf.float32, [B])})}),
}


def signature_defs(path):
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString((path / "saved_model.pb").read_bytes())
    return {name: sig for name, sig in proto.meta_graphs[0].signature_def.items() if not name.startswith("__")}


def tensor_info(infos):
    return {name: (tf.as_dtype(info.dtype), [d.size for d in info.tensor_shape.dim]) for name, info in infos.items()}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_route_kind_round_trips_with_its_names_dtypes_and_shapes(kind, tmp_path):
    build, expected = KINDS[kind]
    path = build(tmp_path / kind)
    defs = signature_defs(path)
    assert set(defs) == set(expected)
    for name, (inputs, _) in expected.items():
        assert tensor_info(defs[name].inputs) == inputs, name
    loaded = tf.saved_model.load(str(path))
    requests = read_warmup_requests(path)
    assert {request.model_spec.signature_name for request in requests} == set(expected)
    for request in requests:
        name = request.model_spec.signature_name
        arguments = {key: tf.constant(tf.make_ndarray(proto)) for key, proto in request.inputs.items()}
        answer = loaded.signatures[name](**arguments)
        _, outputs = expected[name]
        assert set(tensor_info(defs[name].outputs)) == set(outputs), name
        assert {key: value.dtype for key, value in answer.items()} == {key: dtype for key, (dtype, _) in outputs.items()}, name
        rows = len(next(iter(arguments.values())))
        for key, (_, shape) in outputs.items():
            assert answer[key].shape.rank == len(shape), (name, key)
            assert [size for size, want in zip(answer[key].shape, shape) if want != B] == [want for want in shape if want != B], (name, key)
            assert answer[key].shape[0] == rows, (name, key)


def test_signature_names_must_be_unique(tmp_path):
    plain = TensorInput("x", tf.float32, example_fn=lambda batch: np.zeros(batch, np.float32))
    twice = [Signature("same", (plain,), lambda x: {"y": x["x"]}, named_outputs)] * 2
    with pytest.raises(ValueError, match="unique"):
        export_signatures(twice, tmp_path / "model")
    assert not (tmp_path / "model").exists()
