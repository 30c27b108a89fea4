//! Unit tests of the flight table: followers, promotion, generations and streams.

use super::stream::Want;
use super::*;

fn key() -> Bytes {
    Bytes::from_static(b"k")
}

fn follow(f: &Flights, client: u64) -> WaitGuard {
    match f.begin::<()>(&key(), client, || None) {
        Begin::Follow(g) => g,
        _ => panic!("expected to follow"),
    }
}

#[tokio::test]
async fn first_leads_others_follow_and_get_the_value() {
    let f = Flights::new(Duration::from_secs(60));
    assert!(matches!(
        f.begin::<()>(&key(), 1, || None),
        Begin::Lead { .. }
    ));
    let mut a = follow(&f, 2);
    let mut b = follow(&f, 3);
    assert_eq!(f.followers_waiting(), 2);
    assert_eq!(f.complete(b"k", &Bytes::from_static(b"v"), 7, None), 2);
    let want = Outcome::Value {
        value: Bytes::from_static(b"v"),
        tokens: 7,
    };
    assert_eq!(a.wait().await, want);
    assert_eq!(b.wait().await, want);
    drop((a, b));
    assert_eq!(f.followers_waiting(), 0);
    assert_eq!(f.leases_active(), 0);
}

#[tokio::test]
async fn abort_promotes_the_oldest_follower_only() {
    let f = Flights::new(Duration::from_secs(60));
    let _ = f.begin::<()>(&key(), 1, || None);
    let mut a = follow(&f, 2);
    let b = follow(&f, 3);
    assert!(f.abort(b"k", None));
    assert_eq!(a.wait().await, Outcome::Lead);
    assert_eq!(f.promotions(), 1);
    assert_eq!(
        f.followers_waiting(),
        2,
        "b still waits; a's guard not dropped yet"
    );
    drop(a);
    assert_eq!(f.followers_waiting(), 1);
    // a holds the lease now: its abort promotes b.
    assert!(f.abort(b"k", None));
    let mut b = b;
    assert_eq!(b.wait().await, Outcome::Lead);
}

#[tokio::test]
async fn a_follower_that_left_after_being_promoted_hands_the_lease_on() {
    let f = Flights::new(Duration::from_secs(60));
    let _ = f.begin::<()>(&key(), 1, || None);
    let a = follow(&f, 2);
    let mut b = follow(&f, 3);
    assert!(f.abort(b"k", None));
    // `a` was promoted but stops waiting without reading the outcome (disconnect).
    drop(a);
    assert_eq!(b.wait().await, Outcome::Lead);
    assert_eq!(f.promotions(), 1);
}

#[tokio::test]
async fn expiry_and_abandon_promote_and_cancel_all_wakes_everyone() {
    let f = Flights::new(Duration::from_millis(0));
    let id = match f.begin::<()>(&key(), 1, || None) {
        Begin::Lead { flight, .. } => flight,
        _ => panic!(),
    };
    let mut a = follow(&f, 2);
    let mut b = follow(&f, 3);
    f.expire_due(b"k", id, Instant::now());
    assert_eq!(a.wait().await, Outcome::Lead);
    assert_eq!(f.lease_expirations(), 1);
    f.abandon_all(2);
    assert_eq!(b.wait().await, Outcome::Lead);
    let mut c = follow(&f, 4);
    f.cancel_all("TRYAGAIN flushed");
    assert_eq!(
        c.wait().await,
        Outcome::Cancelled("TRYAGAIN flushed".into())
    );
    assert_eq!(f.leases_active(), 0);
}

#[tokio::test]
async fn the_holders_connection_asking_again_waits_like_anyone() {
    let f = Flights::new(Duration::from_secs(60));
    let _ = f.begin::<()>(&key(), 1, || None);
    let mut again = follow(&f, 1);
    assert!(!f.abort(b"other", None));
    assert_eq!(f.complete(b"k", &Bytes::from_static(b"v"), 0, None), 1);
    assert!(matches!(again.wait().await, Outcome::Value { .. }));
}

#[test]
fn a_stored_value_is_a_hit_without_a_flight() {
    let f = Flights::new(Duration::from_secs(1));
    assert!(matches!(f.begin(&key(), 1, || Some(5)), Begin::Hit(5)));
    assert_eq!(f.leases_active(), 0);
}

const ALL: u64 = u64::MAX;

fn read(f: &Flights, client: u64, cursor: Cursor) -> ReadStep {
    let want = Want { cursor, limit: ALL };
    f.read::<StreamError>(&key(), client, want, || Ok(None))
        .expect("read")
}

