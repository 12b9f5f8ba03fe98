"""Object schemas read from the official client's models: fields, types, required, descriptions.

``schema_for(api_version, kind)`` finds the model of a kind (``V1Deployment``,
``CoreV1Event`` for core Events, ``EventsV1Event`` for events.k8s.io …) and
``fields_of(model)`` gives its JSON fields. Types are the client's ``openapi_types``
strings: ``str``, ``int``, ``bool``, ``float``, ``datetime``, ``bytes``, ``object``, a model
name, ``List[T]`` or ``Dict[str, T]``. Everything is cached: the models are read once.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["Field", "TypeRef", "fields_of", "model_class", "parse_type", "schema_for"]


@dataclass(frozen=True)
class TypeRef:
    """A parsed ``openapi_types`` string."""

    kind: str  # "scalar", "model", "list", "map"
    name: str = ""  # scalar name (str, int, …) or model class name
    item: TypeRef | None = None  # element of a list or value of a map


@dataclass(frozen=True)
class Field:
    """One JSON field of a model."""

    json_name: str
    type: TypeRef
    required: bool
    description: str
    int_or_string: bool = False


_LIST = re.compile(r"^List\[(.*)\]$")
_MAP = re.compile(r"^Dict\[str, (.*)\]$")
_SCALARS = frozenset({"str", "int", "bool", "float", "datetime", "date", "bytes", "object"})


@functools.cache
def parse_type(text: str) -> TypeRef:
    """``List[V1Container]`` → TypeRef("list", item=TypeRef("model", "V1Container"))."""
    text = text.strip()
    match = _LIST.match(text)
    if match:
        return TypeRef("list", item=parse_type(match.group(1)))
    match = _MAP.match(text)
    if match:
        return TypeRef("map", item=parse_type(match.group(1)))
    if text in _SCALARS:
        return TypeRef("scalar", text)
    return TypeRef("model", text)


def _models() -> Any:
    import kubernetes.client.models as models  # ~0.4 s: only when a write or OpenAPI needs it

    return models


def model_class(name: str) -> Any:
    """The model class ``name`` (KeyError when the client has none)."""
    cls = getattr(_models(), name, None)
    if cls is None or not hasattr(cls, "openapi_types"):
        raise KeyError(name)
    return cls


@functools.cache
def schema_for(api_version: str, kind: str) -> str | None:
    """The model name of a kind, or None: ``apps/v1 Deployment`` → ``V1Deployment``."""
    group, _, version = api_version.rpartition("/")
    ver = version[:1].upper() + version[1:]
    prefix = "".join(p[:1].upper() + p[1:] for p in group.split(".")[0].split("-")) if group else "Core"
    for name in (f"{prefix}{ver}{kind}", f"{ver}{kind}"):
        try:
            model_class(name)
        except KeyError:
            continue
        return name
    return None


def _int_or_string(annotation: Any) -> bool:
    text = repr(annotation)
    return "int" in text and "str" in text and "Union" in text


@functools.cache
def fields_of(model: str) -> dict[str, Field]:
    """The JSON fields of a model, by JSON name."""
    cls = model_class(model)
    model_fields = getattr(cls, "model_fields", {})
    fields: dict[str, Field] = {}
    for attr, type_text in cls.openapi_types.items():
        json_name = cls.attribute_map.get(attr, attr)
        info = model_fields.get(attr)
        required = bool(info is not None and info.is_required())
        description = (getattr(info, "description", None) or "") if info is not None else ""
        fields[json_name] = Field(
            json_name,
            parse_type(type_text),
            required,
            description,
            int_or_string=type_text == "object" and info is not None and _int_or_string(info.annotation),
        )
    return fields


@functools.cache
def model_description(model: str) -> str:
    """The model's own description (its class docstring, without the generator's boilerplate)."""
    doc = model_class(model).__doc__ or ""
    return doc.split("Attributes:")[0].strip()
