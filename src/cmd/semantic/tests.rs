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

/// The field `name` of a META map.
fn field<'a>(map: &'a Reply, name: &'static str) -> &'a Reply {
    let Reply::Map(pairs) = map else {
        panic!("{map:?}")
    };
    pairs
        .iter()
        .find(|(k, _)| *k == Reply::from_static(name))
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {name} in {map:?}"))
}

fn texts(r: &Reply) -> Vec<String> {
    let Reply::Array(items) = r else {
        panic!("{r:?}")
    };
    items
        .iter()
        .map(|i| match i {
            Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
            Reply::Simple(s) => s.to_string(),
            other => format!("{other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn meta_tells_why_a_near_answer_was_taken_and_which_were_refused() {
    let server = TestServer::new();
    let mut c = server.client();
    let v = [1.0, 0.0];
    let (key, _, _) = parts(&lookup(
        &mut c,
        "How much is 5 miles in km?",
        &[],
        &v,
        "0.5",
    ));
    assert_eq!(c.run(&["LLMSETNX", &key, "8.05 km"]), Reply::Int(1));

    // A paraphrase: a near hit, with what the guards compared.
    let r = lookup(
        &mut c,
        "Convert 5 miles to kilometers",
        &["META"],
        &v,
        "0.5",
    );
    let Reply::Array(p) = &r else { panic!("{r:?}") };
    assert_eq!(p[0], Reply::Bulk(Bytes::from(key.clone())));
    let map = &p[1];
    assert_eq!(field(map, "status"), &Reply::from_static("hit"));
    assert_eq!(field(map, "value"), &Reply::Bulk(Bytes::from("8.05 km")));
    assert_eq!(field(map, "match"), &Reply::from_static("near"));
    let accepted = texts(field(map, "accepted"));
    assert!(
        accepted.iter().any(|a| a.starts_with("numbers: 5")),
        "{accepted:?}"
    );
    assert!(
        accepted.contains(&"negation: affirmative".to_string()),
        "{accepted:?}"
    );
    assert_eq!(field(map, "refused"), &Reply::Array(vec![]));

    // Another number at distance 0: refused with its reason, and this caller leads.
    let r = lookup(&mut c, "How much is 7 miles in km?", &["META"], &v, "0.5");
    let Reply::Array(p) = &r else { panic!("{r:?}") };
    let map = &p[1];
    assert_eq!(field(map, "status"), &Reply::from_static("lead"));
    assert_eq!(field(map, "match"), &Reply::from_static("none"));
    let Reply::Array(refused) = field(map, "refused") else {
        panic!("{map:?}")
    };
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(
        texts(&refused[0]),
        [key.as_str(), "0", "other numbers or units", "stored"]
    );

    // The exact request again: matched by its key.
    let r = lookup(&mut c, "How much is 5 miles in km?", &["META"], &v, "0.5");
    let Reply::Array(p) = &r else { panic!("{r:?}") };
    assert_eq!(field(&p[1], "match"), &Reply::from_static("exact"));
}
