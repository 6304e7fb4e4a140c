"""TF Serving's wire messages without TensorFlow: descriptors built in code, classes from a private pool.

The messages keep upstream's full names (``tensorflow.TensorProto``,
``tensorflow.serving.PredictRequest``...) and field names, numbers and types, so
their bytes are those of the official ``tensorflow_serving.apis`` classes.
Fields the client never needs (sparse/composite ``TensorInfo``, resource and
variant tensors, streamed predict options) are left out: when a peer sends
them they survive a parse/serialize round trip as unknown fields. The private
``DescriptorPool`` keeps these definitions apart from TensorFlow's own when both
are imported in one process.
"""

from __future__ import annotations

import numpy as np
from google.protobuf import any_pb2, message_factory, wrappers_pb2
from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

from serving.descriptors import build_pool, enum as _enum, field as _field, message as _message, proto3_file

PREDICT = "/tensorflow.serving.PredictionService/Predict"
GET_MODEL_METADATA = "/tensorflow.serving.PredictionService/GetModelMetadata"
CLASSIFY = "/tensorflow.serving.PredictionService/Classify"
REGRESS = "/tensorflow.serving.PredictionService/Regress"
MULTI_INFERENCE = "/tensorflow.serving.PredictionService/MultiInference"
GET_MODEL_STATUS = "/tensorflow.serving.ModelService/GetModelStatus"
HANDLE_RELOAD_CONFIG_REQUEST = "/tensorflow.serving.ModelService/HandleReloadConfigRequest"

# tensorflow/core/framework/types.proto, values 0..33 in order (the *_REF types never travel).
_DATA_TYPES = """DT_INVALID DT_FLOAT DT_DOUBLE DT_INT32 DT_UINT8 DT_INT16 DT_INT8 DT_STRING DT_COMPLEX64 DT_INT64
DT_BOOL DT_QINT8 DT_QUINT8 DT_QINT32 DT_BFLOAT16 DT_QINT16 DT_QUINT16 DT_UINT16 DT_COMPLEX128 DT_HALF DT_RESOURCE
DT_VARIANT DT_UINT32 DT_UINT64 DT_FLOAT8_E5M2 DT_FLOAT8_E4M3FN DT_FLOAT8_E4M3FNUZ DT_FLOAT8_E4M3B11FNUZ
DT_FLOAT8_E5M2FNUZ DT_INT4 DT_UINT4 DT_INT2 DT_UINT2 DT_FLOAT4_E2M1FN""".split()
# tensorflow.error.Code (xla/tsl/protobuf/error_codes.proto): the enum upstream StatusProto.error_code uses.
_ERROR_CODES = """OK CANCELLED UNKNOWN INVALID_ARGUMENT DEADLINE_EXCEEDED NOT_FOUND ALREADY_EXISTS PERMISSION_DENIED
RESOURCE_EXHAUSTED FAILED_PRECONDITION ABORTED OUT_OF_RANGE UNIMPLEMENTED INTERNAL UNAVAILABLE DATA_LOSS
UNAUTHENTICATED""".split()  # numbered 0..16 in this order
_VERSION_STATES = {"UNKNOWN": 0, "START": 10, "LOADING": 20, "AVAILABLE": 30, "UNLOADING": 40, "END": 50}
_TENSOR_VALUES = (  # TensorProto's repeated value fields: (name, number, type); proto3 packs the numeric ones.
    ("half_val", 13, "int32"),
    ("float_val", 5, "float"),
    ("double_val", 6, "double"),
    ("int_val", 7, "int32"),
    ("string_val", 8, "bytes"),
    ("scomplex_val", 9, "float"),
    ("int64_val", 10, "int64"),
    ("bool_val", 11, "bool"),
    ("dcomplex_val", 12, "double"),
    ("uint32_val", 16, "uint32"),
    ("uint64_val", 17, "uint64"),
)


def _file(name: str, package: str, *dependencies: str):
    return proto3_file(f"shoes_wire/{name}.proto", package, *dependencies)


