"""The attacker's sockets on a test LAN: a sender on one interface (or a chosen source address) and a listener
joined to the mesh group that opens what it hears and remembers sessions, prefixes and beacons."""

from __future__ import annotations

import fcntl
import random
import socket
import struct
import threading
import time
from collections import defaultdict

import estafette_wire as w

STOP = threading.Event()


def iface_ipv4(name: str) -> str:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        packed = fcntl.ioctl(s.fileno(), 0x8915, struct.pack("256s", name.encode()[:15]))  # SIOCGIFADDR
    finally:
        s.close()
    return socket.inet_ntoa(packed[20:24])


class Mesh:
    """A send socket on the interface (or a given source address) and a listener joined to the group."""

    def __init__(self, group: str, port: int, iface: str, source: str | None = None, listen: bool = True):
        self.group, self.port = group, port
        self.addr = iface_ipv4(iface)
        self.tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.tx.bind((source or self.addr, 0))
        self.tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(source or self.addr))
        self.tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        self.tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
        self.tx.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
        self.sent = self.sent_bytes = self.send_errors = 0
        # What was heard, by source address.
        self.heard_bytes: dict[str, int] = defaultdict(int)
        self.heard_packets: dict[str, int] = defaultdict(int)
        self.heard_types: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.sessions: dict[int, str] = {}  # session -> source host
        self.prefixes: dict[str, set[int]] = defaultdict(set)  # inventory prefixes heard, by source
        self.beacons: list[dict] = []
        self.handlers: list = []
        self.lock = threading.Lock()
        self.reasm = w.Reassembly()
        if listen:
            self.rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.rx.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
            self.rx.bind((group, port))
            mreq = socket.inet_aton(group) + socket.inet_aton(self.addr)
            self.rx.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
            self.rx.settimeout(0.2)
            threading.Thread(target=self._listen, daemon=True).start()

    def send(self, datagram: bytes, to: tuple[str, int] | None = None) -> None:
        while True:
            try:
                self.tx.sendto(datagram, to or (self.group, self.port))
                self.sent += 1
                self.sent_bytes += len(datagram)
                return
            except (BlockingIOError, OSError) as e:  # ENOBUFS under a flood: wait for the queue
                self.send_errors += 1
                if STOP.is_set() or self.send_errors > 1_000_000:
                    raise SystemExit(f"send failed: {e}")
                time.sleep(0.001)

    def _listen(self) -> None:
        while not STOP.is_set():
            try:
                data, (host, _) = self.rx.recvfrom(4096)
            except socket.timeout:
                continue
            if host == self.addr:
                continue
            try:
                ptype, session, payload = w.open_datagram(data)
                fields = w.parse_payload(ptype, payload)
            except (w.WireError, struct.error, IndexError):
                with self.lock:
                    self.heard_types[host]["undecodable"] += 1
                continue
            with self.lock:
                self.heard_bytes[host] += len(data)
                self.heard_packets[host] += 1
                self.heard_types[host][w.TYPE_NAMES[ptype]] += 1
                self.sessions[session] = host
                if ptype == w.T_INVENTORY:
                    self.prefixes[host].update(fields["prefixes"])
                if ptype == w.T_BEACON:
                    self.beacons.append(
                        {"t": time.time(), "host": host, "session": f"{session:016x}", "count": fields["count"],
                         "digest": fields["digest"].hex()})  # fmt: skip
            envelope = fields.get("envelope")
            if ptype == w.T_FRAGMENT:
                envelope = self.reasm.add(fields["stream"], fields["offset"], fields["total"], fields["chunk"])
            for h in self.handlers:
                h(host, session, ptype, fields, envelope)

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return dict(self.heard_bytes)

    def all_prefixes(self) -> list[int]:
        with self.lock:
            return sorted(set().union(*self.prefixes.values())) if self.prefixes else []


def paced(mesh: Mesh, packets, rate: float, count: int | None = None, duration: float | None = None, to=None) -> int:
    """Sends packets from an iterator at `rate` per second until count, duration, the iterator's end or SIGINT."""
    t0 = time.monotonic()
    n = 0
    for pkt in packets:
        now = time.monotonic()
        if STOP.is_set() or (count is not None and n >= count) or (duration is not None and now - t0 >= duration):
            break
        due = t0 + n / rate
        if due > now:
            time.sleep(due - now)
        mesh.send(pkt, to)
        n += 1
    return n


def session_source(k: int | None):
    """Fresh random sessions, or k fixed ones in turn."""
    fixed = [random.getrandbits(64) for _ in range(k)] if k else None
    i = 0
    while True:
        if fixed:
            yield fixed[i % len(fixed)]
            i += 1
        else:
            yield random.getrandbits(64)
