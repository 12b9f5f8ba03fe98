"""Build the krew archive and point the manifest at it.

Usage: .venv/bin/python packaging/dist.py [--out dist] [--check]

Writes dist/kubectl-nodeapp-vVERSION.tar.gz — LICENSE, README.md, pyproject.toml, the
package source and the krew launcher ``kubectl-nodeapp`` — byte-for-byte reproducible
(sorted entries, fixed times and owners), then writes its sha256 and version into
plugins/nodeapp.yaml. ``--check`` only verifies that the manifest matches a fresh build.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import re
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "plugins" / "nodeapp.yaml"
EPOCH = 1_700_000_000  # fixed mtime: the same sources give the same archive


def version() -> str:
    match = re.search(r'^__version__ = "([^"]+)"', (ROOT / "kubectl_trace" / "__init__.py").read_text(), re.M)
    assert match, "no __version__ in kubectl_trace/__init__.py"
    return match.group(1)


def _files() -> list[tuple[str, Path]]:
    entries = [
        ("LICENSE", ROOT / "LICENSE"),
        ("README.md", ROOT / "README.md"),
        ("pyproject.toml", ROOT / "pyproject.toml"),
        ("kubectl-nodeapp", ROOT / "packaging" / "krew" / "kubectl-nodeapp"),
    ]
    for path in sorted((ROOT / "kubectl_trace").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            entries.append((path.relative_to(ROOT).as_posix(), path))
    return entries


def build_archive() -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, path in _files():
            info = tarfile.TarInfo(name)
            data = path.read_bytes()
            info.size = len(data)
            info.mtime = EPOCH
            info.mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=EPOCH) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def update_manifest(text: str, ver: str, sha: str) -> str:
    text = re.sub(r"(?m)^(  version: ).*$", rf"\g<1>v{ver}", text)
    text = re.sub(r"(?m)^(\s+sha256: ).*$", rf"\g<1>{sha}", text)
    return re.sub(
        r"/v[0-9][^/]*/kubectl-nodeapp-v[^/\s]+\.tar\.gz", f"/v{ver}/kubectl-nodeapp-v{ver}.tar.gz", text
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default=str(ROOT / "dist"))
    parser.add_argument(
        "--manifest", default=str(MANIFEST), help="the manifest to update (default: plugins/nodeapp.yaml)"
    )
    parser.add_argument(
        "--check", action="store_true", help="fail if the manifest does not match a fresh build"
    )
    args = parser.parse_args()
    ver = version()
    data = build_archive()
    sha = hashlib.sha256(data).hexdigest()
    manifest = Path(args.manifest)
    current = manifest.read_text()
    wanted = update_manifest(current, ver, sha)
    if args.check:
        if current != wanted:
            print(f"{manifest} is out of date: run packaging/dist.py", file=sys.stderr)
            return 1
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    archive = out / f"kubectl-nodeapp-v{ver}.tar.gz"
    archive.write_bytes(data)
    manifest.write_text(wanted)
    print(f"{archive}  sha256 {sha}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
