"""Who is asking and what they may do: the sandbox's users, RBAC answers and self reviews.

Two bearer tokens go into the kubeconfig: the sandbox's own (user ``sandbox-admin`` in
``system:masters``, may do everything) and a read-only one (context ``sandbox-readonly``,
user ``viewer``) with the rights of the ``view`` ClusterRole: get, list and watch on
everything but Secrets, no exec, port-forward, proxy or admin endpoints. A request the
user may not make gets the real ``403 Forbidden`` Status. Served here:
``authorization.k8s.io/v1`` SelfSubjectAccessReview and SelfSubjectRulesReview (``kubectl
auth can-i [--list]``) and ``authentication.k8s.io/v1`` SelfSubjectReview (``kubectl auth
whoami``).
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubectl_trace.sandbox.server.protobuf import message_fields, unwrap
from kubectl_trace.sandbox.server.responses import json_response
from kubectl_trace.sandbox.store import StoreError

if TYPE_CHECKING:
    from aiohttp import web

    from kubectl_trace.sandbox.server.routes import Route

__all__ = [
    "ADMIN",
    "READONLY_CONTEXT",
    "VIEWER",
    "User",
    "Users",
    "allowed",
    "forbidden",
    "is_identity_path",
    "serve_identity",
]

READONLY_CONTEXT = "sandbox-readonly"
_READ_VERBS = frozenset({"get", "list", "watch"})
_AUTHZ = "/apis/authorization.k8s.io/v1/"
_AUTHN = "/apis/authentication.k8s.io/v1/"
# what the view ClusterRole does not grant even for reading
_HIDDEN = frozenset(
    {"secrets", "pods/exec", "pods/portforward", "pods/attach", "pods/proxy", "services/proxy"}
)
_SELF_REVIEWS = frozenset({"selfsubjectaccessreviews", "selfsubjectrulesreviews", "selfsubjectreviews"})


@dataclass(frozen=True)
class User:
    """An authenticated user."""

    name: str
    groups: tuple[str, ...]
    read_only: bool = False
    uid: str = ""


ADMIN = User("sandbox-admin", ("system:masters", "system:authenticated"), uid="sandbox-admin")
VIEWER = User("viewer", ("nodeapp:viewers", "system:authenticated"), read_only=True, uid="sandbox-viewer")


class Users:
    """Bearer token → user."""

    def __init__(self) -> None:
        self._tokens: list[tuple[bytes, User]] = []

    def add(self, token: str, user: User) -> None:
        """Accept ``token`` as ``user``."""
        self._tokens.append((token.encode("utf-8"), user))

    def by_token(self, given: str) -> User | None:
        """The user of a token (every entry compared in constant time)."""
        found: User | None = None
        raw = given.encode("utf-8")
        for token, user in self._tokens:
            if hmac.compare_digest(raw, token) and found is None:
                found = user
        return found

    def authenticate(self, header: str) -> User | None:
        """The user of an ``Authorization`` header, None when it names none."""
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        return self.by_token(given.strip())


def _resource_name(resource: str, subresource: str) -> str:
    return f"{resource}/{subresource}" if subresource else resource


def allowed(user: User, verb: str, group: str, resource: str, subresource: str = "") -> bool:
    """RBAC's answer for a resource request."""
    if not user.read_only:
        return True
    if group == "authorization.k8s.io" and resource in _SELF_REVIEWS and verb == "create":
        return True
    if group == "authentication.k8s.io" and resource == "selfsubjectreviews" and verb == "create":
        return True
    return verb in _READ_VERBS and _resource_name(resource, subresource) not in _HIDDEN


def allowed_path(user: User, verb: str, path: str) -> bool:
    """RBAC's answer for a non-resource URL (discovery, /version, /healthz, /sandbox/…)."""
    if not user.read_only:
        return True
    return verb == "get" and not path.startswith("/sandbox")


