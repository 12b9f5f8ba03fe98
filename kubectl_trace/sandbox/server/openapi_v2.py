"""``/openapi/v2``: the Swagger 2.0 document, in the protobuf form kubectl asks for.

kubectl (client-go ``OpenAPISchema``) requests ``/openapi/v2`` with ``Accept:
application/com.github.proto-openapi.spec.v2@v1.0+protobuf`` and unmarshals the answer
as gnostic's ``openapi.v2.Document``; it uses it for ``kubectl explain
--output=plaintext-openapiv2`` and where no v3 document is served. The document holds the
definitions of every kind served (the same schemas as v3, from the official client's
models, ``$ref`` to ``#/definitions/…``), vendor extensions as gnostic writes them (YAML
text in an ``Any``). A client that asks for JSON gets the same document as JSON.

Only the protobuf fields this document uses are encoded (field numbers from gnostic's
``OpenAPIv2.proto``).
"""

from __future__ import annotations

import functools
import json
from typing import Any

from kubectl_trace.sandbox.server.discovery import KUBERNETES_VERSION, served

__all__ = ["protobuf_content_type", "v2_document", "v2_json", "v2_protobuf"]

Obj = dict[str, Any]
_PROTOBUF = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
_PROTOBUF_DEPRECATED = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"


def protobuf_content_type(accept: str) -> str | None:
    """The Content-Type of a protobuf answer to ``accept``, or None when JSON is wanted.

    The older media type (with ``@``, what client-go still asks for) is not a valid MIME
    type, so that answer is labelled ``application/octet-stream``, as the API server does.
    """
    if _PROTOBUF in accept:
        return _PROTOBUF
    if _PROTOBUF_DEPRECATED in accept:
        return "application/octet-stream"
    return None


@functools.cache
def v2_document() -> Obj:
    """The Swagger 2.0 document (definitions of every served kind)."""
    from kubectl_trace.sandbox.schema.models import schema_for
    from kubectl_trace.sandbox.schema.openapi_schemas import schemas_for

    roots: dict[str, tuple[str, str, str]] = {}
    for resource in served():
        model = schema_for(resource.api_version, resource.kind)
        if model is not None:
            roots[model] = (resource.group, resource.version, resource.kind)
    return {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION["gitVersion"]},
        "paths": {},
        "definitions": schemas_for(roots, v3=False),
    }


@functools.cache
def v2_json() -> bytes:
    """The document as JSON."""
    return json.dumps(v2_document(), separators=(",", ":")).encode()


# -- protobuf encoding ---------------------------------------------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _bytes_field(number: int, data: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _string(number: int, text: str) -> bytes:
    return _bytes_field(number, text.encode()) if text else b""


def _yaml(value: Any) -> str:
    """A JSON value as YAML text (JSON is YAML; gnostic parses it back with a YAML decoder)."""
    return json.dumps(value)


def _named_any(name: str, value: Any) -> bytes:
    any_msg = _string(2, _yaml(value))  # Any.yaml
    return _string(1, name) + _bytes_field(2, any_msg)


def _schema(schema: Obj) -> bytes:
    out = bytearray()
    out += _string(1, schema.get("$ref", ""))
    out += _string(2, schema.get("format", ""))
    out += _string(4, schema.get("description", ""))
    for name in schema.get("required", []):
        out += _string(19, name)
    additional = schema.get("additionalProperties")
    if isinstance(additional, dict):
        out += _bytes_field(21, _bytes_field(1, _schema(additional)))
    if "type" in schema:
        out += _bytes_field(22, _string(1, schema["type"]))
    items = schema.get("items")
    if isinstance(items, dict):
        out += _bytes_field(23, _bytes_field(1, _schema(items)))
    for part in schema.get("allOf", []):
        out += _bytes_field(24, _schema(part))
    properties = schema.get("properties")
    if properties:
        props = b"".join(
            _bytes_field(1, _string(1, name) + _bytes_field(2, _schema(value)))
            for name, value in properties.items()
        )
        out += _bytes_field(25, props)
    for key, value in schema.items():
        if key.startswith("x-"):
            out += _bytes_field(31, _named_any(key, value))
    return bytes(out)


@functools.cache
def v2_protobuf() -> bytes:
    """The document as gnostic's ``openapi.v2.Document`` protobuf."""
    doc = v2_document()
    info = _string(1, doc["info"]["title"]) + _string(2, doc["info"]["version"])
    definitions = b"".join(
        _bytes_field(1, _string(1, name) + _bytes_field(2, _schema(schema)))
        for name, schema in doc["definitions"].items()
    )
    return (
        _string(1, doc["swagger"])
        + _bytes_field(2, info)
        + _bytes_field(8, b"")
        + _bytes_field(9, definitions)
    )
