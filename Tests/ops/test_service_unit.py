"""The systemd unit: its security rating and a clean `systemd-analyze verify` (issue 13)."""
import os
import re
import shutil
import subprocess

import pytest

from conftest import ROOT, built

UNIT = ROOT / "systemd" / "estafetted.service"
MAN = ROOT / "packaging" / "man"
pytestmark = pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")


def unit_copy(tmp_path):
    """The unit with ExecStart pointing at the built daemon: verify needs an existing executable."""
    text = UNIT.read_text().replace("/usr/bin/estafetted", str(built("estafetted")))
    path = tmp_path / "estafetted.service"
    path.write_text(text)
    return path


def test_security_rating_is_1_2_or_lower(tmp_path):
    out = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--no-pager", str(unit_copy(tmp_path))],
        capture_output=True, text=True)
    m = re.search(r"Overall exposure level for estafetted.service: (\d+\.\d+)", out.stdout)
    assert m, out.stdout + out.stderr
    assert float(m.group(1)) <= 1.2, out.stdout


def test_verify_prints_nothing(tmp_path):
    # Documentation=man:estafetted(8) is checked by running man: point it at the package's man pages.
    (tmp_path / "man" / "man8").mkdir(parents=True)
    shutil.copy(MAN / "estafetted.8", tmp_path / "man" / "man8" / "estafetted.8")
    env = dict(os.environ, MANPATH=str(tmp_path / "man"))
    out = subprocess.run(["systemd-analyze", "verify", str(unit_copy(tmp_path))],
                         capture_output=True, text=True, env=env)
    assert out.returncode == 0 and out.stdout == "" and out.stderr == "", out.stdout + out.stderr


def test_unit_keeps_the_promised_settings():
    """The switches issue 13 names explicitly, so a later edit that drops one fails here, not on a Pi."""
    text = UNIT.read_text()
    for line in ["Type=notify", "WatchdogSec=", "StateDirectory=estafette", "RuntimeDirectory=estafette",
                 "ConfigurationDirectory=estafette", "CapabilityBoundingSet=\n", "ProtectSystem=strict",
                 "PrivateUsers=yes", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
                 "SystemCallFilter=@system-service", "MemoryDenyWriteExecute=yes", "MemoryMax=256M",
                 "User=estafette"]:
        assert line in text, line
