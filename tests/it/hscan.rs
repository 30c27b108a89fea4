//! HSCAN through the `redis` crate, as LlamaIndex's RedisKVStore walks a hash.

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
