"""What ``kubectl exec`` finds inside a sandbox container.

* a box per pod (``sandbox.podbox``): its own ``/app`` (the working directory, with the
  app's files), ``/tmp``, home and, where the kernel allows, its own namespaces;
* the container's environment as a kubelet builds it: the image's ``ENV`` (``PATH``,
  ``NODE_VERSION`` …), service links (``KUBERNETES_SERVICE_HOST`` …), ``envFrom`` and
  ``env`` with ``valueFrom`` resolved from Secrets, ConfigMaps and the pod's fields, and
  ``$(VAR)`` references expanded;
* ``PATH`` restricted to a per-image ``bin`` directory of links to host tools (``sh``,
  ``ls``, ``cat``, ``ps`` …), ``bash`` only where the image has it, and stand-ins for
  ``node`` / ``npm`` that answer ``--version`` with the image's versions, ``hostname``,
  and ``wget`` (``curl`` on Debian-based images) for the pod's own ports (``tools/httpget.py``).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubectl_trace.sandbox.images import ImageProfile
from kubectl_trace.sandbox.nodejs import NodeBinary
from kubectl_trace.sandbox.podbox import PodBox, PodBoxes
from kubectl_trace.sandbox.store import Store

__all__ = ["EnvError", "ExecEnvironments", "resolve_env", "service_env"]

Obj = dict[str, Any]

TOOLS = (
    "sh", "cat", "ls", "env", "printenv", "stty", "sleep", "echo", "head", "tail", "grep", "egrep",
    "ps", "true", "false", "pwd", "id", "uname", "date", "wc", "sed", "awk", "cut", "sort", "uniq",
    "tr", "find", "du", "df", "mkdir", "rm", "rmdir", "cp", "mv", "touch", "chmod", "kill", "test",
    "expr", "xargs", "which", "tee", "less", "more", "clear", "tput", "reset", "base64", "md5sum",
    "sha256sum", "nproc", "free", "whoami", "seq", "basename", "dirname", "readlink", "stat", "ln",
    "timeout", "nohup", "od", "tty", "vi", "top", "dd", "yes", "tac", "nl", "diff", "gzip", "tar",
    "uptime", "pgrep", "pkill", "watch", "hexdump", "xxd", "zcat", "gunzip", "printf", "split",
    "fold", "comm", "join", "paste", "rev", "shuf", "sync", "getconf", "mktemp", "realpath",
)  # fmt: skip
_HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_NPM = {"18.19.1": "10.2.4", "18.20.4": "10.7.0", "20.11.1": "10.2.4", "20.12.2": "10.5.0",
        "20.18.0": "10.8.2", "22.2.0": "10.7.0", "22.11.0": "10.9.0"}  # fmt: skip
_YARN = "1.22.19"


class EnvError(Exception):
    """The environment cannot be built (``CreateContainerConfigError``)."""


def _node_script(version: str) -> str:
    return f"""#!/bin/sh
# Node.js stand-in of the kubectl-nodeapp sandbox: the image carries Node.js v{version}.
V=v{version}
case "$1" in
  -v|--version) echo "$V"; exit 0 ;;
  -p|--print|-e|--eval)
    case "$2" in
      *process.versions.node*) echo "{version}"; exit 0 ;;
      *process.versions*)
        echo "{{ node: '{version}', v8: '11.3.244.8-node.17', uv: '1.46.0', modules: '115' }}"; exit 0 ;;
      *process.version*) echo "$V"; exit 0 ;;
      *process.env.*) name=$(echo "$2" | sed -n 's/.*process\\.env\\.\\([A-Za-z_][A-Za-z0-9_]*\\).*/\\1/p')
        eval "printf '%s\\n' \\"\\${{$name}}\\""; exit 0 ;;
    esac
    echo "node: the sandbox stand-in for Node.js $V cannot evaluate: $2" >&2; exit 1 ;;
  "") echo "Welcome to Node.js $V."; echo "(sandbox stand-in: no REPL here)"; exit 0 ;;
  *) echo "node: the sandbox stand-in for Node.js $V cannot run $1" >&2; exit 1 ;;
esac
"""


def _npm_script(version: str) -> str:
    return f"""#!/bin/sh
# npm stand-in of the kubectl-nodeapp sandbox.
case "$1" in
  -v|--version) echo "{version}"; exit 0 ;;
  *) echo "npm: the sandbox stand-in for npm {version} only answers --version" >&2; exit 1 ;;
