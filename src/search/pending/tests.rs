use super::*;

const LEASE: Duration = Duration::from_secs(60);

fn unit(v: &[f32]) -> Vec<f32> {
    let mut v = v.to_vec();
    distance::prepare(Metric::Cosine, &mut v);
    v
}

fn any(_: &[u8]) -> bool {
    true
}

fn answer() -> Entry {
    Entry::new(Value::Str(Bytes::from("answer")), None)
}

#[test]
fn near_duplicates_wait_for_the_first_and_then_find_its_answer() {
    let spaces = Spaces::default();
    let s = spaces.get_or_create(b"", b"qa", 2).unwrap();
    let (a, b) = (Bytes::from("llm:v1:m:a"), Bytes::from("llm:v1:m:b"));
    let c = Bytes::from("llm:v1:other:c");
    assert_eq!(
        s.decide(&a, unit(&[1.0, 0.0]), 0.1, LEASE, &any),
        Decision::Lead
    );
    // A paraphrase waits for the pending answer; another model or a far question leads.
    assert!(
        matches!(s.decide(&b, unit(&[1.0, 0.05]), 0.1, LEASE, &any), Decision::Pending(ref k, _) if k == &a)
    );
    assert_eq!(
        s.decide(&c, unit(&[1.0, 0.05]), 0.1, LEASE, &any),
        Decision::Lead
    );
    spaces.put(&a, &answer());
    assert!(
        matches!(s.decide(&b, unit(&[1.0, 0.05]), 0.1, LEASE, &any), Decision::Stored(ref v) if v[0].0 == a)
    );
    assert!(spaces.extra_weight(b"llm:v1:m:a") > 0);
    spaces.remove(b"llm:v1:m:a");
    assert_eq!(
        s.decide(&b, unit(&[1.0, 0.05]), 0.1, LEASE, &any),
        Decision::Lead
    );
    assert_eq!(s.counts(), (0, 2));
    assert!(spaces.get_or_create(b"", b"qa", 3).is_err());
}

#[test]
fn the_scope_is_the_key_without_its_digest() {
    assert_eq!(scope_of(b"llm:v1:gpt-4o:abc"), b"llm:v1:gpt-4o");
    assert_eq!(scope_of(b"llm:ns:t1:v1:gpt-4o:abc"), b"llm:ns:t1:v1:gpt-4o");
    assert_eq!(scope_of(b"plain"), b"plain");
    assert_eq!(tenant_of(b"llm:ns:t1:v1:gpt-4o:abc"), b"t1");
    assert_eq!(tenant_of(b"llm:v1:gpt-4o:abc"), b"");
    assert_eq!(tenant_of(b"llm:ns:"), b"");
    // The same model in two tenants, or in a tenant and globally: never one scope.
    assert_ne!(scope_of(b"llm:ns:a:v1:m:x"), scope_of(b"llm:ns:b:v1:m:x"));
    assert_ne!(scope_of(b"llm:ns:a:v1:m:x"), scope_of(b"llm:v1:m:x"));
}

/// Even sharing one space (which lookups never do: each tenant has its own), answers and
/// pending vectors never cross tenants, at distance 0.
#[test]
fn tenants_never_match_each_others_answers_or_pending_vectors() {
    let spaces = Spaces::default();
    let s = spaces.get_or_create(b"", b"qa", 2).unwrap();
    let v = || unit(&[0.0, 1.0]);
    let keys = [
        Bytes::from("llm:v1:m:h"),
        Bytes::from("llm:ns:a:v1:m:h"),
        Bytes::from("llm:ns:b:v1:m:h"),
    ];
    // The same question at the same moment: each tenant leads its own fill.
    for k in &keys {
        assert_eq!(s.decide(k, v(), 0.0, LEASE, &any), Decision::Lead, "{k:?}");
    }
    // A paraphrase in each tenant waits for that tenant's own pending answer.
    for k in &keys {
        let mut other = k.to_vec();
        other.push(b'2');
        let d = s.decide(&Bytes::from(other), v(), 0.0, LEASE, &any);
        assert!(matches!(d, Decision::Pending(ref p, _) if p == k), "{d:?}");
    }
    for k in &keys {
        spaces.put(k, &answer());
    }
    for k in &keys {
        let mut other = k.to_vec();
        other.push(b'3');
        let d = s.decide(&Bytes::from(other), v(), 0.0, LEASE, &any);
        assert!(
            matches!(d, Decision::Stored(ref h) if h.len() == 1 && h[0].0 == k),
            "{d:?}"
        );
    }
}

#[test]
fn keys_the_caller_may_not_access_are_no_candidates() {
    let spaces = Spaces::default();
    let s = spaces.get_or_create(b"a", b"qa", 2).unwrap();
    let (hidden, seen) = (
        Bytes::from("llm:ns:a:v1:m:1"),
        Bytes::from("llm:ns:a:v1:m:2"),
    );
    let only_seen = |k: &[u8]| !k.ends_with(b":1");
    assert_eq!(
        s.decide(&hidden, unit(&[1.0, 0.0]), 0.1, LEASE, &any),
        Decision::Lead
    );
    // Pending but not accessible: the caller leads its own key instead of waiting.
    assert_eq!(
        s.decide(&seen, unit(&[1.0, 0.0]), 0.1, LEASE, &only_seen),
        Decision::Lead
    );
    spaces.put(&hidden, &answer());
    let probe = Bytes::from("llm:ns:a:v1:m:3");
    assert_eq!(
        s.decide(&probe, unit(&[1.0, 0.0]), 0.1, LEASE, &only_seen),
        Decision::Pending(seen.clone(), 0.0)
    );
}

#[test]
fn each_tenant_has_its_own_spaces_and_dimensions() {
    let spaces = Spaces::default();
    let a = spaces.get_or_create(b"a", b"qa", 2).unwrap();
    let b = spaces.get_or_create(b"b", b"qa", 3).unwrap();
    let global = spaces.get_or_create(b"", b"qa", 4).unwrap();
    assert!(!Arc::ptr_eq(&a, &b) && !Arc::ptr_eq(&a, &global));
    assert_eq!((a.dim, b.dim, global.dim), (2, 3, 4));
    assert!(Arc::ptr_eq(
        &a,
        &spaces.get_or_create(b"a", b"qa", 2).unwrap()
    ));
    assert!(spaces.get_or_create(b"b", b"qa", 2).is_err());
}