def _tensorflow_file():
    file = _file("tensorflow", "tensorflow")
    _enum(file, "DataType", {name: number for number, name in enumerate(_DATA_TYPES)})
    dims = ("dim", 2, "repeated .tensorflow.TensorShapeProto.Dim")
    shape = _message(file, "TensorShapeProto", dims, ("unknown_rank", 3, "bool"))
    dim = shape.nested_type.add(name="Dim")
    _field(dim, "size", 1, "int64")
    _field(dim, "name", 2, "string")
    _message(
        file,
        "TensorProto",
        ("dtype", 1, "enum .tensorflow.DataType"),
        ("tensor_shape", 2, ".tensorflow.TensorShapeProto"),
        ("version_number", 3, "int32"),
        ("tensor_content", 4, "bytes"),
        *((name, number, f"repeated {kind}") for name, number, kind in _TENSOR_VALUES),
        ("float8_val", 18, "bytes"),
    )
    _message(
        file,
        "TensorInfo",
        ("name", 1, "string", 0),
        ("dtype", 2, "enum .tensorflow.DataType"),
        ("tensor_shape", 3, ".tensorflow.TensorShapeProto"),
        oneof="encoding",
    )
    maps = [("inputs", 1, ".tensorflow.TensorInfo"), ("outputs", 2, ".tensorflow.TensorInfo")]
    maps.append(("defaults", 4, ".tensorflow.TensorProto"))
    _message(file, "SignatureDef", ("method_name", 3, "string"), maps=maps)
    return file


def _error_codes_file():
    file = _file("error_codes", "tensorflow.error")
    codes = {name: number for number, name in enumerate(_ERROR_CODES)}
    _enum(file, "Code", {**codes, "DO_NOT_USE_RESERVED_FOR_FUTURE_EXPANSION_USE_DEFAULT_IN_SWITCH_INSTEAD_": 20})
    return file


def _serving_file():
    file = _file(
        "serving",
        "tensorflow.serving",
        "google/protobuf/any.proto",
        "google/protobuf/wrappers.proto",
        "shoes_wire/tensorflow.proto",
        "shoes_wire/error_codes.proto",
    )
    _message(
        file,
        "ModelSpec",
        ("name", 1, "string"),
        ("version", 2, ".google.protobuf.Int64Value", 0),
        ("version_label", 4, "string", 0),
        ("signature_name", 3, "string"),
        oneof="version_choice",
    )
    spec = ("model_spec", 1, ".tensorflow.serving.ModelSpec")
    tensors = ".tensorflow.TensorProto"
    _message(file, "PredictRequest", spec, ("output_filter", 3, "repeated string"), maps=[("inputs", 2, tensors)])
    _message(file, "PredictResponse", ("model_spec", 2, spec[2]), maps=[("outputs", 1, tensors)])
    _message(file, "SignatureDefMap", maps=[("signature_def", 1, ".tensorflow.SignatureDef")])
    _message(file, "GetModelMetadataRequest", spec, ("metadata_field", 2, "repeated string"))
    _message(file, "GetModelMetadataResponse", spec, maps=[("metadata", 2, ".google.protobuf.Any")])
    _message(file, "StatusProto", ("error_code", 1, "enum .tensorflow.error.Code"), ("error_message", 2, "string"))
    _message(file, "GetModelStatusRequest", spec)
    version_status = _message(
        file,
        "ModelVersionStatus",
        ("version", 1, "int64"),
        ("state", 2, "enum .tensorflow.serving.ModelVersionStatus.State"),
        ("status", 3, ".tensorflow.serving.StatusProto"),
    )
    _enum(version_status, "State", _VERSION_STATES)
    statuses = ("model_version_status", 1, "repeated .tensorflow.serving.ModelVersionStatus")
    _message(file, "GetModelStatusResponse", statuses)
    return file


POOL = build_pool((any_pb2, wrappers_pb2), (_tensorflow_file(), _error_codes_file(), _serving_file()))


