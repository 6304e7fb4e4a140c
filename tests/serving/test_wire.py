"""serving.wire against the official TensorFlow / TF Serving classes: same bytes both ways, same arrays."""

from types import SimpleNamespace

import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import any_pb2, descriptor_pool, wrappers_pb2
from tensorflow.core.framework import tensor_pb2
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow_serving.apis import get_model_metadata_pb2, get_model_status_pb2, model_pb2, predict_pb2, status_pb2

from serving import wire

OFFICIAL = SimpleNamespace(
    tensor=tf.make_tensor_proto,
    Any=any_pb2.Any,
    Int64Value=wrappers_pb2.Int64Value,
    TensorInfo=meta_graph_pb2.TensorInfo,
    SignatureDef=meta_graph_pb2.SignatureDef,
    ModelSpec=model_pb2.ModelSpec,
    PredictRequest=predict_pb2.PredictRequest,
    PredictResponse=predict_pb2.PredictResponse,
    SignatureDefMap=get_model_metadata_pb2.SignatureDefMap,
    GetModelMetadataRequest=get_model_metadata_pb2.GetModelMetadataRequest,
    GetModelMetadataResponse=get_model_metadata_pb2.GetModelMetadataResponse,
    StatusProto=status_pb2.StatusProto,
    ModelVersionStatus=get_model_status_pb2.ModelVersionStatus,
    GetModelStatusRequest=get_model_status_pb2.GetModelStatusRequest,
    GetModelStatusResponse=get_model_status_pb2.GetModelStatusResponse,
)
WIRE = SimpleNamespace(**{name: getattr(wire, name) for name in vars(OFFICIAL) if name != "tensor"})
WIRE.tensor = wire.to_tensor_proto
IMAGE = np.arange(2 * 4 * 4 * 3, dtype=np.uint8).reshape(2, 4, 4, 3)


def predict_request(kit, version_label=None):
    spec = kit.ModelSpec(name="shoes", signature_name="serving_default")
    request = kit.PredictRequest(model_spec=spec, output_filter=["image_bytes", "images"])
    if version_label:
        request.model_spec.version_label = version_label
    else:
        request.model_spec.version.CopyFrom(kit.Int64Value(value=3))
    request.inputs["seed"].CopyFrom(kit.tensor(np.arange(4, dtype=np.int64)))
    request.inputs["color"].CopyFrom(kit.tensor(["red", "blue", "red", "green"]))
    request.inputs["z"].CopyFrom(kit.tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)))
    request.inputs["pixels"].CopyFrom(kit.tensor(IMAGE))
    request.inputs["one"].CopyFrom(kit.tensor(7, dtype=np.int64))
    return request


def predict_response(kit):
    response = kit.PredictResponse(model_spec=kit.ModelSpec(name="shoes", signature_name="serving_default"))
    response.model_spec.version.value = 3
    response.outputs["images"].CopyFrom(kit.tensor(IMAGE))
    response.outputs["image_bytes"].CopyFrom(kit.tensor([b"\x89PNG\r\n\x1a\n\x00", b"\x00\xff"]))
    return response


def metadata_request(kit):
    return kit.GetModelMetadataRequest(model_spec=kit.ModelSpec(name="shoes"), metadata_field=["signature_def"])


def metadata_response(kit):
    signatures = kit.SignatureDefMap()
    default = signatures.signature_def["serving_default"]
    default.method_name = "tensorflow/serving/predict"
    default.inputs["seed"].CopyFrom(kit.TensorInfo(name="serving_default_seed:0", dtype=9))
    default.inputs["seed"].tensor_shape.dim.add(size=-1)
    default.inputs["color"].dtype = 7
    default.inputs["color"].tensor_shape.unknown_rank = True
    images = default.outputs["images"]
    images.name, images.dtype = "StatefulPartitionedCall:1", 4
    for size in (-1, 64, 64, 3):
        images.tensor_shape.dim.add(size=size)
    signatures.signature_def["labels"].outputs["color"].dtype = 7
    response = kit.GetModelMetadataResponse(model_spec=kit.ModelSpec(name="shoes"))
    response.model_spec.version.value = 1
    response.metadata["signature_def"].Pack(signatures, deterministic=True)
    return response


def status_request(kit):
    request = kit.GetModelStatusRequest(model_spec=kit.ModelSpec(name="shoes"))
    request.model_spec.version.value = 2
    return request


def status_response(kit):
    return kit.GetModelStatusResponse(
        model_version_status=[
            kit.ModelVersionStatus(version=2, state=30, status=kit.StatusProto()),
            kit.ModelVersionStatus(
                version=1, state=50, status=kit.StatusProto(error_code=5, error_message="version 1 was unloaded")
            ),
        ]
    )


BUILDERS = [
    predict_request,
    lambda kit: predict_request(kit, version_label="stable"),
    predict_response,
    metadata_request,
    metadata_response,
    status_request,
    status_response,
]


@pytest.mark.parametrize("build", BUILDERS, ids=lambda build: getattr(build, "__name__", "label"))
def test_messages_serialize_to_the_official_bytes_and_parse_both_ways(build):
    ours, theirs = build(WIRE), build(OFFICIAL)
    assert ours.DESCRIPTOR.full_name == theirs.DESCRIPTOR.full_name
    our_bytes, their_bytes = ours.SerializeToString(deterministic=True), theirs.SerializeToString(deterministic=True)
    assert our_bytes == their_bytes
    assert type(theirs).FromString(our_bytes) == theirs
    assert type(ours).FromString(their_bytes) == ours


