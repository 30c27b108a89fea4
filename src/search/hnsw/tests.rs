//! The graph on its own, over vectors held by the test: recall against brute force on
//! clustered data, removals (the entry node too) and reused ids, the visited epochs, and the
//! byte figures the store's budget counts.

use super::visited::Visited;
use super::*;
use crate::search::distance::{distance, prepare};
use crate::search::schema::Metric;

/// Clustered unit vectors, as the benchmark makes them: `centres` centres plus noise.
fn clustered(n: usize, dim: usize, centres: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut s = seed | 1;
    let mut rnd = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        // Roughly normal: the sum of four uniforms, centred.
        (0..4)
            .map(|_| (s >> 11) as f32 / (1u64 << 53) as f32)
            .sum::<f32>()
            - 2.0
    };
    let c: Vec<Vec<f32>> = (0..centres)
        .map(|_| {
            let mut v: Vec<f32> = (0..dim).map(|_| rnd()).collect();
            prepare(Metric::Cosine, &mut v);
            v
        })
        .collect();
    let noise = 0.3 / (dim as f32).sqrt() * 1.7;
    (0..n)
        .map(|i| {
            let mut v: Vec<f32> = c[i % centres].iter().map(|x| x + rnd() * noise).collect();
            prepare(Metric::Cosine, &mut v);
            v
        })
        .collect()
}

struct Set {
    v: Vec<Vec<f32>>,
    live: Vec<bool>,
}

impl Set {
    fn pair(&self, a: u32, b: u32) -> f32 {
        if self.live[a as usize] && self.live[b as usize] {
            distance(Metric::Cosine, &self.v[a as usize], &self.v[b as usize])
        } else {
            f32::INFINITY
        }
    }

    fn to(&self, q: &[f32], b: u32) -> f32 {
        if self.live[b as usize] {
            distance(Metric::Cosine, q, &self.v[b as usize])
        } else {
            f32::INFINITY
        }
    }

    fn exact(&self, q: &[f32], k: usize) -> Vec<u32> {
        let mut all: Vec<Near> = (0..self.v.len() as u32)
            .filter(|&i| self.live[i as usize])
            .map(|i| Near(self.to(q, i), i))
            .collect();
        all.sort_unstable();
        all.into_iter().take(k).map(|n| n.1).collect()
    }
}

fn build(set: &Set, m: usize, efc: usize) -> Graph {
    let mut g = Graph::new(m, efc, None);
    for i in 0..set.v.len() as u32 {
        g.insert(i, &|a, b| set.pair(a, b), &|_| {});
    }
    g
}

/// Mean recall@k of `queries` searches with `ef` candidates.
fn recall(g: &Graph, set: &Set, queries: &[Vec<f32>], k: usize, ef: usize) -> f64 {
    let mut hits = 0;
    for q in queries {
        let want = set.exact(q, k);
        let got = g.search(&|b| set.to(q, b), &|_| {}, ef, None);
        hits += got.iter().take(k).filter(|n| want.contains(&n.1)).count();
    }
    hits as f64 / (k * queries.len()) as f64
}

#[test]
fn recall_at_the_default_ef_is_high_on_clustered_data() {
    let mut data = clustered(3050, 32, 100, 7);
    let queries = data.split_off(3000);
    let set = Set {
        live: vec![true; data.len()],
        v: data,
    };
    let g = build(&set, 16, 200);
    let r = recall(&g, &set, &queries, 10, g.ef_default());
    assert!(r >= 0.95, "recall@10 {r}");
}

#[test]
fn removed_ids_are_never_returned_and_the_rest_stay_reachable() {
    let data = clustered(1500, 16, 30, 11);
    let mut set = Set {
        live: vec![true; data.len()],
        v: data,
    };
    let mut g = build(&set, 8, 64);
    // Remove every other id, and the entry node whatever it is.
    let entry = g.entry.expect("a built graph has an entry");
    let gone: Vec<u32> = (0..1500u32).filter(|i| i % 2 == 0 || *i == entry).collect();
    for &i in &gone {
        set.live[i as usize] = false;
        g.remove(i, &|a, b| set.pair(a, b));
    }
    assert_ne!(g.entry, Some(entry));
    for &i in &gone {
        assert_eq!(g.level_of(i), 0);
        assert!(g.links(i, 0).is_empty());
    }
    // No rebuilt list of a neighbour holds a removed id, and every live node is found by a
    // search for its own vector.
    let queries: Vec<Vec<f32>> = (1..1500).step_by(2).map(|i| set.v[i].clone()).collect();
    for (j, q) in queries.iter().enumerate() {
        let got = g.search(&|b| set.to(q, b), &|_| {}, 32, None);
        assert!(got.iter().all(|n| set.live[n.1 as usize]));
        let me = (2 * j + 1) as u32;
        if me != entry {
            assert_eq!(got.first().map(|n| n.1), Some(me), "node {me} unreachable");
        }
    }
    // The ids are reused: put new vectors in their place and find them.
    for &i in &gone {
        set.v[i as usize] = set.v[(i as usize + 1) % 1500].iter().map(|x| -x).collect();
        set.live[i as usize] = true;
        g.insert(i, &|a, b| set.pair(a, b), &|_| {});
    }
    let r = recall(&g, &set, &queries[..100], 10, 64);
    assert!(r >= 0.95, "recall@10 after reuse {r}");
}

