"""Shared helpers for the operator tests (Tests/ops): the built binaries and a daemon in a scratch folder."""
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def built(name):
    """The newest built binary `name` (.build/debug or .build/release), or $ESTAFETTED / $ESTAFETTE."""
    env = os.environ.get(name.upper())
    if env:
        return pathlib.Path(env)
    found = [ROOT / ".build" / kind / name for kind in ("debug", "release")]
    found = [p for p in found if p.exists()]
    if not found:
        pytest.skip(f"{name} is not built (swift build)")
    return max(found, key=lambda p: p.stat().st_mtime)


@pytest.fixture
def daemon_bin():
    return built("estafetted")


@pytest.fixture
def cli_bin():
    return built("estafette")


@pytest.fixture
def scratch():
    d = tempfile.mkdtemp(prefix="estafette-ops-")
    os.chmod(d, 0o755)
    yield pathlib.Path(d)
    shutil.rmtree(d, ignore_errors=True)


def wait_for(predicate, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def stop(proc, timeout=20):
    """SIGTERM, then the exit status (SIGKILL and a failure if it does not stop in time)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError("the daemon did not stop within %d s of SIGTERM" % timeout)


def rpc(path, method, params=None, timeout=10):
    """One JSON-RPC call over the daemon's Unix socket; returns the decoded answer."""
    import json

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(path))
        s.sendall((json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}) + "\n").encode())
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    return json.loads(buf)


def lo_multicast_on():
    """Multicast on loopback, as the daemon's tests need (root only); restores nothing (the suite's habit)."""
    subprocess.run(["ip", "link", "set", "lo", "multicast", "on"], check=False, capture_output=True)