def forbidden(
    user: User, verb: str, group: str, resource: str, subresource: str, namespace: str, name: str
) -> StoreError:
    """The API server's 403 for a resource request."""
    what = f"{resource}.{group}" if group else resource
    subject = f'{what} "{name}"' if name else what
    where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    details: dict[str, Any] = {"kind": resource}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    return StoreError(
        403,
        "Forbidden",
        f'{subject} is forbidden: User "{user.name}" cannot {verb} resource '
        f'"{_resource_name(resource, subresource)}" in API group "{group}" {where}',
        details=details,
    )


def forbidden_path(user: User, verb: str, path: str) -> StoreError:
    """The API server's 403 for a non-resource URL."""
    return StoreError(
        403, "Forbidden", f'forbidden: User "{user.name}" cannot {verb} path "{path}"', details={}
    )


def rbac_verb(method: str, verb: str, route: Route) -> str:
    """The verb RBAC checks: connect subresources are ``create`` (``get`` for proxy GETs)."""
    if route.subresource in ("exec", "attach", "portforward"):
        return "create"
    if route.subresource == "proxy":
        return {"GET": "get", "HEAD": "get", "POST": "create", "PUT": "update", "PATCH": "patch"}.get(
            method, "delete" if method == "DELETE" else "get"
        )
    return verb


def check(user: User, method: str, verb: str, route: Route) -> None:
    """Raise the 403 for a request ``user`` may not make."""
    if not user.read_only:
        return
    if route.kind == "resource" and route.resource is not None:
        rverb = rbac_verb(method, verb, route)
        res = route.resource
        sub = route.subresource or ""
        if not allowed(user, rverb, res.group, res.plural, sub):
            name = route.name or ""
            if sub == "proxy" and name:
                name = name.split(":")[1] if name.count(":") == 2 else name.split(":")[0]
            raise forbidden(user, rverb, res.group, res.plural, sub, route.namespace or "", name)
        return
    if is_identity_path(route.path):
        return
    if not allowed_path(user, verb, route.path):
        raise forbidden_path(user, verb, route.path)


def is_identity_path(path: str) -> bool:
    """Whether ``path`` is one of the review endpoints served here."""
    return path.rstrip("/") in (
        _AUTHZ + "selfsubjectaccessreviews",
        _AUTHZ + "selfsubjectrulesreviews",
        _AUTHN + "selfsubjectreviews",
    )


def _rules(user: User) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    if not user.read_only:
        return (
            [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
        )
    from kubectl_trace.kube.resources import RESOURCES

    by_group: dict[str, list[str]] = {}
    for res in RESOURCES.values():
        names = [res.plural] + [f"{res.plural}/{s}" for s in res.subresources]
        for item in names:
            if item not in _HIDDEN:
                by_group.setdefault(res.group, []).append(item)
    rules: list[dict[str, Any]] = [
        {"verbs": ["create"], "apiGroups": ["authorization.k8s.io"],
         "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]},
        {"verbs": ["create"], "apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"]},
    ]  # fmt: skip
    for group in sorted(by_group):
        resources = sorted(by_group[group])
        rules.append({"verbs": ["get", "list", "watch"], "apiGroups": [group], "resources": resources})
    non_resource = [
        {"verbs": ["get"], "nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez",
                                               "/openapi", "/openapi/*", "/readyz", "/version", "/version/"]},
    ]  # fmt: skip
    return rules, non_resource


# the review messages kubectl's typed client sends (k8s.io/api/authorization/v1 and
# authentication/v1 generated.proto): field number → (JSON name, message or None for string)
_PROTO: dict[str, dict[int, tuple[str, str | None]]] = {
    "Review": {1: ("metadata", "ObjectMeta"), 2: ("spec", "Spec")},
    "RulesReview": {1: ("metadata", "ObjectMeta"), 2: ("spec", "RulesSpec")},
    "ObjectMeta": {1: ("name", None)},
    "Spec": {1: ("resourceAttributes", "ResourceAttributes"), 2: ("nonResourceAttributes", "NonResource")},
    "RulesSpec": {1: ("namespace", None)},
    "ResourceAttributes": {
        1: ("namespace", None), 2: ("verb", None), 3: ("group", None), 4: ("version", None),
        5: ("resource", None), 6: ("subresource", None), 7: ("name", None),
    },
    "NonResource": {1: ("path", None), 2: ("verb", None)},
}  # fmt: skip


