"""The .deb in a fresh Debian 12 root: installed with dpkg in a chroot, removed, purged (issue 13).

The root comes from debootstrap once and is cached in /var/cache/estafette-ops/bookworm (about 1 minute the
first time, then a copy per run). The package is dist/estafette_*.deb from scripts/package.sh."""
import glob
import os
import pathlib
import shutil
import subprocess

import pytest

from conftest import ROOT

CACHE = pathlib.Path(os.environ.get("ESTAFETTE_ROOT_CACHE", "/var/cache/estafette-ops"))
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (debootstrap, chroot)")


def newest_deb():
    debs = sorted(glob.glob(str(ROOT / "dist" / "estafette_*.deb")), key=os.path.getmtime)
    if not debs:
        pytest.skip("no package: run scripts/package.sh (scripts/test.sh does)")
    return pathlib.Path(debs[-1])


def pristine_root():
    root = CACHE / "bookworm-qrencode"  # a new name when the included packages change
    if root.exists():
        return root
    if shutil.which("debootstrap") is None:
        pytest.skip("debootstrap is not installed (apt-get install debootstrap): cannot make a Debian 12 root")
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = CACHE / "bookworm-qrencode-new"
    shutil.rmtree(tmp, ignore_errors=True)
    out = subprocess.run(
        ["debootstrap", "--variant=minbase", "--include=systemd,systemd-sysv,libsodium23,libsqlite3-0,libqrencode4,iproute2",
         "bookworm", str(tmp), "http://deb.debian.org/debian"], capture_output=True, text=True, timeout=1200)
    if out.returncode != 0:
        pytest.skip("debootstrap failed (no Debian mirror reachable?): " + out.stderr[-500:])
    tmp.rename(root)
    return root


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    deb = newest_deb()
    root = tmp_path_factory.mktemp("debroot") / "root"
    subprocess.run(["cp", "-a", str(pristine_root()), str(root)], check=True)
    mount_proc(root)
    try:
        install(root, deb)
        yield root
    finally:
        unmount_proc_and_remove(root)


def install(root, deb):
    """dpkg -i in the chroot (whose /proc the caller mounted, as on a real system: systemd-tmpfiles and the
    static binaries' command line need it)."""
    shutil.copy(deb, root / "tmp" / "estafette.deb")
    out = chroot(root, "dpkg", "-i", "/tmp/estafette.deb")
    assert out.returncode == 0, out.stdout + out.stderr


def mount_proc(root):
    subprocess.run(["mount", "-t", "proc", "proc", str(root / "proc")], check=True)


def unmount_proc_and_remove(root):
    # Never remove a tree with /proc still mounted in it.
    if subprocess.run(["umount", str(root / "proc")], capture_output=True).returncode == 0 or \
            not os.path.ismount(root / "proc"):
        shutil.rmtree(root, ignore_errors=True)


def chroot(root, *cmd, **kw):
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
    return subprocess.run(["chroot", str(root), *cmd], capture_output=True, text=True, env=env, timeout=120, **kw)


def test_user_and_group_are_created(installed):
    pw = chroot(installed, "getent", "passwd", "estafette").stdout.strip().split(":")
    assert pw[0] == "estafette" and int(pw[2]) < 1000, pw
    assert pw[5] == "/var/lib/estafette" and pw[6] == "/usr/sbin/nologin"
    assert chroot(installed, "getent", "group", "estafette").returncode == 0


def test_nothing_is_enabled_or_started(installed):
    out = chroot(installed, "systemctl", "is-enabled", "estafetted.service")
    assert out.stdout.strip() == "disabled", out.stdout + out.stderr
    wants = list((installed / "etc" / "systemd" / "system").rglob("estafetted*"))
    assert wants == []


