"""The Prometheus endpoint (metrics.listen): scraped over HTTP and parsed with prometheus_client's parser."""
import os
import subprocess
import urllib.error
import urllib.request

import pytest

from conftest import rpc, stop, wait_for

parser = pytest.importorskip("prometheus_client.parser", reason="prometheus_client is not installed")
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for a network namespace")

# The daemon and the scraper share one private network namespace (loopback only).
SCRIPT = r'''
set -eu
ip link set lo up; ip link set lo multicast on
"$1" --config "$2" --data-dir "$3/data" --socket "$3/api.sock" --interface lo 2>"$3/log" &
pid=$!
python3 - "$3" <<'PY'
import sys, time, urllib.request, urllib.error
d = sys.argv[1]
def get(path, method="GET"):
    req = urllib.request.Request("http://127.0.0.1:19464" + path, method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, None, ""
for i in range(400):
    try:
        status, ctype, body = get("/metrics")
        break
    except OSError:
        time.sleep(0.05)
time.sleep(1.5)  # a few beacons out and back over loopback
status, ctype, body = get("/metrics")
open(d + "/scrape.txt", "w").write(body)
print("status", status, ctype)
print("other", get("/")[0], get("/metrics", "POST")[0])
PY
kill -TERM $pid; wait $pid; echo "daemon-rc=$?"
'''


def test_scrape_parses_with_conventional_names(daemon_bin, scratch):
    cfg = scratch / "e.toml"
    cfg.write_text('[metrics]\nlisten = "19464"\n')
    out = subprocess.run(["unshare", "--net", "sh", "-c", SCRIPT, "sh", str(daemon_bin), str(cfg), str(scratch)],
                         capture_output=True, text=True, timeout=120)
    log = (scratch / "log").read_text() if (scratch / "log").exists() else ""
    assert "status 200 text/plain; version=0.0.4" in out.stdout, out.stdout + out.stderr + log
    assert "other 404 405" in out.stdout and "daemon-rc=0" in out.stdout, out.stdout + log
    families = {f.name: f for f in parser.text_string_to_metric_families((scratch / "scrape.txt").read_text())}
    # prometheus_client strips _total from counter family names.
    assert families["estafette_uptime_seconds"].type == "gauge"
    assert families["estafette_peers"].type == "gauge"
    assert families["estafette_envelopes_stored"].samples[0].value == 0
    assert families["estafette_packets_in"].type == "counter"
    assert families["estafette_packets_in"].samples[0].name == "estafette_packets_in_total"
    assert families["estafette_packets_out"].samples[0].value > 0  # it sent beacons in 1.5 s
    assert families["estafette_build_info"].samples[0].labels["version"]
    assert families["estafette_drops"].type == "counter"
    for f in families.values():
        assert f.name.startswith("estafette_")
        for s in f.samples:
            if f.type == "counter":
                assert s.name.endswith("_total"), s.name
    assert "metrics listening" in log


def test_off_unless_set(daemon_bin, scratch):
    script = r'''
    ip link set lo up; ip link set lo multicast on
    "$1" --data-dir "$2/data" --socket "$2/api.sock" --interface lo 2>"$2/log" & pid=$!
    for i in $(seq 1 400); do [ -S "$2/api.sock" ] && break; sleep 0.05; done
    ss -Htln | wc -l; kill -TERM $pid; wait $pid
    '''
    out = subprocess.run(["unshare", "--net", "sh", "-c", script, "sh", str(daemon_bin), str(scratch)],
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().splitlines()[0] == "0", out.stdout + out.stderr


def test_bad_listen_value_is_a_config_error(daemon_bin, scratch):
    cfg = scratch / "e.toml"
    cfg.write_text('[metrics]\nlisten = "localhost:http"\n')
    out = subprocess.run([str(daemon_bin), "--check-config", str(cfg)], capture_output=True, text=True)
    assert out.returncode == 78 and f"{cfg}:2: metrics.listen:" in out.stderr
