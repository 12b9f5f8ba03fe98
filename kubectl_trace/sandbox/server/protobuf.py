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
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "MAGIC",
    "Field",
    "UnsupportedProtobuf",
    "decode_object",
    "message_fields",
    "parse_schema",
    "unwrap",
]

MAGIC = b"k8s\x00"


class UnsupportedProtobuf(ValueError):
    """A protobuf body this server cannot read."""


# The messages this server reads, as in ``k8s.io/api/*/generated.proto``: ``TYPE NAME = NUMBER``,
# ``repeated`` for lists, ``map<string, TYPE>``, and ``optional`` for pointer fields, whose zero
# value means something (a non-pointer field is always marshalled, so its zero means "unset" and is
# dropped, as JSON's omitempty does). PodSpec also has the fields a defaulted template carries
# (``kubectl create job --from=cronjob/NAME`` sends one).
_PROTO = """
Unknown { TypeMeta typeMeta = 1; bytes raw = 2; string contentEncoding = 3;
    string contentType = 4; }
TypeMeta { string apiVersion = 1; string kind = 2; }
ObjectMeta { string name = 1; string generateName = 2; string namespace = 3; string selfLink = 4;
    string uid = 5; string resourceVersion = 6; int64 generation = 7; Time creationTimestamp = 8;
    Time deletionTimestamp = 9; optional int64 deletionGracePeriodSeconds = 10;
    map<string, string> labels = 11; map<string, string> annotations = 12;
    repeated OwnerReference ownerReferences = 13; repeated string finalizers = 14; }
OwnerReference { string kind = 1; string name = 3; string uid = 4; string apiVersion = 5;
    optional bool controller = 6; optional bool blockOwnerDeletion = 7; }
Time { int64 seconds = 1; int32 nanos = 2; }
Namespace { ObjectMeta metadata = 1; NamespaceSpec spec = 2; NamespaceStatus status = 3; }
NamespaceSpec { repeated string finalizers = 1; }
NamespaceStatus { string phase = 1; }
ConfigMap { ObjectMeta metadata = 1; map<string, string> data = 2;
    map<string, bytes> binaryData = 3; optional bool immutable = 4; }
Secret { ObjectMeta metadata = 1; map<string, bytes> data = 2; string type = 3;
    map<string, string> stringData = 4; optional bool immutable = 5; }
Service { ObjectMeta metadata = 1; ServiceSpec spec = 2; ServiceStatus status = 3; }
ServiceSpec { repeated ServicePort ports = 1; map<string, string> selector = 2;
    string clusterIP = 3; string type = 4; repeated string externalIPs = 5;
    string sessionAffinity = 7; string loadBalancerIP = 8;
    repeated string loadBalancerSourceRanges = 9; string externalName = 10;
    string externalTrafficPolicy = 11; bool publishNotReadyAddresses = 13;
    optional string ipFamilyPolicy = 17; repeated string clusterIPs = 18;
    repeated string ipFamilies = 19; optional bool allocateLoadBalancerNodePorts = 20;
    optional string internalTrafficPolicy = 22; }
ServicePort { string name = 1; string protocol = 2; int32 port = 3; IntOrString targetPort = 4;
    int32 nodePort = 5; string appProtocol = 6; }
ServiceStatus { LoadBalancerStatus loadBalancer = 1; }
LoadBalancerStatus {}
IntOrString { int64 type = 1; int32 intVal = 2; string strVal = 3; }
Deployment { ObjectMeta metadata = 1; DeploymentSpec spec = 2; DeploymentStatus status = 3; }
DeploymentSpec { optional int32 replicas = 1; LabelSelector selector = 2;
    PodTemplateSpec template = 3; DeploymentStrategy strategy = 4; int32 minReadySeconds = 5;
    optional int32 revisionHistoryLimit = 6; bool paused = 7;
    optional int32 progressDeadlineSeconds = 9; }
DeploymentStrategy { string type = 1; RollingUpdateDeployment rollingUpdate = 2; }
RollingUpdateDeployment { IntOrString maxUnavailable = 1; IntOrString maxSurge = 2; }
DeploymentStatus {}
LabelSelector { map<string, string> matchLabels = 1;
    repeated LabelSelectorRequirement matchExpressions = 2; }
LabelSelectorRequirement { string key = 1; string operator = 2; repeated string values = 3; }
PodTemplateSpec { ObjectMeta metadata = 1; PodSpec spec = 2; }
PodSpec { repeated Container containers = 2; string restartPolicy = 3;
    optional int64 terminationGracePeriodSeconds = 4; optional int64 activeDeadlineSeconds = 5;
    string dnsPolicy = 6; map<string, string> nodeSelector = 7; string serviceAccountName = 8;
    string serviceAccount = 9; string nodeName = 10; bool hostNetwork = 11;
    PodSecurityContext securityContext = 14; repeated LocalObjectReference imagePullSecrets = 15;
    string hostname = 16; string subdomain = 17; string schedulerName = 19;
    repeated Container initContainers = 20; optional bool automountServiceAccountToken = 21;
    repeated Toleration tolerations = 22; string priorityClassName = 24;
    optional int32 priority = 25; optional bool enableServiceLinks = 30;
    string preemptionPolicy = 31; }
PodSecurityContext {}
Toleration { string key = 1; string operator = 2; string value = 3; string effect = 4;
    optional int64 tolerationSeconds = 5; }
LocalObjectReference { string name = 1; }
Container { string name = 1; string image = 2; repeated string command = 3;
    repeated string args = 4; string workingDir = 5; repeated ContainerPort ports = 6;
    repeated EnvVar env = 7; ResourceRequirements resources = 8; string terminationMessagePath = 13;
    string imagePullPolicy = 14; bool stdin = 16; bool stdinOnce = 17; bool tty = 18;
    string terminationMessagePolicy = 20; }
ContainerPort { string name = 1; int32 hostPort = 2; int32 containerPort = 3; string protocol = 4;
    string hostIP = 5; }
EnvVar { string name = 1; string value = 2; }
ResourceRequirements { map<string, Quantity> limits = 1; map<string, Quantity> requests = 2; }
Quantity { string string = 1; }
Job { ObjectMeta metadata = 1; JobSpec spec = 2; JobStatus status = 3; }
JobSpec { optional int32 parallelism = 1; optional int32 completions = 2;
    optional int64 activeDeadlineSeconds = 3; LabelSelector selector = 4;
    optional bool manualSelector = 5; PodTemplateSpec template = 6; optional int32 backoffLimit = 7;
    optional int32 ttlSecondsAfterFinished = 8; string completionMode = 9;
    optional bool suspend = 10; }
JobStatus {}
JobTemplateSpec { ObjectMeta metadata = 1; JobSpec spec = 2; }
CronJob { ObjectMeta metadata = 1; CronJobSpec spec = 2; CronJobStatus status = 3; }
CronJobSpec { string schedule = 1; optional int64 startingDeadlineSeconds = 2;
    string concurrencyPolicy = 3; optional bool suspend = 4; JobTemplateSpec jobTemplate = 5;
    optional int32 successfulJobsHistoryLimit = 6; optional int32 failedJobsHistoryLimit = 7;
    string timeZone = 8; }
CronJobStatus {}
"""
_S, _B, _I32, _I64, _BOOL = "string", "bytes", "int32", "int64", "bool"


