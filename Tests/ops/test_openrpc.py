"""docs/openrpc.json, the machine-readable description of docs/api.md (issue 13).

Static: the document is valid OpenRPC (the checked-in meta-schema), every $ref resolves, and its methods, params,
result members and error codes are those of docs/api.md. Live: two real daemons in a private network namespace
(loopback only); every method is called with valid params and its answer validated against its result schema,
every method is called with bad params and its error code must be one the document lists for it, and
message.received notifications are validated against theirs. The schemas are checked to be strict enough: a
member of a real answer that changes type, disappears or is added makes validation fail."""
import copy
import json
import os
import re
import socket
import subprocess
import time

import pytest

from conftest import ROOT, stop, wait_for

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed (scripts/install-deps.sh)")
from jsonschema import Draft7Validator  # noqa: E402

DOC = json.loads((ROOT / "docs" / "openrpc.json").read_text())
API_MD = (ROOT / "docs" / "api.md").read_text()
HERE = ROOT / "Tests" / "ops"
TOOLS_URI = "https://meta.json-schema.tools/"
METHODS = {m["name"]: m for m in DOC["methods"]}
METHOD_INDEX = {m["name"]: i for i, m in enumerate(DOC["methods"])}


# MARK: - Helpers


def meta_validator():
    """The OpenRPC meta-schema, with the JSON Schema meta-schema it refers to registered locally."""
    meta = json.loads((HERE / "openrpc-meta-schema.json").read_text())
    tools = json.loads((HERE / "json-schema-tools-meta-schema.json").read_text())
    try:
        from referencing import Registry
        from referencing.jsonschema import DRAFT7
    except ImportError:  # jsonschema before 4.18 (Debian 12's python3-jsonschema)
        from jsonschema import RefResolver

        store = {TOOLS_URI: tools, TOOLS_URI.rstrip("/"): tools}
        return Draft7Validator(meta, resolver=RefResolver.from_schema(meta, store=store))
    resource = DRAFT7.create_resource(tools)
    registry = Registry().with_resources([(TOOLS_URI, resource), (TOOLS_URI.rstrip("/"), resource)])
    return Draft7Validator(meta, registry=registry)


