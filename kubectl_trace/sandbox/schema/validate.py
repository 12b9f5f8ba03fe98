"""Field validation of a decoded object, as the API server's ``validation.go`` answers it.

What the schema itself says (required fields, from the client's models) plus the rules
the API server adds for the kinds the sandbox serves: name syntax per kind, label and
annotation syntax, replica counts, selectors that must match their template (and that may
not change), containers that need a name and an image, and the pod spec fields an update
may not touch. Each failure is a ``details.causes`` entry of a 422 ``Invalid``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from kubectl_trace.sandbox.schema.models import TypeRef, fields_of

__all__ = ["Cause", "validate_object", "validate_update"]

Obj = dict[str, Any]
Cause = dict[str, str]

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")

SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
    "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1035_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
    "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
_QUALIFIED_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
    "an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation "
    "is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and "
    "must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
    "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
POD_UPDATE_MSG = (
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
    "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
    "(allow it to be set to 1 if it was previously negative)"
)

# name syntax per resource (what each kind's ValidateXName uses); the rest: DNS-1123 subdomain
_LABEL_NAMED = frozenset({"namespaces"})
_DNS1035_NAMED = frozenset({"services"})
_PATH_SEGMENT_NAMED = frozenset({"events"})
_WORKLOADS = frozenset({"deployments", "replicasets", "statefulsets", "daemonsets", "jobs"})


def go_value(value: Any) -> str:
    """A value as Go's ``%#v`` prints it in field errors (close enough to read the same)."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict) and ("matchLabels" in value or "matchExpressions" in value):
        return go_selector(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        inner = ", ".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in sorted(value.items()))
        return f"map[string]string{{{inner}}}"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def go_selector(selector: Any) -> str:
    """A label selector as Go prints a ``v1.LabelSelector``."""
    if not isinstance(selector, dict):
        return go_value(selector)
    labels = selector.get("matchLabels")
    exprs = selector.get("matchExpressions")
    labels_text = go_value(labels) if labels else "map[string]string(nil)"
    exprs_text = go_value(exprs) if exprs else "[]v1.LabelSelectorRequirement(nil)"
    return f"v1.LabelSelector{{MatchLabels:{labels_text}, MatchExpressions:{exprs_text}}}"


def invalid(field: str, value: Any, detail: str) -> Cause:
    """A FieldValueInvalid cause."""
    return {
        "reason": "FieldValueInvalid",
        "message": f"Invalid value: {go_value(value)}: {detail}",
        "field": field,
    }


def required(field: str, detail: str = "") -> Cause:
    """A FieldValueRequired cause."""
    message = f"Required value: {detail}" if detail else "Required value"
    return {"reason": "FieldValueRequired", "message": message, "field": field}


def forbidden(field: str, detail: str) -> Cause:
    """A FieldValueForbidden cause."""
    return {"reason": "FieldValueForbidden", "message": f"Forbidden: {detail}", "field": field}


def _required_fields(value: Any, ref: TypeRef, path: str, causes: list[Cause], skip: frozenset[str]) -> None:
    if ref.kind == "model" and isinstance(value, dict):
        for name, spec in fields_of(ref.name).items():
            child = f"{path}.{name}" if path else name
            if child in skip:
                continue
            if spec.required and value.get(name) in (None, ""):
                causes.append(required(child))
            elif name in value:
                _required_fields(value[name], spec.type, child, causes, skip)
    elif ref.kind == "list" and isinstance(value, list) and ref.item is not None:
        for i, item in enumerate(value):
            _required_fields(item, ref.item, f"{path}[{i}]", causes, skip)
    elif ref.kind == "map" and isinstance(value, dict) and ref.item is not None:
        for key, item in value.items():
            _required_fields(item, ref.item, f"{path}.{key}", causes, skip)


