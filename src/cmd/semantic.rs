//! Semantic single-flight: `LLMLOOKUP ... SEMANTIC space vector max-distance`.
//!
//! # Format
//! ```text
//! LLMLOOKUP request-json [WAIT ms] [DIALECT d] [MODEL m] ... SEMANTIC space vector max-distance
//!     vector: the prompt's embedding, little-endian FLOAT32; max-distance: cosine distance
//!     -> [key, value, distance]   a hit: the exact key (distance 0), or the stored answer of the
//!                                 same model nearest within max-distance
//!     -> [key, nil, nil]          a miss: this caller holds the lease on its exact key; store
//!                                 the answer with LLMSETNX key (which also indexes it)
//!     (blocks)                    a near question of the same model is being answered right
//!                                 now: waits for that answer -> [its key, value, distance]
//! ```
//! The answer's vector is kept in the space once LLMSETNX stores it, and leaves it when the key
//! is deleted, expires or is evicted.
//!
//! # Scope
//! The read modes apply: LLMLOOKUP_RO and MODE READONLY take stored or pending near answers but
//! never lead, so a miss leaves no pending vector; MODE REFRESH skips stored answers (exact and
//! near) and takes only a running near fill; MODE BYPASS touches nothing.
//!
//! Answers are only ever matched within one scope: the canonical key without its digest, so
//! the same model and the same tenant namespace (the one the exact key is built in: `NAMESPACE`
//! or, with `llm-key-namespace user`, the user's; none for a global key). Each tenant also has
//! its own spaces by name. Within the scope, a stored or pending answer is a candidate only if
//! the caller's ACL key patterns allow it with the access the exact key needed, so a reply
//! never names a key, value or distance the caller could not have read.

use super::llmget::{single_flight, Mode, ReadOptions};
use super::{args, permit, CommandError, Ctx, Flow};
use crate::protocol::Reply;
use crate::search::pending::{tenant_of, Decision, Intent};
use crate::search::schema::Metric;
use crate::search::text;
use crate::search::{distance, guard};
use bytes::Bytes;

/// What follows `SEMANTIC`.
pub struct Semantic {
    pub space: Bytes,
    pub vector: Bytes,
    pub radius: f32,
}

impl Semantic {
    /// Takes `SEMANTIC space vector max-distance` out of `rest`, if it is there.
    pub fn take(rest: &mut Vec<Bytes>) -> Result<Option<Semantic>, CommandError> {
        let Some(i) = rest.iter().position(|a| args::is(a, "SEMANTIC")) else {
            return Ok(None);
        };
        if rest.len() < i + 4 {
            return Err(CommandError::Syntax);
        }
        let parts: Vec<Bytes> = rest.drain(i..i + 4).collect();
        let radius = std::str::from_utf8(&parts[3])
            .ok()
            .and_then(|s| s.parse::<f32>().ok())
            .filter(|r| (0.0..=2.0).contains(r))
            .ok_or_else(|| CommandError::err("max-distance must be a number between 0 and 2"))?;
        Ok(Some(Semantic {
            space: parts[1].clone(),
            vector: parts[2].clone(),
            radius,
        }))
    }
}

fn triple(key: Bytes, r: Reply, distance: Option<f32>) -> Reply {
    if r.is_error() {
        return r;
    }
    let d = match (&r, distance) {
        (Reply::Nil, _) | (_, None) => Reply::Nil,
        (_, Some(d)) => Reply::text(text::g12(d as f64)),
    };
    Reply::Array(vec![Reply::Bulk(key), r, d])
}

fn wrap(flow: Flow, key: Bytes, distance: Option<f32>) -> Flow {
    match flow {
        Flow::Reply(r) => Flow::Reply(triple(key, r, distance)),
        Flow::Wait(w) => Flow::Wait(Box::pin(async move { triple(key, w.await, distance) })),
        Flow::Close => Flow::Close,
    }
}

