"""The exported SavedModel: named signatures, stateless seeds, string labels, parity with the in-process model."""

import numpy as np
import pytest
import tensorflow as tf

from shoes_generator.export import Route, export_generator, export_routes, label_vocabularies, noise_from_seeds, sample
from shoes_generator.warmup import read_warmup_requests
from shoes_generator.labels import Vocabularies
from shoes_generator.models.conditional import build_conditional_generator
from shoes_generator.models.dcgan import build_dcgan_generator

VOCAB = Vocabularies({"color": ["black", "blue", "red"], "category": ["sandal", "sneaker"]})


@pytest.fixture(scope="module")
def conditional_export(tmp_path_factory):
    generator = build_conditional_generator(VOCAB.sizes, latent_dim=8, embed_dim=4, image_size=16, base_filters=4)
    path = export_generator(generator, 8, VOCAB, ("color", "category"), tmp_path_factory.mktemp("export") / "model")
    return generator, tf.saved_model.load(str(path)), path


def test_signatures_have_named_inputs_and_outputs(conditional_export):
    _, model, _ = conditional_export
    assert set(model.signatures) == {"serving_default", "truncated", "from_latent", "labels"}
    serving = model.signatures["serving_default"]
    assert set(serving.structured_input_signature[1]) == {"seed", "color", "category"}
    assert set(model.signatures["truncated"].structured_input_signature[1]) == {"seed", "color", "category", "truncation"}
    outputs = serving.structured_outputs
    assert outputs["images"].dtype == tf.uint8 and outputs["image_bytes"].dtype == tf.string
    assert label_vocabularies(model) == VOCAB.to_dict()
    rows = model.signatures["labels"](name=tf.constant(["category"]))
    assert rows["values"].numpy().tolist() == [[b"sandal", b"sneaker", b""]] and rows["counts"].numpy().tolist() == [2]
    with pytest.raises(tf.errors.InvalidArgumentError, match="Valid label names: color, category"):
        model.signatures["labels"](name=tf.constant(["size"]))


def test_truncated_signature_matches_the_default_one_when_the_threshold_is_loose(conditional_export):
    _, model, _ = conditional_export
    off = sample(model, [3, 4], {"color": ["red", "red"], "category": ["sandal", "sandal"]})
    loose = sample(model, [3, 4], {"color": ["red", "red"], "category": ["sandal", "sandal"]}, truncation=50.0)
    tight = sample(model, [3, 4], {"color": ["red", "red"], "category": ["sandal", "sandal"]}, truncation=0.5)
    np.testing.assert_array_equal(off["images"], loose["images"])
    assert not np.array_equal(off["images"], tight["images"])
    with pytest.raises(tf.errors.InvalidArgumentError, match="truncation must be >= 0"):
        sample(model, [1], {"color": ["red"], "category": ["sandal"]}, truncation=-1.0)


def test_truncated_noise_stays_inside_the_threshold_and_keeps_the_first_draw_where_it_can():
    seeds = tf.constant([1, 2, 3], tf.int64)
    plain = noise_from_seeds(seeds, 64).numpy()
    truncated = noise_from_seeds(seeds, 64, tf.constant([0.7, 0.7, 0.0])).numpy()
    assert np.abs(truncated[:2]).max() <= 0.7 + 1e-6
    inside = np.abs(plain[:2]) <= 0.7
    np.testing.assert_array_equal(truncated[:2][inside], plain[:2][inside])
    np.testing.assert_array_equal(truncated[2], plain[2])


def test_same_seed_and_labels_give_the_same_image_at_any_batch_size(conditional_export):
    _, model, _ = conditional_export
    batch = sample(model, [5, 6, 7], {"color": ["red", "blue", "red"], "category": ["sandal"] * 3})
    alone = sample(model, [7], {"color": ["red"], "category": ["sandal"]})
    np.testing.assert_array_equal(batch["images"][2], alone["images"][0])
    assert not np.array_equal(batch["images"][0], batch["images"][1])
    png = tf.io.decode_png(alone["image_bytes"][0]).numpy()
    np.testing.assert_array_equal(png, alone["images"][0])


@pytest.mark.parametrize("batch", [1, 4])
def test_from_latent_matches_the_in_process_generator(conditional_export, batch):
    generator, model, _ = conditional_export
    z = np.random.default_rng(batch).normal(size=(batch, 8)).astype("float32")
    colors, categories = ["red", "black", "blue", "red"][:batch], ["sneaker", "sandal", "sandal", "sneaker"][:batch]
    served = model.signatures["from_latent"](z=tf.constant(z), color=tf.constant(colors), category=tf.constant(categories))
    local = generator({"z": z, "color": VOCAB.ids("color", colors), "category": VOCAB.ids("category", categories)}, training=False)
    expected = np.clip(np.round((np.asarray(local) + 1) * 127.5), 0, 255).astype(np.uint8)
    assert np.abs(served["images"].numpy().astype(int) - expected.astype(int)).max() <= 1