def test_files_and_modes(installed):
    conf = installed / "etc" / "estafette" / "estafette.toml"
    st = conf.stat()
    assert oct(st.st_mode & 0o777) == "0o640" and st.st_uid == 0
    gid = int(chroot(installed, "getent", "group", "estafette").stdout.split(":")[2])
    assert st.st_gid == gid
    data = installed / "var" / "lib" / "estafette"
    assert oct(data.stat().st_mode & 0o777) == "0o700"
    for path in ["usr/bin/estafetted", "usr/bin/estafette", "lib/systemd/system/estafetted.service",
                 "usr/share/man/man8/estafetted.8.gz", "usr/share/man/man1/estafette.1.gz",
                 "usr/share/bash-completion/completions/estafette", "usr/share/zsh/vendor-completions/_estafette",
                 "usr/share/fish/vendor_completions.d/estafette.fish", "usr/lib/sysusers.d/estafette.conf"]:
        assert (installed / path).exists(), path
    conffiles = chroot(installed, "dpkg-query", "-W", "-f", "${Conffiles}", "estafette").stdout
    assert "/etc/estafette/estafette.toml" in conffiles


def test_check_config_passes_on_the_shipped_file(installed):
    out = chroot(installed, "estafetted", "--check-config", "/etc/estafette/estafette.toml")
    assert out.returncode == 0, out.stderr
    out = chroot(installed, "estafetted", "--system", "--check-config")
    assert out.returncode == 0 and "/etc/estafette/estafette.toml: ok" in out.stdout, out.stderr


def test_without_proc_the_daemon_refuses_to_guess(tmp_path):
    """A static binary reads its arguments from /proc: without it, exit 71 rather than a daemon on defaults."""
    root = pristine_root()
    b = ROOT / ".build-static" / "release" / "estafetted"
    if not b.exists():
        pytest.skip("no static build (scripts/package.sh)")
    shutil.copy(b, root / "tmp" / "estafetted-probe")
    try:
        out = chroot(root, "/tmp/estafetted-probe", "--check-config", "/nonexistent")
    finally:
        (root / "tmp" / "estafetted-probe").unlink()
    assert out.returncode == 71 and "is /proc mounted?" in out.stderr, out.stderr


def test_the_binaries_run_on_a_bare_debian(installed):
    """Only Debian's own libraries are needed: the Swift runtime is inside the binaries."""
    out = chroot(installed, "estafette", "--version")
    assert out.returncode == 0 and out.stdout.strip(), out.stderr
    ldd = chroot(installed, "ldd", "/usr/bin/estafetted").stdout
    assert "not found" not in ldd and "swift" not in ldd.lower(), ldd


def test_remove_keeps_data_purge_keeps_identity(installed):
    # A node's data as the service leaves it.
    data = installed / "var" / "lib" / "estafette"
    run = ("ip link set lo up; ip link set lo multicast on; mkdir -p /run/estafette; "
           "chown estafette:estafette /run/estafette; "
           "setpriv --reuid=estafette --regid=estafette --init-groups estafetted --system --interface lo "
           "2>/tmp/daemon.log & pid=$!; "
           "for i in $(seq 1 400); do [ -S /run/estafette/estafetted.sock ] && break; sleep 0.05; done; "
           "kill -TERM $pid; wait $pid")
    out = subprocess.run(["unshare", "--net", "chroot", str(installed), "sh", "-c", run],
                         capture_output=True, text=True, timeout=120,
                         env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    assert out.returncode == 0, out.stdout + out.stderr + (installed / "tmp" / "daemon.log").read_text()
    key = (data / "identity.key").read_bytes()
    assert (data / "estafette.sqlite").exists()

    out = chroot(installed, "dpkg", "-r", "estafette")  # no /proc needed: postrm only reloads a running systemd
    assert out.returncode == 0, out.stdout + out.stderr
    assert not (installed / "usr" / "bin" / "estafetted").exists()
    assert (data / "identity.key").read_bytes() == key
    assert (installed / "etc" / "estafette" / "estafette.toml").exists()

    out = chroot(installed, "dpkg", "--purge", "estafette")
    assert out.returncode == 0, out.stdout + out.stderr
    assert not (installed / "etc" / "estafette" / "estafette.toml").exists()
    assert (data / "identity.key").read_bytes() == key