def test_metadata_any_unpacks_into_the_wire_signature_map():
    response = wire.GetModelMetadataResponse.FromString(metadata_response(OFFICIAL).SerializeToString())
    signatures = wire.SignatureDefMap()
    assert response.metadata["signature_def"].Unpack(signatures)
    images = signatures.signature_def["serving_default"].outputs["images"]
    assert wire.DataType.Name(images.dtype) == "DT_UINT8"
    assert [dim.size for dim in images.tensor_shape.dim] == [-1, 64, 64, 3]


def test_enums_carry_upstream_names_and_numbers():
    assert wire.DataType.Value("DT_HALF") == 19 and wire.DataType.Value("DT_BFLOAT16") == 14
    assert wire.DataType.Value("DT_UINT64") == 23
    official_codes = status_pb2.StatusProto.DESCRIPTOR.fields_by_name["error_code"].enum_type
    assert official_codes.full_name == wire.StatusProto.DESCRIPTOR.fields_by_name["error_code"].enum_type.full_name
    assert {v.name: v.number for v in official_codes.values} == dict(wire.ErrorCode.items())
    state = get_model_status_pb2.ModelVersionStatus.State
    assert dict(state.items()) == dict(wire.ModelVersionStatus.State.items())


def test_the_pool_is_private():
    assert wire.TensorProto.DESCRIPTOR.file.pool is not descriptor_pool.Default()
    assert tensor_pb2.TensorProto.DESCRIPTOR.file.pool is descriptor_pool.Default()


VALUES = [
    ([1, 2, 3], None),
    ([1.5, 2.5], None),
    ([2**40, 1], None),
    ([1, 2], np.int64),
    (7, None),
    (np.float32(0.5), None),
    (np.linspace(0, 1, 6, dtype=np.float32).reshape(2, 3), None),
    (np.linspace(0, 1, 4, dtype=np.float64), None),
    (np.array([0.5], np.float32), None),
    (IMAGE, None),
    (np.array([[9]], np.uint8), None),
    (np.array([1, -2, 3], np.int16), None),
    (np.array([1, 2], np.uint16), None),
    (np.array([1, 2], np.uint32), None),
    (np.array([2**63 + 1, 2], np.uint64), None),
    (np.array([0.5, -1.25], np.float16), None),
    (np.float16(3.5), None),
    (np.array([True, False, True]), None),
    (np.array([1 + 2j, 3 - 4j], np.complex64), None),
    (np.array([1 + 2j], np.complex128), None),
    (["red", "ankle_boot"], None),
    ([[b"a", b"\x00\xff"], [b"", b"zz"]], None),
    ("sneaker", None),
    (np.array(["é", "b"]), None),
    (np.array([b"x", b"y"], dtype=object), None),
    (np.zeros((0, 3), np.float32), None),
]


@pytest.mark.parametrize("values, dtype", VALUES, ids=[f"{i}" for i in range(len(VALUES))])
def test_to_tensor_proto_writes_what_make_tensor_proto_writes(values, dtype):
    ours = wire.to_tensor_proto(values, dtype)
    theirs = tf.make_tensor_proto(values, dtype)
    assert ours.SerializeToString(deterministic=True) == theirs.SerializeToString(deterministic=True)
    decoded = tf.make_ndarray(tensor_pb2.TensorProto.FromString(ours.SerializeToString()))
    np.testing.assert_array_equal(decoded, tf.make_ndarray(theirs))


@pytest.mark.parametrize("values, dtype", VALUES, ids=[f"{i}" for i in range(len(VALUES))])
def test_to_ndarray_reads_make_tensor_proto_output(values, dtype):
    theirs = tf.make_tensor_proto(values, dtype)
    expected = tf.make_ndarray(theirs)
    ours = wire.to_ndarray(wire.TensorProto.FromString(theirs.SerializeToString()))
    assert ours.dtype == expected.dtype and ours.shape == expected.shape
    np.testing.assert_array_equal(ours, expected)


@pytest.mark.parametrize(
    "fields",
    [
        {"dtype": 1, "float_val": [2.5]},
        {"dtype": 4, "int_val": [1, 2]},
        {"dtype": 9, "int64_val": []},
        {"dtype": 7, "string_val": [b"only"]},
        {"dtype": 19, "half_val": [15360]},
    ],
)
def test_to_ndarray_repeats_the_last_value_as_tensorflow_does(fields):
    theirs = tensor_pb2.TensorProto(**fields)
    theirs.tensor_shape.dim.add(size=2)
    theirs.tensor_shape.dim.add(size=2)
    ours = wire.to_ndarray(wire.TensorProto.FromString(theirs.SerializeToString()))
    expected = tf.make_ndarray(theirs)
    assert ours.dtype == expected.dtype
    np.testing.assert_array_equal(ours, expected)


def test_conversion_errors_name_what_was_received():
    with pytest.raises(TypeError, match="datetime64"):
        wire.to_tensor_proto(np.array(["2024-01-01"], dtype="datetime64[D]"))
    with pytest.raises(TypeError, match="Received: 3"):
        wire.to_tensor_proto(np.array(["a", 3], dtype=object))
    with pytest.raises(ValueError, match="DT_BFLOAT16"):
        wire.to_ndarray(wire.TensorProto(dtype=wire.DataType.DT_BFLOAT16))


def test_method_paths():
    assert wire.PREDICT == "/tensorflow.serving.PredictionService/Predict"
    assert wire.GET_MODEL_STATUS == "/tensorflow.serving.ModelService/GetModelStatus"
    paths = (wire.GET_MODEL_METADATA, wire.CLASSIFY, wire.REGRESS, wire.MULTI_INFERENCE)
    services = {path.split("/")[1] for path in paths}
    assert services == {"tensorflow.serving.PredictionService"}
    assert wire.HANDLE_RELOAD_CONFIG_REQUEST.startswith("/tensorflow.serving.ModelService/")
