//! The one-node cluster emulated mode describes: this node, master of every slot, and the
//! replies that describe it (CLUSTER INFO, NODES, SLOTS, SHARDS) in Redis 7.0.15's shapes.
//!
//! Invariants: there is exactly one node, it is `myself,master`, it owns the single range
//! `0-16383`, the cluster state is `ok`, and every epoch and message counter is 0 (no other
//! node ever talks to it). Clients connect to the address announced here, so it must be one
//! they can reach: the configuration refuses a wildcard bind without `cluster-announce-ip`.

use super::slot::SLOTS;
use crate::protocol::Reply;
use bytes::Bytes;

/// The last slot of the range this node owns.
const LAST_SLOT: i64 = SLOTS as i64 - 1;

/// How Redis derives the cluster bus port from the client port when none is configured.
const BUS_PORT_OFFSET: u16 = 10000;

/// This node as the cluster replies name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Myself {
    /// The node id: the server's run id (40 hex digits).
    pub id: String,
    /// The announced address; empty when there is none (Redis shows an unknown own address
    /// as an empty string, and clients then keep the address they connected to).
    pub ip: String,
    /// The announced client port.
    pub port: u16,
}

impl Myself {
    /// The bus port `CLUSTER NODES` shows after `@`: the client port + 10000, as Redis's
    /// default `cluster-port`, or 0 where that does not fit. Nothing listens on it.
    fn bus_port(&self) -> u16 {
        self.port.checked_add(BUS_PORT_OFFSET).unwrap_or(0)
    }

    /// `CLUSTER INFO`: `field:value` lines ended by CRLF, a verbatim string in RESP3.
    pub fn info(&self) -> Reply {
        let fields: [(&str, &str); 12] = [
            ("cluster_state", "ok"),
            ("cluster_slots_assigned", "16384"),
            ("cluster_slots_ok", "16384"),
            ("cluster_slots_pfail", "0"),
            ("cluster_slots_fail", "0"),
            ("cluster_known_nodes", "1"),
            ("cluster_size", "1"),
            ("cluster_current_epoch", "0"),
            ("cluster_my_epoch", "0"),
            ("cluster_stats_messages_sent", "0"),
            ("cluster_stats_messages_received", "0"),
            ("total_cluster_links_buffer_limit_exceeded", "0"),
        ];
        let mut text = String::with_capacity(320);
        for (name, value) in fields {
            text.push_str(name);
            text.push(':');
            text.push_str(value);
            text.push_str("\r\n");
        }
        Reply::Verbatim(text)
    }

    /// `CLUSTER NODES`: one line, ended by `\n`, a verbatim string in RESP3.
    pub fn nodes(&self) -> Reply {
        Reply::Verbatim(format!(
            "{} {}:{}@{} myself,master - 0 0 0 connected 0-{LAST_SLOT}\n",
            self.id,
            self.ip,
            self.port,
            self.bus_port()
        ))
    }

    /// `CLUSTER SLOTS`: one range, served by one node `[ip, port, id, metadata]`; the metadata
    /// (hostname, ...) is empty: `*0` in RESP2, `%0` in RESP3.
    pub fn slots(&self) -> Reply {
        Reply::Array(vec![Reply::Array(vec![
            Reply::Int(0),
            Reply::Int(LAST_SLOT),
            Reply::Array(vec![
                Reply::text(self.ip.clone()),
                Reply::Int(self.port as i64),
                Reply::text(self.id.clone()),
                Reply::Map(Vec::new()),
            ]),
        ])])
    }

    /// `CLUSTER SHARDS`: one shard with its slot ranges as a flat list of bounds and its one
    /// node, each a map (flattened in RESP2) with Redis 7.0.15's fields in its order.
    pub fn shards(&self) -> Reply {
        let node = Reply::map([
            ("id", Reply::text(self.id.clone())),
            ("port", Reply::Int(self.port as i64)),
            ("ip", Reply::text(self.ip.clone())),
            ("endpoint", Reply::text(self.ip.clone())),
            ("role", Reply::from_static("master")),
            ("replication-offset", Reply::Int(0)),
            ("health", Reply::from_static("online")),
        ]);
        Reply::Array(vec![Reply::map([
            (
                "slots",
                Reply::Array(vec![Reply::Int(0), Reply::Int(LAST_SLOT)]),
            ),
            ("nodes", Reply::Array(vec![node])),
        ])])
    }

