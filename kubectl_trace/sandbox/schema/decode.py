"""Strict decoding of a JSON object against its kind's schema, as the API server decodes.

The API server decodes a request body into the Go type of the kind: a value of the wrong
JSON type fails the whole request (400, ``json: cannot unmarshal string into Go struct
field DeploymentSpec.spec.replicas of type int32``); a field the type does not have is
dropped and, depending on ``fieldValidation``, reported (``Strict``: 400 ``strict decoding
error: unknown field "spec.replicaz"``; ``Warn``, the default: a ``Warning`` header;
``Ignore``: nothing). ``decode`` does both on the plain JSON dicts the sandbox stores and
returns the object as it would be stored: unknown fields and nulls dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubectl_trace.sandbox.schema.models import TypeRef, fields_of

__all__ = ["DecodeError", "Decoded", "decode"]

# Resource quantities are strings in the client's models but the API server also takes numbers.
_QUANTITY_MAPS = frozenset({"limits", "requests", "capacity", "allocatable", "hard", "used", "overhead"})
_INT64 = frozenset(
    {
        "generation",
        "observedGeneration",
        "deletionGracePeriodSeconds",
        "activeDeadlineSeconds",
        "terminationGracePeriodSeconds",
        "gracePeriodSeconds",
        "runAsUser",
        "runAsGroup",
        "fsGroup",
        "expirationSeconds",
    }
)


class DecodeError(ValueError):
    """A value of the wrong JSON type (the request is refused with 400 BadRequest)."""


@dataclass
class Decoded:
    """The decoded object and the paths of the unknown fields that were dropped."""

    object: dict[str, Any]
    unknown: list[str] = field(default_factory=list)


def _json_kind(value: Any) -> str:
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return f"number {value}" if isinstance(value, float) else "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "value"


def _go_type(ref: TypeRef, name: str) -> str:
    if ref.kind == "list":
        assert ref.item is not None
        return "[]" + _go_type(ref.item, "")
    if ref.kind == "map":
        assert ref.item is not None
        return "map[string]" + _go_type(ref.item, "")
    if ref.kind == "model":
        return "v1." + _struct(ref.name)
    return {
        "str": "string",
        "int": "int64" if name in _INT64 else "int32",
        "bool": "bool",
        "float": "float64",
        "datetime": "v1.Time",
        "date": "string",
        "bytes": "[]uint8",
        "object": "interface {}",
    }[ref.name]


def _struct(model: str) -> str:
    """``V1DeploymentSpec`` → ``DeploymentSpec`` (the Go type's name)."""
    for i, ch in enumerate(model):
        if i > 0 and ch.isdigit():
            continue
        if i > 1 and ch.isupper() and model[i - 1].isdigit():
            return model[i:]
    return model


class _Decoder:
    def __init__(self) -> None:
        self.unknown: list[str] = []

    def fail(self, value: Any, struct: str, path: str, ref: TypeRef, name: str) -> DecodeError:
        return DecodeError(
            f"json: cannot unmarshal {_json_kind(value)} into Go struct field "
            f"{struct}.{path} of type {_go_type(ref, name)}"
        )

    def model(self, value: dict[str, Any], model: str, path: str, gopath: str) -> dict[str, Any]:
        fields = fields_of(model)
        struct = _struct(model)
        out: dict[str, Any] = {}
        for key, item in value.items():
            spec = fields.get(key)
            if spec is None:
                self.unknown.append(f"{path}.{key}" if path else key)
                continue
            if item is None:
                continue
            child_path = f"{path}.{key}" if path else key
            child_go = f"{gopath}.{key}" if gopath else key
            out[key] = self.value(item, spec.type, child_path, child_go, struct, key, spec.int_or_string)
        return out

    def value(
        self,
        value: Any,
        ref: TypeRef,
        path: str,
        gopath: str,
        struct: str,
        name: str,
        int_or_string: bool = False,
    ) -> Any:
        if ref.kind == "model":
            if not isinstance(value, dict):
                raise self.fail(value, struct, gopath, ref, name)
            return self.model(value, ref.name, path, gopath)
        if ref.kind == "list":
            if not isinstance(value, list):
                raise self.fail(value, struct, gopath, ref, name)
            assert ref.item is not None
            return [
                self.value(v, ref.item, f"{path}[{i}]", gopath, struct, name)
                for i, v in enumerate(value)
                if v is not None or ref.item.kind == "scalar"
            ]
        if ref.kind == "map":
            if not isinstance(value, dict):
                raise self.fail(value, struct, gopath, ref, name)
            assert ref.item is not None
            item = ref.item
            if name in _QUANTITY_MAPS and item == TypeRef("scalar", "str"):
                for v in value.values():
                    if not isinstance(v, (str, int, float)) or isinstance(v, bool):
                        raise self.fail(v, struct, gopath, item, name)
                return dict(value)
            return {k: self.value(v, item, f"{path}.{k}", gopath, struct, name) for k, v in value.items()}
        return self.scalar(value, ref, gopath, struct, name, int_or_string)

    def scalar(
        self, value: Any, ref: TypeRef, gopath: str, struct: str, name: str, int_or_string: bool
    ) -> Any:
        kind = ref.name
        if kind == "object":
            if int_or_string and not (
                isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
            ):
                raise DecodeError(
                    f"json: cannot unmarshal {_json_kind(value)} into Go struct field "
                    f"{struct}.{gopath} of type intstr.IntOrString"
                )
            return value
        ok = {
            "str": isinstance(value, str),
            "date": isinstance(value, str),
            "datetime": isinstance(value, str),
            "bytes": isinstance(value, str),
            "bool": isinstance(value, bool),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        }[kind]
        if not ok:
            raise self.fail(value, struct, gopath, ref, name)
        return value


def decode(obj: dict[str, Any], model: str) -> Decoded:
    """Decode ``obj`` as ``model``; DecodeError for a wrong type, unknown fields listed and dropped."""
    decoder = _Decoder()
    out = decoder.model(obj, model, "", "")
    return Decoded(out, decoder.unknown)
