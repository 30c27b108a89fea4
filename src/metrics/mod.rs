//! What operators read: INFO sections and CLIENT LIST lines.

pub mod info;
pub mod llm;

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
