//! CLIENT PAUSE / UNPAUSE: paused commands wait (they do not fail) and run once the pause
//! ends; WRITE holds writes (and EVAL) but lets reads through; CLIENT TRACKING ON is refused
//! with a clear error.

use crate::support::{cmd, start};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_pause_holds_writes_until_unpause_and_lets_reads_through() {
    let s = start().await;
    let mut admin = s.conn(false).await;
    let mut app = s.conn(false).await;
    assert_eq!(cmd(&mut admin, &["SET", "k", "before"]).await, "OK");
    assert_eq!(
        cmd(&mut admin, &["CLIENT", "PAUSE", "60000", "WRITE"]).await,
        "OK"
    );
    assert_eq!(cmd(&mut app, &["GET", "k"]).await, "before");
    let write = tokio::spawn(async move {
        let r = cmd(&mut app, &["SET", "k", "after"]).await;
        (r, app)
    });
    // Held, not failed: nothing has answered it while the pause lasts.
    let held = tokio::time::timeout(Duration::from_millis(200), async {
        loop {
            if write.is_finished() {
                break;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(held.is_err(), "the write ran during the pause");
    assert_eq!(cmd(&mut admin, &["GET", "k"]).await, "before");
    assert_eq!(cmd(&mut admin, &["CLIENT", "UNPAUSE"]).await, "OK");
    let (reply, _app) = write.await.unwrap();
    assert_eq!(reply, "OK");
    assert_eq!(cmd(&mut admin, &["GET", "k"]).await, "after");
}

#[tokio::test]
async fn pause_arguments_and_tracking_answer_clearly() {
    let s = start().await;
    let mut c = s.conn(false).await;
    for (args, want) in [
        (&["CLIENT", "PAUSE", "x"][..], "ERROR:ERR timeout is not an integer or out of range"),
        (&["CLIENT", "PAUSE", "-1"], "ERROR:ERR timeout is negative"),
        (&["CLIENT", "PAUSE", "10", "foo"], "ERROR:ERR CLIENT PAUSE mode must be WRITE or ALL"),
        (
            &["CLIENT", "PAUSE", "10", "WRITE", "x"],
            "ERROR:ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP.",
        ),
        (&["CLIENT", "UNPAUSE"], "OK"),
        (&["CLIENT", "NO-EVICT", "on"], "OK"),
        (&["CLIENT", "TRACKING", "off"], "OK"),
        (&["CLIENT", "TRACKING", "maybe"], "ERROR:ERR syntax error"),
    ] {
        assert_eq!(cmd(&mut c, args).await, want, "{args:?}");
    }
    assert!(cmd(&mut c, &["CLIENT", "TRACKING", "on"])
        .await
        .starts_with("ERROR:ERR CLIENT TRACKING is not supported"));
    // A pause that ran out holds nothing.
    assert_eq!(cmd(&mut c, &["CLIENT", "PAUSE", "0", "ALL"]).await, "OK");
    assert_eq!(cmd(&mut c, &["SET", "k", "v"]).await, "OK");
}
