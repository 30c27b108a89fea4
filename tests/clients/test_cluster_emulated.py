"""Emulated cluster mode through cluster-aware clients, and its replies against a real cluster.

This module starts its own servers (the suite's server runs in standalone mode):

- the node under test: llmcached with `--cluster-mode emulated` on port 0 (`$LLMCACHED_BIN`, else
  target/release/llmcached); with `CLIENT_TEST_TARGET=redis` a real one-node Redis Cluster takes
  its place, which proves the tests themselves right (the LLM commands are then skipped);
- the reference: redis-server with `--cluster-enabled yes`, made a one-node cluster that owns
  every slot with `CLUSTER ADDSLOTSRANGE 0 16383` (`redis-cli --cluster create` needs three
  masters), used once it reports `cluster_state:ok`.

redis-py's `RedisCluster` (RESP2 and RESP3) reads CLUSTER SLOTS and COMMAND at start and then
routes every keyed command by slot: GET/SET, LLMGET/LLMSETNX and pipelines go through it. `redis-cli
-c` follows redirections (there are none to follow). CLUSTER INFO, SLOTS, SHARDS, NODES, MYID and
KEYSLOT replies are compared with the reference's, parsed from the raw bytes, with node ids, ports
and the bus port masked.
"""

import os
import re
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import pytest
from redis.cluster import RedisCluster

from conftest import SOCKET_TIMEOUT
from test_conformance import Raw

ROOT = Path(__file__).resolve().parents[2]
# Redis refuses a cluster port whose bus port (port + 10000) does not fit in 16 bits.
MAX_CLUSTER_PORT = 55535
# How many CLUSTER INFO reads the reference gets to report cluster_state:ok (each waits 10 ms).
STATE_OK_POLLS = 1000


class Node:
    """A started server process with its address and node id."""

    def __init__(self, proc, port, kind):
        self.proc, self.port, self.kind = proc, port, kind
        self.id = None

    def raw(self):
        return Raw(socket.create_connection(("127.0.0.1", self.port), timeout=SOCKET_TIMEOUT))

    def command(self, *words):
        raw = self.raw()
        try:
            return raw.run([w.encode() if isinstance(w, str) else w for w in words])
        finally:
            raw.sock.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=SOCKET_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _wait_for_line(proc, pattern):
    """The first match of `pattern` in the process's output (the server's own readiness line)."""
    for line in proc.stdout:
        match = re.search(pattern, re.sub(rb"\x1b\[[0-9;]*m", b"", line))
        if match:
            # Keep draining, so a chatty server never blocks on a full pipe.
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            return match
    return None


def _free_cluster_port():
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port <= MAX_CLUSTER_PORT:
            return port
    pytest.fail("no free port at or below 55535 for a cluster node")