def _name(resource: str, meta: Obj, causes: list[Cause]) -> None:
    name = meta.get("name")
    if not name:
        if not meta.get("generateName"):
            causes.append(required("metadata.name", "name or generateName is required"))
        return
    if resource in _PATH_SEGMENT_NAMED:
        if name in (".", "..") or "/" in name or "%" in name:
            causes.append(invalid("metadata.name", name, "may not contain '/' or '%'"))
        return
    if resource in _LABEL_NAMED:
        pattern, message, limit = _DNS1123_LABEL, LABEL_MSG, 63
    elif resource in _DNS1035_NAMED:
        pattern, message, limit = _DNS1035_LABEL, DNS1035_MSG, 63
    else:
        pattern, message, limit = _DNS1123_SUBDOMAIN, SUBDOMAIN_MSG, 253
    if len(name) > limit:
        causes.append(invalid("metadata.name", name, f"must be no more than {limit} characters"))
    elif not pattern.match(name):
        causes.append(invalid("metadata.name", name, message))


def _qualified_key(key: str, field: str, causes: list[Cause]) -> None:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS1123_SUBDOMAIN.match(prefix)):
        causes.append(invalid(field, key, "prefix part " + SUBDOMAIN_MSG))
    elif len(name) > 63:
        causes.append(invalid(field, key, "name part must be no more than 63 characters"))
    elif not _QUALIFIED_NAME.match(name):
        causes.append(invalid(field, key, _QUALIFIED_MSG))


def _labels(labels: Any, field: str, causes: list[Cause]) -> None:
    for key, value in (labels or {}).items():
        _qualified_key(key, field, causes)
        if len(value) > 63:
            causes.append(invalid(field, value, "must be no more than 63 characters"))
        elif not _LABEL_VALUE.match(value):
            causes.append(invalid(field, value, _LABEL_VALUE_MSG))


def _meta(resource: str, meta: Obj, causes: list[Cause]) -> None:
    _name(resource, meta, causes)
    _labels(meta.get("labels"), "metadata.labels", causes)
    for key in meta.get("annotations") or {}:
        _qualified_key(key.lower(), "metadata.annotations", causes)


def _containers(spec: Obj, path: str, causes: list[Cause]) -> None:
    if not spec.get("containers"):
        causes.append(required(f"{path}.containers"))
    seen: set[str] = set()
    for key in ("initContainers", "containers"):
        for i, container in enumerate(spec.get(key) or []):
            field = f"{path}.{key}[{i}]"
            name = container.get("name")
            if name:
                if not _DNS1123_LABEL.match(name) or len(name) > 63:
                    causes.append(invalid(f"{field}.name", name, LABEL_MSG))
                elif name in seen:
                    causes.append(
                        {
                            "reason": "FieldValueDuplicate",
                            "message": f"Duplicate value: {go_value(name)}",
                            "field": f"{field}.name",
                        }
                    )
                seen.add(name)
            if not container.get("image"):
                causes.append(required(f"{field}.image"))
            for j, port in enumerate(container.get("ports") or []):
                number = port.get("containerPort")
                if isinstance(number, int) and not 0 < number < 65536:
                    causes.append(
                        invalid(
                            f"{field}.ports[{j}].containerPort",
                            number,
                            "must be between 1 and 65535, inclusive",
                        )
                    )


def _non_negative(value: Any, field: str, causes: list[Cause]) -> None:
    if isinstance(value, int) and value < 0:
        causes.append(invalid(field, value, "must be greater than or equal to 0"))


def _workload(resource: str, obj: Obj, causes: list[Cause]) -> None:
    spec = obj.get("spec") or {}
    _non_negative(spec.get("replicas"), "spec.replicas", causes)
    _non_negative(spec.get("minReadySeconds"), "spec.minReadySeconds", causes)
    _non_negative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit", causes)
    if resource == "jobs":
        # a Job's selector is generated; its pods must not restart in place
        pod_spec = (spec.get("template") or {}).get("spec") or {}
        _containers(pod_spec, "spec.template.spec", causes)
        _restart_policy(pod_spec.get("restartPolicy"), ("OnFailure", "Never"), causes)
        return
    selector = spec.get("selector")
    if selector is None:
        causes.append(required("spec.selector"))
    elif not selector.get("matchLabels") and not selector.get("matchExpressions"):
        causes.append(invalid("spec.selector", selector, f"empty selector is invalid for {resource[:-1]}"))
    template = spec.get("template") or {}
    template_labels = (template.get("metadata") or {}).get("labels") or {}
    _labels(template_labels, "spec.template.metadata.labels", causes)
    match = (selector or {}).get("matchLabels") or {}
    if selector and any(template_labels.get(k) != v for k, v in match.items()):
        causes.append(
            invalid(
                "spec.template.metadata.labels",
                template_labels,
                "`selector` does not match template `labels`",
            )
        )
    pod_spec = template.get("spec") or {}
    _containers(pod_spec, "spec.template.spec", causes)
    if resource in ("deployments", "replicasets"):
        _restart_policy(pod_spec.get("restartPolicy"), ("Always",), causes)


