"""A LAN of network namespaces with live `estafetted` daemons and an attacker host, for hostile-LAN tests.

    with LAN(honest=2) as lan:          # hosts h1, h2 run daemons; the last host (10.213.0.<n>) is the attacker
        a, b = lan.daemons
        a.rpc("messages.send", {"to": b.id, "text": "hi"})
        out = lan.attack("junk", "--rate", "2000", "--count", "20000")   # runs estafette_attack.py on the attacker

Namespace names carry a random tag, so concurrent runs do not collide. Everything lives in the namespaces: no
daemon ever runs in the root namespace. Needs root and iproute2.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
ATTACK = HERE / "estafette_attack.py"
SUBNET = "10.213.0"


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def find_daemon() -> Path:
    """The built `estafetted`: $ESTAFETTED, else the newer of this checkout's release and debug builds."""
    if os.environ.get("ESTAFETTED"):
        return Path(os.environ["ESTAFETTED"])
    built = [p for p in (REPO / ".build" / c / "estafetted" for c in ("release", "debug")) if p.exists()]
    if not built:
        raise FileNotFoundError("no estafetted: run `swift build --product estafetted` (or set ESTAFETTED)")
    return max(built, key=lambda p: p.stat().st_mtime)


def available() -> tuple[bool, str]:
    """Whether namespace tests can run here, and why not."""
    if os.geteuid() != 0:
        return False, "needs root to create network namespaces"
    if shutil.which("ip") is None:
        return False, "needs iproute2 (ip)"
    try:
        find_daemon()
    except FileNotFoundError as e:
        return False, str(e)
    try:
        import nacl  # noqa: F401  (only whether it is there)
    except ImportError:
        return False, "needs PyNaCl (pip install pynacl; scripts/install-deps.sh does it)"
    return True, ""


