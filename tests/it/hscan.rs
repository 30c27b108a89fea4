//! HSCAN through the `redis` crate, as LlamaIndex's RedisKVStore walks a hash, and HRANDFIELD.

use crate::support::{call, cmd, start, text};
use redis::Value;

/// LlamaIndex's RedisKVStore `get_all`: HSCAN from cursor 0 until the cursor is 0 again, every
/// field exactly once, small and big hashes, RESP2 and RESP3.
#[tokio::test]
async fn hscan_walks_a_hash_as_llamaindex_get_all_does() {
    let s = start().await;
    for resp3 in [false, true] {
        let mut c = s.conn(resp3).await;
        assert_eq!(cmd(&mut c, &["FLUSHDB"]).await, "OK");
        let mut args = vec!["HSET".to_string(), "docstore/data".into()];
        for i in 0..300 {
            args.push(format!("doc{i}"));
            args.push(format!("{{\"id\":{i}}}"));
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(cmd(&mut c, &refs).await, "300");
        let mut cursor = "0".to_string();
        let mut seen = std::collections::HashSet::new();
        loop {
            let v = call(&mut c, &["HSCAN", "docstore/data", &cursor, "COUNT", "100"]).await;
            let Value::Array(parts) = &v else {
                panic!("{v:?}")
            };
            let Value::Array(items) = &parts[1] else {
                panic!("{v:?}")
            };
            for pair in items.chunks(2) {
                let (f, val) = (text(&pair[0]), text(&pair[1]));
                assert_eq!(val, format!("{{\"id\":{}}}", &f[3..]));
                assert!(seen.insert(f), "a field came twice");
            }
            cursor = text(&parts[0]);
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 300);
        assert_eq!(cmd(&mut c, &["HSCAN", "nokey", "0"]).await, "[0,[]]");
        assert_eq!(
            cmd(&mut c, &["HSCAN", "docstore/data", "x"]).await,
            "ERROR:ERR invalid cursor"
        );
    }
}

/// HRANDFIELD's shapes: one field, distinct fields for a positive count (the whole hash past
/// its size), repeats for a negative one, WITHVALUES flat in RESP2 and paired in RESP3, and
/// Redis's replies for a missing key and a bad count.
#[tokio::test]
async fn hrandfield_picks_as_redis_does() {
    let s = start().await;
    for resp3 in [false, true] {
        let mut c = s.conn(resp3).await;
        assert_eq!(cmd(&mut c, &["FLUSHDB"]).await, "OK");
        assert_eq!(
            cmd(&mut c, &["HSET", "h", "a", "1", "b", "2", "c", "3"]).await,
            "3"
        );
        let one = cmd(&mut c, &["HRANDFIELD", "h"]).await;
        assert!(["a", "b", "c"].contains(&one.as_str()), "{one}");
        let fields = |v: &Value| -> Vec<String> {
            let Value::Array(items) = v else {
                panic!("{v:?}")
            };
            items.iter().map(text).collect()
        };
        let mut two = fields(&call(&mut c, &["HRANDFIELD", "h", "2"]).await);
        two.sort();
        two.dedup();
        assert_eq!(two.len(), 2, "{two:?}");
        let mut all = fields(&call(&mut c, &["HRANDFIELD", "h", "10"]).await);
        all.sort();
        assert_eq!(all, ["a", "b", "c"]);
        let repeats = fields(&call(&mut c, &["HRANDFIELD", "h", "-20"]).await);
        assert_eq!(repeats.len(), 20);
        assert!(repeats
            .iter()
            .all(|f| ["a", "b", "c"].contains(&f.as_str())));
        let with = call(&mut c, &["HRANDFIELD", "h", "-5", "WITHVALUES"]).await;
        let Value::Array(items) = &with else {
            panic!("{with:?}")
        };
        let pairs: Vec<(String, String)> = if resp3 {
            items
                .iter()
                .map(|p| match p {
                    Value::Array(fv) if fv.len() == 2 => (text(&fv[0]), text(&fv[1])),
                    other => panic!("{other:?}"),
                })
                .collect()
        } else {
            items
                .chunks(2)
                .map(|fv| (text(&fv[0]), text(&fv[1])))
                .collect()
        };
        assert_eq!(pairs.len(), 5);
        for (f, v) in pairs {
            let want = match f.as_str() {
                "a" => "1",
                "b" => "2",
                _ => "3",
            };
            assert_eq!(v, want);
        }
        assert_eq!(cmd(&mut c, &["HRANDFIELD", "h", "0"]).await, "[]");
        assert_eq!(cmd(&mut c, &["HRANDFIELD", "nosuch"]).await, "(nil)");
        assert_eq!(cmd(&mut c, &["HRANDFIELD", "nosuch", "5"]).await, "[]");
        assert_eq!(
            cmd(&mut c, &["HRANDFIELD", "h", "-9223372036854775808"]).await,
            "ERROR:ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
        );
        assert_eq!(
            cmd(
                &mut c,
                &["HRANDFIELD", "h", "-9223372036854775807", "WITHVALUES"]
            )
            .await,
            "ERROR:ERR value is out of range"
        );
        assert_eq!(
            cmd(&mut c, &["HRANDFIELD", "h", "1", "WITHSCORES"]).await,
            "ERROR:ERR syntax error"
        );
        assert_eq!(cmd(&mut c, &["SET", "str", "x"]).await, "OK");
        assert!(cmd(&mut c, &["HRANDFIELD", "str"])
            .await
            .starts_with("ERROR:WRONGTYPE"));
    }
}
