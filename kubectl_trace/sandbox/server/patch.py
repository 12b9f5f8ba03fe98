"""PATCH bodies: strategic merge, JSON merge (RFC 7386) and JSON patch (RFC 6902). Pure.

Strategic merge follows apimachinery ``strategicpatch``: maps merge, ``null`` deletes,
lists of objects merge by their patch merge key (``containers`` by ``name``, ``ports`` by
``containerPort`` …), other lists are replaced; the directives ``$patch``
(replace/delete/merge), ``$retainKeys``, ``$setElementOrder/F`` and
``$deleteFromPrimitiveList/F`` are honoured. Inputs are never mutated.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = [
    "PatchError",
    "apply_json_patch",
    "apply_merge_patch",
    "apply_strategic_merge_patch",
]


class PatchError(ValueError):
    """A patch that cannot be applied (the API server answers 422, or 400 for bad syntax)."""

    def __init__(self, message: str, *, code: int = 422) -> None:
        super().__init__(message)
        self.code = code


# field name → merge key (apimachinery patchMergeKey tags of the types served here)
_MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "conditions": "type",
    "ownerReferences": "uid",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
    "containerStatuses": "name",
    "initContainerStatuses": "name",
    "podIPs": "ip",
    "addresses": "type",
}
# lists of scalars with patchStrategy "merge"
_PRIMITIVE_MERGE = frozenset({"finalizers"})

_DELETE = object()


def _clean(value: Any) -> Any:
    """A copy of a patch value without directive keys (for elements that are added whole)."""
    if isinstance(value, dict):
        return {
            k: _clean(v)
            for k, v in value.items()
            if not (k.startswith("$") and (k in ("$patch", "$retainKeys") or "/" in k))
        }
    if isinstance(value, list):
        return [_clean(v) for v in value if not (isinstance(v, dict) and v.get("$patch") == "replace")]
    return value


def _merge_key(field: str, items: list[Any]) -> str | None:
    if field == "ports":
        for item in items:
            if isinstance(item, dict):
                return "containerPort" if "containerPort" in item else "port"
        return "port"
    return _MERGE_KEYS.get(field)


def _order(items: list[Any], order: list[Any], key: str | None) -> list[Any]:
    if key is None:
        by_repr = {repr(v): i for i, v in enumerate(order)}
        return sorted(items, key=lambda v: by_repr.get(repr(v), len(by_repr)))
    wanted = [o.get(key) for o in order if isinstance(o, dict)]
    rank: dict[Any, int] = {v: i for i, v in enumerate(wanted)}
    indexed = list(enumerate(items))
    indexed.sort(
        key=lambda pair: (
            rank.get(pair[1].get(key), len(rank)) if isinstance(pair[1], dict) else len(rank),
            pair[0],
        )
    )
    return [item for _, item in indexed]


def _merge_list(field: str, current: list[Any], patch: list[Any]) -> list[Any]:
    if any(isinstance(p, dict) and p.get("$patch") == "replace" for p in patch):
        return [_clean(p) for p in patch if not (isinstance(p, dict) and p.get("$patch") == "replace")]
    key = _merge_key(field, [*patch, *current])
    if key is None or not all(isinstance(p, dict) for p in patch):
        if field in _PRIMITIVE_MERGE:
            merged = list(current)
            merged.extend(p for p in patch if p not in merged)
            return merged
        cleaned: list[Any] = _clean(patch)
        return cleaned
    result = [copy.deepcopy(item) for item in current]
    for element in patch:
        wanted = element.get(key)
        index = next(
            (i for i, item in enumerate(result) if isinstance(item, dict) and item.get(key) == wanted),
            None,
        )
        if element.get("$patch") == "delete":
            if index is not None:
                del result[index]
            continue
        if index is None:
            result.append(_clean(element))
        else:
            merged = _merge_map(result[index], element)
            if merged is _DELETE:
                del result[index]
            else:
                result[index] = merged
    return result


def _merge_field(result: dict[str, Any], key: str, value: Any) -> None:
    """Patch one field of ``result``: null deletes it, maps and lists merge, the rest replaces."""
    if value is None:
        result.pop(key, None)
        return
    current = result.get(key)
    if isinstance(value, dict):
        merged = _merge_map(current if isinstance(current, dict) else {}, value)
        if merged is _DELETE:
            result.pop(key, None)
        else:
            result[key] = merged
    elif isinstance(value, list):
        result[key] = _merge_list(key, current if isinstance(current, list) else [], value)
    else:
        result[key] = value


def _merge_map(original: dict[str, Any], patch: dict[str, Any]) -> Any:
    directive = patch.get("$patch")
    if directive == "replace":
        return _clean(patch)
    if directive == "delete":
        return _DELETE
    result = copy.deepcopy(original)
    orders: dict[str, list[Any]] = {}
    deletions: dict[str, list[Any]] = {}
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys"):
            continue
        if key.startswith("$setElementOrder/"):
            orders[key.split("/", 1)[1]] = value if isinstance(value, list) else []
        elif key.startswith("$deleteFromPrimitiveList/"):
            deletions[key.split("/", 1)[1]] = value if isinstance(value, list) else []
        else:
            _merge_field(result, key, value)
    for field, values in deletions.items():
        if isinstance(result.get(field), list):
            result[field] = [v for v in result[field] if v not in values]
    for field, order in orders.items():
        if isinstance(result.get(field), list):
            items = result[field]
            result[field] = _order(items, order, _merge_key(field, [*order, *items]))
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def apply_strategic_merge_patch(original: dict[str, Any], patch: Any) -> dict[str, Any]:
    """``application/strategic-merge-patch+json``."""
    if not isinstance(patch, dict):
        raise PatchError("strategic merge patch must be a JSON object", code=400)
    merged: dict[str, Any] = _merge_map(original, patch)
    if merged is _DELETE:
        raise PatchError("a strategic merge patch cannot delete the whole object")
    return merged


def apply_merge_patch(original: dict[str, Any], patch: Any) -> dict[str, Any]:
    """``application/merge-patch+json`` (RFC 7386)."""

    def merge(target: Any, change: Any) -> Any:
        if not isinstance(change, dict):
            return copy.deepcopy(change)
        base = dict(target) if isinstance(target, dict) else {}
        for key, value in change.items():
            if value is None:
                base.pop(key, None)
            else:
                base[key] = merge(base.get(key), value)
        return base

    if not isinstance(patch, dict):
        raise PatchError("merge patch must be a JSON object", code=400)
    merged: dict[str, Any] = merge(copy.deepcopy(original), patch)
    return merged


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise PatchError(f"invalid JSON pointer: {path!r}")
    if path == "":
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _container(doc: Any, parts: list[str], path: str) -> Any:
    node = doc
    for part in parts:
        if isinstance(node, dict):
            if part not in node:
                raise PatchError(f"doc is missing path: {path}")
            node = node[part]
        elif isinstance(node, list):
            try:
                node = node[int(part)]
            except (ValueError, IndexError):
                raise PatchError(f"doc is missing path: {path}") from None
        else:
            raise PatchError(f"doc is missing path: {path}")
    return node


def _list_index(node: list[Any], token: str, path: str, *, insert: bool) -> int:
    if insert and token == "-":
        return len(node)
    try:
        index = int(token)
    except ValueError:
        raise PatchError(f"invalid array index in {path}") from None
    limit = len(node) if insert else len(node) - 1
    if index < 0 or index > limit:
        raise PatchError(f"array index out of bounds in {path}")
    return index


def _get(doc: Any, path: Any) -> Any:
    parts = _pointer(path)
    return _container(doc, parts, path)


def _remove(doc: Any, path: Any) -> Any:
    parts = _pointer(path)
    if not parts:
        raise PatchError("cannot remove the whole document")
    parent = _container(doc, parts[:-1], path)
    last = parts[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"unable to remove nonexistent key: {last}: missing value")
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_list_index(parent, last, path, insert=False))
    raise PatchError(f"doc is missing path: {path}")


def _add(doc: Any, path: Any, value: Any, *, replace: bool) -> Any:
    parts = _pointer(path)
    if not parts:
        return copy.deepcopy(value)
    parent = _container(doc, parts[:-1], path)
    last = parts[-1]
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise PatchError(f"replace operation does not apply: doc is missing key: {path}: missing value")
        parent[last] = copy.deepcopy(value)
    elif isinstance(parent, list):
        if replace:
            parent[_list_index(parent, last, path, insert=False)] = copy.deepcopy(value)
        else:
            parent.insert(_list_index(parent, last, path, insert=True), copy.deepcopy(value))
    else:
        raise PatchError(f"doc is missing path: {path}")
    return doc


def apply_json_patch(original: dict[str, Any], operations: Any) -> dict[str, Any]:
    """``application/json-patch+json`` (RFC 6902)."""
    if not isinstance(operations, list):
        raise PatchError("json patch must be a JSON array of operations", code=400)
    doc: Any = copy.deepcopy(original)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op:
            raise PatchError("json patch operation must be an object with an 'op'", code=400)
        kind, path = op["op"], op.get("path")
        if kind == "add":
            doc = _add(doc, path, op.get("value"), replace=False)
        elif kind == "replace":
            doc = _add(doc, path, op.get("value"), replace=True)
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "move":
            value = _remove(doc, op.get("from"))
            doc = _add(doc, path, value, replace=False)
        elif kind == "copy":
            doc = _add(doc, path, copy.deepcopy(_get(doc, op.get("from"))), replace=False)
        elif kind == "test":
            if _get(doc, path) != op.get("value"):
                raise PatchError(f"testing value {path} failed: test failed")
        else:
            raise PatchError(f"Unexpected kind: {kind}", code=400)
    if not isinstance(doc, dict):
        raise PatchError("the patched document is not an object")
    return doc
