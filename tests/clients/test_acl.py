"""ACL users through redis-py, with the same expectations for llmcached and redis-server 7.0.15.

run.sh --target redis runs these against Debian's redis-server: every expected text here is the one
Redis 7.0.15 sends. Each test makes users of its own (a uuid in the name) and deletes them.
"""

import uuid

import pytest
import redis

from conftest import make_client

NOPERM_KEY = "this user has no permissions to access one of the keys used as arguments"


@pytest.fixture
def admin(address):
    client = make_client(address, 2)
    yield client
    client.close()


@pytest.fixture
def user(admin):
    """A fresh user name, deleted after the test."""
    name = f"u{uuid.uuid4().hex[:12]}"
    yield name
    admin.execute_command("ACL", "DELUSER", name)


def getuser(client, name):
    """ACL GETUSER as the server sent it (redis-py's own parsing drops parts of `commands`)."""
    conn = client.connection_pool.get_connection("ACL")
    try:
        conn.send_command("ACL", "GETUSER", name)
        reply = conn.read_response()
    finally:
        client.connection_pool.release(conn)
    return None if reply is None else dict(zip(reply[::2], reply[1::2]))


def error_of(client, *args):
    with pytest.raises(redis.exceptions.RedisError) as e:
        client.execute_command(*args)
    return str(e.value)


def test_getuser_shows_rules_as_redis_does(admin, user):
    assert admin.execute_command("ACL", "SETUSER", user, "on", ">pw", "~app:*", "%R~ro:*", "+get")
    got = getuser(admin, user)
    assert got["flags"] == ["on"]
    assert got["passwords"] == ["30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4"]
    assert got["commands"] == "-@all +get"
    assert got["keys"] == "~app:* %R~ro:*"
    assert got["channels"] == ""
    admin.execute_command("ACL", "SETUSER", user, "reset", "+@all", "-get", "allkeys")
    got = getuser(admin, user)
    assert (got["flags"], got["commands"], got["keys"]) == (["off", "sanitize-payload"], "+@all -get", "~*")
    lines = [l for l in admin.execute_command("ACL", "LIST") if l.startswith(f"user {user} ")]
    assert lines == [f"user {user} off sanitize-payload ~* resetchannels +@all -get"]
    assert getuser(admin, "nobody-" + user) is None


@pytest.mark.parametrize(
    "rule, reason",
    [
        ("foo", "Syntax error"),
        ("+nosuchcommand", "Unknown command or category name in ACL"),
        ("+@nosuchcategory", "Unknown command or category name in ACL"),
        ("<nope", "The password you are trying to remove from the user does not exist"),
        ("#abc", "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"),
        ("%X~a", "Syntax error"),
    ],
)
def test_setuser_errors_are_redis_texts(admin, user, rule, reason):
    assert error_of(admin, "ACL", "SETUSER", user, rule) == f"Error in ACL SETUSER modifier '{rule}': {reason}"


def test_other_acl_errors_are_redis_texts(admin, user):
    assert error_of(admin, "ACL", "SETUSER", user, "~*", "~a").startswith(
        "Error in ACL SETUSER modifier '~a': Adding a pattern after the * pattern (or the 'allkeys' flag)"
    )
    assert error_of(admin, "ACL", "DELUSER", "default") == "The 'default' user cannot be removed"
    assert error_of(admin, "ACL", "SETUSER", "a b") == "Usernames can't contain spaces or null characters"
    assert error_of(admin, "ACL", "CAT", "nosuch") == "Unknown category 'nosuch'"
    assert error_of(admin, "ACL", "DRYRUN", "nobody-" + user, "get", "x") == f"User 'nobody-{user}' not found"
    assert error_of(admin, "ACL", "GENPASS", "0").startswith("ACL GENPASS argument must be the number of bits")
    assert len(admin.execute_command("ACL", "GENPASS")) == 64
    assert len(admin.execute_command("ACL", "GENPASS", "5")) == 2
    assert admin.execute_command("ACL", "DELUSER", "nobody-" + user) == 0


def test_dryrun_answers_without_running(admin, user):
    admin.execute_command("ACL", "SETUSER", user, "on", "nopass", "~app:*", "+get")
    assert admin.execute_command("ACL", "DRYRUN", user, "get", "app:1") == "OK"
    assert admin.execute_command("ACL", "DRYRUN", user, "get", "zz") == "This user has no permissions to access the 'zz' key"
    assert admin.execute_command("ACL", "DRYRUN", user, "set", "app:1", "v") == "This user has no permissions to run the 'set' command"


@pytest.mark.parametrize("protocol", [2, 3], ids=["resp2", "resp3"])
def test_a_user_logs_in_and_is_confined(address, admin, user, prefix, protocol):
    mine = f"{prefix}{user}:"
    admin.execute_command("ACL", "SETUSER", user, "on", ">pw", f"~{mine}*", "+@string", "+acl|whoami", "+multi", "+exec")
    c = make_client(address, protocol, username=user, password="pw")
    try:
        assert c.execute_command("ACL", "WHOAMI") == user
        assert c.set(mine + "k", "v")
        assert error_of(c, "GET", prefix + "other") == NOPERM_KEY
        assert error_of(c, "CLIENT", "LIST") == "this user has no permissions to run the 'client|list' command"
        assert error_of(c, "DEL", mine + "k") == "this user has no permissions to run the 'del' command"
        with pytest.raises(redis.exceptions.ResponseError):
            with c.pipeline(transaction=True) as p:
                p.set(mine + "a", "1").get(prefix + "other").execute()
        assert c.get(mine + "a") is None, "a NOPERM inside MULTI aborts the transaction"
    finally:
        c.close()
    with pytest.raises(redis.exceptions.AuthenticationError):
        make_client(address, protocol, username=user, password="wrong").ping()
    admin.delete(mine + "k")


def test_auth_texts(address, admin, user):
    c = make_client(address, 2)
    try:
        assert error_of(c, "AUTH", "x") == (
            "AUTH <password> called without any password configured for the default user. "
            "Are you sure your configuration is correct?"
        )
        assert c.execute_command("AUTH", "default", "anything") in (True, "OK"), "default is nopass"
        admin.execute_command("ACL", "SETUSER", user, "on", ">pw", "+@all", "~*")
        assert c.execute_command("AUTH", user, "pw") in (True, "OK")
        assert c.execute_command("ACL", "WHOAMI") == user
    finally:
        c.close()
    log = admin.execute_command("ACL", "LOG", "1")
    assert isinstance(log, list)
