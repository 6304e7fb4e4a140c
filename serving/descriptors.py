"""Protobuf message types built in code, in a private pool: the builder `serving.wire` and
`serving.deploy_protos` share. Imports neither TensorFlow nor ``tensorflow-serving-api``."""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool

_F = descriptor_pb2.FieldDescriptorProto
_SCALARS = {
    "bool": _F.TYPE_BOOL,
    "int32": _F.TYPE_INT32,
    "int64": _F.TYPE_INT64,
    "uint32": _F.TYPE_UINT32,
    "uint64": _F.TYPE_UINT64,
    "float": _F.TYPE_FLOAT,
    "double": _F.TYPE_DOUBLE,
    "string": _F.TYPE_STRING,
    "bytes": _F.TYPE_BYTES,
}


def field(message, name: str, number: int, kind: str, oneof: int | None = None) -> None:
    """Adds a field to a DescriptorProto.

    Args:
        message: the DescriptorProto.
        name: field name.
        number: field number.
        kind: a scalar type (``"int64"``), ``"enum .full.Name"`` or ``".full.Message"``, optionally
            prefixed with ``"repeated "``.
        oneof: index of the message's oneof the field belongs to.
    """
    added = message.field.add(name=name, number=number, label=_F.LABEL_OPTIONAL)
    if kind.startswith("repeated "):
        added.label, kind = _F.LABEL_REPEATED, kind.removeprefix("repeated ")
    if kind in _SCALARS:
        added.type = _SCALARS[kind]
    elif kind.startswith("enum "):
        added.type, added.type_name = _F.TYPE_ENUM, kind.removeprefix("enum ")
    else:
        added.type, added.type_name = _F.TYPE_MESSAGE, kind
    if oneof is not None:
        added.oneof_index = oneof


def message(file, name: str, *fields, maps=(), oneof: str | None = None):
    """Adds a message to a FileDescriptorProto and returns its DescriptorProto.

    Args:
        file: the FileDescriptorProto.
        name: message name (no package).
        *fields: ``(name, number, kind[, oneof index])`` tuples, see `field`.
        maps: ``(name, number, value kind)`` of ``map<string, value>`` fields; each becomes a nested
            ``<Name>Entry`` message marked ``map_entry`` plus a repeated field of it, as protoc writes them.
        oneof: name of the message's one oneof, when it has one.
    """
    added = file.message_type.add(name=name)
    if oneof:
        added.oneof_decl.add(name=oneof)
    for row in fields:
        field(added, *row)
    for map_name, number, value_kind in maps:
        entry = added.nested_type.add(name="".join(part.title() for part in map_name.split("_")) + "Entry")
        entry.options.map_entry = True
        field(entry, "key", 1, "string")
        field(entry, "value", 2, value_kind)
        field(added, map_name, number, f"repeated .{file.package}.{name}.{entry.name}")
    return added


def enum(parent, name: str, values: dict[str, int]) -> None:
    """Adds an enum with `values` (name -> number) to a FileDescriptorProto or DescriptorProto."""
    added = parent.enum_type.add(name=name)
    for value_name, number in values.items():
        added.value.add(name=value_name, number=number)


def proto3_file(name: str, package: str, *dependencies: str) -> descriptor_pb2.FileDescriptorProto:
    """An empty proto3 FileDescriptorProto."""
    return descriptor_pb2.FileDescriptorProto(name=name, package=package, syntax="proto3", dependency=dependencies)


def build_pool(well_known=(), files=()) -> descriptor_pool.DescriptorPool:
    """A private pool holding the `well_known` ``*_pb2`` modules' files, then `files` (in dependency order)."""
    pool = descriptor_pool.DescriptorPool()
    for module in well_known:
        copied = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(copied)
        pool.Add(copied)
    for file in files:
        pool.Add(file)
    return pool