esac
"""


_HOSTNAME = """#!/bin/sh
# hostname of the kubectl-nodeapp sandbox: the pod's name (its UTS namespace has it too).
case "$1" in
  -i|--ip-address|-I|--all-ip-addresses)
    ip=$(awk -v h="$HOSTNAME" '$2 == h { print $1; exit }' /etc/hosts 2>/dev/null)
    echo "${ip:-${POD_IP:-127.0.1.1}}" ;;
  -s|--short|"") echo "${HOSTNAME%%.*}" ;;
  *) echo "$HOSTNAME" ;;
esac
"""


def _httpget_script() -> str:
    """``wget``/``curl`` for the pod's own ports: the shipped script under this Python."""
    source = (Path(__file__).parent / "tools" / "httpget.py").read_text(encoding="utf-8")
    return f"#!{os.path.realpath(sys.executable)} -I\n{source}"


def _pod_key(namespace: str, pod: str, uid: str) -> str:
    return f"{namespace}_{pod}_{uid[:8]}"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


class ExecEnvironments:
    """Per-pod boxes (``podbox``) and per-image tool directories under one root."""

    def __init__(self, root: str, isolation: str | None = None, *, node: NodeBinary | None = None) -> None:
        self.root = Path(root)
        self._bins: dict[str, str] = {}
        self.node = node  # real Node.js containers: the images' node is this binary
        self.boxes = PodBoxes(self.root / "pods", isolation, extra_binds=[node.directory] if node else [])

    def bin_dir(self, profile: ImageProfile) -> str:
        """The image's ``bin`` directory (created on first use)."""
        key = profile.ref.canonical
        found = self._bins.get(key)
        if found is not None:
            return found
        path = self.root / "images" / _safe(key) / "bin"
        path.mkdir(parents=True, exist_ok=True)
        tools = list(TOOLS) + (["bash"] if profile.has_bash else [])
        for tool in tools:
            target = shutil.which(tool, path=_HOST_PATH)
            link = path / tool
            if target and not link.exists():
                with contextlib.suppress(OSError):
                    link.symlink_to(target)
        scripts = {
            "node": _node_script(profile.node_version),
            "npm": _npm_script(_NPM.get(profile.node_version, "10.5.0")),
            "hostname": _HOSTNAME,
            "wget": _httpget_script(),
        }
        if profile.has_bash:  # Debian-based node images carry curl, Alpine-based ones only wget
            scripts["curl"] = scripts["wget"]
        if self.node is not None:
            del scripts["node"]
            link = path / "node"
            if link.exists() or link.is_symlink():
                link.unlink()
            link.symlink_to(self.node.path)
        for name, text in scripts.items():
            file = path / name
            if file.is_symlink():
                file.unlink()
            file.write_text(text)
            file.chmod(0o755)
        self._bins[key] = str(path)
        return str(path)

    def pod_dir(self, namespace: str, pod: str, uid: str, app: str, process: str) -> str:
        """The pod's working directory, ``/app`` inside (created with the app's files on first use)."""
        path = self.root / "pods" / _pod_key(namespace, pod, uid) / "app"
        if (path / "package.json").is_file():
            return str(path)
        (path / "dist").mkdir(parents=True, exist_ok=True)
        (path / "node_modules").mkdir(exist_ok=True)
        name = app if app != "generic" else "app"
        package = {
            "name": name,
            "version": "1.4.2",
            "private": True,
            "main": "dist/server.js",
            "scripts": {"start": "node dist/${PROCESS_TYPE:-server}.js"},
            "engines": {"node": ">=18"},
        }
        (path / "package.json").write_text(json.dumps(package, indent=2) + "\n")
        for script in ("server", "worker", "clock"):
            (path / "dist" / f"{script}.js").write_text(
                f"'use strict';\n// {name} {script} process (compiled)\nrequire('./{script}/main').start();\n"
            )
        (path / "README.md").write_text(f"# {name}\n\nProcess type: {process}\n")
        return str(path)

    def box(self, namespace: str, pod: str, uid: str, profile: ImageProfile, pod_ip: str = "") -> PodBox:
        """The pod's box: where and how its commands run (``podbox.spawn_in_pod``)."""
        return self.boxes.box(_pod_key(namespace, pod, uid), pod, self.bin_dir(profile), pod_ip)

    def stop_box(self, namespace: str, pod: str, uid: str) -> None:
        """End the pod's sandbox process (a finished pod), keeping its directories."""
        self.boxes.stop(_pod_key(namespace, pod, uid))

    def remove_pod_dir(self, namespace: str, pod: str, uid: str) -> None:
        """End the pod's sandbox process and remove its directories."""
        key = _pod_key(namespace, pod, uid)
        self.boxes.remove(key)
        shutil.rmtree(self.root / "pods" / key, ignore_errors=True)

    async def aclose(self) -> None:
        """End every pod's sandbox process (the sandbox is stopping)."""
        await self.boxes.aclose()

    def image_env(self, profile: ImageProfile, home: str) -> dict[str, str]:
        """The image's own ``ENV`` lines."""
        return {
            "PATH": self.bin_dir(profile),
            "NODE_VERSION": profile.node_version,
            "YARN_VERSION": _YARN,
            "HOME": home,
        }


