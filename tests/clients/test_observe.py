"""SLOWLOG, LATENCY and INFO's latencystats / errorstats through redis-py, over RESP2 and RESP3.

The same assertions pass against a real redis-server 7.0 and against llmcached, so the reply
shapes, error texts and settings are Redis's (values such as durations differ, shapes do not).
"""

import re
import socket

import pytest
import redis


@pytest.fixture
def slow_everything(r):
    """slowlog-log-slower-than 0 for the test, restored after."""
    old = r.config_get("slowlog-log-slower-than")["slowlog-log-slower-than"]
    r.config_set("slowlog-log-slower-than", 0)
    yield
    r.config_set("slowlog-log-slower-than", old)


def test_observability_settings_have_redis_defaults(r):
    got = {}
    for pattern in ("slowlog-*", "latency-*"):
        got.update(r.config_get(pattern))
    assert got["slowlog-max-len"] == "128"
    assert got["latency-monitor-threshold"] == "0"
    assert got["latency-tracking"] == "yes"
    assert got["latency-tracking-info-percentiles"] == "50 99 99.9"
    with pytest.raises(redis.ResponseError, match="argument must be between -1 and"):
        r.config_set("slowlog-log-slower-than", -5)
    with pytest.raises(redis.ResponseError, match=r"should sit between \[0.0,100.0\]"):
        r.config_set("latency-tracking-info-percentiles", "101")


def test_slowlog_entries_have_redis_shape(r, prefix, slow_everything):
    r.set(prefix + "k", "v")
    assert r.slowlog_reset() is True
    # RESET is itself logged.
    assert r.slowlog_len() == 1
    r.set(prefix + "k", "x" * 200)
    newest = r.slowlog_get(2)
    commands = [e["command"].decode() if isinstance(e["command"], bytes) else e["command"] for e in newest]
    assert [c.split()[0] for c in commands] == ["SET", "SLOWLOG"]
    first = newest[0]
    assert set(first) >= {"id", "start_time", "duration", "command", "client_address", "client_name"}
    assert first["id"] > newest[1]["id"]
    assert commands[0].endswith("... (72 more bytes)")
    raw = r.execute_command("SLOWLOG", "GET", "1")
    assert len(raw) == 1 and len(raw[0]) == 6
    entry_id, when, micros, args, peer, name = raw[0]
    assert isinstance(entry_id, int) and isinstance(when, int) and isinstance(micros, int)
    assert isinstance(args, list) and args[0] == "SLOWLOG"
    assert re.fullmatch(r"127\.0\.0\.1:\d+", peer) and name == ""


def test_slowlog_redacts_auth(r, address, slow_everything):
    # A raw socket: redis-py closes its connection after a failed AUTH, and the reconnection's
    # handshake would be the newest entry.
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(b"*3\r\n$4\r\nAUTH\r\n$7\r\nsomeone\r\n$15\r\nsecret-password\r\n")
        reply = b""
        while not reply.endswith(b"\r\n"):
            reply += sock.recv(4096)
        assert reply.startswith(b"-")
        sock.sendall(b"*3\r\n$7\r\nSLOWLOG\r\n$3\r\nGET\r\n$1\r\n1\r\n")
        data = b""
        while b"secret" not in data and data.count(b"\r\n") < 14:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    assert b"secret" not in data and b"someone" not in data
    assert b"$4\r\nAUTH\r\n$10\r\n(redacted)\r\n$10\r\n(redacted)\r\n" in data


def test_slowlog_errors_are_redis_texts(r):
    for count in ("-2", "x"):
        with pytest.raises(redis.ResponseError, match="^count should be greater than or equal to -1$"):
            r.execute_command("SLOWLOG", "GET", count)
    with pytest.raises(redis.ResponseError, match=r"^unknown subcommand or wrong number of arguments for 'get'. Try SLOWLOG HELP.$"):
        r.execute_command("SLOWLOG", "get", "1", "2")
    with pytest.raises(redis.ResponseError, match=r"^wrong number of arguments for 'slowlog\|len' command$"):
        r.execute_command("SLOWLOG", "LEN", "x")
    with pytest.raises(redis.ResponseError, match=r"^unknown subcommand 'nope'. Try SLOWLOG HELP.$"):
        r.execute_command("SLOWLOG", "nope")
    help_lines = r.execute_command("SLOWLOG", "HELP")
    assert help_lines[0] == "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert help_lines[-2:] == ["HELP", "    Prints this help."]


def test_latency_replies_have_redis_shape(r, prefix, protocol):
    r.set(prefix + "k", "v")
    r.set(prefix + "k", "w")
    assert isinstance(r.execute_command("LATENCY", "LATEST"), list)
    assert isinstance(r.execute_command("LATENCY", "HISTORY", "command"), list)
    assert r.execute_command("LATENCY", "RESET", "no-such-event") == 0
    histogram = r.execute_command("LATENCY", "HISTOGRAM", "set", "no-such-command")
    if protocol == 3:
        assert list(histogram) == ["set"]
        entry = histogram["set"]
        assert list(entry) == ["calls", "histogram_usec"]
        assert entry["calls"] >= 2
        buckets = entry["histogram_usec"]
        counts = list(buckets.values())
        assert all(isinstance(k, int) for k in buckets)
    else:
        assert histogram[0] == "set" and len(histogram) == 2
        entry = histogram[1]
        assert entry[0] == "calls" and entry[2] == "histogram_usec"
        counts = entry[3][1::2]
    assert counts == sorted(counts), "cumulative"
    doctor = r.execute_command("LATENCY", "DOCTOR")
    assert isinstance(doctor, str) and "Dave" in doctor
    help_lines = r.execute_command("LATENCY", "HELP")
    assert help_lines[0] == "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"


def info_text(r, *sections):
    """INFO's text as sent (redis-py's INFO parsing would lose the section order)."""
    conn = r.connection_pool.get_connection()
    try:
        conn.send_command("INFO", *sections)
        raw = conn.read_response()
    finally:
        r.connection_pool.release(conn)
    return raw if isinstance(raw, str) else raw.decode()


def test_info_latencystats_and_errorstats_have_redis_format(r, prefix):
    r.set(prefix + "k", "v")
    with pytest.raises(redis.ResponseError):
        r.execute_command("GET")
    text = info_text(r, "everything")
    sections = [line[2:] for line in text.splitlines() if line.startswith("# ")]
    for before, after in (("Commandstats", "Errorstats"), ("Errorstats", "Latencystats"), ("Latencystats", "Cluster")):
        assert sections.index(before) < sections.index(after)
    assert re.search(r"^errorstat_ERR:count=\d+\r?$", text, re.M)
    assert re.search(r"^total_error_replies:\d+\r?$", text, re.M)
    assert re.search(r"^total_system_memory:\d+\r?$", text, re.M)
    line = re.search(r"^latency_percentiles_usec_set:(.*?)\r?$", text, re.M).group(1)
    assert re.fullmatch(r"p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}", line), line
    default = info_text(r)
    assert "# Latencystats" not in default and "# Errorstats" in default