class RPCError(RuntimeError):
    def __init__(self, code: int, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code


def rpc_call(sock_path: str, method: str, params: dict | None = None, timeout: float = 30) -> dict:
    """One JSON-RPC request on a fresh connection to the daemon's Unix socket."""
    req = {"jsonrpc": "2.0", "id": 1, "method": method}
    if params is not None:
        req["params"] = params
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(sock_path)
        s.sendall(json.dumps(req).encode() + b"\n")
        with s.makefile("rb") as f:
            line = f.readline()
    if not line:
        raise RPCError(0, "connection closed without an answer")
    resp = json.loads(line)
    if "error" in resp:
        raise RPCError(resp["error"]["code"], resp["error"]["message"])
    return resp["result"]


def rpc_pipelined(sock_path: str, requests: list[tuple[str, dict | None]], timeout: float = 120) -> list[dict]:
    """Many requests on one connection, written at once, answers read in order."""
    lines = []
    for i, (m, p) in enumerate(requests):
        req = {"jsonrpc": "2.0", "id": i, "method": m}
        if p is not None:
            req["params"] = p
        lines.append(json.dumps(req))
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(sock_path)
        s.sendall(("\n".join(lines) + "\n").encode())
        s.shutdown(socket.SHUT_WR)
        with s.makefile("rb") as f:
            out = [json.loads(f.readline()) for _ in requests]
    return out


class Daemon:
    """One `estafetted` in a namespace, with its own data dir, socket and config."""

    def __init__(self, name: str, ns: str, root: Path, group: str, port: int, **lan_settings):
        self.name, self.ns = name, ns
        self.dir = root / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.socket = str(self.dir / "api.sock")
        self.log_path = self.dir / "daemon.log"
        lan = "".join(f"{k} = {v}\n" for k, v in lan_settings.items())
        (self.dir / "estafette.toml").write_text(
            f'data_dir = "{self.dir}/data"\nlog_level = "info"\n\n[api]\nsocket = "{self.socket}"\n\n'
            f'[lan]\ngroup = "{group}"\nport = {port}\ninterfaces = ["eth0"]\n{lan}'
        )
        self.proc: subprocess.Popen | None = None
        self.id = ""
        self.wrap: list[str] = []  # a command that execs the daemon (e.g. `env LD_PRELOAD=… FAKETIME=…`)

    def start(self, timeout: float = 30) -> None:
        log = open(self.log_path, "ab")
        cmd = ["ip", "netns", "exec", self.ns, *self.wrap, str(find_daemon()), "--config", str(self.dir / "estafette.toml")]
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.time() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                self.id = self.rpc("identity.show")["id"]
                return
            except (OSError, RPCError, json.JSONDecodeError):
                if time.time() > deadline:
                    raise RuntimeError(f"{self.name} did not answer within {timeout} s:\n{self.log_tail()}")
                time.sleep(0.05)

    def stop(self, timeout: float = 15) -> int | None:
        if self.proc is None:
            return None
        p, self.proc = self.proc, None
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return p.returncode

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid  # `ip netns exec` execs the daemon: same pid

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def rpc(self, method: str, params: dict | None = None, timeout: float = 30) -> dict:
        return rpc_call(self.socket, method, params, timeout)

    def status(self) -> dict:
        return self.rpc("node.status")

    def counters(self) -> dict:
        return self.status()["counters"]

    def inbox(self, limit: int = 1000) -> list[dict]:
        return self.rpc("inbox.list", {"limit": limit})["messages"]

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def data_bytes(self) -> int:
        return sum(f.stat().st_size for f in (self.dir / "data").glob("*") if f.is_file())

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


class LAN:
    """A bridge and `honest + 1` hosts: hosts 1..honest run daemons, the last one is the attacker."""

    def __init__(self, honest: int = 2, start: bool = True, **lan_settings):
        self.tag = "ha" + secrets.token_hex(3)
        self.n = honest + 1
        self.hosts = [f"{self.tag}h{i}" for i in range(1, self.n + 1)]
        self.switch = f"{self.tag}sw"
        self.group = f"239.192.{secrets.randbelow(200) + 20}.{secrets.randbelow(250) + 1}"
        self.port = 20000 + secrets.randbelow(20000)
        self.root = Path(tempfile.mkdtemp(prefix=f"estafette-{self.tag}-"))
        self.attacker_ns = self.hosts[-1]
        self.attacker_ip = self.addr(self.n)
        self._create()
        self.daemons = [
            Daemon(f"d{i}", self.hosts[i - 1], self.root, self.group, self.port, **lan_settings)
            for i in range(1, honest + 1)
        ]
        if start:
            try:
                for d in self.daemons:
                    d.start()
            except BaseException:
                self.close()
                raise

    @staticmethod
    def addr(i: int) -> str:
        return f"{SUBNET}.{i}"

    def _create(self) -> None:
        try:
            ip("netns", "add", self.switch)
            ip("-n", self.switch, "link", "set", "lo", "up")
            ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
            ip("-n", self.switch, "link", "set", "br0", "up")
            for i, h in enumerate(self.hosts, 1):
                port = f"{self.tag}p{i}"
                ip("netns", "add", h)
                ip("link", "add", "eth0", "netns", h, "type", "veth", "peer", "name", port, "netns", self.switch)
                ip("-n", self.switch, "link", "set", port, "master", "br0")
                ip("-n", self.switch, "link", "set", port, "up")
                ip("-n", h, "addr", "add", f"{self.addr(i)}/24", "dev", "eth0")
                ip("-n", h, "link", "set", "eth0", "up")
                ip("-n", h, "link", "set", "lo", "up")
        except subprocess.CalledProcessError as e:
            self._teardown_netns()
            raise RuntimeError(f"namespace setup failed: {e.stderr}") from e

    def _teardown_netns(self) -> None:
        for ns in self.hosts + [self.switch]:
            ip("netns", "del", ns, check=False)

    def close(self) -> None:
        for d in getattr(self, "daemons", []):
            try:
                d.stop()
            except Exception as e:  # keep tearing down; say what failed
                print(f"lan: stopping {d.name} failed: {e}", file=sys.stderr)
        self._teardown_netns()
        if os.environ.get("ESTAFETTE_KEEP_LAN"):
            print(f"lan: kept {self.root}", file=sys.stderr)
        else:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "LAN":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- the attacker host

    def attack_cmd(self, attack: str, *args: str) -> list[str]:
        return [
            "ip", "netns", "exec", self.attacker_ns, sys.executable, str(ATTACK), attack,
            "--group", self.group, "--port", str(self.port), "--iface", "eth0", *args,
        ]  # fmt: skip

    def attack(self, attack: str, *args: str, timeout: float = 300) -> dict:
        """Runs one attack on the attacker host to its end; returns the JSON summary it prints."""
        p = subprocess.run(self.attack_cmd(attack, *args), capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError(f"attack {attack} failed ({p.returncode}):\n{p.stderr[-3000:]}")
        return json.loads(p.stdout.strip().splitlines()[-1])

    def attack_bg(self, attack: str, *args: str) -> subprocess.Popen:
        """Starts an attack in the background; `finish(p)` stops it (SIGINT) and returns its summary."""
        cmd = self.attack_cmd(attack, *args)
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    @staticmethod
    def finish(p: subprocess.Popen, timeout: float = 60) -> dict:
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=timeout)
        lines = out.strip().splitlines()
        if not lines:
            raise RuntimeError(f"attack printed no summary ({p.returncode}):\n{err[-3000:]}")
        return json.loads(lines[-1])

    def in_attacker(self, *cmd: str) -> subprocess.CompletedProcess:
        full = ["ip", "netns", "exec", self.attacker_ns, *cmd]
        return subprocess.run(full, capture_output=True, text=True, check=True)


def wait_until(cond, timeout: float, step: float = 0.1) -> float | None:
    """Polls `cond` until it holds; returns the seconds it took, or None after `timeout`."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            if cond():
                return time.time() - t0
        except (OSError, RPCError):
            pass
        time.sleep(step)
    return None