/// The semantic lookup of `key` (already computed from the request, in the caller's namespace,
/// and admitted with `access`, which every other key it may answer with needs too).
pub fn lookup(
    ctx: &mut Ctx<'_>,
    body: &[u8],
    key: Bytes,
    sem: Semantic,
    opts: ReadOptions,
    access: u8,
) -> Result<Flow, CommandError> {
    if sem.vector.is_empty() || !sem.vector.len().is_multiple_of(4) {
        return Err(CommandError::err(
            "the vector must be FLOAT32 values, 4 bytes each",
        ));
    }
    let dim = sem.vector.len() / 4;
    let mut v = distance::decode(&sem.vector, dim).ok_or(CommandError::Syntax)?;
    distance::prepare(Metric::Cosine, &mut v);
    let shared = ctx.shared.clone();
    let intent = match opts.mode {
        Mode::Default => Intent::Lead,
        Mode::ReadOnly => Intent::ReadOnly,
        Mode::Refresh => Intent::Refresh,
        // Touches nothing: the exact read answers -BYPASS.
        Mode::Bypass => return Ok(wrap(single_flight(ctx, &key, opts, None)?, key, None)),
    };
    if intent != Intent::Refresh && shared.store.get(&key).is_some() {
        let flow = single_flight(ctx, &key, opts, None)?;
        return Ok(wrap(flow, key, Some(0.0)));
    }
    let space = shared
        .search
        .semantic
        .get_or_create(tenant_of(&key), &sem.space, dim)
        .map_err(CommandError::err)?;
    let lease = shared.flights.lease();
    let allowed = permit::key_filter(ctx, access);
    let allowed = |k: &[u8]| allowed.as_ref().is_none_or(|f| f(k));
    let (system, user) = guard::texts_of(body);
    let sig = std::sync::Arc::new(guard::Signature::of(&system, &user));
    match space.decide_as(intent, &key, &sig, v, sem.radius, lease, &allowed) {
        Decision::Stored(hits) => {
            for (k, d) in hits {
                if let Some(entry) = shared.store.get(&k) {
                    if let Some(value) = entry.as_str() {
                        entry.mark_read(shared.store.clock().now_ms());
                        let stats = shared.store.stats();
                        stats.llm_hits.incr();
                        stats.tokens_saved.add(entry.tokens);
                        return Ok(Flow::Reply(triple(k, Reply::Bulk(value.clone()), Some(d))));
                    }
                }
            }
            // Every near answer left meanwhile: fill our own key.
            let flow = single_flight(ctx, &key, opts, None)?;
            Ok(wrap(flow, key, None))
        }
        Decision::Pending(k, d) => {
            let flow = single_flight(ctx, &k, opts, None)?;
            Ok(wrap(flow, k, Some(d)))
        }
        Decision::Lead | Decision::Nothing => {
            let flow = single_flight(ctx, &key, opts, None)?;
            Ok(wrap(flow, key, None))
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::cmd::testing::{TestClient, TestServer};
    use crate::cmd::Flow;
    use crate::config::Config;
    use crate::protocol::Reply;
    use bytes::Bytes;

    fn body(prompt: &str) -> String {
        format!(
            r#"{{"model":"m","temperature":0,"messages":[{{"role":"user","content":"{prompt}"}}]}}"#
        )
    }

    fn blob(v: &[f32]) -> Bytes {
        v.iter()
            .flat_map(|x| x.to_le_bytes())
            .collect::<Vec<u8>>()
            .into()
    }

    /// `LLMLOOKUP body [extra ...] SEMANTIC qa v d`.
    fn flow(c: &mut TestClient, prompt: &str, extra: &[&str], v: &[f32], d: &str) -> Flow {
        let mut args = vec![Bytes::from("LLMLOOKUP"), Bytes::from(body(prompt))];
        args.extend(extra.iter().map(|e| Bytes::copy_from_slice(e.as_bytes())));
        args.extend([Bytes::from("SEMANTIC"), Bytes::from("qa"), blob(v)]);
        args.push(Bytes::copy_from_slice(d.as_bytes()));
        c.flow_bytes(&args)
    }

    /// [`flow`], which must reply at once.
    fn lookup(c: &mut TestClient, prompt: &str, extra: &[&str], v: &[f32], d: &str) -> Reply {
        match flow(c, prompt, extra, v, d) {
            Flow::Reply(r) => r,
            Flow::Wait(_) => panic!("{prompt}: waited"),
            Flow::Close => panic!("{prompt}: closed"),
        }
    }

    fn parts(r: &Reply) -> (String, Option<String>, Option<String>) {
        let Reply::Array(p) = r else { panic!("{r:?}") };
        let s = |r: &Reply| match r {
            Reply::Bulk(b) => Some(String::from_utf8_lossy(b).into_owned()),
            Reply::Nil => None,
            other => panic!("{other:?}"),
        };
        (s(&p[0]).unwrap_or_default(), s(&p[1]), s(&p[2]))
    }

    fn user(server: &TestServer, name: &str, pattern: &str) -> TestClient {
        let mut admin = server.client();
        let rule = format!("~{pattern}");
        let setuser = ["ACL", "SETUSER", name, "on", ">pw", &rule, "+@all"];
        assert_eq!(admin.run(&setuser), Reply::Ok);
        let mut c = server.client();
        assert_eq!(c.run(&["AUTH", name, "pw"]), Reply::Ok);
        c
    }

    fn namespaced() -> TestServer {
        let mut config = Config::default();
        config.acl.key_namespace_user = true;
        TestServer::with_config(config)
    }

    #[tokio::test]
    async fn each_tenant_leads_its_own_fill_and_finds_only_its_own_answer() {
        let server = namespaced();
        let mut a = user(&server, "a", "llm:ns:a:*");
        let mut b = user(&server, "b", "llm:ns:b:*");
        let mut global = server.client();
        let v = [1.0, 0.0];
        // The same question, at once, in three scopes: three leaders, none waits on another.
        let mut keys = Vec::new();
        for (c, prefix) in [
            (&mut a, "llm:ns:a:v1:m:"),
            (&mut b, "llm:ns:b:v1:m:"),
            (&mut global, "llm:v1:m:"),
        ] {
            let (key, value, d) = parts(&lookup(c, "What is RAG?", &[], &v, "0.5"));
            assert!(key.starts_with(prefix), "{key}");
            assert_eq!((value, d), (None, None));
            keys.push(key);
        }
        for (c, (key, answer)) in [&mut a, &mut b, &mut global]
            .into_iter()
            .zip(keys.iter().zip(["A's", "B's", "global"]))
        {
            assert_eq!(c.run(&["LLMSETNX", key, answer]), Reply::Int(1));
        }
        // A paraphrase at distance 0 finds its own tenant's answer only.
        for (c, (key, answer)) in [&mut a, &mut b, &mut global]
            .into_iter()
            .zip(keys.iter().zip(["A's", "B's", "global"]))
        {
            let (k, value, d) = parts(&lookup(c, "Explain RAG", &[], &v, "0"));
            assert_eq!((k.as_str(), value.as_deref()), (key.as_str(), Some(answer)));
            assert_eq!(d.as_deref(), Some("0"));
        }
        // An explicit NAMESPACE the user may access is a scope like any other.
        let (k, value, _) = parts(&lookup(
            &mut a,
            "Define RAG",
            &["NAMESPACE", "a"],
            &v,
            "0.5",
        ));
        assert_eq!(
            (k.as_str(), value.as_deref()),
            (keys[0].as_str(), Some("A's"))
        );
    }

    /// A user whose key patterns allow its own exact key but not the near answer's (or the
    /// pending one's) leads its own fill: the reply never names a key it could not read.
    #[tokio::test]
    async fn near_answers_the_user_may_not_read_are_neither_hits_nor_waited_for() {
        let server = TestServer::new();
        let mut admin = server.client();
        let ns = ["NAMESPACE", "t"];
        let (stored, _, _) = parts(&lookup(
            &mut admin,
            "What is HNSW?",
            &ns,
            &[0.0, 1.0],
            "0.1",
        ));
        assert_eq!(admin.run(&["LLMSETNX", &stored, "a graph"]), Reply::Int(1));
        let (pending, _, _) = parts(&lookup(
            &mut admin,
            "What is FLAT?",
            &ns,
            &[1.0, 0.0],
            "0.1",
        ));
        let key_of = |admin: &mut TestClient, prompt: &str| match admin.run(&[
            "LLMKEY",
            &body(prompt),
            "NAMESPACE",
            "t",
        ]) {
            Reply::Bulk(k) => String::from_utf8_lossy(&k).into_owned(),
            other => panic!("{other:?}"),
        };
        let own = [
            key_of(&mut admin, "Tell me about HNSW"),
            key_of(&mut admin, "Explain FLAT"),
        ];
        // Allowed exactly its two own keys.
        let mut narrow = user(&server, "n", &own[0]);
        let rule = format!("~{}", own[1]);
        assert_eq!(admin.run(&["ACL", "SETUSER", "n", &rule]), Reply::Ok);
        let got = parts(&lookup(
            &mut narrow,
            "Tell me about HNSW",
            &ns,
            &[0.0, 1.0],
            "0.1",
        ));
        assert_eq!(got, (own[0].clone(), None, None));
        let got = parts(&lookup(
            &mut narrow,
            "Explain FLAT",
            &ns,
            &[1.0, 0.0],
            "0.1",
        ));
        assert_eq!(got, (own[1].clone(), None, None));
        // The same lookups by the whole tenant: the stored answer, and a wait on the pending one.
        let mut tenant = user(&server, "t", "llm:ns:t:*");
        let (k, value, _) = parts(&lookup(
            &mut tenant,
            "Tell me about HNSW",
            &ns,
            &[0.0, 1.0],
            "0.1",
        ));
        assert_eq!(
            (k.as_str(), value.as_deref()),
            (stored.as_str(), Some("a graph"))
        );
        let waits = flow(&mut tenant, "Explain FLAT", &ns, &[1.0, 0.02], "0.1");
        assert!(matches!(waits, Flow::Wait(_)), "{pending}");
    }

    /// LLMLOOKUP_RO (and MODE READONLY) never leads, so a miss must not leave its vector
    /// pending: a paraphrase after it leads its own fill instead of waiting on nobody. MODE
    /// REFRESH skips stored near answers; MODE BYPASS touches nothing.
    #[tokio::test]
    async fn only_a_lookup_that_leads_registers_its_vector() {
        let server = TestServer::new();
        let mut c = server.client();
        let v = [1.0, 0.0];
        let mut ro = vec![
            Bytes::from("LLMLOOKUP_RO"),
            Bytes::from(body("What is RAG?")),
        ];
        ro.extend([
            Bytes::from("SEMANTIC"),
            Bytes::from("qa"),
            blob(&v),
            Bytes::from("0.5"),
        ]);
        match c.flow_bytes(&ro) {
            Flow::Reply(Reply::Error(e)) => assert!(e.starts_with("MISS"), "{e}"),
            other => panic!("{:?}", matches!(other, Flow::Wait(_))),
        }
        let (key, value, d) = parts(&lookup(&mut c, "Explain RAG", &[], &v, "0.5"));
        assert_eq!((value, d), (None, None), "led, not waited: {key}");
        assert_eq!(c.run(&["LLMSETNX", &key, "retrieval"]), Reply::Int(1));
        let (k, value, _) = parts(&lookup(
            &mut c,
            "Define RAG",
            &["MODE", "READONLY"],
            &v,
            "0.5",
        ));
        assert_eq!(
            (k.as_str(), value.as_deref()),
            (key.as_str(), Some("retrieval"))
        );
        // A refresh of a paraphrase does not take the stored near answer: it leads.
        let (k, value, _) = parts(&lookup(&mut c, "RAG?", &["MODE", "REFRESH"], &v, "0.5"));
        assert_ne!(k, key);
        assert_eq!(value, None);
        match flow(&mut c, "RAG!", &["MODE", "BYPASS"], &v, "0.5") {
            Flow::Reply(Reply::Error(e)) => assert!(e.starts_with("BYPASS"), "{e}"),
            _ => panic!("bypass must answer at once with -BYPASS"),
        }
    }

    /// The vector kept for a semantic answer weighs against the byte budget with the answer.
    #[tokio::test]
    async fn a_semantic_answer_weighs_its_vector() {
        let server = TestServer::new();
        let mut c = server.client();
        let store = &server.shared.store;
        let weigh = |key: &str, c: &mut TestClient| {
            store.run_maintenance();
            let before = store.used_bytes();
            assert_eq!(c.run(&["LLMSETNX", key, "an answer"]), Reply::Int(1));
            store.run_maintenance();
            store.used_bytes() - before
        };
        let plain = match c.run(&["LLMLOOKUP", &body("plain question")]) {
            Reply::Array(p) => match &p[0] {
                Reply::Bulk(k) => String::from_utf8_lossy(k).into_owned(),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        };
        let plain = weigh(&plain, &mut c);
        let v = vec![0.5f32; 384];
        let (key, _, _) = parts(&lookup(&mut c, "semantic question", &[], &v, "0.1"));
        let semantic = weigh(&key, &mut c);
        assert!(semantic >= plain + 384 * 4, "{semantic} vs {plain}");
    }

    /// The guards: a question that differs in what decides its answer is neither served the
    /// near answer nor made to wait for a near pending one, even at distance 0.
    #[tokio::test]
    async fn hard_negatives_at_distance_0_lead_their_own_fill() {
        let server = TestServer::new();
        let mut c = server.client();
        let v = [1.0, 0.0];
        let (pending, value, _) = parts(&lookup(
            &mut c,
            "How much is 5 miles in km?",
            &[],
            &v,
            "0.5",
        ));
        assert_eq!(value, None);
        // Concurrent: the reversed conversion does not wait on the pending answer.
        let (other, value, d) = parts(&lookup(
            &mut c,
            "How much is 5 km in miles?",
            &[],
            &v,
            "0.5",
        ));
        assert_ne!(other, pending);
        assert_eq!((value, d), (None, None));
        assert_eq!(c.run(&["LLMSETNX", &pending, "8.05 km"]), Reply::Int(1));
        assert_eq!(c.run(&["LLMSETNX", &other, "3.11 miles"]), Reply::Int(1));
        // Stored: each paraphrase gets its own question's answer.
        let (_, value, _) = parts(&lookup(
            &mut c,
            "Convert 5 miles to kilometers",
            &[],
            &v,
            "0.5",
        ));
        assert_eq!(value.as_deref(), Some("8.05 km"));
        let (_, value, _) = parts(&lookup(
            &mut c,
            "Convert 5 kilometres to miles",
            &[],
            &v,
            "0.5",
        ));
        assert_eq!(value.as_deref(), Some("3.11 miles"));
        let (_, value, _) = parts(&lookup(
            &mut c,
            "How much is 7 miles in km?",
            &[],
            &v,
            "0.5",
        ));
        assert_eq!(value, None, "another number is another question");
    }
}
