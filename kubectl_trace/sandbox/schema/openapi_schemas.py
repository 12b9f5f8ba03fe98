"""OpenAPI schemas (v3 components, v2 definitions) built from the official client's models.

The documents the API server publishes are generated from the Go types; the client's
models are generated from those documents, so reading them back gives the same field
names, types, required lists and descriptions. Schema names follow the API server's
(``io.k8s.api.apps.v1.DeploymentSpec``, ``io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta``);
each served kind carries ``x-kubernetes-group-version-kind``, which is how ``kubectl
explain`` finds it. v3 refers to a named schema as ``allOf: [{$ref}]`` beside the field's
description, v2 as ``$ref`` (as the API server writes them).
"""

from __future__ import annotations

import functools
from typing import Any

from kubectl_trace.sandbox.schema.models import Field, TypeRef, fields_of, model_description

__all__ = ["schemas_for"]

Obj = dict[str, Any]

_META = frozenset(
    {
        "ObjectMeta",
        "ListMeta",
        "LabelSelector",
        "LabelSelectorRequirement",
        "OwnerReference",
        "ManagedFieldsEntry",
        "Status",
        "StatusDetails",
        "StatusCause",
        "Condition",
        "DeleteOptions",
        "Preconditions",
        "APIResource",
        "WatchEvent",
    }
)
_GROUP_PREFIXES = {
    "apps": ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "RollingUpdate", "ControllerRevision"),
    "batch": ("Job", "CronJob", "UncountedTerminatedPods", "PodFailurePolicy", "SuccessPolicy"),
}
_AUTOSCALING = frozenset({"Scale", "ScaleSpec", "ScaleStatus"})
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_INT64 = frozenset(
    {"generation", "observedGeneration", "deletionGracePeriodSeconds", "activeDeadlineSeconds"}
)


def _struct(model: str) -> str:
    i = 0
    while i < len(model) and not (i > 1 and model[i].isupper() and model[i - 1].isdigit()):
        i += 1
    return model[i:] if i < len(model) else model


def schema_name(model: str) -> str:
    """The API server's name of the schema of a client model."""
    struct = _struct(model)
    if model.startswith("EventsV1"):
        return f"io.k8s.api.events.v1.{struct}"
    if struct in _META:
        return f"io.k8s.apimachinery.pkg.apis.meta.v1.{struct}"
    if struct in _AUTOSCALING:
        return f"io.k8s.api.autoscaling.v1.{struct}"
    for group, prefixes in _GROUP_PREFIXES.items():
        if struct.startswith(prefixes):
            return f"io.k8s.api.{group}.v1.{struct}"
    return f"io.k8s.api.core.v1.{struct}"


def _ref(name: str, v3: bool) -> str:
    return f"#/components/schemas/{name}" if v3 else f"#/definitions/{name}"


def _type_schema(ref: TypeRef, name: str, v3: bool, field: Field | None, todo: list[str]) -> Obj:
    if ref.kind == "model":
        todo.append(ref.name)
        return {"$ref": _ref(schema_name(ref.name), v3)}
    if ref.kind == "list":
        assert ref.item is not None
        return {"type": "array", "items": _type_schema(ref.item, name, v3, None, todo)}
    if ref.kind == "map":
        assert ref.item is not None
        return {"type": "object", "additionalProperties": _type_schema(ref.item, name, v3, None, todo)}
    scalar = ref.name
    if scalar == "object":
        if field is not None and field.int_or_string:
            return {"$ref": _ref(INT_OR_STRING, v3)}
        return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return {
        "str": {"type": "string"},
        "date": {"type": "string", "format": "date"},
        "datetime": {"type": "string", "format": "date-time"},
        "bytes": {"type": "string", "format": "byte"},
        "bool": {"type": "boolean"},
        "float": {"type": "number", "format": "double"},
        "int": {"type": "integer", "format": "int64" if name in _INT64 else "int32"},
    }[scalar]


def _property(field: Field, v3: bool, todo: list[str]) -> Obj:
    schema = _type_schema(field.type, field.json_name, v3, field, todo)
    if "$ref" in schema:
        if v3:
            schema = {"allOf": [schema], "default": {}}
        if field.description:
            schema["description"] = field.description
        return schema
    if field.description:
        schema = {"description": field.description, **schema}
    return schema


@functools.cache
def _model_schema(model: str, v3: bool) -> tuple[Obj, tuple[str, ...]]:
    todo: list[str] = []
    fields = fields_of(model)
    properties = {name: _property(field, v3, todo) for name, field in sorted(fields.items())}
    schema: Obj = {"description": model_description(model), "type": "object", "properties": properties}
    required = sorted(name for name, field in fields.items() if field.required)
    if required:
        schema["required"] = required
    return schema, tuple(todo)


def schemas_for(roots: dict[str, tuple[str, str, str]], *, v3: bool) -> Obj:
    """Named schemas of ``roots`` (model → (group, version, kind)) and every model they use."""
    out: Obj = {
        INT_OR_STRING: {
            "description": "IntOrString is a type that can hold an int32 or a string.",
            "type": "string",
            "format": "int-or-string",
        }
    }
    pending = list(roots)
    seen: set[str] = set()
    while pending:
        model = pending.pop()
        if model in seen:
            continue
        seen.add(model)
        schema, uses = _model_schema(model, v3)
        schema = dict(schema)
        if model in roots:
            group, version, kind = roots[model]
            schema["x-kubernetes-group-version-kind"] = [{"group": group, "kind": kind, "version": version}]
        out[schema_name(model)] = schema
        pending.extend(uses)
    return out