    /// `CLUSTER MYID`
    pub fn myid(&self) -> Reply {
        Reply::Bulk(Bytes::from(self.id.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Protocol;

    fn me() -> Myself {
        Myself {
            id: "8e76d1628cf8bc7c78ef30123aca7a4a8de697bf".into(),
            ip: "127.0.0.1".into(),
            port: 43179,
        }
    }

    fn wire(r: &Reply, p: Protocol) -> String {
        let mut out = bytes::BytesMut::new();
        r.encode(p, &mut out);
        String::from_utf8(out.to_vec()).expect("ascii")
    }

    // The expected bytes below are redis-server 7.0.15's replies (a one-node cluster with
    // `cluster-announce-ip 127.0.0.1` after `CLUSTER ADDSLOTSRANGE 0 16383`), read with a raw socket.

    #[test]
    fn nodes_is_redis_line() {
        assert_eq!(
            wire(&me().nodes(), Protocol::Resp2),
            "$103\r\n8e76d1628cf8bc7c78ef30123aca7a4a8de697bf 127.0.0.1:43179@53179 myself,master - 0 0 0 connected 0-16383\n\r\n"
        );
        assert!(wire(&me().nodes(), Protocol::Resp3).starts_with("=107\r\ntxt:8e76"));
    }

    #[test]
    fn slots_node_entries_have_four_elements() {
        let tail = "*3\r\n:0\r\n:16383\r\n*4\r\n$9\r\n127.0.0.1\r\n:43179\r\n$40\r\n8e76d1628cf8bc7c78ef30123aca7a4a8de697bf\r\n";
        assert_eq!(
            wire(&me().slots(), Protocol::Resp2),
            format!("*1\r\n{tail}*0\r\n")
        );
        assert_eq!(
            wire(&me().slots(), Protocol::Resp3),
            format!("*1\r\n{tail}%0\r\n")
        );
    }

    #[test]
    fn shards_are_maps_in_resp3_and_flat_in_resp2() {
        let node = "$2\r\nid\r\n$40\r\n8e76d1628cf8bc7c78ef30123aca7a4a8de697bf\r\n$4\r\nport\r\n:43179\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$18\r\nreplication-offset\r\n:0\r\n$6\r\nhealth\r\n$6\r\nonline\r\n";
        let shard = "$5\r\nslots\r\n*2\r\n:0\r\n:16383\r\n$5\r\nnodes\r\n*1\r\n";
        assert_eq!(
            wire(&me().shards(), Protocol::Resp2),
            format!("*1\r\n*4\r\n{shard}*14\r\n{node}")
        );
        assert_eq!(
            wire(&me().shards(), Protocol::Resp3),
            format!("*1\r\n%2\r\n{shard}%7\r\n{node}")
        );
    }

    #[test]
    fn info_is_redis_text() {
        let resp2 = wire(&me().info(), Protocol::Resp2);
        assert!(resp2.starts_with("$312\r\ncluster_state:ok\r\ncluster_slots_assigned:16384\r\n"));
        assert!(resp2.ends_with("total_cluster_links_buffer_limit_exceeded:0\r\n\r\n"));
        assert!(wire(&me().info(), Protocol::Resp3).starts_with("=316\r\ntxt:cluster_state:ok\r\n"));
    }

    #[test]
    fn bus_port_is_port_plus_10000_when_it_fits() {
        assert_eq!(me().bus_port(), 53179);
        let high = Myself {
            port: 60000,
            ..me()
        };
        assert_eq!(high.bus_port(), 0);
    }
}