def _proto_message(name: str, data: bytes) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for number, wire, value in message_fields(data):
        spec = _PROTO[name].get(number)
        if spec is None or wire != 2:
            continue
        field_name, message = spec
        out[field_name] = _proto_message(message, value) if message else bytes(value).decode("utf-8")
    return out


def _decode_review(body: bytes) -> dict[str, Any]:
    """A protobuf self review (``k8s`` + NUL + runtime.Unknown) as its JSON dict."""
    _api_version, kind, raw = unwrap(body)
    return _proto_message("RulesReview" if kind == "SelfSubjectRulesReview" else "Review", raw)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _review(kind: str, group: str, body: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
    spec = _object(body.get("spec"))
    meta = _object(body.get("metadata"))
    answer: dict[str, Any] = {
        "kind": kind,
        "apiVersion": f"{group}/v1",
        "metadata": {"creationTimestamp": None, **{k: v for k, v in meta.items() if k == "name"}},
    }
    if kind != "SelfSubjectReview":
        answer["spec"] = spec
    answer["status"] = status
    return answer


def _access_status(user: User, spec: dict[str, Any]) -> dict[str, Any]:
    resource = spec.get("resourceAttributes")
    non_resource = spec.get("nonResourceAttributes")
    if isinstance(resource, dict):
        ok = allowed(
            user,
            str(resource.get("verb", "")),
            str(resource.get("group", "")),
            str(resource.get("resource", "")),
            str(resource.get("subresource", "")),
        )
        if user.read_only and "*" in (resource.get("resource"), resource.get("group")):
            ok = False  # the view role names its resources; it grants no wildcard
    elif isinstance(non_resource, dict):
        ok = allowed_path(user, str(non_resource.get("verb", "")), str(non_resource.get("path", "")))
    else:
        problem = (
            'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes '
            "must be specified"
        )
        cause = {"reason": "FieldValueInvalid", "field": "spec.resourceAttributes", "message": problem}
        raise StoreError(
            422,
            "Invalid",
            f'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: {problem}',
            details={"kind": "SelfSubjectAccessReview", "group": "authorization.k8s.io", "causes": [cause]},
        )
    if not ok:
        return {"allowed": False}
    binding = (
        'ClusterRoleBinding "nodeapp-viewers" of ClusterRole "view" to Group "nodeapp:viewers"'
        if user.read_only
        else 'ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to Group "system:masters"'
    )
    return {"allowed": True, "reason": f"RBAC: allowed by {binding}"}


async def serve_identity(user: User, request: web.Request) -> web.StreamResponse:
    """POST one of the self reviews: the answer for the requesting user."""
    path = request.path.rstrip("/")
    if request.method != "POST":
        raise StoreError(
            405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
        )
    raw = await request.read()
    try:
        if request.content_type == "application/vnd.kubernetes.protobuf":
            body = _decode_review(raw)
        else:
            body = json.loads(raw or b"{}")
    except ValueError as exc:
        raise StoreError.bad_request(f"the request body cannot be decoded: {exc}") from None
    if not isinstance(body, dict):
        raise StoreError.bad_request("the request body must be an object")
    spec = _object(body.get("spec"))
    if path.endswith("/selfsubjectaccessreviews"):
        answer = _review("SelfSubjectAccessReview", "authorization.k8s.io", body, _access_status(user, spec))
    elif path.endswith("/selfsubjectrulesreviews"):
        rules, non_resource = _rules(user)
        status = {"resourceRules": rules, "nonResourceRules": non_resource, "incomplete": False}
        answer = _review("SelfSubjectRulesReview", "authorization.k8s.io", body, status)
    else:
        info: dict[str, Any] = {"username": user.name, "uid": user.uid, "groups": list(user.groups)}
        answer = _review("SelfSubjectReview", "authentication.k8s.io", body, {"userInfo": info})
    return json_response(answer, status=201)