def _start_redis_cluster(tmp_dir):
    """A one-node Redis Cluster owning slots 0-16383, announcing 127.0.0.1, once its state is ok."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    port = _free_cluster_port()
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
         "--cluster-config-file", str(tmp_dir / "nodes.conf"), "--cluster-announce-ip", "127.0.0.1",
         "--save", "", "--appendonly", "no", "--dir", str(tmp_dir), "--daemonize", "no",
         "--logfile", ""],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    node = Node(proc, port, "redis")
    if _wait_for_line(proc, rb"Ready to accept connections") is None:
        node.stop()
        pytest.fail(f"redis-server --cluster-enabled yes did not start (exit {proc.poll()})")
    assert node.command("CLUSTER", "ADDSLOTSRANGE", "0", "16383") == b"+OK\r\n"
    for _ in range(STATE_OK_POLLS):
        if b"cluster_state:ok" in node.command("CLUSTER", "INFO"):
            break
        threading.Event().wait(0.01)
    else:
        node.stop()
        pytest.fail("the reference cluster never reported cluster_state:ok")
    return node


def _start_llmcached(tmp_dir):
    binary = Path(os.environ.get("LLMCACHED_BIN") or ROOT / "target/release/llmcached")
    if not os.access(binary, os.X_OK):
        pytest.fail(f"no llmcached binary at {binary} (cargo build --release)")
    proc = subprocess.Popen(
        [str(binary), "--port", "0", "--bind", "127.0.0.1", "--cluster-mode", "emulated",
         "--appendonly", "no", "--save", "", "--dir", str(tmp_dir)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, "NO_COLOR": "1"},
    )
    match = _wait_for_line(proc, rb"listening on 127\.0\.0\.1:(\d+)")
    if match is None:
        pytest.fail(f"llmcached --cluster-mode emulated did not start (exit {proc.wait()})")
    return Node(proc, int(match[1]), "llmcached")


def _with_id(node):
    node.id = parse(node.command("CLUSTER", "MYID"))[1].decode()
    assert re.fullmatch(r"[0-9a-f]{40}", node.id), node.id
    return node


@pytest.fixture(scope="module")
def node(tmp_path_factory, target):
    """The node under test: llmcached in emulated cluster mode (a real one-node cluster when the
    suite's target is redis)."""
    tmp = tmp_path_factory.mktemp("emulated")
    n = _start_redis_cluster(tmp) if target == "redis" else _start_llmcached(tmp)
    try:
        yield _with_id(n)
    finally:
        n.stop()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    n = _start_redis_cluster(tmp_path_factory.mktemp("reference"))
    try:
        yield _with_id(n)
    finally:
        n.stop()


@pytest.fixture
def cluster(node, protocol):
    rc = RedisCluster(host="127.0.0.1", port=node.port, protocol=protocol, decode_responses=True,
                      socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=SOCKET_TIMEOUT)
    yield rc
    rc.close()


def llm_only(node):
    if node.kind != "llmcached":
        pytest.skip("LLMGET / LLMSETNX are llmcached's own commands")


# --- replies compared with the reference -----------------------------------------------------


def parse(data):
    """One raw RESP2/RESP3 reply as a tree: (type, value); aggregates hold their children."""
    tree, rest = _parse(data)
    assert rest == b"", f"trailing bytes after one reply: {rest!r}"
    return tree


def _parse(data):
    line, rest = data.split(b"\r\n", 1)
    kind, head = line[:1].decode(), line[1:]
    if kind in "$=!" and head != b"-1":
        n = int(head)
        return (kind, rest[:n]), rest[n + 2:]
    if kind in "*~>%" and head != b"-1":
        items = []
        for _ in range(int(head) * (2 if kind == "%" else 1)):
            item, rest = _parse(rest)
            items.append(item)
        return (kind, items), rest
    return (kind, head), rest


def mask(tree, node):
    """The tree with this node's id, port and bus port replaced by placeholders."""
    kind, value = tree
    if isinstance(value, list):
        return kind, [mask(item, node) for item in value]
    if kind == ":" and value == str(node.port).encode():
        return kind, b"<port>"
    value = value.replace(node.id.encode(), b"<id>")
    value = re.sub(rb":%d@\d+ " % node.port, b":<port>@<bus-port> ", value)
    return kind, value


def session(node, protocol, commands):
    """The masked replies of `commands`, each word `{id}` replaced by the node's own id."""
    raw = node.raw()
    try:
        raw.run([b"HELLO", str(protocol).encode()])
        own = [[node.id.encode() if w == b"{id}" else w for w in c] for c in commands]
        return [mask(parse(raw.run(c)), node) for c in own]
    finally:
        raw.sock.close()


SHAPE_COMMANDS = [
    [b"CLUSTER", b"INFO"],
    [b"CLUSTER", b"SLOTS"],
    [b"CLUSTER", b"SHARDS"],
    [b"CLUSTER", b"NODES"],
    [b"CLUSTER", b"MYID"],
    [b"CLUSTER", b"KEYSLOT", b"foo"],
    [b"CLUSTER", b"KEYSLOT", b"{user1000}.following"],
    [b"CLUSTER", b"KEYSLOT", b"foo{}{bar}"],
    [b"CLUSTER", b"KEYSLOT", b"a{}b{c}"],
    [b"CLUSTER", b"COUNTKEYSINSLOT", b"16384"],
    [b"CLUSTER", b"GETKEYSINSLOT", b"1", b"-1"],
    [b"CLUSTER", b"KEYSLOT"],
    [b"CLUSTER", b"LINKS"],
    [b"CLUSTER", b"REPLICAS", b"{id}"],
    [b"CLUSTER", b"SLAVES", b"{id}"],
    [b"CLUSTER", b"REPLICAS", b"abc"],
    [b"CLUSTER", b"COUNT-FAILURE-REPORTS", b"{id}"],
    [b"CLUSTER", b"SAVECONFIG"],
    [b"SELECT", b"0"],
    [b"SELECT", b"1"],
    [b"READONLY"],
    [b"READWRITE"],
    [b"ASKING"],
]


@pytest.mark.parametrize("command", SHAPE_COMMANDS, ids=lambda c: b"_".join(c).decode())
def test_reply_equals_a_real_one_node_cluster(node, reference, protocol, command):
    [got], [want] = session(node, protocol, [command]), session(reference, protocol, [command])
    assert got == want, f"{command} (RESP{protocol})"


def test_cluster_nodes_is_one_line_for_this_node(node):
    _, line = mask(parse(node.command("CLUSTER", "NODES")), node)
    assert line == b"<id> 127.0.0.1:<port>@<bus-port> myself,master - 0 0 0 connected 0-16383\n"


def test_info_says_cluster_enabled(node):
    info = node.command("INFO", "cluster")
    assert b"cluster_enabled:1\r\n" in info, info


# --- redis-py RedisCluster ---------------------------------------------------------------------


def test_redis_cluster_discovers_one_node_owning_every_slot(cluster, node):
    nodes = cluster.get_nodes()
    assert [(n.host, n.port) for n in nodes] == [("127.0.0.1", node.port)]
    assert cluster.get_node_from_key("foo").port == node.port
    assert cluster.keyslot("{user1000}.following") == 3443
    assert cluster.cluster_keyslot("{user1000}.following") == 3443
    assert cluster.cluster_info()["cluster_state"] == "ok"


def test_redis_cluster_get_set(cluster, prefix):
    keys = [f"{prefix}{i}" for i in range(20)]  # spread over many slots
    assert len({cluster.keyslot(k) for k in keys}) > 10
    for k in keys:
        assert cluster.set(k, f"v:{k}") is True
    assert [cluster.get(k) for k in keys] == [f"v:{k}" for k in keys]
    assert cluster.get(f"{prefix}missing") is None
    assert cluster.delete(*keys) == len(keys)


def test_redis_cluster_pipeline(cluster, prefix):
    pipe = cluster.pipeline()
    for i in range(10):
        pipe.set(f"{prefix}p{i}", i)
        pipe.incr(f"{prefix}p{i}")
    pipe.get(f"{prefix}p3")
    replies = pipe.execute()
    assert replies == [True, 1, True, 2, True, 3, True, 4, True, 5, True, 6, True, 7, True, 8, True,
                       9, True, 10, "4"]


def test_redis_cluster_llmget_leases_then_llmsetnx_answers(cluster, node, prefix):
    llm_only(node)
    key = f"{prefix}answer"
    assert cluster.execute_command("LLMGET", key) is None  # a miss: this caller holds the lease
    assert cluster.execute_command("LLMSETNX", key, "the answer", "EX", 60) == 1
    assert cluster.execute_command("LLMGET", key) == "the answer"
    assert cluster.execute_command("LLMSETNX", key, "another", "EX", 60) == 0


def test_redis_cluster_llm_commands_in_a_pipeline(cluster, node, prefix):
    llm_only(node)
    pipe = cluster.pipeline()
    keys = [f"{prefix}llm{i}" for i in range(5)]
    for k in keys:
        pipe.execute_command("LLMGET", k)
        pipe.execute_command("LLMSETNX", k, f"a:{k}", "EX", 60)
        pipe.execute_command("LLMGET", k)
    assert pipe.execute() == [r for k in keys for r in (None, 1, f"a:{k}")]


# --- redis-cli -c ------------------------------------------------------------------------------


def cli(node, *args):
    done = subprocess.run(["redis-cli", "-c", "-h", "127.0.0.1", "-p", str(node.port), *args],
                          capture_output=True, timeout=SOCKET_TIMEOUT, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    return done.stdout.decode().rstrip("\n")


def test_redis_cli_cluster_mode(node, prefix):
    if shutil.which("redis-cli") is None:
        pytest.skip("redis-cli is not installed")
    for i in range(5):
        assert cli(node, "SET", f"{prefix}cli{i}", f"v{i}") == "OK"
    assert [cli(node, "GET", f"{prefix}cli{i}") for i in range(5)] == [f"v{i}" for i in range(5)]
    assert cli(node, "CLUSTER", "KEYSLOT", "foo") == "12182"
    assert "cluster_state:ok" in cli(node, "CLUSTER", "INFO")
    if node.kind == "llmcached":
        key = f"{prefix}cli-llm"
        assert cli(node, "--no-raw", "LLMGET", key) == "(nil)"
        assert cli(node, "LLMSETNX", key, "from redis-cli", "EX", "60") == "1"
        assert cli(node, "LLMGET", key) == "from redis-cli"


def test_a_request_for_an_unknown_subcommand_keeps_the_node_serving(node):
    reply = node.command("CLUSTER", "NOPE")
    assert reply == b"-ERR unknown subcommand 'NOPE'. Try CLUSTER HELP.\r\n"
    assert node.command("PING") == b"+PONG\r\n"
    assert node.proc.poll() is None

