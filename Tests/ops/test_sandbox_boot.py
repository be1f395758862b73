"""The daemon under its real sandbox: the package's unit started by systemd itself, in a Debian 12 container.

systemd is not PID 1 on the test machine, so `systemd-run` cannot apply the unit there. Instead the fresh
Debian root (see test_package.py) boots under systemd-nspawn with a private network (loopback only); its own
systemd starts estafetted.service with every sandbox setting of the unit: the user, no capabilities, the
system-call filter, PrivateUsers, ProtectSystem=strict, Type=notify and the watchdog."""
import os
import shutil
import subprocess
import time

import pytest

from conftest import wait_for
from test_package import chroot, install, mount_proc, newest_deb, pristine_root

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (systemd-nspawn)"),
    pytest.mark.skipif(shutil.which("systemd-nspawn") is None,
                       reason="systemd-nspawn is not installed (apt-get install systemd-container)"),
]


@pytest.fixture
def container(tmp_path):
    deb = newest_deb()
    root = tmp_path / "root"
    subprocess.run(["cp", "-a", str(pristine_root()), str(root)], check=True)
    mount_proc(root)
    try:
        install(root, deb)
    finally:
        subprocess.run(["umount", str(root / "proc")], check=True)
    # The operator's edits: loopback (the container's only interface), a watchdog short enough to observe.
    (root / "etc/estafette/estafette.toml").write_text('[lan]\ninterfaces = ["lo"]\n')
    dropin = root / "etc/systemd/system/estafetted.service.d"
    dropin.mkdir(parents=True)
    (dropin / "test.conf").write_text("[Service]\nWatchdogSec=4\n")
    chroot(root, "useradd", "-m", "-G", "estafette", "alice")
    chroot(root, "useradd", "-m", "mallory")
    boot = subprocess.Popen(
        ["systemd-nspawn", "-D", str(root), "--register=no", "--keep-unit", "--private-network", "--boot",
         "--console=pipe"], stdout=open(tmp_path / "boot.log", "w"), stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL)
    try:
        def leader():
            kids = subprocess.run(["pgrep", "-P", str(boot.pid)], capture_output=True, text=True).stdout.split()
            return kids[0] if kids else None
        pid = wait_for(leader, timeout=30, what="the container's init")

        def run(*cmd):
            return subprocess.run(["nsenter", "-t", pid, "-a", *cmd], capture_output=True, text=True, timeout=60)

        def booted():
            if boot.poll() is not None:
                pytest.fail("systemd-nspawn ended: " + (tmp_path / "boot.log").read_text()[-2000:])
            state = run("systemctl", "is-system-running").stdout.strip()
            return state in ("running", "degraded")
        wait_for(booted, timeout=60, what="the container to boot")
        yield run
    finally:
        boot.terminate()
        try:
            boot.wait(timeout=30)
        except subprocess.TimeoutExpired:
            boot.kill()
            boot.wait()
        shutil.rmtree(root, ignore_errors=True)


def show(run, prop):
    return run("systemctl", "show", "-P", prop, "estafetted.service").stdout.strip()


def test_service_runs_sandboxed_and_answers(container):
    run = container
    assert run("ip", "link", "set", "lo", "multicast", "on").returncode == 0
    assert run("systemctl", "is-enabled", "estafetted.service").stdout.strip() == "disabled"
    out = run("systemctl", "start", "estafetted.service")  # Type=notify: returns once READY=1 came
    assert out.returncode == 0, out.stderr + run("journalctl", "-u", "estafetted", "--no-pager").stdout
    assert show(run, "ActiveState") == "active" and show(run, "SubState") == "running"
    pid = show(run, "MainPID")
    status = run("cat", f"/proc/{pid}/status").stdout
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    assert int(fields["CapEff"].strip(), 16) == 0 and int(fields["CapBnd"].strip(), 16) == 0
    assert fields["NoNewPrivs"].strip() == "1" and fields["Seccomp"].strip() == "2"
    assert run("stat", "-c", "%U", f"/proc/{pid}").stdout.strip() == "estafette"

    # It joined the group on loopback and hears itself; a group member reads it without root, others cannot.
    sock = run("stat", "-c", "%a %G", "/run/estafette/estafetted.sock").stdout.strip()
    assert sock == "660 estafette", sock

    def heard_itself():
        out = run("runuser", "-u", "alice", "--", "estafette", "--json", "status")
        return out.returncode == 0 and '"own_packets":' in out.stdout and out.stdout
    assert wait_for(heard_itself, timeout=20, what="its own beacons back over loopback multicast")
    denied = run("runuser", "-u", "mallory", "--", "estafette", "status")
    assert denied.returncode == 3 and "permission denied" in denied.stderr, denied.stderr

    # The watchdog (4 s in this test) keeps being fed: no restart, a fresh ping timestamp.
    first = show(run, "WatchdogTimestampMonotonic")
    time.sleep(5)
    assert show(run, "NRestarts") == "0" and show(run, "ActiveState") == "active"
    assert show(run, "WatchdogTimestampMonotonic") != first

    # SIGTERM under the sandbox: STOPPING=1, a clean exit, nothing blocked by the filter on the way out.
    out = run("systemctl", "stop", "estafetted.service")
    assert out.returncode == 0 and show(run, "Result") == "success", show(run, "Result")
    log = run("journalctl", "-u", "estafetted", "--no-pager", "-o", "cat").stdout
    assert "estafetted started" in log and "estafetted stopped" in log, log


def test_security_rating_in_the_container(container):
    """The unit as installed, rated by the container's own systemd (online, not --offline)."""
    out = container("systemd-analyze", "security", "--no-pager", "estafetted.service")
    line = [l for l in out.stdout.splitlines() if "Overall exposure level" in l]
    assert line, out.stdout + out.stderr
    assert float(line[0].split(":")[1].split()[0]) <= 1.2, line[0]