_VAR_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def _expand(value: str, env: dict[str, str]) -> str:
    def sub(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env[name] if name in env else match.group(0)

    return _VAR_REF.sub(sub, value)


def _field(pod: Obj, path: str) -> str:
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    simple: dict[str, str] = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace", ""),
        "metadata.uid": meta.get("uid", ""),
        "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", ""),
        "status.hostIP": status.get("hostIP", ""),
        "status.podIP": status.get("podIP", ""),
        "status.hostIPs": ",".join(i.get("ip", "") for i in status.get("hostIPs") or []),
        "status.podIPs": ",".join(i.get("ip", "") for i in status.get("podIPs") or []),
    }
    if path in simple:
        return simple[path]
    match = re.fullmatch(r"metadata\.(labels|annotations)\['([^']+)'\]", path)
    if match:
        return str((meta.get(match.group(1)) or {}).get(match.group(2), ""))
    raise EnvError(f'unsupported fieldPath: "{path}"')


def _referenced(store: Store, kind: str, ns: str, name: str, optional: bool) -> Obj | None:
    """The ConfigMap or Secret a variable refers to; None when it is missing but optional."""
    obj = store.try_get(kind + "s", ns, name)
    if obj is None and not optional:
        raise EnvError(f'{kind} "{name}" not found')
    return obj


def _secret_value(store: Store, ns: str, name: str, key: str, optional: bool) -> str | None:
    secret = _referenced(store, "secret", ns, name, optional)
    if secret is None:
        return None
    data = secret.get("data") or {}
    if key in data:
        return base64.b64decode(data[key]).decode("utf-8", "replace")
    string_data = secret.get("stringData") or {}
    if key in string_data:
        return str(string_data[key])
    if optional:
        return None
    raise EnvError(f"couldn't find key {key} in Secret {ns}/{name}")


def _configmap_value(store: Store, ns: str, name: str, key: str, optional: bool) -> str | None:
    cm = _referenced(store, "configmap", ns, name, optional)
    if cm is None:
        return None
    data = cm.get("data") or {}
    if key in data:
        return str(data[key])
    if optional:
        return None
    raise EnvError(f"couldn't find key {key} in ConfigMap {ns}/{name}")


def _env_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def service_env(store: Store, namespace: str, enable_links: bool = True) -> dict[str, str]:
    """``KUBERNETES_*`` and, with service links, ``<SVC>_SERVICE_HOST`` … for the namespace."""
    env = {
        "KUBERNETES_SERVICE_HOST": "10.96.0.1",
        "KUBERNETES_SERVICE_PORT": "443",
        "KUBERNETES_SERVICE_PORT_HTTPS": "443",
        "KUBERNETES_PORT": "tcp://10.96.0.1:443",
        "KUBERNETES_PORT_443_TCP": "tcp://10.96.0.1:443",
        "KUBERNETES_PORT_443_TCP_PROTO": "tcp",
        "KUBERNETES_PORT_443_TCP_PORT": "443",
        "KUBERNETES_PORT_443_TCP_ADDR": "10.96.0.1",
    }
    if not enable_links:
        return env
    for svc in store.list("services", namespace):
        spec = svc.get("spec") or {}
        ip = spec.get("clusterIP")
        ports = spec.get("ports") or []
        if not ip or ip == "None" or not ports:
            continue
        prefix = _env_name(svc["metadata"]["name"])
        first = ports[0]
        env[f"{prefix}_SERVICE_HOST"] = ip
        env[f"{prefix}_SERVICE_PORT"] = str(first.get("port"))
        env[f"{prefix}_PORT"] = f"{first.get('protocol', 'TCP').lower()}://{ip}:{first.get('port')}"
        for port in ports:
            proto = port.get("protocol", "TCP")
            base = f"{prefix}_PORT_{port.get('port')}_{proto}"
            env[base] = f"{proto.lower()}://{ip}:{port.get('port')}"
            env[f"{base}_PROTO"] = proto.lower()
            env[f"{base}_PORT"] = str(port.get("port"))
            env[f"{base}_ADDR"] = ip
            if port.get("name"):
                env[f"{prefix}_SERVICE_PORT_{_env_name(port['name'])}"] = str(port.get("port"))
    return env


