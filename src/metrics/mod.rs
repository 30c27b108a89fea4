//! What operators read: INFO sections, CLIENT LIST lines and the Prometheus endpoint.

pub mod exposition;
pub mod http;
pub mod info;
pub mod llm;
pub mod llm_families;
pub mod redis_families;
pub mod tier_families;
pub mod watch;

use crate::state::Shared;
use std::fmt::Write as _;

/// The `# Persistence` INFO section.
pub fn persistence_info(shared: &Shared, out: &mut String) {
    let mut line = |s: String| {
        out.push_str(&s);
        out.push_str("\r\n");
    };
    line("# Persistence".into());
    line(format!("loading:{}", u8::from(shared.is_loading())));
    line("async_loading:0".into());
    let status = shared.persistence_status();
    for (k, v) in status {
        let mut s = String::new();
        let _ = write!(s, "{k}:{v}");
        line(s);
    }
}

/// One scrape of `/metrics`: the redis_exporter families, then the `llmcached_*` ones.
pub fn scrape(shared: &Shared, openmetrics: bool) -> String {
    let mut e = exposition::Exposition::new(openmetrics);
    redis_families::write(shared, &mut e);
    llm_families::write(shared, &mut e);
    tier_families::write(shared, &mut e);
    e.finish()
}
