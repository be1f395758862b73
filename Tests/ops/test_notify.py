"""sd_notify: the daemon itself tells a Type=notify supervisor READY, WATCHDOG and STOPPING (issue 13).

The daemon runs in its own network namespace on loopback (root), so no packet leaves the machine."""
import os
import socket
import subprocess
import time

import pytest

from conftest import rpc, stop, wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for a network namespace")


def start_in_netns(daemon_bin, scratch, env):
    script = "ip link set lo up && ip link set lo multicast on && exec \"$@\""
    cmd = ["unshare", "--net", "sh", "-c", script, "sh", str(daemon_bin), "--data-dir", str(scratch / "data"),
           "--socket", str(scratch / "api.sock"), "--interface", "lo"]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=open(scratch / "log", "w"))


class Supervisor:
    """The systemd side of NOTIFY_SOCKET: a datagram socket that collects what the daemon says."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.1)
        self.messages = []

    def drain(self):
        while True:
            try:
                self.messages.append((time.monotonic(), self.sock.recv(4096).decode()))
            except socket.timeout:
                return

    def said(self, word):
        self.drain()
        return [t for t, m in self.messages if word in m.split("\n")]


def test_ready_watchdog_stopping(daemon_bin, scratch):
    sup = Supervisor(scratch / "notify")
    env = dict(os.environ, NOTIFY_SOCKET=str(scratch / "notify"), WATCHDOG_USEC="400000")
    env.pop("WATCHDOG_PID", None)
    proc = start_in_netns(daemon_bin, scratch, env)
    try:
        ready = wait_for(lambda: sup.said("READY=1"), what="READY=1")
        # READY comes once the API answers.
        assert rpc(scratch / "api.sock", "node.status")["result"]["peers"] == 0
        pings = wait_for(lambda: len(sup.said("WATCHDOG=1")) >= 5 and sup.said("WATCHDOG=1"), what="5 pings")
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        # Half of WATCHDOG_USEC (0.2 s), never as late as the full interval.
        assert all(g < 0.4 for g in gaps), gaps
        assert pings[0] >= ready[0]
        assert sup.said("STOPPING=1") == []
        assert stop(proc) == 0
        assert sup.said("STOPPING=1"), sup.messages
    finally:
        if proc.poll() is None:
            proc.kill()


def test_no_pings_for_another_process(daemon_bin, scratch):
    """WATCHDOG_PID names another process: the watchdog is not ours, READY still is."""
    sup = Supervisor(scratch / "notify")
    env = dict(os.environ, NOTIFY_SOCKET=str(scratch / "notify"), WATCHDOG_USEC="200000", WATCHDOG_PID="1")
    proc = start_in_netns(daemon_bin, scratch, env)
    try:
        wait_for(lambda: sup.said("READY=1"), what="READY=1")
        time.sleep(0.6)
        assert sup.said("WATCHDOG=1") == []
        assert stop(proc) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_without_notify_socket_it_runs_as_before(daemon_bin, scratch):
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC")}
    proc = start_in_netns(daemon_bin, scratch, env)
    try:
        wait_for(lambda: (scratch / "api.sock").exists(), what="the API socket")
        assert "result" in rpc(scratch / "api.sock", "node.status")
        assert stop(proc) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