@dataclass(frozen=True)
class Field:
    """One field of a message."""

    name: str  # the JSON name
    kind: str  # a scalar type, a message name, or ``map:VALUE``
    repeated: bool = False
    pointer: bool = False


_MESSAGE = re.compile(r"(\w+) \{(.*?)\}", re.S)
_FIELD = re.compile(r"(optional |repeated )?(map<string, (\w+)>|\w+) (\w+) = (\d+)")


def parse_schema(text: str) -> dict[str, dict[int, Field]]:
    """Message name -> field number -> Field, from declarations written as in ``_PROTO``.

    Raises ValueError for a declaration it cannot read, or a type that is not declared.
    """
    schema: dict[str, dict[int, Field]] = {}
    for name, body in _MESSAGE.findall(text):
        fields: dict[int, Field] = {}
        for label, kind, map_value, json_name, number in _FIELD.findall(body):
            kind = f"map:{map_value}" if map_value else kind
            fields[int(number)] = Field(json_name, kind, label == "repeated ", label == "optional ")
        if _FIELD.sub("", body).replace(";", "").strip():
            raise ValueError(f"protobuf schema: cannot read message {name}: {body.strip()}")
        schema[name] = fields
    scalars = {_S, _B, _I32, _I64, _BOOL}
    for name, fields in schema.items():
        for f in fields.values():
            kind = f.kind.removeprefix("map:")
            if kind not in scalars and kind not in schema:
                raise ValueError(f"protobuf schema: {name}.{f.name} has an undeclared type {kind}")
    return schema


_SCHEMA = parse_schema(_PROTO)

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


def message_fields(data: bytes) -> list[tuple[int, int, Any]]:
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
    for number, wire, raw in message_fields(data):
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
    for number, wire, raw in message_fields(data):
        spec = schema.get(number)
        if spec is None:
            if raw in (0, b""):
                continue  # an unset non-pointer field, always marshalled
            raise UnsupportedProtobuf(f"field {number} of {name} is not supported")
        json_name, kind, repeated = spec.name, spec.kind, spec.repeated
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
            if not repeated and value in ("", 0, False) and not spec.pointer:
                continue
        if repeated:
            out.setdefault(json_name, []).append(value)
        else:
            out[json_name] = value
    return out


def unwrap(body: bytes) -> tuple[str, str, bytes]:
    """(apiVersion, kind, the object's bytes) of a body in the ``k8s`` + NUL + Unknown envelope."""
    if not body.startswith(MAGIC):
        raise UnsupportedProtobuf("the body does not start with the Kubernetes protobuf magic number")
    envelope = _message("Unknown", body[len(MAGIC) :])
    if envelope.get("contentEncoding"):
        raise UnsupportedProtobuf("encoded protobuf bodies are not supported")
    type_meta = envelope.get("typeMeta") or {}
    raw = base64.b64decode(envelope.get("raw", ""))
    return type_meta.get("apiVersion", ""), type_meta.get("kind", ""), raw


def decode_object(body: bytes) -> dict[str, Any]:
    """A protobuf-encoded object (with the ``k8s`` + NUL envelope) as its JSON dict."""
    api_version, kind, raw = unwrap(body)
    if (api_version, kind) not in _KINDS:
        raise UnsupportedProtobuf(
            f"protobuf bodies of {kind or 'this kind'} ({api_version}) are not supported"
        )
    return {"kind": kind, "apiVersion": api_version, **_message(kind, raw)}
