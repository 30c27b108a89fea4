"""Replies byte for byte against a real redis-server 7.0.

Each case is a short session of commands. The session runs on the server under test and on a
reference redis-server that this module starts itself (on a Unix socket in a temporary directory,
so it needs no TCP port), in RESP2 and in RESP3, and every raw reply must be the same bytes.
Keys are `{p}`-prefixed; the prefix is the same on both servers, and the reference starts empty.
"""

import os
import shutil
import socket
import subprocess
import uuid

import pytest

from conftest import SOCKET_TIMEOUT

# name -> commands; "{p}" becomes the session's key prefix.
CASES = {
    "databases": [
        "SELECT 3", "SET {p}k v EX 100", "MOVE {p}k 3", "MOVE {p}k 4", "MOVE {p}k 4",
        "MOVE {p}k 99", "MOVE {p}k x", "MOVE {p}none 5", "SELECT 4", "TTL {p}k", "GET {p}k",
        "COPY {p}k {p}k", "COPY {p}k {p}k DB 3", "COPY {p}k {p}k DB 3", "COPY {p}k {p}k DB 16",
        "COPY {p}k {p}c DB x", "SELECT 3", "GET {p}k", "SWAPDB 3 x", "SWAPDB x 3", "SWAPDB 3 100",
        "SWAPDB -1 3", "SWAPDB 5 5", "SWAPDB 99999999999 1", "SELECT 16", "SELECT -1", "SELECT x",
        "SELECT 99999999999", "SELECT -2147483649", "SELECT 1.5", "MOVE {p}k 99999999999",
        "COPY {p}k {p}c DB 99999999999",
        "DEL {p}k", "SELECT 4", "DEL {p}k", "SELECT 0",
    ],
    "sort": [
        "RPUSH {p}l 3 1 2 10 -5", "SORT {p}l", "SORT {p}l DESC", "SORT {p}l ALPHA",
        "SORT {p}l LIMIT 1 2", "SORT {p}l LIMIT -1 2 DESC", "SORT {p}l BY nosort",
        "SORT {p}l BY nosort DESC LIMIT 1 2", "SADD {p}s c a b", "SORT {p}s ALPHA",
        "SORT {p}s BY nosort STORE {p}out", "LRANGE {p}out 0 -1", "ZADD {p}z 3 a 1 b 2 c",
        "SORT {p}z BY nosort", "SORT {p}z BY nosort DESC", "SORT {p}z ALPHA DESC",
        "MSET {p}w_3 30 {p}w_1 10 {p}w_2 20 {p}w_10 5", "SORT {p}l BY {p}w_*",
        "SORT {p}l BY {p}w_* GET # GET {p}w_*", "HSET {p}h_1 f x", "HSET {p}h_2 f y",
        "SORT {p}l BY {p}w_* GET {p}h_*->f GET #", "SORT {p}l BY {p}h_*->f ALPHA",
        "SORT {p}l BY {p}w_* GET {p}h_*->f STORE {p}dst", "LRANGE {p}dst 0 -1",
        "RPUSH {p}bad a 1", "SORT {p}bad", "SET {p}str x", "SORT {p}str", "SORT {p}l LIMIT a b",
        "SORT {p}l STORE", "SORT_RO {p}l STORE {p}x", "SORT {p}l FOO", "SORT {p}none",
        "SORT {p}none STORE {p}dst", "EXISTS {p}dst", "RPUSH {p}ties 01 1 1.0", "SORT {p}ties",
        "SORT {p}l GET nostar", "SORT_RO {p}l BY {p}w_* LIMIT 0 2",
    ],
    "hrandfield_fixed_replies": [
        "HSET {p}h a 1 b 2", "HRANDFIELD {p}none", "HRANDFIELD {p}none 3",
        "HRANDFIELD {p}none 3 WITHVALUES", "HRANDFIELD {p}h 0", "HRANDFIELD {p}h 1 WITHSCORES",
        "HRANDFIELD {p}h -9223372036854775808", "HRANDFIELD {p}h -9223372036854775807 WITHVALUES",
        "HRANDFIELD {p}h x", "SET {p}s v", "HRANDFIELD {p}s",
    ],
    "client_unblock_replies": [
        "CLIENT UNBLOCK x", "CLIENT UNBLOCK 5 LATER", "CLIENT UNBLOCK 999999",
        "CLIENT UNBLOCK 1 ERROR extra",
    ],
    "getset_and_msetnx": [
        "GETSET {p}k a", "EXPIRE {p}k 100", "GETSET {p}k b", "TTL {p}k",
        "MSETNX {p}a 1 {p}b 2", "MSETNX {p}c 3 {p}a x", "EXISTS {p}c", "MSETNX {p}a",
        "HSET {p}h f v", "GETSET {p}h x",
    ],
    "getrange_setrange": [
        "SET {p}k Hello_World", "GETRANGE {p}k 0 4", "GETRANGE {p}k -5 -1", "GETRANGE {p}k -1 -5",
        "GETRANGE {p}k 5 3", "GETRANGE {p}k 0 -100", "GETRANGE {p}k -100 100",
        "GETRANGE {p}none 0 -1", "GETRANGE {p}k x 1", "SUBSTR {p}k 6 -1",
        "SETRANGE {p}n 3 ab", "GET {p}n", "SETRANGE {p}n 0 xyz", "SETRANGE {p}e 5 ''",
        "EXISTS {p}e", "SETRANGE {p}n -1 x", "SETRANGE {p}n 536870911 xy",
        "HSET {p}h f v", "SETRANGE {p}h 0 x", "GETRANGE {p}h 0 1",
    ],
    "incrbyfloat": [
        "SET {p}f 10.50", "INCRBYFLOAT {p}f 0.1", "INCRBYFLOAT {p}f -5", "SET {p}f 5.0e3",
        "INCRBYFLOAT {p}f 2.0e2", "INCRBYFLOAT {p}new 3", "INCRBYFLOAT {p}f abc",
        "INCRBYFLOAT {p}f inf", "SET {p}s text", "INCRBYFLOAT {p}s 1", "INCRBYFLOAT {p}f 1 2",
    ],
    "bits": [
        "SETBIT {p}k 1 1", "SETBIT {p}k 7 1", "GET {p}k", "SETBIT {p}k 7 0", "GETBIT {p}k 1",
        "GETBIT {p}k 1000", "SETBIT {p}k 23 1", "STRLEN {p}k", "SETBIT {p}k -1 1",
        "GETBIT {p}k 4294967296", "SETBIT {p}k 0 2", "SET {p}s foobar", "BITCOUNT {p}s",
        "BITCOUNT {p}s 0 0", "BITCOUNT {p}s 1 1 BYTE", "BITCOUNT {p}s 5 30 BIT",
        "BITCOUNT {p}s -2 -1", "BITCOUNT {p}none", "BITCOUNT {p}s 0", "BITCOUNT {p}s 0 1 WORD",
    ],
    "lcs": [
        "MSET {p}a ohmytext {p}b mynewtext", "LCS {p}a {p}b", "LCS {p}a {p}b LEN",
        "LCS {p}a {p}b IDX", "LCS {p}a {p}b IDX MINMATCHLEN 4 WITHMATCHLEN",
        "LCS {p}a {p}b LEN IDX", "LCS {p}a {p}none", "HSET {p}h f v", "LCS {p}a {p}h",
        "LCS {p}a {p}b FOO",
    ],
    "rename_copy_touch": [
        "SET {p}a 1 EX 100", "RENAME {p}a {p}b", "TTL {p}b", "RENAME {p}a {p}b", "RENAME {p}b {p}b",
        "RENAMENX {p}b {p}b", "SET {p}c 2", "RENAMENX {p}b {p}c", "COPY {p}b {p}d", "COPY {p}b {p}d",
        "COPY {p}b {p}d REPLACE", "TTL {p}d", "COPY {p}b {p}b",
        "COPY {p}b {p}e FOO", "COPY {p}b {p}e DB x", "COPY {p}none {p}e", "TOUCH {p}b {p}c {p}zz",
        "RENAME {p}b", "HSET {p}h f v", "RENAMENX {p}h {p}h2", "HGET {p}h2 f",
    ],
    "object_and_memory": [
        "SET {p}i 12345", "SET {p}n 7", "SET {p}s hello", "SET {p}l " + "x" * 45, "HSET {p}h f v",
        "HSET {p}big f " + "v" * 65, "OBJECT ENCODING {p}i", "OBJECT ENCODING {p}s",
        "OBJECT ENCODING {p}l", "OBJECT ENCODING {p}h", "OBJECT ENCODING {p}big",
        "OBJECT ENCODING {p}missing", "OBJECT REFCOUNT {p}s", "OBJECT REFCOUNT {p}n",
        "OBJECT FREQ {p}s", "OBJECT IDLETIME {p}s", "OBJECT FREQ {p}missing", "OBJECT HELP",
        "OBJECT FOO", "OBJECT ENCODING", "MEMORY HELP", "MEMORY USAGE {p}missing",
        "MEMORY USAGE {p}s FOO 1", "MEMORY FOO",
    ],
    "watch": [
        "SET {p}k 1", "WATCH {p}k", "INCR {p}k", "MULTI", "PING", "EXEC",
        "WATCH {p}k", "GET {p}k", "MULTI", "PING", "EXEC",
        "MULTI", "WATCH {p}k", "UNWATCH", "EXEC", "UNWATCH",
        "WATCH {p}absent", "DEL {p}absent", "MULTI", "PING", "EXEC", "WATCH",
    ],
    "zset_algebra": [
        "ZADD {p}z1 1 a 2 b 3 c", "ZADD {p}z2 1 b 2 c 3 d", "SADD {p}s a d x", "SET {p}str x",
        "ZUNION 2 {p}z1 {p}z2 WITHSCORES", "ZUNION 2 {p}z1 {p}s WITHSCORES",
        "ZINTER 2 {p}z1 {p}z2 WEIGHTS 2 3 AGGREGATE MAX WITHSCORES",
        "ZINTER 2 {p}z1 {p}z2 AGGREGATE MIN", "ZDIFF 2 {p}z1 {p}z2 WITHSCORES",
        "ZDIFF 1 {p}none", "ZUNION 2 {p}z1 {p}z2 WEIGHTS 1 inf WITHSCORES",
        "ZUNION 0 {p}z1", "ZUNION -1 {p}z1", "ZUNION x {p}z1", "ZUNION 3 {p}z1 {p}z2",
        "ZUNION 2 {p}z1 {p}str", "ZUNION 2 {p}z1 {p}z2 WEIGHTS 1",
        "ZUNION 2 {p}z1 {p}z2 WEIGHTS 1 x", "ZUNION 2 {p}z1 {p}z2 AGGREGATE foo",
        "ZUNION 2 {p}z1 {p}z2 foo", "ZDIFF 2 {p}z1 {p}z2 WEIGHTS 1 2",
        "ZDIFF 2 {p}z1 {p}z2 AGGREGATE SUM", "ZUNION 1 {p}z1 WITHSCORES WITHSCORES",
        "ZUNIONSTORE {p}d 2 {p}z1 {p}z2", "ZRANGE {p}d 0 -1 WITHSCORES",
        "ZUNIONSTORE {p}d 2 {p}z1 {p}z2 WITHSCORES", "ZINTERSTORE {p}d 2 {p}z1 {p}z2",
        "ZINTERSTORE {p}d 2 {p}z1 {p}s", "ZRANGE {p}d 0 -1 WITHSCORES",
        "ZDIFFSTORE {p}d 2 {p}z1 {p}z2", "ZDIFFSTORE {p}d 2 {p}z1 {p}z1", "EXISTS {p}d",
        "ZDIFFSTORE {p}d 0 {p}z1", "ZDIFFSTORE {p}d 2 {p}z1 {p}z2 WEIGHTS 1 1",
        "ZINTERCARD 2 {p}z1 {p}z2", "ZINTERCARD 2 {p}z1 {p}z2 LIMIT 1",
        "ZINTERCARD 2 {p}z1 {p}z2 LIMIT 0", "ZINTERCARD 2 {p}z1 {p}z2 LIMIT -1",
        "ZINTERCARD 0 {p}z1", "ZINTERCARD 3 {p}z1 {p}z2", "ZINTERCARD 2 {p}z1 {p}z2 foo",
        "ZINTERCARD 2 {p}z1 {p}s", "ZINTERCARD 1 {p}str",
    ],
    "zset_random_range_store_pops": [
        "ZADD {p}z 1 a 2 b 3 c", "SET {p}str x", "SADD {p}s a",
        "ZRANDMEMBER {p}z 0", "ZRANDMEMBER {p}z 0 WITHSCORES", "ZRANDMEMBER {p}none",
        "ZRANDMEMBER {p}none 5", "ZRANDMEMBER {p}none 5 WITHSCORES", "ZRANDMEMBER {p}z x",
        "ZRANDMEMBER {p}z 1 foo", "ZRANDMEMBER {p}z 1 WITHSCORES foo", "ZRANDMEMBER {p}str",
        "ZRANDMEMBER {p}str 0", "ZRANDMEMBER {p}z -9223372036854775808",
        "ZRANDMEMBER {p}z -9223372036854775807 WITHSCORES",
        "ZRANDMEMBER {p}z 5 WITHSCORES", "ZRANDMEMBER {p}z 3",
        "ZRANGESTORE {p}d {p}z 0 -1", "ZRANGESTORE {p}d {p}z 0 -1 WITHSCORES",
        "ZRANGESTORE {p}d {p}z (1 +inf BYSCORE LIMIT 0 1", "ZRANGE {p}d 0 -1 WITHSCORES",
        "ZRANGESTORE {p}d {p}z [a [b BYLEX", "ZRANGESTORE {p}d {p}z 0 1 REV",
        "ZRANGE {p}d 0 -1", "ZRANGESTORE {p}d {p}z a b BYLEX",
        "ZRANGESTORE {p}d {p}z 0 1 LIMIT 0 1", "ZRANGESTORE {p}d {p}str 0 1",
        "ZRANGESTORE {p}d {p}s 0 1", "ZRANGESTORE {p}d {p}none 0 -1", "EXISTS {p}d",
        "ZRANGESTORE {p}d {p}z 5 6",
        "ZMPOP 1 {p}z MIN", "ZMPOP 2 {p}none {p}z MAX COUNT 10", "ZMPOP 1 {p}none MIN",
        "ZMPOP 0 {p}z MIN", "ZMPOP x {p}z MIN", "ZMPOP 1 {p}z foo", "ZMPOP 1 {p}z MIN COUNT 0",
        "ZMPOP 1 {p}z MIN COUNT -1", "ZMPOP 1 {p}z MIN COUNT x", "ZMPOP 3 {p}z MIN",
        "ZMPOP 1 {p}z MIN COUNT 1 COUNT 2", "ZMPOP 1 {p}str MIN", "ZMPOP 1 {p}z MIN foo",
        "ZMPOP 99999999999 {p}z MIN",
        "ZADD {p}q 1 a 2 b 3 c", "BZPOPMIN {p}q 0", "BZPOPMAX {p}none {p}q 0",
        "BZMPOP 0 1 {p}q MIN COUNT 5", "BZPOPMIN {p}q 0.01", "BZMPOP 0.01 1 {p}q MAX",
        "BZPOPMIN {p}str 0", "BZPOPMIN {p}q x", "BZPOPMIN {p}q -1", "BZMPOP x 1 {p}q MIN",
        "BZMPOP -1 1 {p}q MIN", "BZMPOP 0 0 {p}q MIN", "BZMPOP 0 1 {p}q UP",
        "LMPOP 1 {p}none LEFT", "RPUSH {p}l a b c", "LMPOP 2 {p}none {p}l RIGHT COUNT 2",
        "BLMPOP 0 1 {p}l LEFT", "BLMPOP 0.01 1 {p}l LEFT",
    ],
    "client_pause_and_tracking": [
        "CLIENT PAUSE x", "CLIENT PAUSE -1", "CLIENT PAUSE 10 foo",
        "CLIENT PAUSE 10 WRITE extra", "CLIENT PAUSE", "CLIENT UNPAUSE x", "CLIENT UNPAUSE",
        "CLIENT NO-EVICT maybe", "CLIENT NO-EVICT on", "CLIENT NO-EVICT off",
        "CLIENT TRACKING maybe", "CLIENT TRACKING off",
    ],
}