def _env_from(store: Store, namespace: str, source: Obj) -> dict[str, str]:
    """The variables of one ``envFrom`` entry: every key of a ConfigMap or a Secret."""
    decode: Callable[[Any], str]
    if source.get("configMapRef"):
        ref, kind, decode = source["configMapRef"], "configmap", str
    elif source.get("secretRef"):
        ref, kind, decode = source["secretRef"], "secret", _decode_secret
    else:
        return {}
    obj = _referenced(store, kind, namespace, ref.get("name", ""), bool(ref.get("optional")))
    if obj is None:
        return {}
    prefix = source.get("prefix", "")
    return {prefix + key: decode(item) for key, item in (obj.get("data") or {}).items()}


def _decode_secret(item: Any) -> str:
    return base64.b64decode(item).decode("utf-8", "replace")


def _value_from(store: Store, namespace: str, pod: Obj, container: Obj, source: Obj) -> str | None:
    """The value of one ``env[].valueFrom`` (None: an optional key that is missing)."""
    if source.get("secretKeyRef") or source.get("configMapKeyRef"):
        secret = bool(source.get("secretKeyRef"))
        ref = source["secretKeyRef"] if secret else source["configMapKeyRef"]
        read = _secret_value if secret else _configmap_value
        return read(store, namespace, ref.get("name", ""), ref.get("key", ""), bool(ref.get("optional")))
    if source.get("fieldRef"):
        return _field(pod, source["fieldRef"].get("fieldPath", ""))
    if source.get("resourceFieldRef"):
        return _resource_field(container, source["resourceFieldRef"])
    return ""


def resolve_env(store: Store, pod: Obj, container: Obj) -> dict[str, str]:
    """The container's variables from ``envFrom`` and ``env``, as the kubelet resolves them.

    Raises ``EnvError`` with the kubelet's wording when a Secret or ConfigMap (or one of
    their keys) is missing and not optional.
    """
    ns = pod["metadata"].get("namespace", "default")
    spec = pod.get("spec") or {}
    env = service_env(store, ns, spec.get("enableServiceLinks", True) is not False)
    out: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        out.update(_env_from(store, ns, source))
    for var in container.get("env") or []:
        name = var.get("name")
        if not name:
            continue
        if "valueFrom" not in var or var.get("value") is not None:
            out[name] = _expand(str(var.get("value") or ""), {**env, **out})
            continue
        value = _value_from(store, ns, pod, container, var.get("valueFrom") or {})
        if value is not None:
            out[name] = value
    return {**env, **out}


def _resource_field(container: Obj, ref: Obj) -> str:
    resource = ref.get("resource", "")
    kind, _, what = resource.partition(".")
    value = ((container.get("resources") or {}).get(kind) or {}).get(what)
    if value is None:
        return "8" if what == "cpu" else str(32 * 1024**3)
    text = str(value)
    if what == "cpu":
        if text.endswith("m"):
            return str(max(1, -(-int(text[:-1]) // 1000)))
        return text
    units = {"Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "K": 1000, "M": 1000**2, "G": 1000**3}
    for suffix, factor in units.items():
        if text.endswith(suffix):
            return str(int(float(text[: -len(suffix)]) * factor))
    return text


def exec_environment(
    envs: ExecEnvironments, profile: ImageProfile, pod_name: str, workdir: str, container_env: dict[str, str]
) -> dict[str, str]:
    """The full environment of an exec: image ENV, then the container's, then HOSTNAME."""
    env = envs.image_env(profile, workdir)
    env.update(container_env)
    env["PATH"] = envs.bin_dir(profile)  # the image decides which programs exist
    env["HOSTNAME"] = pod_name
    env.setdefault("HOME", workdir)
    return env