def pointer(path):
    """The value at a JSON pointer ("#/a/b") in DOC; KeyError or IndexError when there is none."""
    node = DOC
    for part in path[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def validator_at(path):
    """A validator for the schema at `path` in DOC, its "#/components/…" references resolved in DOC."""
    root = dict(DOC)
    root["$ref"] = path  # draft-07: a $ref beside other members is the whole schema
    return Draft7Validator(root)


def result_validator(method):
    return validator_at("#/methods/%d/result/schema" % METHOD_INDEX[method])


def listed_codes(method):
    return {pointer(e["$ref"])["code"] if "$ref" in e else e["code"] for e in METHODS[method]["errors"]}


def code_spans(text):
    return re.findall(r"`([^`]*)`", text)


def methods_table():
    """docs/api.md's methods table: name -> (params cell, result cell)."""
    rows = {}
    for line in API_MD.split("\n## Methods\n", 1)[1].split("\n### ", 1)[0].splitlines():
        m = re.match(r"\| \[`([a-z_.]+)`\]\(#[a-z_]+\) \| (.*?) \| (.*?) \|$", line)
        if m:
            rows[m.group(1)] = (m.group(2), m.group(3))
    return rows


def section(method):
    """The text of docs/api.md's section for `method` (up to the next ### or ## heading)."""
    m = re.search(r"^### %s\n(.*?)(?=^### |^## )" % re.escape(method), API_MD, re.S | re.M)
    assert m, f"docs/api.md has no section '### {method}'"
    return m.group(1)


def parse_members(text):
    """The api.md table's result notation ({a, b?, c: [{d}], e: [item]}) as {name: (optional, nested or None)}."""
    pos = 0

    def obj():
        nonlocal pos
        assert text[pos] == "{", text
        pos += 1
        members = {}
        while True:
            m = re.compile(r"\s*([a-z_]+)(\??)").match(text, pos)
            assert m, text
            pos = m.end()
            nested = None
            if text.startswith(": [", pos):
                pos += 3
                if text[pos] == "{":
                    nested = obj()
                else:
                    pos = text.index("]", pos)
                assert text[pos] == "]", text
                pos += 1
            members[m.group(1)] = (m.group(2) == "?", nested)
            if text[pos] == "}":
                pos += 1
                return members
            assert text[pos] == ",", text
            pos += 1

    return obj()


def resolve(schema):
    while "$ref" in schema:
        schema = pointer(schema["$ref"])
    return schema


def compare_members(where, members, schema):
    schema = resolve(schema)
    assert set(members) == set(schema["properties"]), f"{where}: api.md {sorted(members)}, openrpc.json " \
                                                      f"{sorted(schema['properties'])}"
    for name, (optional, nested) in members.items():
        assert (name in schema.get("required", [])) == (not optional), f"{where}.{name}: required differs"
        if nested is not None:
            items = resolve(schema["properties"][name])
            assert items["type"] == "array", f"{where}.{name}"
            compare_members(f"{where}.{name}[]", nested, items["items"])


# MARK: - Static


def test_document_is_valid_openrpc():
    errors = sorted(meta_validator().iter_errors(DOC), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{e.json_path}: {e.message[:300]}" for e in errors[:10])
    assert DOC["openrpc"].startswith("1.3.")
    # The check has teeth: a schema with a bad type and an unknown member of a method are refused.
    bad = copy.deepcopy(DOC)
    bad["methods"][0]["result"]["schema"] = {"type": "strng"}
    assert list(meta_validator().iter_errors(bad))
    bad = copy.deepcopy(DOC)
    bad["methods"][0]["returns"] = {}
    assert list(meta_validator().iter_errors(bad))


def test_every_ref_resolves_inside_the_document():
    refs = []

    def walk(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "$ref" and isinstance(v, str):
                    refs.append((path, v))
                else:
                    walk(v, f"{path}/{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}/{i}")

    walk(DOC, "#")
    assert len(refs) > 50
    for where, ref in refs:
        assert ref.startswith("#/"), f"{where}: {ref} points outside the document"
        try:
            pointer(ref)
        except (KeyError, IndexError, ValueError):
            pytest.fail(f"{where}: {ref} does not resolve")
    # Every result and notification schema is a valid draft-07 schema once resolved.
    for name in METHODS:
        result_validator(name).check_schema(resolve(METHODS[name]["result"]["schema"]))


def test_methods_params_and_results_match_api_md():
    table = methods_table()
    assert len(table) >= 29
    assert set(table) == set(METHODS), f"only in api.md: {sorted(set(table) - set(METHODS))}; " \
                                       f"only in openrpc.json: {sorted(set(METHODS) - set(table))}"
    for name, (params_cell, result_cell) in table.items():
        m = METHODS[name]
        assert m["paramStructure"] == "by-name", name
        params = {p["name"]: p for p in m["params"]}
        # The table's params: `a`, `b?`, `c` or `d` (alternatives are optional).
        for part in params_cell.split(", "):
            alternatives = " or " in part
            for pname, q in re.findall(r"`([a-z_]+)(\??)`", part):
                assert pname in params, f"{name}: api.md's param {pname} is not in openrpc.json"
                assert params[pname]["required"] == (not q and not alternatives), f"{name}.{pname}: required"
        # The section's param table lists every param, optional ones included.
        text = section(name)
        if "| param |" in text:
            rows = text.split("| param |", 1)[1].split("\n")[1:]
            rows = rows[: next((i for i, r in enumerate(rows) if not r.startswith("|")), len(rows))]
            documented = {h.group(1) for r in rows if (h := re.match(r"\| `([a-z_]+)` \|", r))}
            assert documented == set(params), f"{name}: section params {sorted(documented)} vs {sorted(params)}"
        else:
            assert params_cell == "none" and not params, name
        for pname, p in params.items():
            if pname not in re.findall(r"`([a-z_]+)\??`", params_cell):
                assert p["required"] is False, f"{name}.{pname}: a param the table does not show is optional"
        # The result members.
        spans = [s for s in code_spans(result_cell) if s.startswith("{")]
        assert spans, f"{name}: no result in api.md's table"
        compare_members(name, parse_members(spans[0]), m["result"]["schema"])
    # The notification is described too.
    notes = {n["name"]: n for n in DOC["x-notifications"]}
    assert set(notes) == {"message.received"}
    assert "message.received" in METHODS["subscribe"]["x-notifications"]


def test_error_codes_match_api_md():
    errors_table = API_MD.split("\n## Errors\n", 1)[1].split("\n## ", 1)[0]
    api_codes = {int(c) for c in re.findall(r"^\| (-\d+) \|", errors_table, re.M)}
    doc_codes = [e["code"] for e in DOC["components"]["errors"].values()]
    assert len(doc_codes) == len(set(doc_codes)), "a code is listed twice in components.errors"
    assert set(doc_codes) == api_codes
    for name in METHODS:
        # A method lists -32602 and -32603 (any params may be wrong; any call may fail unexpectedly) and every
        # code its api.md section names.
        codes = listed_codes(name)
        assert {-32602, -32603} <= codes, name
        named = {int(c) for c in re.findall(r"`(-32\d{3})`", section(name))}
        assert named <= codes, f"{name}: api.md names {sorted(named - codes)}, which openrpc.json does not list"
        # Request-level codes belong to no method.
        assert not codes & {-32700, -32600, -32601, -32040}, name
    assert "](openrpc.json)" in API_MD, "api.md links the document"


# MARK: - Live daemons

CONFIG = """[lan]
beacon_interval_ms = 200
"""


class Client:
    """One connection to a daemon's API socket: requests, responses and notifications, one JSON line each."""

    def __init__(self, path, timeout=20):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self.buf = b""
        self.next_id = 0
        self.notifications = []

    def close(self):
        self.sock.close()

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the daemon closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def request(self, method, params=None, omit_params=False):
        """The whole response object; notifications that arrive first are kept in self.notifications."""
        self.next_id += 1
        req = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if not omit_params:
            req["params"] = params if params is not None else {}
        self.sock.sendall((json.dumps(req) + "\n").encode())
        while True:
            msg = self.line()
            if "id" not in msg:
                self.notifications.append(msg)
                continue
            assert msg["id"] == self.next_id and msg["jsonrpc"] == "2.0", msg
            return msg

    def call(self, method, params=None, omit_params=False):
        resp = self.request(method, params, omit_params)
        assert "error" not in resp, f"{method} {params}: {resp['error']}"
        return resp["result"]

    def notification(self, timeout):
        if self.notifications:
            return self.notifications.pop(0)
        self.sock.settimeout(timeout)
        try:
            msg = self.line()
        finally:
            self.sock.settimeout(20)
        assert "id" not in msg, f"an answer where a notification was expected: {msg}"
        return msg


class Daemon:
    def __init__(self, bin_path, root, name, netns_of=None):
        self.dir = root / name
        self.dir.mkdir()
        self.sock = self.dir / "api.sock"
        (self.dir / "e.toml").write_text(CONFIG)
        args = [str(bin_path), "--config", str(self.dir / "e.toml"), "--data-dir", str(self.dir / "data"),
                "--socket", str(self.sock), "--interface", "lo"]
        if netns_of is None:
            script = "ip link set lo up && ip link set lo multicast on && exec \"$@\""
            cmd = ["unshare", "--net", "sh", "-c", script, "sh"] + args
        else:
            cmd = ["nsenter", f"--net=/proc/{netns_of.proc.pid}/ns/net", "--"] + args
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(self.dir / "log", "w"))
        try:
            wait_for(self.answers, timeout=60, what=f"{name} to answer on its socket")
        except AssertionError:
            raise AssertionError(f"{name} did not start: {self.log()}")

    def answers(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"the daemon exited with {self.proc.returncode}: {self.log()}")
        if not self.sock.exists():
            return False
        try:
            c = Client(self.sock, timeout=5)
            try:
                return "result" in c.request("node.status")
            finally:
                c.close()
        except OSError:
            return False

    def client(self):
        return Client(self.sock)

    def log(self):
        p = self.dir / "log"
        return p.read_text()[-3000:] if p.exists() else ""

    def stop(self):
        try:
            return stop(self.proc)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    """Two daemons, alice and bob, in one private network namespace (alice's), hearing each other on lo."""
    if os.geteuid() != 0:
        pytest.skip("needs root for a network namespace")
    from conftest import built

    bin_path = built("estafetted")
    root = tmp_path_factory.mktemp("openrpc")
    os.chmod(root, 0o755)
    alice = Daemon(bin_path, root, "alice")
    try:
        bob = Daemon(bin_path, root, "bob", netns_of=alice)
    except BaseException:
        alice.stop()
        raise
    try:
        yield alice, bob
    finally:
        bob.stop()
        alice.stop()


def other_type(value):
    """A value of another JSON type than `value`."""
    if isinstance(value, bool):
        return "true"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return 1
    if value is None:
        return "null"
    if isinstance(value, list):
        return {}
    return []


def paths(value, path=()):
    """Every member and element of a JSON value, as key paths."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield path + (k,), v
            yield from paths(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield path + (i,), v
            yield from paths(v, path + (i,))


def objects(value, path=()):
    if isinstance(value, dict):
        yield path
        for k, v in value.items():
            yield from objects(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from objects(v, path + (i,))


def at(value, path):
    """The container holding the member or element at `path`."""
    return get(value, path[:-1])


def get(value, path):
    for p in path:
        value = value[p]
    return value


# Members whose absence the contract allows (docs/api.md): the sender's name of a non-contact, the clock's skew
# when it is not suspect, and the counters that are still zero.
MAY_BE_ABSENT = {"from_name", "skew_seconds", "to_name"}
ALWAYS_COUNTED = {"packets_in", "packets_out"}


def check_strict(name, validator, value):
    """`value` is valid; changing the type of any member or element, removing a member the contract does not
    allow to be absent, or adding a member to an object the document closes, makes it invalid."""
    errors = list(validator.iter_errors(value))
    assert not errors, f"{name}: {json.dumps(value)[:400]}\n" + "\n".join(
        f"  {e.json_path}: {e.message[:200]}" for e in errors[:5])
    for path, v in list(paths(value)):
        bent = copy.deepcopy(value)
        at(bent, path)[path[-1]] = other_type(v)
        assert not validator.is_valid(bent), f"{name}: {path} changed type ({v!r}) and still validates"
        if isinstance(path[-1], str):
            in_counters = len(path) >= 2 and path[-2] == "counters"
            if path[-1] in MAY_BE_ABSENT or (in_counters and path[-1] not in ALWAYS_COUNTED):
                continue
            cut = copy.deepcopy(value)
            del at(cut, path)[path[-1]]
            assert not validator.is_valid(cut), f"{name}: without {path} it still validates"
    for path in objects(value):
        if path and path[-1] == "counters":
            continue  # an open map: new counters may appear
        grown = copy.deepcopy(value)
        get(grown, path)["zz_undocumented"] = 1
        assert not validator.is_valid(grown), f"{name}: an undocumented member at {path} still validates"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root for a network namespace")
def test_every_method_answers_as_described(nodes, tmp_path):
    alice, bob = nodes
    a, b = alice.client(), bob.client()
    seen = set()

    def call(method, params=None, omit_params=False, client=None):
        result = (client or a).call(method, params, omit_params)
        check_strict(method, result_validator(method), result)
        seen.add(method)
        return result

    me = call("identity.show", omit_params=True)["id"]
    bob_id = b.call("identity.show")["id"]
    # bob is heard: peers.list has an item to check.
    wait_for(lambda: a.call("peers.list")["peers"], timeout=30, what="alice to hear bob")
    call("peers.list")
    call("node.status")

    # bob by his invite; an ID from api.md's examples by ID.
    invite = call("identity.invite", {"name": "Bob", "relays": ["192.0.2.1:7300"]}, client=b)["invite"]
    added = call("contacts.add", {"name": "bob", "invite": invite})
    assert added == {"ok": True, "invite_name": "Bob", "relays": ["192.0.2.1:7300"]}
    alice_example = re.search(r"\| alice \| `(es1[a-z2-7]{58})` \|", API_MD).group(1)
    call("contacts.add", {"name": "example", "id": alice_example})
    call("contacts.list")

    from_bob = b.call("messages.send", {"to": me, "text": "from bob"})["message_id"]
    to_bob = call("messages.send", {"to": "bob", "text": "hello bob"})["message_id"]
    call("messages.send", {"to": me, "text": "a note to self", "expires_in": 3600})
    # Nobody runs the example ID: that message stays "sent"; bob's node acknowledges his: "delivered".
    to_nobody = call("messages.send", {"to": "example", "text": "nobody home"})["message_id"]
    assert call("messages.status", {"message_id": to_nobody}) == {"status": "sent"}
    wait_for(lambda: a.call("messages.status", {"message_id": to_bob})["status"] == "delivered", timeout=30,
             what="bob's delivery receipt")
    assert call("messages.status", {"message_id": to_bob})["status"] == "delivered"
    sent = call("messages.sent", {"limit": 10})["messages"]
    assert {m["status"] for m in sent} == {"sent", "delivered"}, sent
    call("alerts.post", {"text": "water cut at 14:00"})
    call("alerts.follow", {"id": me})
    call("alerts.following")
    call("channels.join", {"name": "assemblee", "passphrase": "la commune vit"})
    call("channels.list")
    call("channels.post", {"channel": "assemblee", "text": "AG ce soir"})

    def inbox():
        return a.call("inbox.list", {"limit": 1000})["messages"]

    wait_for(lambda: any(m["message_id"] == from_bob for m in inbox()), timeout=30, what="bob's message")
    # Every kind of item, and every kind of sender: bob a contact, then verified; this node unknown to itself.
    items = call("inbox.list", omit_params=True)["messages"]
    assert {m["kind"] for m in items} == {"direct", "alert", "channel"}, items
    assert {m["sender"] for m in items} == {"contact", "unknown"}, items
    call("contacts.safety_number", {"name": "bob"})
    call("contacts.verify", {"name": "bob"})
    items = call("inbox.list", {"limit": 1000})["messages"]
    assert {m["sender"] for m in items} == {"verified", "unknown"}, items
    call("inbox.list", {"limit": 2, "since": 0, "unread": True})
    call("inbox.list", {"requests": True})
    marked = call("inbox.mark_read", {"message_ids": [m["message_id"] for m in items]})
    assert marked["marked"] == len(items)
    s = alice.client()
    try:
        call("subscribe", omit_params=True, client=s)
    finally:
        s.close()

    call("relays.add", {"address": "127.0.0.1:45999", "id": bob_id})
    relays = call("relays.list")["relays"]
    assert relays and relays[0]["last_sync"] is None
    call("relays.remove", {"address": "127.0.0.1:45999"})

    bundle = tmp_path / "island.bundle"
    exported = call("store.export", {"path": str(bundle)})
    assert exported["envelopes"] > 0 and exported["bytes"] == bundle.stat().st_size
    call("store.export", {"path": str(tmp_path / "since.bundle"), "since": int(time.time()) - 3600})
    imported = call("store.import", {"path": str(bundle)})
    assert imported["duplicates"] == exported["envelopes"]
    call("store.import", {"path": str(bundle)}, client=b)

    call("contacts.block", {"id": alice_example})
    call("contacts.unblock", {"id": alice_example})
    call("alerts.unfollow", {"id": me})
    call("channels.leave", {"name": "assemblee"})
    call("contacts.remove", {"name": "example"})
    a.close()
    b.close()
    assert seen == set(METHODS) - {"node.wipe"}, sorted(set(METHODS) - seen)


ID_A = "es1lxmv6776zawdcg2cxphqydhnmd3vxqpvv7vbijsa2y2md3nyfi6jqgsxoq"
BAD = [
    ("node.status", [1], -32602), ("identity.show", [1], -32602), ("contacts.list", [1], -32602),
    ("alerts.following", [1], -32602), ("peers.list", [1], -32602),
    ("subscribe", [1], -32602), ("relays.list", "x", -32602), ("channels.list", [1], -32602),
    ("contacts.add", {}, -32602), ("contacts.add", {"name": "x", "id": "es1abc"}, -32002),
    ("contacts.add", {"name": "ES1bob", "id": ID_A}, -32006), ("contacts.add", {"name": "x"}, -32602),
    ("contacts.add", {"name": "x", "invite": "estafette:invite?v=1&id=es1"}, -32070),
    ("contacts.remove", {}, -32602), ("contacts.remove", {"name": "nobody"}, -32001),
    ("messages.send", {"to": "bob"}, -32602), ("messages.send", {"to": "nobody", "text": "x"}, -32001),
    ("messages.send", {"to": ID_A[:-1] + "j", "text": "x"}, -32002),
    ("messages.send", {"to": ID_A, "text": " "}, -32004),
    ("messages.send", {"to": ID_A, "text": "é" * 16001}, -32003),
    ("messages.send", {"to": ID_A, "text": "x", "expires_in": 5}, -32602),
    ("messages.status", {}, -32602), ("messages.status", {"message_id": "abc"}, -32602),
    ("messages.status", {"message_id": "0" * 64}, -32080), ("messages.sent", {"limit": 0}, -32602),
    ("alerts.post", {"text": 5}, -32602), ("alerts.post", {"text": ""}, -32004),
    ("alerts.follow", {}, -32602), ("alerts.follow", {"id": "es1abc"}, -32002),
    ("alerts.unfollow", {"id": "bob"}, -32002),
    ("inbox.list", {"limit": 0}, -32602), ("inbox.list", {"unread": "yes"}, -32602),
    ("inbox.mark_read", {}, -32602), ("inbox.mark_read", {"message_ids": ["abc"]}, -32602),
    ("relays.add", {"address": "nohost", "id": ID_A}, -32022),
    ("relays.add", {"address": "127.0.0.1:1", "id": "es1abc"}, -32002), ("relays.add", {}, -32602),
    ("relays.remove", {"address": "127.0.0.1:2"}, -32020), ("relays.remove", {}, -32602),
    ("store.export", {"path": "relative.bundle"}, -32602),
    ("store.export", {"path": "/nonexistent-dir/x.bundle"}, -32031),
    ("store.import", {"path": "/nonexistent-dir/x.bundle"}, -32031), ("store.import", {}, -32602),
    ("store.import", {"path": "@GARBAGE@"}, -32030),
    ("channels.join", {"name": "", "passphrase": "p"}, -32051),
    ("channels.join", {"name": "x", "passphrase": ""}, -32052), ("channels.join", {}, -32602),
    ("channels.leave", {"name": "not joined"}, -32050), ("channels.leave", {}, -32602),
    ("channels.post", {"channel": "not joined", "text": "x"}, -32050), ("channels.post", {}, -32602),
    ("contacts.block", {"id": "x"}, -32002), ("contacts.block", {}, -32602),
    ("contacts.unblock", {"id": "x"}, -32002),
    ("contacts.safety_number", {"name": "nobody"}, -32001), ("contacts.safety_number", {}, -32602),
    ("contacts.verify", {"name": "nobody"}, -32001),
    ("identity.invite", {"name": ""}, -32070), ("identity.invite", {"name": "x", "relays": ["a b"]}, -32070),
    ("identity.invite", {}, -32602),
    ("node.wipe", {}, -32060), ("node.wipe", {"confirm": False}, -32060), ("node.wipe", {"confirm": "yes"}, -32602),
]


def test_bad_params_cover_every_method():
    assert {m for m, _, _ in BAD} == set(METHODS)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root for a network namespace")
@pytest.mark.parametrize("method,params,code", BAD, ids=lambda v: v if isinstance(v, str) else None)
def test_bad_params_get_an_error_the_document_lists(nodes, tmp_path, method, params, code):
    alice, _ = nodes
    if params == {"path": "@GARBAGE@"}:
        garbage = tmp_path / "garbage.bundle"
        garbage.write_bytes(b"not a bundle at all\n" * 10)
        params = {"path": str(garbage)}
    c = alice.client()
    try:
        resp = c.request(method, params)
    finally:
        c.close()
    assert "error" in resp, f"{method} {json.dumps(params)[:100]} answered {resp}"
    err = resp["error"]
    assert isinstance(err["code"], int) and isinstance(err["message"], str) and err["message"], err
    assert err["code"] in listed_codes(method), f"{method}: {err} is not listed in docs/openrpc.json"
    assert err["code"] == code, err


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root for a network namespace")
def test_unknown_method_and_bad_request_codes_are_in_components(nodes):
    alice, _ = nodes
    codes = {e["code"] for e in DOC["components"]["errors"].values()}
    c = alice.client()
    try:
        assert c.request("messages.sned", {})["error"]["code"] == -32601
        c.sock.sendall(b'{"jsonrpc":"2.0","id":1,"method":"node.status"\n')
        assert c.line()["error"]["code"] == -32700
        c.sock.sendall(b'{"jsonrpc":"1.0","id":2,"method":"node.status"}\n')
        assert c.line()["error"]["code"] == -32600
        assert {-32601, -32700, -32600, -32040} <= codes
    finally:
        c.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root for a network namespace")
def test_message_received_notifications_match_their_schema(nodes):
    alice, bob = nodes
    note = {n["name"]: n for n in DOC["x-notifications"]}["message.received"]
    validator = validator_at("#/x-notifications/0/params")
    assert DOC["x-notifications"][0] is note
    sub, a, b = alice.client(), alice.client(), bob.client()
    try:
        assert sub.call("subscribe") == {"subscribed": True}
        me = a.call("identity.show")["id"]
        a.call("channels.join", {"name": "notes", "passphrase": "p"})
        expected = {
            a.call("alerts.post", {"text": "an alert"})["message_id"]: "alert",
            a.call("messages.send", {"to": me, "text": "to self"})["message_id"]: "direct",
            a.call("channels.post", {"channel": "notes", "text": "a post"})["message_id"]: "channel",
            b.call("messages.send", {"to": me, "text": "from bob"})["message_id"]: "direct",
        }
        got = {}
        deadline = time.monotonic() + 30
        while set(expected) - set(got):
            assert time.monotonic() < deadline, f"notifications missing: {set(expected) - set(got)}; got {got}"
            msg = sub.notification(timeout=max(0.1, deadline - time.monotonic()))
            assert msg["jsonrpc"] == "2.0" and msg["method"] == note["name"] and set(msg) == {
                "jsonrpc", "method", "params"}, msg
            check_strict("message.received", validator, msg["params"])
            got[msg["params"]["message_id"]] = msg["params"]
        for mid, kind in expected.items():
            assert got[mid]["kind"] == kind, got[mid]
        a.call("channels.leave", {"name": "notes"})
    finally:
        for c in (sub, a, b):
            c.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root for a network namespace")
def test_node_wipe_answers_as_described_then_exits_10(daemon_bin, scratch):
    d = Daemon(daemon_bin, scratch, "wiped")
    try:
        c = d.client()
        refused = c.request("node.wipe", omit_params=True)
        assert refused["error"]["code"] == -32060
        assert -32060 in listed_codes("node.wipe")
        result = c.call("node.wipe", {"confirm": True})
        check_strict("node.wipe", result_validator("node.wipe"), result)
        c.close()
        assert d.proc.wait(timeout=20) == 10
    finally:
        d.stop()
