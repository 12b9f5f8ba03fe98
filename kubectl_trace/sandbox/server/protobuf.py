"""Decoding the protobuf bodies of kubectl's typed ``create`` commands into JSON objects.

kubectl sends ``Content-Type: application/vnd.kubernetes.protobuf`` for ``create
namespace|configmap|secret|service|deployment|job|cronjob`` (typed
clients) and does not retry in JSON
on a 415. The envelope is ``k8s`` + NUL + ``runtime.Unknown{typeMeta, raw}``; ``raw`` is the
object in the field numbering of ``k8s.io/api/*/generated.proto``. This module knows the
messages those generators fill (ObjectMeta, Namespace, ConfigMap, Secret, Service,
Deployment with its pod template) — a field outside them is an ``UnsupportedProtobuf``,
which the server answers with a 415 that says to send JSON (``kubectl apply -f``).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

__all__ = ["MAGIC", "UnsupportedProtobuf", "decode_object"]

MAGIC = b"k8s\x00"


class UnsupportedProtobuf(ValueError):
    """A protobuf body this server cannot read."""


# message → field number → (JSON name, type, repeated)
Field = tuple[str, str, bool]
_S, _B, _I32, _I64, _BOOL = "string", "bytes", "int32", "int64", "bool"

_SCHEMA: dict[str, dict[int, Field]] = {
    "Unknown": {
        1: ("typeMeta", "TypeMeta", False),
        2: ("raw", _B, False),
        3: ("contentEncoding", _S, False),
        4: ("contentType", _S, False),
    },
    "TypeMeta": {1: ("apiVersion", _S, False), 2: ("kind", _S, False)},
    "ObjectMeta": {
        1: ("name", _S, False),
        2: ("generateName", _S, False),
        3: ("namespace", _S, False),
        4: ("selfLink", _S, False),
        5: ("uid", _S, False),
        6: ("resourceVersion", _S, False),
        7: ("generation", _I64, False),
        8: ("creationTimestamp", "Time", False),
        9: ("deletionTimestamp", "Time", False),
        10: ("deletionGracePeriodSeconds", _I64, False),
        11: ("labels", "map:string", False),
        12: ("annotations", "map:string", False),
        13: ("ownerReferences", "OwnerReference", True),
        14: ("finalizers", _S, True),
    },
    "OwnerReference": {
        1: ("kind", _S, False),
        3: ("name", _S, False),
        4: ("uid", _S, False),
        5: ("apiVersion", _S, False),
        6: ("controller", _BOOL, False),
        7: ("blockOwnerDeletion", _BOOL, False),
    },
    "Time": {1: ("seconds", _I64, False), 2: ("nanos", _I32, False)},
    "Namespace": {
        1: ("metadata", "ObjectMeta", False),
        2: ("spec", "NamespaceSpec", False),
        3: ("status", "NamespaceStatus", False),
    },
    "NamespaceSpec": {1: ("finalizers", _S, True)},
    "NamespaceStatus": {1: ("phase", _S, False)},
    "ConfigMap": {
        1: ("metadata", "ObjectMeta", False),
        2: ("data", "map:string", False),
        3: ("binaryData", "map:bytes", False),
        4: ("immutable", _BOOL, False),
    },
    "Secret": {
        1: ("metadata", "ObjectMeta", False),
        2: ("data", "map:bytes", False),
        3: ("type", _S, False),
        4: ("stringData", "map:string", False),
        5: ("immutable", _BOOL, False),
    },
    "Service": {
        1: ("metadata", "ObjectMeta", False),
        2: ("spec", "ServiceSpec", False),
        3: ("status", "ServiceStatus", False),
    },
    "ServiceSpec": {
        1: ("ports", "ServicePort", True),
        2: ("selector", "map:string", False),
        3: ("clusterIP", _S, False),
        4: ("type", _S, False),
        5: ("externalIPs", _S, True),
        7: ("sessionAffinity", _S, False),
        8: ("loadBalancerIP", _S, False),
        9: ("loadBalancerSourceRanges", _S, True),
        10: ("externalName", _S, False),
        11: ("externalTrafficPolicy", _S, False),
        13: ("publishNotReadyAddresses", _BOOL, False),
        17: ("ipFamilyPolicy", _S, False),
        18: ("clusterIPs", _S, True),
        19: ("ipFamilies", _S, True),
        20: ("allocateLoadBalancerNodePorts", _BOOL, False),
        22: ("internalTrafficPolicy", _S, False),
    },
    "ServicePort": {
        1: ("name", _S, False),
        2: ("protocol", _S, False),
        3: ("port", _I32, False),
        4: ("targetPort", "IntOrString", False),
        5: ("nodePort", _I32, False),
        6: ("appProtocol", _S, False),
    },
    "ServiceStatus": {1: ("loadBalancer", "LoadBalancerStatus", False)},
    "LoadBalancerStatus": {},
    "IntOrString": {1: ("type", _I64, False), 2: ("intVal", _I32, False), 3: ("strVal", _S, False)},
    "Deployment": {
        1: ("metadata", "ObjectMeta", False),
        2: ("spec", "DeploymentSpec", False),
        3: ("status", "DeploymentStatus", False),
    },
    "DeploymentSpec": {
        1: ("replicas", _I32, False),
        2: ("selector", "LabelSelector", False),
        3: ("template", "PodTemplateSpec", False),
        4: ("strategy", "DeploymentStrategy", False),
        5: ("minReadySeconds", _I32, False),
        6: ("revisionHistoryLimit", _I32, False),
        7: ("paused", _BOOL, False),
        9: ("progressDeadlineSeconds", _I32, False),
    },
    "DeploymentStrategy": {1: ("type", _S, False), 2: ("rollingUpdate", "RollingUpdateDeployment", False)},
    "RollingUpdateDeployment": {
        1: ("maxUnavailable", "IntOrString", False),
        2: ("maxSurge", "IntOrString", False),
    },
    "DeploymentStatus": {},
    "LabelSelector": {
        1: ("matchLabels", "map:string", False),
        2: ("matchExpressions", "LabelSelectorRequirement", True),
    },
    "LabelSelectorRequirement": {1: ("key", _S, False), 2: ("operator", _S, False), 3: ("values", _S, True)},
    "PodTemplateSpec": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "PodSpec", False)},
    "PodSpec": {
        2: ("containers", "Container", True),
        3: ("restartPolicy", _S, False),
        4: ("terminationGracePeriodSeconds", _I64, False),
        6: ("dnsPolicy", _S, False),
        7: ("nodeSelector", "map:string", False),
        8: ("serviceAccountName", _S, False),
        9: ("serviceAccount", _S, False),
        10: ("nodeName", _S, False),
        11: ("hostNetwork", _BOOL, False),
        15: ("imagePullSecrets", "LocalObjectReference", True),
        16: ("hostname", _S, False),
        17: ("subdomain", _S, False),
        19: ("schedulerName", _S, False),
        20: ("initContainers", "Container", True),
        # what a defaulted template carries (kubectl create job --from=cronjob/NAME sends it)
        5: ("activeDeadlineSeconds", _I64, False),
        14: ("securityContext", "PodSecurityContext", False),
        21: ("automountServiceAccountToken", _BOOL, False),
        22: ("tolerations", "Toleration", True),
        24: ("priorityClassName", _S, False),
        25: ("priority", _I32, False),
        30: ("enableServiceLinks", _BOOL, False),
        31: ("preemptionPolicy", _S, False),
    },
    "PodSecurityContext": {},
    "Toleration": {
        1: ("key", _S, False),
        2: ("operator", _S, False),
        3: ("value", _S, False),
        4: ("effect", _S, False),
        5: ("tolerationSeconds", _I64, False),
    },
    "LocalObjectReference": {1: ("name", _S, False)},
    "Container": {
        1: ("name", _S, False),
        2: ("image", _S, False),
        3: ("command", _S, True),
        4: ("args", _S, True),
        5: ("workingDir", _S, False),
        6: ("ports", "ContainerPort", True),
        7: ("env", "EnvVar", True),
        8: ("resources", "ResourceRequirements", False),
        13: ("terminationMessagePath", _S, False),
        14: ("imagePullPolicy", _S, False),
        16: ("stdin", _BOOL, False),
        17: ("stdinOnce", _BOOL, False),
        18: ("tty", _BOOL, False),
        20: ("terminationMessagePolicy", _S, False),
    },
    "ContainerPort": {
        1: ("name", _S, False),
        2: ("hostPort", _I32, False),
        3: ("containerPort", _I32, False),
        4: ("protocol", _S, False),
        5: ("hostIP", _S, False),
    },
    "EnvVar": {1: ("name", _S, False), 2: ("value", _S, False)},
    "ResourceRequirements": {1: ("limits", "map:Quantity", False), 2: ("requests", "map:Quantity", False)},
    "Quantity": {1: ("string", _S, False)},
    # batch/v1 (kubectl create job / cronjob)
    "Job": {
        1: ("metadata", "ObjectMeta", False),
        2: ("spec", "JobSpec", False),
        3: ("status", "JobStatus", False),
    },
    "JobSpec": {
        1: ("parallelism", _I32, False),
        2: ("completions", _I32, False),
        3: ("activeDeadlineSeconds", _I64, False),
        4: ("selector", "LabelSelector", False),
        5: ("manualSelector", _BOOL, False),
        6: ("template", "PodTemplateSpec", False),
        7: ("backoffLimit", _I32, False),
        8: ("ttlSecondsAfterFinished", _I32, False),
        9: ("completionMode", _S, False),
        10: ("suspend", _BOOL, False),
    },
    "JobStatus": {},
    "JobTemplateSpec": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "JobSpec", False)},
    "CronJob": {
        1: ("metadata", "ObjectMeta", False),
        2: ("spec", "CronJobSpec", False),
        3: ("status", "CronJobStatus", False),
    },
    "CronJobSpec": {
        1: ("schedule", _S, False),
        2: ("startingDeadlineSeconds", _I64, False),
        3: ("concurrencyPolicy", _S, False),
        4: ("suspend", _BOOL, False),
        5: ("jobTemplate", "JobTemplateSpec", False),
        6: ("successfulJobsHistoryLimit", _I32, False),
        7: ("failedJobsHistoryLimit", _I32, False),
        8: ("timeZone", _S, False),
    },
    "CronJobStatus": {},
}

# Pointer fields: their zero value is meaningful (non-pointer fields are always marshalled,
# so a zero there just means "unset" and is dropped, as JSON's omitempty does).
_POINTERS = {
    ("DeploymentSpec", "replicas"),
    ("DeploymentSpec", "revisionHistoryLimit"),
    ("DeploymentSpec", "progressDeadlineSeconds"),
    ("PodSpec", "terminationGracePeriodSeconds"),
    ("PodSpec", "activeDeadlineSeconds"),
    ("PodSpec", "automountServiceAccountToken"),
    ("PodSpec", "priority"),
    ("PodSpec", "enableServiceLinks"),
    ("Toleration", "tolerationSeconds"),
    ("ConfigMap", "immutable"),
    ("Secret", "immutable"),
    ("ServiceSpec", "allocateLoadBalancerNodePorts"),
    ("ServiceSpec", "ipFamilyPolicy"),
    ("ServiceSpec", "internalTrafficPolicy"),
    ("ObjectMeta", "deletionGracePeriodSeconds"),
    ("JobSpec", "parallelism"),
    ("JobSpec", "completions"),
    ("JobSpec", "activeDeadlineSeconds"),
    ("JobSpec", "backoffLimit"),
    ("JobSpec", "ttlSecondsAfterFinished"),
    ("JobSpec", "manualSelector"),
    ("JobSpec", "suspend"),
    ("CronJobSpec", "startingDeadlineSeconds"),
    ("CronJobSpec", "suspend"),
    ("CronJobSpec", "successfulJobsHistoryLimit"),
    ("CronJobSpec", "failedJobsHistoryLimit"),
    ("OwnerReference", "controller"),
    ("OwnerReference", "blockOwnerDeletion"),
}

_KINDS = {
    ("v1", "Namespace"),
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "Service"),
    ("apps/v1", "Deployment"),
    ("batch/v1", "Job"),
    ("batch/v1", "CronJob"),
}


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise UnsupportedProtobuf("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise UnsupportedProtobuf("varint too long")


def _signed(value: int, bits: int) -> int:
    value &= (1 << 64) - 1
    if value >= 1 << 63:
        value -= 1 << 64
    if bits == 32:
        value = ((value + (1 << 31)) % (1 << 32)) - (1 << 31)
    return value


def _fields(data: bytes) -> list[tuple[int, int, Any]]:
    """(field number, wire type, raw value) of every field of a message."""
    out: list[tuple[int, int, Any]] = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise UnsupportedProtobuf("truncated field")
            value, pos = data[pos : pos + length], pos + length
        elif wire == 1:
            value, pos = int.from_bytes(data[pos : pos + 8], "little"), pos + 8
        elif wire == 5:
            value, pos = int.from_bytes(data[pos : pos + 4], "little"), pos + 4
        else:
            raise UnsupportedProtobuf(f"unsupported wire type {wire}")
        out.append((number, wire, value))
    return out


def _scalar(kind: str, wire: int, value: Any) -> Any:
    if kind == _S:
        return bytes(value).decode("utf-8")
    if kind == _B:
        return base64.b64encode(bytes(value)).decode("ascii")
    if kind == _I32:
        return _signed(value, 32)
    if kind == _I64:
        return _signed(value, 64)
    if kind == _BOOL:
        return bool(value)
    raise UnsupportedProtobuf(f"unknown scalar type {kind}")


def _map_entry(data: bytes, value_kind: str) -> tuple[str, Any]:
    key, value = "", None
    for number, wire, raw in _fields(data):
        if number == 1:
            key = bytes(raw).decode("utf-8")
        elif number == 2:
            if value_kind == "Quantity":
                value = _message("Quantity", raw).get("string", "")
            else:
                value = _scalar(value_kind, wire, raw)
    if value is None:
        value = "" if value_kind in (_S, _B, "Quantity") else value
    return key, value


def _time(fields: dict[str, Any]) -> str | None:
    seconds = int(fields.get("seconds", 0))
    if seconds == 0 and not fields.get("nanos"):
        return None
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _message(name: str, data: bytes) -> dict[str, Any]:
    schema = _SCHEMA.get(name)
    if schema is None:
        raise UnsupportedProtobuf(f"message {name} is not supported")
    out: dict[str, Any] = {}
    for number, wire, raw in _fields(data):
        spec = schema.get(number)
        if spec is None:
            if raw in (0, b""):
                continue  # an unset non-pointer field, always marshalled
            raise UnsupportedProtobuf(f"field {number} of {name} is not supported")
        json_name, kind, repeated = spec
        if kind.startswith("map:"):
            key, value = _map_entry(raw, kind[4:])
            out.setdefault(json_name, {})[key] = value
            continue
        if kind in _SCHEMA:
            value = _message(kind, raw)
            if kind == "Time":
                value = _time(value)
                if value is None:
                    continue
            elif kind == "IntOrString":
                value = value.get("strVal", "") if value.get("type") == 1 else value.get("intVal", 0)
        elif repeated and wire == 2 and kind in (_I32, _I64, _BOOL):  # packed
            pos, items = 0, []
            while pos < len(raw):
                item, pos = _varint(raw, pos)
                items.append(_scalar(kind, 0, item))
            out.setdefault(json_name, []).extend(items)
            continue
        else:
            value = _scalar(kind, wire, raw)
            if not repeated and value in ("", 0, False) and (name, json_name) not in _POINTERS:
                continue
        if repeated:
            out.setdefault(json_name, []).append(value)
        else:
            out[json_name] = value
    return out


def decode_object(body: bytes) -> dict[str, Any]:
    """A protobuf-encoded object (with the ``k8s`` + NUL envelope) as its JSON dict."""
    if not body.startswith(MAGIC):
        raise UnsupportedProtobuf("the body does not start with the Kubernetes protobuf magic number")
    envelope = _message("Unknown", body[len(MAGIC) :])
    type_meta = envelope.get("typeMeta") or {}
    api_version, kind = type_meta.get("apiVersion", ""), type_meta.get("kind", "")
    if (api_version, kind) not in _KINDS:
        raise UnsupportedProtobuf(
            f"protobuf bodies of {kind or 'this kind'} ({api_version}) are not supported"
        )
    if envelope.get("contentEncoding"):
        raise UnsupportedProtobuf("encoded protobuf bodies are not supported")
    raw = base64.b64decode(envelope.get("raw", ""))
    obj = _message(kind, raw)
    return {"kind": kind, "apiVersion": api_version, **obj}
