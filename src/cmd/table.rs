//! The command table: every command llmcached knows, one row each ([`CommandSpec`]).
//!
//! Columns: name, arity, flags ([`flag`](super::flag)), the row's own ACL categories ([`acl`]; those its
//! flags imply are added), key positions, group, since, argument syntax, summary, handler, and
//! for a container its subcommand rows. Flags and categories follow Redis 7's command table.
//!
//! Handlers are named with `S!` (returns a reply) or `F!` (may block or close).

use super::spec::acl::{
    self, BITMAP, CONNECTION, DANGEROUS, HASH, JSON, KEYSPACE, LLM, SCRIPTING, STRING, TRANSACTION,
};
use super::spec::acl::{LIST, SET, SORTEDSET};
use super::spec::flag::*;
use super::{
    aclcmd, bits, client, cluster, command, config, connection, counters, databases, dump, embed,
    expire, hash, json, keyops, keys, latency, llm, llmget, llmkey, monitor, multi, object,
    persist, range, script, search, server, slowlog, stream, string, CommandSpec, Handler,
};
use super::{list, list_block, set as sets, sort, zalgebra, zrange, zset, zset_block};
use crate::row;

macro_rules! S {
    ($f:path) => {
        Handler::Sync($f)
    };
}
macro_rules! F {
    ($f:path) => {
        Handler::Flow($f)
    };
}

const NOKEY: (i32, i32, i32) = (0, 0, 0);
const KEY1: (i32, i32, i32) = (1, 1, 1);
const ALLKEYS: (i32, i32, i32) = (1, -1, 1);

