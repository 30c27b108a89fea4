//! How to wake thousands of readers blocked on one streaming key at every append: one broadcast
//! (a `tokio::sync::watch` per flight, what the flight table uses) against one oneshot channel per
//! blocked reader (an allocation and a send each, re-registered after every wake-up).
//!
//! Each round is one append: every reader must wake once and be ready for the next. Reported: ns
//! per reader per append, median of 5 runs, on a 2-thread runtime like the server's tests.
//!
//! Usage: `cargo bench --bench stream_wake -- [--readers 1000,5000] [--appends 200]`

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{oneshot, watch, Notify};

/// Counts readers done with the current round; wakes the appender when all are.
struct Acks {
    n: AtomicUsize,
    all: Notify,
    want: usize,
}

impl Acks {
    fn ack(&self) {
        if self.n.fetch_add(1, Ordering::AcqRel) + 1 == self.want {
            self.all.notify_one();
        }
    }
    async fn wait_all(&self) {
        while self.n.load(Ordering::Acquire) < self.want {
            self.all.notified().await;
        }
        self.n.store(0, Ordering::Release);
    }
}

async fn broadcast(readers: usize, appends: usize) -> f64 {
    let (tx, rx) = watch::channel(0u64);
    let acks = Arc::new(Acks {
        n: AtomicUsize::new(0),
        all: Notify::new(),
        want: readers,
    });
    for _ in 0..readers {
        let (mut rx, acks) = (rx.clone(), acks.clone());
        tokio::spawn(async move {
            rx.borrow_and_update();
            acks.ack();
            while rx.changed().await.is_ok() {
                acks.ack();
            }
        });
    }
    acks.wait_all().await;
    let t = Instant::now();
    for i in 0..appends {
        tx.send_replace(i as u64);
        acks.wait_all().await;
    }
    t.elapsed().as_nanos() as f64 / (readers * appends) as f64
}

async fn per_reader(readers: usize, appends: usize) -> f64 {
    let registry: Arc<Mutex<Vec<oneshot::Sender<()>>>> = Arc::new(Mutex::new(Vec::new()));
    let acks = Arc::new(Acks {
        n: AtomicUsize::new(0),
        all: Notify::new(),
        want: readers,
    });
    for _ in 0..readers {
        let (registry, acks) = (registry.clone(), acks.clone());
        tokio::spawn(async move {
            loop {
                let (tx, rx) = oneshot::channel();
                if let Ok(mut r) = registry.lock() {
                    r.push(tx);
                }
                acks.ack();
                if rx.await.is_err() {
                    return;
                }
            }
        });
    }
    acks.wait_all().await;
    let t = Instant::now();
    for _ in 0..appends {
        let waiting = registry
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default();
        for w in waiting {
            let _ = w.send(());
        }
        acks.wait_all().await;
    }
    let ns = t.elapsed().as_nanos() as f64 / (readers * appends) as f64;
    if let Ok(mut r) = registry.lock() {
        r.clear();
    }
    ns
}

fn main() {
    let mut readers = vec![1000, 5000];
    let mut appends = 200;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--readers" => {
                readers = it
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .filter_map(|s| s.parse().ok())
                    .collect()
            }
            "--appends" => appends = it.next().and_then(|s| s.parse().ok()).unwrap_or(200),
            _ => {}
        }
    }
    println!(
        "{:>8} {:>16} {:>16} {:>7}",
        "readers", "broadcast ns", "oneshot ns", "ratio"
    );
    for &n in &readers {
        let (mut b, mut o) = (Vec::new(), Vec::new());
        for _ in 0..5 {
            // A fresh runtime per run, so no run inherits another's tasks.
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime");
            b.push(rt.block_on(broadcast(n, appends)));
            o.push(rt.block_on(per_reader(n, appends)));
            rt.shutdown_background();
        }
        b.sort_by(f64::total_cmp);
        o.sort_by(f64::total_cmp);
        let (b, o) = (b[2], o[2]);
        println!("{n:>8} {b:>16.0} {o:>16.0} {:>6.2}x", o / b);
    }
}