def encode(words):
    out = [b"*%d\r\n" % len(words)]
    for w in words:
        out.append(b"$%d\r\n%s\r\n" % (len(w), w))
    return b"".join(out)


def split(command, prefix):
    words = []
    for w in command.replace("{p}", prefix).split(" "):
        words.append(b"" if w == "''" else w.encode())
    return words


class Raw:
    """One connection that reads whole replies as raw bytes (RESP2 and RESP3 framing)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line + b"\r\n"

    def _exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:-2]
        if kind in b"$=!" and rest != b"-1":
            return line + self._exact(int(rest) + 2)
        if kind in b"*~>" and rest != b"-1":
            return line + b"".join(self.reply() for _ in range(int(rest)))
        if kind == b"%":
            return line + b"".join(self.reply() for _ in range(2 * int(rest)))
        return line

    def run(self, words):
        self.sock.sendall(encode(words))
        return self.reply()


@pytest.fixture(scope="module")
def reference(tmp_path_factory, address):
    """A redis-server with the eviction policy of the server under test (OBJECT FREQ and
    IDLETIME answer by policy)."""
    with socket.create_connection(address, timeout=SOCKET_TIMEOUT) as s:
        reply = Raw(s).run([b"CONFIG", b"GET", b"maxmemory-policy"])
    policy = reply.split(b"\r\n")[-2].decode()
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    d = tmp_path_factory.mktemp("reference")
    path = str(d / "redis.sock")
    proc = subprocess.Popen(
        [server, "--port", "0", "--unixsocket", path, "--save", "", "--appendonly", "no",
         "--dir", str(d), "--maxmemory-policy", policy],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        # Ready when it says so on its log (the event), bounded by the socket timeout.
        for line in proc.stdout:
            if b"ready to accept connections" in line.lower():
                break
        else:
            pytest.fail("the reference redis-server did not start")
        yield path
    finally:
        proc.terminate()
        proc.wait(timeout=SOCKET_TIMEOUT)


def connect_unix(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(SOCKET_TIMEOUT)
    s.connect(path)
    return s


def connect_tcp(address):
    s = socket.create_connection(address, timeout=SOCKET_TIMEOUT)
    return s


@pytest.mark.parametrize("name", sorted(CASES))
def test_replies_equal_a_real_redis(name, address, protocol, reference):
    prefix = f"conf:{uuid.uuid4().hex}:"
    ours, theirs = Raw(connect_tcp(address)), Raw(connect_unix(reference))
    try:
        hello = [b"HELLO", str(protocol).encode()]
        ours.run(hello), theirs.run(hello)
        for command in CASES[name]:
            words = split(command, prefix)
            got, want = ours.run(words), theirs.run(words)
            assert got == want, f"{command!r} (RESP{protocol})"
    finally:
        ours.sock.close()
        theirs.sock.close()
