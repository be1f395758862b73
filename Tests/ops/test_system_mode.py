"""System mode: systemd's directory variables select /var/lib, /run and /etc paths; group members reach the
socket; the CLI finds the system socket when no user daemon runs; --check-config (issue 13).

Runs the daemon as an unprivileged user in its own network and mount namespace: /run is a private tmpfs there,
so /run/estafette/estafetted.sock is the real system path without touching the host's /run."""
import os
import pathlib
import subprocess

import pytest

from conftest import ROOT

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (namespaces, other users)")
DAEMON_UID, SOCKET_GID = 65534, 65534  # nobody:nogroup stand in for estafette:estafette
MEMBER_UID, STRANGER_UID = 2, 3  # bin (given the group) and sys (not in it)


def run_check(daemon_bin, *args):
    return subprocess.run([str(daemon_bin), "--check-config", *args], capture_output=True, text=True, timeout=60)


def test_check_config_accepts_the_shipped_file(daemon_bin):
    out = run_check(daemon_bin, str(ROOT / "Config" / "estafette.toml"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("estafette.toml: ok")


def test_check_config_names_file_line_key_and_reason(daemon_bin, scratch):
    bad = scratch / "bad.toml"
    bad.write_text('[lan]\nport = 4545\n\n[messages]\nlifetime_hour = 24\n')
    out = run_check(daemon_bin, str(bad))
    assert out.returncode == 78
    assert f"{bad}:5: messages.lifetime_hour: unknown key" in out.stderr
    bad.write_text('[lan]\nport = 70000\n')
    out = run_check(daemon_bin, str(bad))
    assert out.returncode == 78 and f"{bad}:2: lan.port: 70000 is out of range" in out.stderr


def test_check_config_without_a_file_is_a_usage_error(daemon_bin, scratch):
    env = {k: v for k, v in os.environ.items() if k != "CONFIGURATION_DIRECTORY"}
    out = subprocess.run([str(daemon_bin), "--check-config"], capture_output=True, text=True, env=env,
                         cwd=scratch, timeout=60)
    assert out.returncode == 64 and "no configuration file" in out.stderr


def test_check_config_reads_the_service_configuration_directory(daemon_bin, scratch):
    (scratch / "estafette.toml").write_text('log_level = "loud"\n')
    env = dict(os.environ, CONFIGURATION_DIRECTORY=str(scratch))
    out = subprocess.run([str(daemon_bin), "--check-config"], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 78 and f"{scratch}/estafette.toml:1: log_level:" in out.stderr


SCRIPT = r'''
set -eu
ip link set lo up; ip link set lo multicast on
mount -t tmpfs -o mode=0755 tmpfs /run
install -d -m 0750 -o {uid} -g {gid} /run/estafette
install -d -m 0700 -o {uid} -g {gid} {scratch}/state
# What systemd does for the unit: the three directory variables, then the daemon as its user and group.
STATE_DIRECTORY={scratch}/state RUNTIME_DIRECTORY=/run/estafette CONFIGURATION_DIRECTORY={scratch}/etc \
  setpriv --reuid={uid} --regid={gid} --clear-groups {daemon} > {scratch}/daemon.log 2>&1 &
pid=$!
for i in $(seq 1 400); do [ -S /run/estafette/estafetted.sock ] && break; sleep 0.05; done
stat -c '%a %g' /run/estafette/estafetted.sock
# A group member, with no daemon of their own (HOME without one, no XDG_RUNTIME_DIR): finds the system socket.
env -i HOME={scratch}/home PATH=/usr/bin:/bin setpriv --reuid={member} --regid={member} --groups={gid} \
  {cli} --json status
echo "member-rc=$?"
env -i HOME={scratch}/home PATH=/usr/bin:/bin setpriv --reuid={stranger} --regid={stranger} --clear-groups \
  {cli} status 2>&1 && echo "stranger-rc=0" || echo "stranger-rc=$?"
kill -TERM $pid; wait $pid; echo "daemon-rc=$?"
'''


@root_only
def test_system_paths_group_socket_and_cli_discovery(daemon_bin, cli_bin, scratch):
    (scratch / "etc").mkdir()
    (scratch / "home").mkdir()
    (scratch / "etc" / "estafette.toml").write_text('[lan]\ninterfaces = ["lo"]\n')
    script = SCRIPT.format(uid=DAEMON_UID, gid=SOCKET_GID, member=MEMBER_UID, stranger=STRANGER_UID,
                           scratch=scratch, daemon=daemon_bin, cli=cli_bin)
    out = subprocess.run(["unshare", "--net", "--mount", "--propagation", "private", "sh", "-c", script],
                         capture_output=True, text=True, timeout=120)
    log = (scratch / "daemon.log").read_text() if (scratch / "daemon.log").exists() else ""
    lines = out.stdout.splitlines()
    assert lines and lines[0] == f"660 {SOCKET_GID}", out.stdout + out.stderr + log
    assert '"peers":0' in out.stdout and "member-rc=0" in out.stdout, out.stdout + out.stderr + log
    assert "stranger-rc=3" in out.stdout and "ermission denied" in out.stdout, out.stdout
    assert "daemon-rc=0" in out.stdout, out.stdout + log
    # The identity and database went to STATE_DIRECTORY, owned by the daemon's user.
    state = scratch / "state"
    assert (state / "identity.key").stat().st_uid == DAEMON_UID
    assert (state / "estafette.sqlite").exists()
    assert oct((state / "identity.key").stat().st_mode & 0o777) == "0o600"
    assert "lo" in log or "started" in log