def _restart_policy(policy: Any, allowed: tuple[str, ...], causes: list[Cause]) -> None:
    if policy is not None and policy not in allowed:
        supported = ", ".join(f'"{p}"' for p in allowed)
        causes.append(
            {
                "reason": "FieldValueNotSupported",
                "message": f"Unsupported value: {go_value(policy)}: supported values: {supported}",
                "field": "spec.template.spec.restartPolicy",
            }
        )


def validate_object(
    resource: str, obj: Obj, model: str | None, *, subresource: str | None = None
) -> list[Cause]:
    """The field errors of a decoded object written to ``resource`` (empty = valid)."""
    causes: list[Cause] = []
    meta = obj.get("metadata") or {}
    if subresource is None:
        _meta(resource, meta, causes)
    if model is not None:
        skip = frozenset({"status"}) if subresource is None else frozenset()
        _required_fields(obj, TypeRef("model", model), "", causes, skip)
    if subresource is not None:
        return causes
    if resource in _WORKLOADS:
        _workload(resource, obj, causes)
    elif resource == "pods":
        _containers(obj.get("spec") or {}, "spec", causes)
    elif resource == "services":
        for i, port in enumerate((obj.get("spec") or {}).get("ports") or []):
            number = port.get("port")
            if isinstance(number, int) and not 0 < number < 65536:
                causes.append(
                    invalid(f"spec.ports[{i}].port", number, "must be between 1 and 65535, inclusive")
                )
    return causes


def _pod_spec_mutable_view(spec: Obj, old: Obj) -> Obj:
    """``spec`` with what a pod update may change replaced by the old values."""
    view: Obj = json.loads(json.dumps(spec))
    for key in ("containers", "initContainers"):
        olds = old.get(key) or []
        for i, container in enumerate(view.get(key) or []):
            if i < len(olds) and "image" in olds[i]:
                container["image"] = olds[i]["image"]
    for key in ("activeDeadlineSeconds", "terminationGracePeriodSeconds"):
        if key in old:
            view[key] = old[key]
        else:
            view.pop(key, None)
    old_tolerations = old.get("tolerations") or []
    if all(t in (view.get("tolerations") or []) for t in old_tolerations):
        if "tolerations" in old:
            view["tolerations"] = old["tolerations"]
        else:
            view.pop("tolerations", None)
    return view


def validate_update(resource: str, new: Obj, old: Obj) -> list[Cause]:
    """The errors of changing ``old`` into ``new`` (immutable fields)."""
    causes: list[Cause] = []
    new_spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
    if resource in ("deployments", "replicasets", "statefulsets", "daemonsets"):
        selector = new_spec.get("selector")
        if selector != old_spec.get("selector"):
            causes.append(invalid("spec.selector", selector, "field is immutable"))
    elif resource == "pods" and _pod_spec_mutable_view(new_spec, old_spec) != old_spec:
        changed = sorted(k for k in set(new_spec) | set(old_spec) if new_spec.get(k) != old_spec.get(k))
        causes.append(forbidden("spec", f"{POD_UPDATE_MSG} (changed: {', '.join(changed)})"))
    elif resource in ("configmaps", "secrets") and old.get("immutable") is True:
        for key in ("data", "binaryData", "stringData", "immutable"):
            if new.get(key) != old.get(key) and not (key == "stringData" and not new.get(key)):
                causes.append(forbidden(key, "field is immutable when `immutable` is set"))
    elif resource == "services":
        old_ip, new_ip = old_spec.get("clusterIP"), new_spec.get("clusterIP")
        if old_ip and new_ip and new_ip != old_ip:
            causes.append(invalid("spec.clusterIPs[0]", [new_ip], "may not change once set"))
    return causes