def test_unknown_label_is_invalid_argument_listing_the_valid_ones(conditional_export):
    _, model, _ = conditional_export
    with pytest.raises(tf.errors.InvalidArgumentError, match="Valid color labels: black, blue, red"):
        sample(model, [1], {"color": ["teal"], "category": ["sandal"]})


def _saved_model_proto(path):
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString((path / "saved_model.pb").read_bytes())
    return proto


def assert_servable_by_stock_tf_serving(path):
    """Every op is a registered core TF op (no PyFunc) and no signature tensor is float16."""
    from tensorflow.python.framework import op_def_registry

    meta_graph = _saved_model_proto(path).meta_graphs[0]
    graph = meta_graph.graph_def
    ops = {node.op for node in graph.node} | {node.op for f in graph.library.function for node in f.node_def}
    functions = {f.signature.name for f in graph.library.function}
    unknown = sorted(op for op in ops - functions if op_def_registry.get(op) is None)
    assert not unknown, f"ops the stock model server lacks: {unknown}"
    assert not ops & {"PyFunc", "EagerPyFunc", "PyFuncStateless"}
    for signature in meta_graph.signature_def.values():
        for tensor in list(signature.inputs.values()) + list(signature.outputs.values()):
            assert tensor.dtype not in (tf.float16.as_datatype_enum, tf.bfloat16.as_datatype_enum)


def test_only_core_ops_and_no_float16_in_the_graph(conditional_export):
    assert_servable_by_stock_tf_serving(conditional_export[2])


def test_mixed_precision_generator_exports_float32_free_of_half_types(tmp_path):
    import keras

    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        generator = build_conditional_generator(VOCAB.sizes, latent_dim=8, embed_dim=4, image_size=16, base_filters=4)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    path = export_generator(generator, 8, VOCAB, ("color", "category"), tmp_path / "half")
    assert_servable_by_stock_tf_serving(path)


def test_warmup_requests_replay_through_every_signature(conditional_export):
    _, model, path = conditional_export
    requests = read_warmup_requests(path)
    assert {r.model_spec.signature_name for r in requests} == {"serving_default", "truncated", "from_latent", "labels"}
    seed_batches = sorted(len(tf.make_ndarray(r.inputs["seed"])) for r in requests if r.model_spec.signature_name == "serving_default")
    assert seed_batches == [1, 4]
    for request in requests:
        inputs = {name: tf.constant(tf.make_ndarray(proto)) for name, proto in request.inputs.items()}
        first = next(iter(inputs.values()))
        answer = model.signatures[request.model_spec.signature_name](**inputs)
        assert all(value.shape[0] == first.shape[0] for value in answer.values())


def test_translator_takes_encoded_images_of_any_size_and_uint8_arrays(tmp_path):
    import keras

    inputs = keras.Input((16, 16, 3), name="image")
    translator = keras.Model(inputs, keras.layers.Conv2D(3, 3, padding="same", activation="tanh", name="out")(inputs))
    path = export_routes({"serving_default": Route(lambda x: translator(x["image"], training=False))}, 16, tmp_path / "translator", [translator])
    assert_servable_by_stock_tf_serving(path)
    model = tf.saved_model.load(str(path))
    assert set(model.signatures) == {"serving_default", "from_pixels"}
    pixels = np.random.default_rng(0).integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)
    encoded = [tf.io.encode_png(p).numpy() for p in pixels] + [tf.io.encode_jpeg(np.full((30, 20, 3), 9, np.uint8)).numpy()]
    from_bytes = model.signatures["serving_default"](image_bytes=tf.constant(encoded))
    from_pixels = model.signatures["from_pixels"](image=tf.constant(pixels))
    assert from_bytes["images"].shape == (3, 16, 16, 3)
    np.testing.assert_array_equal(from_bytes["images"][:2], from_pixels["images"])
    local = translator(np.asarray(pixels, np.float32) / 127.5 - 1.0, training=False)
    expected = np.clip(np.round((np.asarray(local) + 1) * 127.5), 0, 255)
    assert np.abs(from_pixels["images"].numpy().astype(int) - expected).max() <= 1
    with pytest.raises(tf.errors.InvalidArgumentError):
        model.signatures["serving_default"](image_bytes=tf.constant([b"not an image"]))


def test_unconditional_export_has_only_seed_input_and_refuses_to_overwrite(tmp_path):
    generator = build_dcgan_generator(latent_dim=8, image_size=16, base_filters=4)
    path = export_generator(generator, 8, None, (), tmp_path / "plain")
    model = tf.saved_model.load(str(path))
    assert set(model.signatures) == {"serving_default", "truncated", "from_latent"}
    assert sample(model, [1, 2])["images"].shape == (2, 16, 16, 3)
    with pytest.raises(FileExistsError, match="already exists"):
        export_generator(generator, 8, None, (), path)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".plain")]