/// Every top-level command; containers carry their subcommands.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    // connection
    row!("ping", -1, FAST | STALE, CONNECTION, NOKEY, "connection", "1.0.0", "[message]", "Returns the server's liveliness response.", S!(connection::ping)),
    row!("echo", 2, FAST | STALE, CONNECTION, NOKEY, "connection", "1.0.0", "message", "Returns the given string.", S!(connection::echo)),
    row!("hello", -1, NO_AUTH | FAST | LOADING | STALE | NO_SCRIPT | ALLOW_BUSY, CONNECTION, NOKEY, "connection", "6.0.0", "[protover [AUTH username password] [SETNAME clientname]]", "Handshakes with the server: protocol version, authentication, client name.", S!(connection::hello)),
    row!("auth", -2, NO_AUTH | FAST | LOADING | STALE | NO_SCRIPT | ALLOW_BUSY, CONNECTION, NOKEY, "connection", "1.0.0", "[username] password", "Authenticates the connection.", S!(connection::auth)),
    row!("select", 2, FAST | LOADING | STALE, CONNECTION, NOKEY, "connection", "1.0.0", "index", "Changes the selected database.", S!(databases::select)),
    row!("quit", -1, NO_AUTH | FAST | LOADING | STALE | NO_SCRIPT | ALLOW_BUSY, CONNECTION, NOKEY, "connection", "1.0.0", "", "Closes the connection.", S!(connection::quit)),
    row!("reset", 1, NO_AUTH | FAST | LOADING | STALE | NO_SCRIPT, CONNECTION, NOKEY, "connection", "6.2.0", "", "Resets the connection.", S!(connection::reset)),
    row!("acl", -2, 0, 0, NOKEY, "server", "6.0.0", "subcommand [arg ...]", "A container for Access List Control commands.", S!(command::help), subs: aclcmd::SUBCOMMANDS),
    row!("client", -2, 0, 0, NOKEY, "connection", "2.4.0", "subcommand [arg ...]", "A container for client connection commands.", S!(command::help), subs: client::SUBCOMMANDS),
    // server
    row!("command", -1, LOADING | STALE, CONNECTION, NOKEY, "server", "2.8.13", "[subcommand [arg ...]]", "Returns detailed information about all commands.", S!(command::all), subs: command::SUBCOMMANDS),
    row!("config", -2, 0, 0, NOKEY, "server", "2.0.0", "subcommand [arg ...]", "A container for server configuration commands.", S!(command::help), subs: config::SUBCOMMANDS),
    row!("info", -1, LOADING | STALE, DANGEROUS, NOKEY, "server", "1.0.0", "[section [section ...]]", "Returns information and statistics about the server.", S!(server::info)),
    row!("dbsize", 1, READONLY | FAST, KEYSPACE, NOKEY, "server", "1.0.0", "", "Returns the number of keys in the database.", S!(server::dbsize)),
    row!("flushdb", -1, WRITE, KEYSPACE | DANGEROUS, NOKEY, "server", "1.0.0", "[ASYNC|SYNC]", "Removes all keys from the database.", F!(server::flushdb)),
    row!("flushall", -1, WRITE, KEYSPACE | DANGEROUS, NOKEY, "server", "1.0.0", "[ASYNC|SYNC]", "Removes all keys from all databases.", F!(server::flushdb)),
    row!("time", 1, FAST | LOADING | STALE, 0, NOKEY, "server", "2.6.0", "", "Returns the server time.", S!(server::time)),
    row!("save", 1, ADMIN | NO_MULTI, 0, NOKEY, "server", "1.0.0", "", "Synchronously saves the database to disk.", F!(persist::save)),
    row!("bgsave", -1, ADMIN, 0, NOKEY, "server", "1.0.0", "[SCHEDULE]", "Asynchronously saves the database to disk.", S!(persist::bgsave)),
    row!("bgrewriteaof", 1, ADMIN, 0, NOKEY, "server", "1.0.0", "", "Asynchronously rewrites the append-only file to disk.", S!(persist::bgrewriteaof)),
    row!("lastsave", 1, FAST | LOADING | STALE, acl::ADMIN | DANGEROUS, NOKEY, "server", "1.0.0", "", "Returns the Unix timestamp of the last successful save to disk.", S!(persist::lastsave)),
    row!("slowlog", -2, 0, 0, NOKEY, "server", "2.2.12", "subcommand [arg ...]", "A container for slow log commands.", S!(command::help), subs: slowlog::SUBCOMMANDS),
    row!("latency", -2, 0, 0, NOKEY, "server", "2.8.13", "subcommand [arg ...]", "A container for latency diagnostics commands.", S!(command::help), subs: latency::SUBCOMMANDS),
    row!("shutdown", -1, ADMIN | NO_MULTI | LOADING | STALE | NO_SCRIPT, 0, NOKEY, "server", "1.0.0", "[NOSAVE|SAVE] [NOW] [FORCE] [ABORT]", "Stops the server after in-flight commands have replied.", F!(server::shutdown)),
    // strings
    row!("get", 2, READONLY | FAST, STRING, KEY1, "string", "1.0.0", "key", "Returns the string value of a key.", S!(string::get)),
    row!("set", -3, WRITE | DENY_OOM, STRING, KEY1, "string", "1.0.0", "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]", "Sets the string value of a key, with options for expiry and conditions.", S!(string::set)),
    row!("setnx", 3, WRITE | DENY_OOM | FAST, STRING, KEY1, "string", "1.0.0", "key value", "Sets the string value of a key only when the key does not exist.", S!(string::setnx)),
    row!("setex", 4, WRITE | DENY_OOM, STRING, KEY1, "string", "2.0.0", "key seconds value", "Sets the string value and expiration time (seconds) of a key.", S!(string::setex)),
    row!("psetex", 4, WRITE | DENY_OOM, STRING, KEY1, "string", "2.6.0", "key milliseconds value", "Sets the string value and expiration time (milliseconds) of a key.", S!(string::psetex)),
    row!("getex", -2, WRITE | FAST, STRING, KEY1, "string", "6.2.0", "key [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|PERSIST]", "Returns the string value of a key after setting its expiration time.", S!(string::getex)),
    row!("getdel", 2, WRITE | FAST, STRING, KEY1, "string", "6.2.0", "key", "Returns the string value of a key after deleting the key.", S!(string::getdel)),
    row!("mget", -2, READONLY | FAST, STRING, ALLKEYS, "string", "1.0.0", "key [key ...]", "Atomically returns the string values of one or more keys.", S!(string::mget)),
    row!("mset", -3, WRITE | DENY_OOM, STRING, (1, -1, 2), "string", "1.0.1", "key value [key value ...]", "Atomically creates or modifies the string values of one or more keys.", S!(string::mset)),
    row!("strlen", 2, READONLY | FAST, STRING, KEY1, "string", "2.2.0", "key", "Returns the length of a string value.", S!(string::strlen)),
    row!("incr", 2, WRITE | DENY_OOM | FAST, STRING, KEY1, "string", "1.0.0", "key", "Increments the integer value of a key by one.", S!(counters::incr)),
    row!("incrby", 3, WRITE | DENY_OOM | FAST, STRING, KEY1, "string", "1.0.0", "key increment", "Increments the integer value of a key by a number.", S!(counters::incrby)),
    row!("decr", 2, WRITE | DENY_OOM | FAST, STRING, KEY1, "string", "1.0.0", "key", "Decrements the integer value of a key by one.", S!(counters::decr)),
    row!("decrby", 3, WRITE | DENY_OOM | FAST, STRING, KEY1, "string", "1.0.0", "key decrement", "Decrements a number from the integer value of a key.", S!(counters::decrby)),
    row!("append", 3, WRITE | DENY_OOM | FAST, STRING, KEY1, "string", "2.0.0", "key value", "Appends a string to the value of a key.", S!(string::append)),
    row!("getset", 3, WRITE | DENY_OOM | FAST, STRING, KEY1, "string", "1.0.0", "key value", "Returns the previous string value of a key after setting it to a new value.", S!(string::getset)),
    row!("msetnx", -3, WRITE | DENY_OOM, STRING, (1, -1, 2), "string", "1.0.1", "key value [key value ...]", "Atomically modifies the string values of one or more keys only when all keys don't exist.", S!(string::msetnx)),
    row!("incrbyfloat", 3, WRITE | DENY_OOM | FAST, STRING, KEY1, "string", "2.6.0", "key increment", "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.", S!(counters::incrbyfloat)),
    row!("getrange", 4, READONLY, STRING, KEY1, "string", "2.4.0", "key start end", "Returns a substring of the string stored at a key.", S!(range::getrange)),
    row!("substr", 4, READONLY, STRING, KEY1, "string", "1.0.0", "key start end", "Returns a substring from a string value.", S!(range::getrange)),
    row!("setrange", 4, WRITE | DENY_OOM, STRING, KEY1, "string", "2.2.0", "key offset value", "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.", S!(range::setrange)),
    row!("lcs", -3, READONLY, STRING, (1, 2, 1), "string", "7.0.0", "key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]", "Finds the longest common substring.", S!(range::lcs)),
    // bitmaps
    row!("setbit", 4, WRITE | DENY_OOM, BITMAP, KEY1, "bitmap", "2.2.0", "key offset value", "Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist.", S!(bits::setbit)),
    row!("getbit", 3, READONLY | FAST, BITMAP, KEY1, "bitmap", "2.2.0", "key offset", "Returns a bit value by offset.", S!(bits::getbit)),
    row!("bitcount", -2, READONLY, BITMAP, KEY1, "bitmap", "2.6.0", "key [start end [BYTE|BIT]]", "Counts the number of set bits (population counting) in a string.", S!(bits::bitcount)),
    // keys
    row!("del", -2, WRITE, KEYSPACE, ALLKEYS, "generic", "1.0.0", "key [key ...]", "Deletes one or more keys.", F!(keys::del)),
    row!("unlink", -2, WRITE | FAST, KEYSPACE, ALLKEYS, "generic", "4.0.0", "key [key ...]", "Deletes one or more keys.", F!(keys::del)),
    row!("exists", -2, READONLY | FAST, KEYSPACE, ALLKEYS, "generic", "1.0.0", "key [key ...]", "Determines whether one or more keys exist.", S!(keys::exists)),
    row!("expire", -3, WRITE | FAST, KEYSPACE, KEY1, "generic", "1.0.0", "key seconds [NX|XX|GT|LT]", "Sets the expiration time of a key in seconds.", S!(expire::expire)),
    row!("pexpire", -3, WRITE | FAST, KEYSPACE, KEY1, "generic", "2.6.0", "key milliseconds [NX|XX|GT|LT]", "Sets the expiration time of a key in milliseconds.", S!(expire::pexpire)),
    row!("expireat", -3, WRITE | FAST, KEYSPACE, KEY1, "generic", "1.2.0", "key unix-time-seconds [NX|XX|GT|LT]", "Sets the expiration time of a key to a Unix timestamp.", S!(expire::expireat)),
    row!("pexpireat", -3, WRITE | FAST, KEYSPACE, KEY1, "generic", "2.6.0", "key unix-time-milliseconds [NX|XX|GT|LT]", "Sets the expiration time of a key to a Unix milliseconds timestamp.", S!(expire::pexpireat)),
    row!("ttl", 2, READONLY | FAST, KEYSPACE, KEY1, "generic", "1.0.0", "key", "Returns the expiration time in seconds of a key.", S!(expire::ttl)),
    row!("pttl", 2, READONLY | FAST, KEYSPACE, KEY1, "generic", "2.6.0", "key", "Returns the expiration time in milliseconds of a key.", S!(expire::pttl)),
    row!("expiretime", 2, READONLY | FAST, KEYSPACE, KEY1, "generic", "7.0.0", "key", "Returns the expiration time of a key as a Unix timestamp.", S!(expire::expiretime)),
    row!("pexpiretime", 2, READONLY | FAST, KEYSPACE, KEY1, "generic", "7.0.0", "key", "Returns the expiration time of a key as a Unix milliseconds timestamp.", S!(expire::pexpiretime)),
    row!("persist", 2, WRITE | FAST, KEYSPACE, KEY1, "generic", "2.2.0", "key", "Removes the expiration time of a key.", S!(expire::persist)),
    row!("type", 2, READONLY | FAST, KEYSPACE, KEY1, "generic", "1.0.0", "key", "Determines the type of value stored at a key.", S!(keys::type_)),
    row!("scan", -2, READONLY, KEYSPACE, NOKEY, "generic", "2.8.0", "cursor [MATCH pattern] [COUNT count] [TYPE type]", "Iterates over the key names in the database.", S!(keys::scan)),
    row!("keys", 2, READONLY, KEYSPACE | DANGEROUS, NOKEY, "generic", "1.0.0", "pattern", "Returns all key names that match a pattern.", S!(keys::keys)),
    row!("rename", 3, WRITE, KEYSPACE, (1, 2, 1), "generic", "1.0.0", "key newkey", "Renames a key and overwrites the destination.", S!(keyops::rename)),
    row!("renamenx", 3, WRITE | FAST, KEYSPACE, (1, 2, 1), "generic", "1.0.0", "key newkey", "Renames a key only when the target key name doesn't exist.", S!(keyops::renamenx)),
    row!("move", 3, WRITE | FAST, KEYSPACE, KEY1, "generic", "1.0.0", "key db", "Moves a key to another database.", S!(databases::move_)),
    row!("swapdb", 3, WRITE | FAST, KEYSPACE | DANGEROUS, NOKEY, "server", "4.0.0", "index1 index2", "Swaps two Redis databases.", S!(databases::swapdb)),
    row!("dump", 2, READONLY, KEYSPACE, KEY1, "generic", "2.6.0", "key", "Returns a serialized representation of the value stored at a key.", S!(dump::dump)),
    row!("restore", -4, WRITE | DENY_OOM, KEYSPACE | DANGEROUS, KEY1, "generic", "2.6.0", "key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]", "Creates a key from the serialized representation of a value.", S!(dump::restore)),
    row!("copy", -3, WRITE | DENY_OOM, KEYSPACE, (1, 2, 1), "generic", "6.2.0", "source destination [DB destination-db] [REPLACE]", "Copies the value of a key to a new key.", S!(keyops::copy)),
    row!("sort", -2, WRITE | DENY_OOM, LIST | SET | SORTEDSET | DANGEROUS, KEY1, "generic", "1.0.0", "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC] [ALPHA] [STORE destination]", "Sorts the elements in a list, a set, or a sorted set, optionally storing the result.", S!(sort::sort)),
    row!("sort_ro", -2, READONLY, LIST | SET | SORTEDSET | DANGEROUS, KEY1, "generic", "7.0.0", "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC] [ALPHA]", "Returns the sorted elements of a list, a set, or a sorted set.", S!(sort::sort_ro)),
    row!("touch", -2, READONLY | FAST, KEYSPACE, ALLKEYS, "generic", "3.2.1", "key [key ...]", "Returns the number of existing keys out of those specified after updating the time they were last accessed.", S!(keyops::touch)),
    row!("randomkey", 1, READONLY, KEYSPACE, NOKEY, "generic", "1.0.0", "", "Returns a random key name from the database.", S!(keyops::randomkey)),
    row!("object", -2, 0, 0, NOKEY, "generic", "2.2.3", "subcommand [arg ...]", "A container for object introspection commands.", S!(command::help), subs: object::OBJECT),
    row!("memory", -2, 0, 0, NOKEY, "server", "4.0.0", "subcommand [arg ...]", "A container for memory diagnostics commands.", S!(command::help), subs: object::MEMORY),
    // transactions
    row!("multi", 1, FAST | LOADING | STALE | NO_SCRIPT | ALLOW_BUSY, TRANSACTION, NOKEY, "transactions", "1.2.0", "", "Starts a transaction.", S!(multi::multi)),
    row!("exec", 1, LOADING | STALE | NO_SCRIPT | EXCLUSIVE, TRANSACTION, NOKEY, "transactions", "1.2.0", "", "Executes all commands in a transaction.", F!(multi::exec)),
    row!("discard", 1, FAST | LOADING | STALE | NO_SCRIPT | ALLOW_BUSY, TRANSACTION, NOKEY, "transactions", "2.0.0", "", "Discards a transaction.", S!(multi::discard)),
    row!("watch", -2, FAST | LOADING | STALE | NO_SCRIPT | ALLOW_BUSY, TRANSACTION, ALLKEYS, "transactions", "2.2.0", "key [key ...]", "Monitors changes to keys to determine the execution of a transaction.", S!(multi::watch)),
    row!("unwatch", 1, FAST | LOADING | STALE | NO_SCRIPT | ALLOW_BUSY, TRANSACTION, NOKEY, "transactions", "2.2.0", "", "Forgets about watched keys of a transaction.", S!(multi::unwatch)),
    // hashes
    row!("hset", -4, WRITE | DENY_OOM | FAST, HASH, KEY1, "hash", "2.0.0", "key field value [field value ...]", "Creates or modifies the value of a field in a hash.", S!(hash::hset)),
    row!("hmset", -4, WRITE | DENY_OOM | FAST, HASH, KEY1, "hash", "2.0.0", "key field value [field value ...]", "Sets the values of multiple fields.", S!(hash::hmset)),
    row!("hsetnx", 4, WRITE | DENY_OOM | FAST, HASH, KEY1, "hash", "2.0.0", "key field value", "Sets the value of a field in a hash only when the field doesn't exist.", S!(hash::hsetnx)),
    row!("hget", 3, READONLY | FAST, HASH, KEY1, "hash", "2.0.0", "key field", "Returns the value of a field in a hash.", S!(hash::hget)),
    row!("hmget", -3, READONLY | FAST, HASH, KEY1, "hash", "2.0.0", "key field [field ...]", "Returns the values of the given fields of a hash.", S!(hash::hmget)),
    row!("hgetall", 2, READONLY, HASH, KEY1, "hash", "2.0.0", "key", "Returns all fields and values in a hash.", S!(hash::hgetall)),
    row!("hkeys", 2, READONLY, HASH, KEY1, "hash", "2.0.0", "key", "Returns all fields in a hash.", S!(hash::hkeys)),
    row!("hvals", 2, READONLY, HASH, KEY1, "hash", "2.0.0", "key", "Returns all values in a hash.", S!(hash::hvals)),
    row!("hdel", -3, WRITE | FAST, HASH, KEY1, "hash", "2.0.0", "key field [field ...]", "Deletes one or more fields from a hash; deletes the hash when no field remains.", S!(hash::hdel)),
    row!("hexists", 3, READONLY | FAST, HASH, KEY1, "hash", "2.0.0", "key field", "Determines whether a field exists in a hash.", S!(hash::hexists)),
    row!("hlen", 2, READONLY | FAST, HASH, KEY1, "hash", "2.0.0", "key", "Returns the number of fields in a hash.", S!(hash::hlen)),
    row!("hstrlen", 3, READONLY | FAST, HASH, KEY1, "hash", "3.2.0", "key field", "Returns the length of the value of a field.", S!(hash::hstrlen)),
    row!("hincrby", 4, WRITE | DENY_OOM | FAST, HASH, KEY1, "hash", "2.0.0", "key field increment", "Increments the integer value of a field in a hash by a number; a missing field counts as 0.", S!(hash::hincrby)),
    row!("hincrbyfloat", 4, WRITE | DENY_OOM | FAST, HASH, KEY1, "hash", "2.6.0", "key field increment", "Increments the floating point value of a field in a hash by a number; a missing field counts as 0.", S!(hash::hincrbyfloat)),
    row!("hrandfield", -2, READONLY, HASH, KEY1, "hash", "6.2.0", "key [count [WITHVALUES]]", "Returns one or more random fields from a hash.", S!(hash::hrandfield)),
    row!("hscan", -3, READONLY, HASH, KEY1, "hash", "2.8.0", "key cursor [MATCH pattern] [COUNT count]", "Iterates over fields and values of a hash.", S!(hash::hscan)),
    // lists
    row!("lpush", -3, WRITE | DENY_OOM | FAST, LIST, KEY1, "list", "1.0.0", "key element [element ...]", "Prepends one or more elements to a list. Creates the key if it doesn't exist.", S!(list::lpush)),
    row!("rpush", -3, WRITE | DENY_OOM | FAST, LIST, KEY1, "list", "1.0.0", "key element [element ...]", "Appends one or more elements to a list. Creates the key if it doesn't exist.", S!(list::rpush)),
    row!("lpushx", -3, WRITE | DENY_OOM | FAST, LIST, KEY1, "list", "2.2.0", "key element [element ...]", "Prepends one or more elements to a list only when the list exists.", S!(list::lpushx)),
    row!("rpushx", -3, WRITE | DENY_OOM | FAST, LIST, KEY1, "list", "2.2.0", "key element [element ...]", "Appends an element to a list only when the list exists.", S!(list::rpushx)),
    row!("lpop", -2, WRITE | FAST, LIST, KEY1, "list", "1.0.0", "key [count]", "Returns the first elements in a list after removing it. Deletes the list if the last element was popped.", S!(list::lpop)),
    row!("rpop", -2, WRITE | FAST, LIST, KEY1, "list", "1.0.0", "key [count]", "Returns and removes the last elements of a list. Deletes the list if the last element was popped.", S!(list::rpop)),
    row!("llen", 2, READONLY | FAST, LIST, KEY1, "list", "1.0.0", "key", "Returns the length of a list.", S!(list::llen)),
    row!("lrange", 4, READONLY, LIST, KEY1, "list", "1.0.0", "key start stop", "Returns a range of elements from a list.", S!(list::lrange)),
    row!("lindex", 3, READONLY, LIST, KEY1, "list", "1.0.0", "key index", "Returns an element from a list by its index.", S!(list::lindex)),
    row!("lset", 4, WRITE | DENY_OOM, LIST, KEY1, "list", "1.0.0", "key index element", "Sets the value of an element in a list by its index.", S!(list::lset)),
    row!("lrem", 4, WRITE, LIST, KEY1, "list", "1.0.0", "key count element", "Removes elements from a list. Deletes the list if the last element was removed.", S!(list::lrem)),
    row!("ltrim", 4, WRITE, LIST, KEY1, "list", "1.0.0", "key start stop", "Removes elements from both ends a list. Deletes the list if all elements were trimmed.", S!(list::ltrim)),
    row!("linsert", 5, WRITE | DENY_OOM, LIST, KEY1, "list", "2.2.0", "key BEFORE|AFTER pivot element", "Inserts an element before or after another element in a list.", S!(list::linsert)),
    row!("lpos", -3, READONLY, LIST, KEY1, "list", "6.0.6", "key element [RANK rank] [COUNT num-matches] [MAXLEN len]", "Returns the index of matching elements in a list.", S!(list::lpos)),
    row!("lmove", 5, WRITE | DENY_OOM, LIST, (1, 2, 1), "list", "6.2.0", "source destination LEFT|RIGHT LEFT|RIGHT", "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.", S!(list::lmove)),
    row!("rpoplpush", 3, WRITE | DENY_OOM, LIST, (1, 2, 1), "list", "1.2.0", "source destination", "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.", S!(list::rpoplpush)),
    row!("lmpop", -4, WRITE, LIST, (2, -2, 1), "list", "7.0.0", "numkeys key [key ...] LEFT|RIGHT [COUNT count]", "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.", S!(list_block::lmpop)),
    row!("blmpop", -5, WRITE | BLOCKING, LIST, (3, -2, 1), "list", "7.0.0", "timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]", "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", F!(list_block::blmpop)),
    row!("blpop", -3, WRITE | BLOCKING, LIST, (1, -2, 1), "list", "2.0.0", "key [key ...] timeout", "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", F!(list_block::blpop)),
    row!("brpop", -3, WRITE | BLOCKING, LIST, (1, -2, 1), "list", "2.0.0", "key [key ...] timeout", "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", F!(list_block::brpop)),
    row!("blmove", 6, WRITE | DENY_OOM | BLOCKING, LIST, (1, 2, 1), "list", "6.2.0", "source destination LEFT|RIGHT LEFT|RIGHT timeout", "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.", F!(list_block::blmove)),
    row!("brpoplpush", 4, WRITE | DENY_OOM | BLOCKING, LIST, (1, 2, 1), "list", "2.2.0", "source destination timeout", "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.", F!(list_block::brpoplpush)),
    // sets
    row!("sadd", -3, WRITE | DENY_OOM | FAST, SET, KEY1, "set", "1.0.0", "key member [member ...]", "Adds one or more members to a set. Creates the key if it doesn't exist.", S!(sets::sadd)),
    row!("srem", -3, WRITE | FAST, SET, KEY1, "set", "1.0.0", "key member [member ...]", "Removes one or more members from a set. Deletes the set if the last member was removed.", S!(sets::srem)),
    row!("smembers", 2, READONLY, SET, KEY1, "set", "1.0.0", "key", "Returns all members of a set.", S!(sets::smembers)),
    row!("sismember", 3, READONLY | FAST, SET, KEY1, "set", "1.0.0", "key member", "Determines whether a member belongs to a set.", S!(sets::sismember)),
    row!("smismember", -3, READONLY | FAST, SET, KEY1, "set", "6.2.0", "key member [member ...]", "Determines whether multiple members belong to a set.", S!(sets::smismember)),
    row!("scard", 2, READONLY | FAST, SET, KEY1, "set", "1.0.0", "key", "Returns the number of members in a set.", S!(sets::scard)),
    row!("spop", -2, WRITE | FAST, SET, KEY1, "set", "1.0.0", "key [count]", "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.", S!(sets::spop)),
    row!("srandmember", -2, READONLY, SET, KEY1, "set", "1.0.0", "key [count]", "Get one or multiple random members from a set", S!(sets::srandmember)),
    row!("sinter", -2, READONLY, SET, ALLKEYS, "set", "1.0.0", "key [key ...]", "Returns the intersect of multiple sets.", S!(sets::sinter)),
    row!("sinterstore", -3, WRITE | DENY_OOM, SET, ALLKEYS, "set", "1.0.0", "destination key [key ...]", "Stores the intersect of multiple sets in a key.", S!(sets::sinterstore)),
    row!("sunion", -2, READONLY, SET, ALLKEYS, "set", "1.0.0", "key [key ...]", "Returns the union of multiple sets.", S!(sets::sunion)),
    row!("sunionstore", -3, WRITE | DENY_OOM, SET, ALLKEYS, "set", "1.0.0", "destination key [key ...]", "Stores the union of multiple sets in a key.", S!(sets::sunionstore)),
    row!("sdiff", -2, READONLY, SET, ALLKEYS, "set", "1.0.0", "key [key ...]", "Returns the difference of multiple sets.", S!(sets::sdiff)),
    row!("sdiffstore", -3, WRITE | DENY_OOM, SET, ALLKEYS, "set", "1.0.0", "destination key [key ...]", "Stores the difference of multiple sets in a key.", S!(sets::sdiffstore)),
    row!("sintercard", -3, READONLY, SET, (2, -1, 1), "set", "7.0.0", "numkeys key [key ...] [LIMIT limit]", "Returns the number of members of the intersect of multiple sets.", S!(sets::sintercard)),
    row!("smove", 4, WRITE | FAST, SET, (1, 2, 1), "set", "1.0.0", "source destination member", "Moves a member from one set to another.", S!(sets::smove)),
    row!("sscan", -3, READONLY, SET, KEY1, "set", "2.8.0", "key cursor [MATCH pattern] [COUNT count]", "Iterates over members of a set.", S!(sets::sscan)),
    // sorted sets
    row!("zadd", -4, WRITE | DENY_OOM | FAST, SORTEDSET, KEY1, "sorted-set", "1.2.0", "key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]", "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.", S!(zset::zadd)),
    row!("zincrby", 4, WRITE | DENY_OOM | FAST, SORTEDSET, KEY1, "sorted-set", "1.2.0", "key increment member", "Increments the score of a member in a sorted set.", S!(zset::zincrby)),
    row!("zrem", -3, WRITE | FAST, SORTEDSET, KEY1, "sorted-set", "1.2.0", "key member [member ...]", "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.", S!(zset::zrem)),
    row!("zscore", 3, READONLY | FAST, SORTEDSET, KEY1, "sorted-set", "1.2.0", "key member", "Returns the score of a member in a sorted set.", S!(zset::zscore)),
    row!("zmscore", -3, READONLY | FAST, SORTEDSET, KEY1, "sorted-set", "6.2.0", "key member [member ...]", "Returns the score of one or more members in a sorted set.", S!(zset::zmscore)),
    row!("zcard", 2, READONLY | FAST, SORTEDSET, KEY1, "sorted-set", "1.2.0", "key", "Returns the number of members in a sorted set.", S!(zset::zcard)),
    row!("zcount", 4, READONLY | FAST, SORTEDSET, KEY1, "sorted-set", "2.0.0", "key min max", "Returns the count of members in a sorted set that have scores within a range.", S!(zrange::zcount)),
    row!("zrange", -4, READONLY, SORTEDSET, KEY1, "sorted-set", "1.2.0", "key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]", "Returns members in a sorted set within a range of indexes, scores or lexicographical order.", S!(zrange::zrange)),
    row!("zrangebyscore", -4, READONLY, SORTEDSET, KEY1, "sorted-set", "1.0.5", "key min max [WITHSCORES] [LIMIT offset count]", "Returns members in a sorted set within a range of scores.", S!(zrange::zrangebyscore)),
    row!("zrevrange", -4, READONLY, SORTEDSET, KEY1, "sorted-set", "1.2.0", "key start stop [WITHSCORES]", "Returns members in a sorted set within a range of indexes in reverse order.", S!(zrange::zrevrange)),
    row!("zrevrangebyscore", -4, READONLY, SORTEDSET, KEY1, "sorted-set", "2.2.0", "key max min [WITHSCORES] [LIMIT offset count]", "Returns members in a sorted set within a range of scores in reverse order.", S!(zrange::zrevrangebyscore)),
    row!("zrangebylex", -4, READONLY, SORTEDSET, KEY1, "sorted-set", "2.8.9", "key min max [LIMIT offset count]", "Returns members in a sorted set within a lexicographical range.", S!(zrange::zrangebylex)),
    row!("zrevrangebylex", -4, READONLY, SORTEDSET, KEY1, "sorted-set", "2.8.9", "key max min [LIMIT offset count]", "Returns members in a sorted set within a lexicographical range in reverse order.", S!(zrange::zrevrangebylex)),
    row!("zlexcount", 4, READONLY | FAST, SORTEDSET, KEY1, "sorted-set", "2.8.9", "key min max", "Returns the number of members in a sorted set within a lexicographical range.", S!(zrange::zlexcount)),
    row!("zremrangebylex", 4, WRITE, SORTEDSET, KEY1, "sorted-set", "2.8.9", "key min max", "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.", S!(zrange::zremrangebylex)),
    row!("zrank", 3, READONLY | FAST, SORTEDSET, KEY1, "sorted-set", "2.0.0", "key member", "Returns the index of a member in a sorted set ordered by ascending scores.", S!(zset::zrank)),
    row!("zrevrank", 3, READONLY | FAST, SORTEDSET, KEY1, "sorted-set", "2.0.0", "key member", "Returns the index of a member in a sorted set ordered by descending scores.", S!(zset::zrevrank)),
    row!("zremrangebyscore", 4, WRITE, SORTEDSET, KEY1, "sorted-set", "1.2.0", "key min max", "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.", S!(zrange::zremrangebyscore)),
    row!("zremrangebyrank", 4, WRITE, SORTEDSET, KEY1, "sorted-set", "2.0.0", "key start stop", "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.", S!(zrange::zremrangebyrank)),
    row!("zpopmin", -2, WRITE | FAST, SORTEDSET, KEY1, "sorted-set", "5.0.0", "key [count]", "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", S!(zset::zpopmin)),
    row!("zpopmax", -2, WRITE | FAST, SORTEDSET, KEY1, "sorted-set", "5.0.0", "key [count]", "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", S!(zset::zpopmax)),
    row!("zscan", -3, READONLY, SORTEDSET, KEY1, "sorted-set", "2.8.0", "key cursor [MATCH pattern] [COUNT count]", "Iterates over members and scores of a sorted set.", S!(zset::zscan)),
    row!("zrandmember", -2, READONLY, SORTEDSET, KEY1, "sorted-set", "6.2.0", "key [count [WITHSCORES]]", "Returns one or more random members from a sorted set.", S!(zset::zrandmember)),
    row!("zrangestore", -5, WRITE | DENY_OOM, SORTEDSET, (1, 2, 1), "sorted-set", "6.2.0", "dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]", "Stores a range of members from sorted set in a key.", S!(zrange::zrangestore)),
    row!("zunion", -3, READONLY, SORTEDSET, (2, -1, 1), "sorted-set", "6.2.0", "numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]", "Returns the union of multiple sorted sets.", S!(zalgebra::zunion)),
    row!("zinter", -3, READONLY, SORTEDSET, (2, -1, 1), "sorted-set", "6.2.0", "numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]", "Returns the intersect of multiple sorted sets.", S!(zalgebra::zinter)),
    row!("zdiff", -3, READONLY, SORTEDSET, (2, -1, 1), "sorted-set", "6.2.0", "numkeys key [key ...] [WITHSCORES]", "Returns the difference between multiple sorted sets.", S!(zalgebra::zdiff)),
    row!("zunionstore", -4, WRITE | DENY_OOM, SORTEDSET, (1, -1, 1), "sorted-set", "2.0.0", "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX]", "Stores the union of multiple sorted sets in a key.", S!(zalgebra::zunionstore)),
    row!("zinterstore", -4, WRITE | DENY_OOM, SORTEDSET, (1, -1, 1), "sorted-set", "2.0.0", "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX]", "Stores the intersect of multiple sorted sets in a key.", S!(zalgebra::zinterstore)),
    row!("zdiffstore", -4, WRITE | DENY_OOM, SORTEDSET, (1, -1, 1), "sorted-set", "6.2.0", "destination numkeys key [key ...]", "Stores the difference of multiple sorted sets in a key.", S!(zalgebra::zdiffstore)),
    row!("zintercard", -3, READONLY, SORTEDSET, (2, -1, 1), "sorted-set", "7.0.0", "numkeys key [key ...] [LIMIT limit]", "Returns the number of members of the intersect of multiple sorted sets.", S!(zalgebra::zintercard)),
    row!("zmpop", -4, WRITE, SORTEDSET, (2, -2, 1), "sorted-set", "7.0.0", "numkeys key [key ...] MIN|MAX [COUNT count]", "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped.", S!(zset_block::zmpop)),
    row!("bzmpop", -5, WRITE | BLOCKING, SORTEDSET, (3, -2, 1), "sorted-set", "7.0.0", "timeout numkeys key [key ...] MIN|MAX [COUNT count]", "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", F!(zset_block::bzmpop)),
    row!("bzpopmin", -3, WRITE | NO_SCRIPT | BLOCKING | FAST, SORTEDSET, (1, -2, 1), "sorted-set", "5.0.0", "key [key ...] timeout", "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", F!(zset_block::bzpopmin)),
    row!("bzpopmax", -3, WRITE | NO_SCRIPT | BLOCKING | FAST, SORTEDSET, (1, -2, 1), "sorted-set", "5.0.0", "key [key ...] timeout", "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if the last element was popped.", F!(zset_block::bzpopmax)),
    // JSON documents (RedisJSON, root path only)
    row!("json.set", -4, WRITE | DENY_OOM, JSON, KEY1, "json", "1.0.0", "key path value [NX|XX]", "Sets the JSON document at a key (root path only), with NX / XX conditions.", S!(json::set)),
    row!("json.get", -2, READONLY, JSON, KEY1, "json", "1.0.0", "key [INDENT indent] [NEWLINE newline] [SPACE space] [path ...]", "Returns the JSON document at a key (root path only), optionally laid out.", S!(json::get)),
    row!("json.mget", -3, READONLY, JSON, (1, -2, 1), "json", "1.0.0", "key [key ...] path", "Returns the JSON documents at several keys (root path only).", S!(json::mget)),
    row!("json.del", -2, WRITE, JSON, KEY1, "json", "1.0.0", "key [path]", "Deletes the JSON document at a key (root path only).", S!(json::del)),
    row!("json.forget", -2, WRITE, JSON, KEY1, "json", "1.0.0", "key [path]", "Deletes the JSON document at a key (root path only); an alias of JSON.DEL.", S!(json::del)),
    row!("json.type", -2, READONLY | FAST, JSON, KEY1, "json", "1.0.0", "key [path]", "Returns the type of the JSON document at a key (root path only).", S!(json::type_)),
    // LLM answers
    row!("llmget", -2, READONLY | BLOCKING, LLM, KEY1, "llm", "0.1.0", "key [WAIT ms] [MAXAGE s] [MAXSTALE s] [MODE DEFAULT|READONLY|REFRESH|WRITEONLY|BYPASS] [META]", "Returns a cached answer (a stale one while one caller refreshes it); on a miss grants the fill lease, or waits for another caller's fill.", F!(llmget::llmget)),
    row!("llmget_ro", -2, READONLY | BLOCKING, LLM, KEY1, "llm", "0.3.0", "key [WAIT ms] [MAXAGE s] [MAXSTALE s] [META]", "LLMGET in MODE READONLY: a cached or stale answer, or a wait for a running fill; never a lease (-MISS).", F!(llmget::llmget_ro)),
    row!("llmsetnx", -3, WRITE | DENY_OOM, LLM, KEY1, "llm", "0.1.0", "key value [EX seconds|PX milliseconds] [TOKENS n] [GRACE seconds]", "Stores an answer if none is there (or replaces the one a refresh lease renews), ends the key's lease and wakes its waiters.", F!(llm::llmsetnx)),
    row!("llmabort", -2, WRITE | FAST, LLM, KEY1, "llm", "0.1.0", "key [gen] [BACKOFF ms]", "Gives up the fill lease (only attempt gen's, if given); the longest-waiting caller is promoted, or with BACKOFF nobody for ms.", S!(llm::llmabort)),
    row!("llmread", -2, READONLY | BLOCKING, LLM, KEY1, "llm", "0.2.0", "key [FROM cursor] [WAIT ms] [LIMIT bytes]", "Reads a streamed answer from a cursor as it is produced; on a miss grants the fill lease.", F!(stream::llmread)),
    row!("llmappend", 4, WRITE | DENY_OOM | FAST, LLM, KEY1, "llm", "0.2.0", "key gen chunk", "Appends a chunk to the answer being streamed at generation gen and renews the lease.", S!(stream::llmappend)),
    row!("llmend", -3, WRITE | DENY_OOM, LLM, KEY1, "llm", "0.2.0", "key gen [EX seconds|PX milliseconds] [TOKENS n] [GRACE seconds]", "Stores the streamed bytes of generation gen as the answer and ends the flight.", F!(stream::llmend)),
    row!("llmkey", -2, FAST | LOADING | STALE, LLM, NOKEY, "llm", "0.1.0", "request-json [DIALECT name] [MODEL name] [SAMPLED]", "Returns the canonical cache key of an LLM request body.", F!(llmkey::llmkey)),
    row!("llmlookup", -2, READONLY | BLOCKING, LLM, NOKEY, "llm", "0.1.0", "request-json [DIALECT name] [MODEL name] [SAMPLED] [LIVE] [FORMAT name] [WAIT ms] [MAXAGE s] [MAXSTALE s] [MODE m] [META] [SEMANTIC space vector|AUTO max-distance]", "Keys a request and looks it up in one round trip, with LLMGET's single-flight semantics and options.", F!(llmkey::llmlookup)),
    row!("llmembed", -2, LOADING | STALE, LLM, NOKEY, "llm", "0.1.0", "text [text ...]", "Returns the sentence embedding of each text, computed by the server's model, as FLOAT32 blobs.", F!(embed::llmembed)),
    row!("llmlookup_ro", -2, READONLY | BLOCKING, LLM, NOKEY, "llm", "0.3.0", "request-json [DIALECT name] [MODEL name] [SAMPLED] [LIVE] [FORMAT name] [WAIT ms] [MAXAGE s] [MAXSTALE s] [META]", "LLMLOOKUP in MODE READONLY: never grants a lease (-MISS).", F!(llmkey::llmlookup_ro)),
    row!("llmpurge", 2, WRITE, LLM, NOKEY, "llm", "0.1.0", "pattern", "Deletes every answer whose key matches a glob pattern.", F!(llmkey::llmpurge)),
    row!("llmstats", -1, LOADING | STALE, LLM, NOKEY, "llm", "0.1.0", "[RESET]", "Returns hit rate, stampede rate, evicted/expired-unread and tokens saved.", S!(llm::llmstats)),
    // search (the RediSearch subset vector caches use)
    row!("ft.create", -5, WRITE | DENY_OOM, 0, KEY1, "search", "1.0.0", "index [ON HASH] [PREFIX count prefix [prefix ...]] [SCORE score] SCHEMA field [AS alias] TEXT|TAG|NUMERIC|VECTOR [options] [field ...]", "Creates an index over the hashes under the prefixes, and indexes those already there.", S!(search::create)),
    row!("ft.search", -3, READONLY, 0, KEY1, "search", "1.0.0", "index query [NOCONTENT] [RETURN count field [AS alias] ...] [SORTBY field [ASC|DESC]] [LIMIT offset num] [PARAMS nargs name value ...] [DIALECT dialect]", "Searches an index: tag, numeric and text filters, VECTOR_RANGE and KNN.", F!(search::search)),
    row!("ft.info", 2, READONLY, 0, KEY1, "search", "1.0.0", "index", "Returns an index's definition and statistics.", S!(search::info)),
    row!("ft.dropindex", -2, WRITE, 0, KEY1, "search", "2.0.0", "index [DD]", "Deletes an index; DD also deletes the hashes it indexed.", S!(search::dropindex)),
    row!("ft._list", 1, READONLY, 0, NOKEY, "search", "2.0.0", "", "Returns the names of all indexes.", S!(search::list)),
    // scripting
    row!("eval", -3, NO_SCRIPT | STALE | EXCLUSIVE, SCRIPTING, NOKEY, "scripting", "2.6.0", "script numkeys [key [key ...]] [arg [arg ...]]", "Executes a server-side Lua script.", F!(script::eval)),
    row!("evalsha", -3, NO_SCRIPT | STALE | EXCLUSIVE, SCRIPTING, NOKEY, "scripting", "2.6.0", "sha1 numkeys [key [key ...]] [arg [arg ...]]", "Executes a server-side Lua script by SHA1 digest.", F!(script::evalsha)),
    row!("eval_ro", -3, READONLY | NO_SCRIPT | STALE | EXCLUSIVE, SCRIPTING, NOKEY, "scripting", "7.0.0", "script numkeys [key [key ...]] [arg [arg ...]]", "Executes a read-only server-side Lua script.", F!(script::eval_ro)),
    row!("evalsha_ro", -3, READONLY | NO_SCRIPT | STALE | EXCLUSIVE, SCRIPTING, NOKEY, "scripting", "7.0.0", "sha1 numkeys [key [key ...]] [arg [arg ...]]", "Executes a read-only server-side Lua script by SHA1 digest.", F!(script::evalsha_ro)),
    row!("script", -2, 0, 0, NOKEY, "scripting", "2.6.0", "subcommand [arg ...]", "A container for Lua scripts management commands.", S!(command::help), subs: SCRIPT),
    row!("module", -2, 0, 0, NOKEY, "server", "4.0.0", "subcommand [arg ...]", "A container for module commands.", S!(command::help), subs: search::MODULE_SUBCOMMANDS),
    // cluster (emulated cluster mode: one node that owns every slot)
    row!("cluster", -2, 0, 0, NOKEY, "cluster", "3.0.0", "subcommand [arg ...]", "A container for Redis Cluster commands.", S!(command::help), subs: cluster::SUBCOMMANDS),
    row!("readonly", 1, FAST | LOADING | STALE, CONNECTION, NOKEY, "cluster", "3.0.0", "", "Enables read-only queries for a connection to a Redis Cluster replica node (OK: this node is the master of every slot).", S!(cluster::ok_when_emulated)),
    row!("readwrite", 1, FAST | LOADING | STALE, CONNECTION, NOKEY, "cluster", "3.0.0", "", "Enables read-write queries for a connection to a Redis Cluster replica node (OK: this node is the master of every slot).", S!(cluster::ok_when_emulated)),
    row!("asking", 1, FAST, CONNECTION, NOKEY, "cluster", "3.0.0", "", "Signals that a cluster client is following an -ASK redirect (OK: this node never redirects).", S!(cluster::ok_when_emulated)),
    // server: MONITOR, appended last (fuzz regression inputs name table rows by their index)
    row!("monitor", 1, ADMIN | NO_SCRIPT | LOADING | STALE, 0, NOKEY, "server", "1.0.0", "", "Listens for all requests received by the server in real-time.", S!(monitor::monitor)),
];

/// SCRIPT's subcommands.
#[rustfmt::skip]
static SCRIPT: &[CommandSpec] = &[
    crate::sub!("script", "exists", -3, NO_SCRIPT, SCRIPTING, "scripting", "2.6.0", "sha1 [sha1 ...]", "Determines whether server-side Lua scripts exist in the script cache.", S!(script::exists)),
    crate::sub!("script", "flush", -2, NO_SCRIPT, SCRIPTING, "scripting", "2.6.0", "[ASYNC|SYNC]", "Removes all server-side Lua scripts from the script cache.", S!(script::flush)),
    crate::sub!("script", "help", 2, LOADING | STALE, SCRIPTING, "scripting", "5.0.0", "", "Returns helpful text about the different subcommands.", S!(command::help)),
    crate::sub!("script", "kill", 2, NO_SCRIPT | ALLOW_BUSY, SCRIPTING, "scripting", "2.6.0", "", "Terminates a server-side Lua script during execution.", S!(script::kill)),
    crate::sub!("script", "load", 3, NO_SCRIPT | STALE, SCRIPTING, "scripting", "2.6.0", "script", "Loads a server-side Lua script to the script cache.", S!(script::load)),
];