#[test]
fn reinserting_a_present_id_replaces_it() {
    let data = clustered(300, 8, 10, 3);
    let mut set = Set {
        live: vec![true; data.len()],
        v: data,
    };
    let mut g = build(&set, 8, 32);
    set.v[5] = set.v[200].clone();
    g.insert(5, &|a, b| set.pair(a, b), &|_| {});
    let q = set.v[200].clone();
    let got = g.search(&|b| set.to(&q, b), &|_| {}, 16, None);
    let top: Vec<u32> = got.iter().take(2).map(|n| n.1).collect();
    assert!(top.contains(&5) && top.contains(&200), "{top:?}");
}

#[test]
fn a_filtered_search_returns_only_accepted_ids_nearest_first() {
    let data = clustered(2000, 16, 40, 5);
    let set = Set {
        live: vec![true; data.len()],
        v: data,
    };
    let g = build(&set, 16, 100);
    let q = set.v[17].clone();
    let accept = |id: u32| id % 7 == 3;
    let got = g.search(&|b| set.to(&q, b), &|_| {}, 20, Some(&accept));
    assert_eq!(got.len(), 20);
    assert!(got.iter().all(|n| accept(n.1)));
    assert!(got.windows(2).all(|w| w[0] <= w[1]));
    let mut want: Vec<Near> = (0..2000u32)
        .filter(|&i| accept(i))
        .map(|i| Near(set.to(&q, i), i))
        .collect();
    want.sort_unstable();
    let hits = got
        .iter()
        .take(10)
        .filter(|n| want[..10].contains(n))
        .count();
    assert!(hits >= 9, "{hits} of the 10 nearest accepted");
}

#[test]
fn a_range_walk_finds_what_brute_force_finds() {
    let data = clustered(3000, 16, 30, 13);
    let set = Set {
        live: vec![true; data.len()],
        v: data,
    };
    let g = build(&set, 16, 100);
    let (mut found, mut want) = (0, 0);
    for i in (0..3000).step_by(97) {
        let q = set.v[i].clone();
        let radius = 0.2;
        let got = g.range(&|b| set.to(&q, b), &|_| {}, radius, 16);
        assert!(got.iter().all(|n| n.0 <= radius));
        assert!(got.windows(2).all(|w| w[0] <= w[1]));
        let exact: Vec<u32> = (0..3000u32).filter(|&j| set.to(&q, j) <= radius).collect();
        // More than the 16 candidates of a plain search: the walk went on.
        want += exact.len();
        found += got.iter().filter(|n| exact.contains(&n.1)).count();
    }
    assert!(
        want > 31 * 16,
        "the radius holds too few to test the walk: {want}"
    );
    assert!(found * 100 >= want * 98, "{found} of {want} in range found");
}

#[test]
fn visited_epochs_wrap_without_stale_marks() {
    let mut v = Visited::default();
    v.start(4);
    assert!(v.insert(1));
    assert!(!v.insert(1));
    v.epoch = u32::MAX;
    v.start(4);
    assert_eq!(v.epoch, 1);
    assert!(
        v.insert(1),
        "a mark from an old epoch must not count as seen"
    );
    assert!(!v.insert(9), "an id outside the graph counts as seen");
}

#[test]
fn bytes_per_node_matches_what_a_built_graph_holds() {
    let data = clustered(4000, 8, 20, 9);
    let set = Set {
        live: vec![true; data.len()],
        v: data,
    };
    let g = build(&set, 16, 32);
    let per = g.bytes() as f64 / 4000.0;
    let est = bytes_per_node(16) as f64;
    // The arrays grow by a quarter at a time.
    assert!(
        per >= est * 0.75 && per <= est * 1.3,
        "{per} held, {est} counted"
    );
}

/// Build and search rates on the benchmark's shape (run with `--ignored --nocapture` on a
/// release build).
#[test]
#[ignore]
fn rates_on_clustered_data() {
    let dim: usize = std::env::var("DIM")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(384);
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20000);
    let mut data = clustered(n + 500, dim, 1000, 7);
    let queries = data.split_off(n);
    let set = Set {
        live: vec![true; n],
        v: data,
    };
    let t = std::time::Instant::now();
    let calls = std::cell::Cell::new(0u64);
    let mut g = Graph::new(16, 200, None);
    for i in 0..n as u32 {
        g.insert(
            i,
            &|a, b| {
                calls.set(calls.get() + 1);
                set.pair(a, b)
            },
            &|_| {},
        );
    }
    println!(
        "build {:.0} docs/s, {} distances per insert",
        n as f64 / t.elapsed().as_secs_f64(),
        calls.get() / n as u64
    );
    for ef in [10, 16, 24, 32, 64] {
        let t = std::time::Instant::now();
        let r = recall(&g, &set, &queries, 10, ef);
        println!(
            "ef {ef}: recall@10 {r:.3} ({:?} per query incl. brute force)",
            t.elapsed() / 500
        );
    }
}
