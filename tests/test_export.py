"""The exported SavedModel: named signatures, stateless seeds, string labels, parity with the in-process model."""

import numpy as np
import pytest
import tensorflow as tf

from shoes_generator.export import export_generator
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
    assert set(model.signatures) == {"serving_default", "from_latent", "labels"}
    serving = model.signatures["serving_default"]
    assert set(serving.structured_input_signature[1]) == {"seed", "color", "category"}
    outputs = serving.structured_outputs
    assert outputs["images"].dtype == tf.uint8 and outputs["image_bytes"].dtype == tf.string
    labels = {k: [v.decode() for v in t.numpy()] for k, t in model.signatures["labels"]().items()}
    assert labels == VOCAB.to_dict()


def test_same_seed_and_labels_give_the_same_image_at_any_batch_size(conditional_export):
    _, model, _ = conditional_export
    serve = model.signatures["serving_default"]
    batch = serve(seed=tf.constant([5, 6, 7], tf.int64), color=tf.constant(["red", "blue", "red"]), category=tf.constant(["sandal"] * 3))
    alone = serve(seed=tf.constant([7], tf.int64), color=tf.constant(["red"]), category=tf.constant(["sandal"]))
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
        model.signatures["serving_default"](seed=tf.constant([1], tf.int64), color=tf.constant(["teal"]), category=tf.constant(["sandal"]))


def test_only_core_ops_and_no_float16_in_the_graph(conditional_export):
    _, _, path = conditional_export
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString((path / "saved_model.pb").read_bytes())
    graph = proto.meta_graphs[0].graph_def
    ops = {node.op for node in graph.node} | {node.op for f in graph.library.function for node in f.node_def}
    assert not ops & {"PyFunc", "EagerPyFunc", "PyFuncStateless"}
    for signature in proto.meta_graphs[0].signature_def.values():
        for tensor in list(signature.inputs.values()) + list(signature.outputs.values()):
            assert tensor.dtype != tf.float16.as_datatype_enum


def test_unconditional_export_has_only_seed_input_and_refuses_to_overwrite(tmp_path):
    generator = build_dcgan_generator(latent_dim=8, image_size=16, base_filters=4)
    path = export_generator(generator, 8, None, (), tmp_path / "plain")
    model = tf.saved_model.load(str(path))
    assert set(model.signatures) == {"serving_default", "from_latent"}
    assert model.signatures["serving_default"](seed=tf.constant([1, 2], tf.int64))["images"].shape == (2, 16, 16, 3)
    with pytest.raises(FileExistsError, match="already exists"):
        export_generator(generator, 8, None, (), path)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".plain")]