def _class(full_name: str):
    return message_factory.GetMessageClass(POOL.FindMessageTypeByName(full_name))


DataType = EnumTypeWrapper(POOL.FindEnumTypeByName("tensorflow.DataType"))
ErrorCode = EnumTypeWrapper(POOL.FindEnumTypeByName("tensorflow.error.Code"))
Any = _class("google.protobuf.Any")
Int64Value = _class("google.protobuf.Int64Value")
TensorShapeProto = _class("tensorflow.TensorShapeProto")
TensorProto = _class("tensorflow.TensorProto")
TensorInfo = _class("tensorflow.TensorInfo")
SignatureDef = _class("tensorflow.SignatureDef")
ModelSpec = _class("tensorflow.serving.ModelSpec")
PredictRequest = _class("tensorflow.serving.PredictRequest")
PredictResponse = _class("tensorflow.serving.PredictResponse")
SignatureDefMap = _class("tensorflow.serving.SignatureDefMap")
GetModelMetadataRequest = _class("tensorflow.serving.GetModelMetadataRequest")
GetModelMetadataResponse = _class("tensorflow.serving.GetModelMetadataResponse")
StatusProto = _class("tensorflow.serving.StatusProto")
ModelVersionStatus = _class("tensorflow.serving.ModelVersionStatus")
GetModelStatusRequest = _class("tensorflow.serving.GetModelStatusRequest")
GetModelStatusResponse = _class("tensorflow.serving.GetModelStatusResponse")

# DataType -> (numpy dtype, typed value field); float16 travels as its bits in half_val.
_NUMPY = {
    DataType.DT_FLOAT: (np.float32, "float_val"),
    DataType.DT_DOUBLE: (np.float64, "double_val"),
    DataType.DT_INT32: (np.int32, "int_val"),
    DataType.DT_UINT8: (np.uint8, "int_val"),
    DataType.DT_INT16: (np.int16, "int_val"),
    DataType.DT_INT8: (np.int8, "int_val"),
    DataType.DT_UINT16: (np.uint16, "int_val"),
    DataType.DT_STRING: (np.object_, "string_val"),
    DataType.DT_COMPLEX64: (np.complex64, "scomplex_val"),
    DataType.DT_COMPLEX128: (np.complex128, "dcomplex_val"),
    DataType.DT_INT64: (np.int64, "int64_val"),
    DataType.DT_BOOL: (np.bool_, "bool_val"),
    DataType.DT_HALF: (np.float16, "half_val"),
    DataType.DT_UINT32: (np.uint32, "uint32_val"),
    DataType.DT_UINT64: (np.uint64, "uint64_val"),
}
_DATA_TYPE_OF = {np.dtype(numpy_type): data_type for data_type, (numpy_type, _) in _NUMPY.items()}
# tf.make_tensor_proto writes these as raw little-endian tensor_content when there is more than one element.
_CONTENT_TYPES = {np.dtype(t) for t in "float16 float32 float64 int8 int16 int32 int64 uint8 uint32 uint64".split()}


def numpy_dtype(data_type: int) -> np.dtype:
    """The numpy dtype of a ``tensorflow.DataType`` value (``object`` for DT_STRING).

    Args:
        data_type: a DataType number, e.g. ``DataType.DT_UINT8``.
    """
    if data_type not in _NUMPY:
        supported = ", ".join(DataType.Name(t) for t in _NUMPY)
        raise ValueError(f"No numpy dtype for tensor type {_type_name(data_type)}; supported: {supported}")
    return np.dtype(_NUMPY[data_type][0])


def _type_name(data_type: int) -> str:
    return DataType.Name(data_type) if data_type in DataType.values() else str(data_type)


