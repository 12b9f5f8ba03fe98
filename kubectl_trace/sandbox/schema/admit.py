"""Admission of a write: strict decoding, then field validation, as the API server orders them.

``decode_write`` turns a request body (or a patched object) into what would be stored —
wrong types refused with 400, unknown fields dropped and reported per ``fieldValidation``
— and ``check_write`` refuses an invalid result with 422 ``Invalid`` and its causes.
Both are generic over kinds: any kind the official client has a model for is checked.
"""

from __future__ import annotations

from typing import Any

from kubectl_trace.kube.resources import Resource
from kubectl_trace.sandbox.schema.decode import DecodeError, decode
from kubectl_trace.sandbox.schema.models import schema_for
from kubectl_trace.sandbox.schema.validate import validate_object, validate_update
from kubectl_trace.sandbox.store import StoreError

__all__ = ["FIELD_VALIDATION", "check_write", "decode_write", "field_validation"]

Obj = dict[str, Any]
FIELD_VALIDATION = ("Ignore", "Warn", "Strict")


def field_validation(query: Any) -> str:
    """The request's ``fieldValidation`` (``Warn`` when absent, as the API server defaults it)."""
    value = query.get("fieldValidation") or "Warn"
    if value not in FIELD_VALIDATION:
        raise StoreError.bad_request(
            f'fieldValidation parameter unsupported: {value}. Supported values are "Ignore", "Warn", "Strict"'
        )
    return value


def _model(resource: Resource) -> str | None:
    return schema_for(resource.api_version, resource.kind)


def decode_write(resource: Resource, obj: Any, mode: str, warnings: list[str]) -> Obj:
    """``obj`` decoded as ``resource``'s kind; appends the warnings to send (``Warn`` mode)."""
    if not isinstance(obj, dict):
        raise StoreError.bad_request(
            f'{resource.kind} in version "{resource.version}" cannot be handled as a {resource.kind}: '
            "the body must be a JSON object"
        )
    model = _model(resource)
    if model is None:
        return obj
    try:
        decoded = decode(obj, model)
    except DecodeError as exc:
        raise StoreError.bad_request(
            f'{resource.kind} in version "{resource.version}" cannot be handled as a {resource.kind}: {exc}'
        ) from None
    unknown = [f'unknown field "{path}"' for path in decoded.unknown]
    if unknown and mode == "Strict":
        raise StoreError.bad_request("strict decoding error: " + ", ".join(unknown))
    if mode == "Warn":
        warnings.extend(unknown)
    out = decoded.object
    out.setdefault("metadata", {})
    return out


def check_write(
    resource: Resource, obj: Obj, *, old: Obj | None = None, subresource: str | None = None
) -> None:
    """422 Invalid when ``obj`` (replacing ``old``, if any) breaks a field rule."""
    causes = validate_object(resource.plural, obj, _model(resource), subresource=subresource)
    if old is not None and subresource is None:
        causes.extend(validate_update(resource.plural, obj, old))
    if causes:
        raise StoreError.invalid(resource, (obj.get("metadata") or {}).get("name", ""), causes)


def warning_headers(warnings: list[str]) -> list[tuple[str, str]]:
    """``Warning: 299 - "text"`` headers, one per warning (RFC 7234, as the API server sends them)."""
    out = []
    for text in warnings:
        escaped = text.replace("\\", "\\\\").replace('"', '\\"')
        out.append(("Warning", f'299 - "{escaped}"'))
    return out