fn ready(step: ReadStep) -> ReadReply {
    match step {
        ReadStep::Ready(r) => r,
        ReadStep::Pending(_) => panic!("expected a reply"),
    }
}

#[tokio::test]
async fn generations_grow_and_fence_a_replaced_leader() {
    let f = Flights::new(Duration::from_secs(60));
    let lead = ready(read(&f, 1, Cursor::Start));
    assert_eq!(lead.state, ReadState::Lead);
    let g1 = lead.gen;
    assert_eq!(
        f.append(b"k", g1, Bytes::from_static(b"ab"), 100, ALL),
        Ok(2)
    );
    assert_eq!(f.stream_bytes(), 2);
    assert_eq!(f.streams_active(), 1);
    let ReadStep::Pending(mut w) = read(&f, 2, Cursor::At { gen: g1, offset: 2 }) else {
        panic!("caught-up reader blocks")
    };
    assert_eq!(f.readers_waiting(), 1);
    assert!(f.abort(b"k", Some(g1)));
    assert_eq!(w.changed().await, Woken::Changed);
    let cursor = Cursor::At { gen: g1, offset: 2 };
    let promoted = ready(
        f.reread::<StreamError>(w, Want { cursor, limit: ALL }, || Ok(None))
            .expect("reread"),
    );
    assert_eq!(promoted.state, ReadState::Lead);
    assert!(promoted.gen > g1);
    assert_eq!(f.readers_waiting(), 0);
    assert_eq!(f.stream_bytes(), 0);
    assert_eq!(f.stream_resets(), 1);
    assert_eq!(
        f.append(b"k", g1, Bytes::from_static(b"x"), 100, ALL),
        Err(StreamError::NoLease(g1))
    );
    assert!(!f.abort(b"k", Some(g1)), "a stale gen does not abort");
    assert_eq!(
        f.append(b"k", promoted.gen, Bytes::from_static(b"xyz"), 3, ALL),
        Ok(3)
    );
    assert_eq!(
        f.append(b"k", promoted.gen, Bytes::from_static(b"!"), 3, ALL),
        Err(StreamError::TooBig(3))
    );
    // Another attempt's cursor gets reset with the current bytes from 0.
    let r = ready(read(&f, 3, Cursor::At { gen: g1, offset: 1 }));
    assert_eq!(
        (r.state, r.offset, r.data.as_ref()),
        (ReadState::Reset, 3, &b"xyz"[..])
    );
}

#[tokio::test]
async fn a_reader_gone_after_promotion_hands_the_lease_to_the_next() {
    let f = Flights::new(Duration::from_secs(60));
    let g = ready(read(&f, 1, Cursor::Start)).gen;
    let ReadStep::Pending(first) = read(&f, 2, Cursor::Start) else {
        panic!()
    };
    let mut second = follow(&f, 3);
    f.abandon_all(1);
    assert_eq!(f.promotions(), 1);
    drop(first);
    assert_eq!(second.wait().await, Outcome::Lead);
    assert_eq!(f.promotions(), 1);
    assert!(f.current(b"k").is_some_and(|l| l.gen > g));
}

#[test]
fn stream_slices_across_chunks_and_checks_prefixes() {
    let mut s = stream::Stream::default();
    for c in ["ab", "", "cde", "f"] {
        s_push(&mut s, c);
    }
    assert_eq!(s.len(), 6);
    assert!(s.is_prefix_of(b"abcdefg"));
    assert!(!s.is_prefix_of(b"abXdef"));
    assert!(!s.is_prefix_of(b"abc"));
}

fn s_push(s: &mut stream::Stream, c: &str) {
    s.push_for_tests(Bytes::from(c.to_string()));
}

const READ_ONLY: Ask = Ask { may_lead: false };

#[tokio::test]
async fn promotion_passes_over_read_only_followers() {
    let f = Flights::new(Duration::from_secs(60));
    assert!(matches!(
        f.begin_as::<()>(&key(), 9, READ_ONLY, || Found::Unservable(None)),
        Begin::Miss
    ));
    let _ = f.begin::<()>(&key(), 1, || None);
    let Begin::Follow(mut ro) = f.begin_as::<()>(&key(), 2, READ_ONLY, || Found::Unservable(None))
    else {
        panic!("a read-only caller waits on a running flight")
    };
    let mut rw = follow(&f, 3);
    assert!(f.abort(b"k", None));
    assert_eq!(
        rw.wait().await,
        Outcome::Lead,
        "the caller that may lead is promoted"
    );
    drop(rw);
    assert!(f.abort(b"k", None));
    assert_eq!(
        ro.wait().await,
        Outcome::NoLease,
        "no one left to fill the key"
    );
}