def _as_array(values, dtype) -> np.ndarray:
    """`values` as an array, typed as `tf.make_tensor_proto` types it (lists: float64 -> float32, int64 -> int32)."""
    if dtype is not None:
        dtype = np.dtype(dtype)
        return np.asarray(values, dtype=object if dtype.kind in "SUO" else dtype)
    array = np.asarray(values)
    if isinstance(values, (np.ndarray, np.generic)):
        return array
    if array.dtype.kind in "SU":  # keep the original objects: numpy's bytes_ drops trailing NULs
        return np.array(values, dtype=object)
    if array.dtype == np.float64:
        return array.astype(np.float32)
    if array.dtype == np.int64 and np.array_equal(array.astype(np.int32), array):
        return array.astype(np.int32)
    return array


def to_tensor_proto(values, dtype=None) -> TensorProto:
    """A TensorProto holding `values`, byte for byte what ``tf.make_tensor_proto(values, dtype)`` writes.

    Strings and bytes go to ``string_val`` (str as UTF-8); numbers with more than one element go to
    ``tensor_content`` (little-endian), single numbers and bool/uint16/complex to the typed ``*_val`` field.

    Args:
        values: a numpy array, scalar, or (nested) list.
        dtype: numpy dtype to convert to (``str``/``bytes``/``object`` for DT_STRING); None infers it
            as TensorFlow does: Python floats become float32, Python ints int32 when they fit.
    """
    array = _as_array(values, dtype)
    if array.dtype.kind in "SUO":
        array = array.astype(object)
    if array.dtype not in _DATA_TYPE_OF:
        raise TypeError(f"Cannot encode numpy dtype {array.dtype} in a TensorProto. Received: {values!r:.200}")
    data_type = _DATA_TYPE_OF[array.dtype]
    proto = TensorProto(dtype=data_type)
    proto.tensor_shape.dim.extend(TensorShapeProto.Dim(size=size) for size in array.shape)
    flat = array.ravel()
    if array.dtype in _CONTENT_TYPES and flat.size > 1:
        proto.tensor_content = flat.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
    elif data_type == DataType.DT_STRING:
        proto.string_val.extend(_as_bytes(value) for value in flat)
    elif data_type == DataType.DT_HALF:
        proto.half_val.extend(flat.view(np.uint16).tolist())
    elif array.dtype.kind == "c":
        getattr(proto, _NUMPY[data_type][1]).extend(flat.view(flat.real.dtype).tolist())
    else:
        getattr(proto, _NUMPY[data_type][1]).extend(flat.tolist())
    return proto


def _as_bytes(value) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError(f"String tensors take str or bytes elements. Received: {value!r} of type {type(value).__name__}")


def to_ndarray(proto) -> np.ndarray:
    """The numpy array a TensorProto holds, as ``tf.make_ndarray`` reads it.

    Reads ``tensor_content`` or the typed ``*_val`` field; strings come back as an object array of
    bytes; fewer values than elements repeat the last one (a single value fills the tensor).

    Args:
        proto: a TensorProto (this module's or TensorFlow's: only field names are used).
    """
    dtype = numpy_dtype(proto.dtype)
    shape = [dim.size for dim in proto.tensor_shape.dim]
    count = int(np.prod(shape, dtype=np.int64))
    if proto.tensor_content:
        return np.frombuffer(proto.tensor_content, dtype=dtype.newbyteorder("<")).astype(dtype).reshape(shape)
    field = _NUMPY[proto.dtype][1]
    if proto.dtype == DataType.DT_STRING:
        values = np.empty(len(proto.string_val), dtype=object)
        values[:] = list(proto.string_val)
    elif proto.dtype == DataType.DT_HALF:
        values = np.array(proto.half_val, dtype=np.uint16).view(np.float16)
    elif dtype.kind == "c":
        values = np.array(getattr(proto, field), dtype=np.float32 if dtype == np.complex64 else np.float64).view(dtype)
    else:
        values = np.array(getattr(proto, field), dtype=dtype)
    if values.size == 0:
        return np.zeros(shape, dtype=dtype) if dtype != object else np.full(shape, b"", dtype=object)
    if values.size > count:
        raise ValueError(f"TensorProto holds {values.size} values for shape {shape} ({count} elements)")
    if values.size < count:
        values = np.concatenate([values, np.repeat(values[-1:], count - values.size)])
    return values.reshape(shape)
