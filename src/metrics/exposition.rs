//! The Prometheus text exposition formats, written by hand: text format 0.0.4 (the default;
//! what `promtool check metrics` accepts) and OpenMetrics 1.0.0 (when the scraper's `Accept`
//! asks for it).
//!
//! The two differ only where OpenMetrics is stricter: a counter family is named without its
//! `_total` suffix in `# TYPE` / `# HELP`, a counter whose name has no `_total` is typed
//! `unknown` (redis_exporter's names are kept as they are), and the text ends with `# EOF`.

use std::fmt::Write as _;

pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
    Summary,
}

/// A scrape being written: families, each a `# HELP`, a `# TYPE` and its samples.
pub struct Exposition {
    out: String,
    openmetrics: bool,
}

impl Exposition {
    pub fn new(openmetrics: bool) -> Exposition {
        Exposition {
            out: String::with_capacity(16 * 1024),
            openmetrics,
        }
    }

    /// Starts the family `name` (the sample name for counters and gauges, the base name for
    /// histograms and summaries).
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let (declared, kind_word) = match kind {
            Kind::Counter if self.openmetrics => match name.strip_suffix("_total") {
                Some(base) => (base, "counter"),
                None => (name, "unknown"),
            },
            Kind::Counter => (name, "counter"),
            Kind::Gauge => (name, "gauge"),
            Kind::Histogram => (name, "histogram"),
            Kind::Summary => (name, "summary"),
        };
        let _ = writeln!(self.out, "# HELP {declared} {}", escape_help(help));
        let _ = writeln!(self.out, "# TYPE {declared} {kind_word}");
    }

    /// One sample line: `name{labels} value`.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{k}=\"{}\"", escape_label(v));
            }
            self.out.push('}');
        }
        self.out.push(' ');
        self.out.push_str(&number(value));
        self.out.push('\n');
    }

    /// A whole one-sample family.
    pub fn single(&mut self, name: &str, kind: Kind, help: &str, value: f64) {
        self.family(name, kind, help);
        self.sample(name, &[], value);
    }

    /// A histogram's samples: `(upper bound, cumulative count)` per bucket (without `+Inf`,
    /// which is `count`), then `_sum` and `_count`.
    pub fn histogram(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        buckets: &[(f64, u64)],
        count: u64,
        sum: f64,
    ) {
        let bucket = format!("{name}_bucket");
        for (le, n) in buckets {
            let le = number(*le);
            let mut with_le: Vec<(&str, &str)> = labels.to_vec();
            with_le.push(("le", &le));
            self.sample(&bucket, &with_le, *n as f64);
        }
        let mut with_le: Vec<(&str, &str)> = labels.to_vec();
        with_le.push(("le", "+Inf"));
        self.sample(&bucket, &with_le, count as f64);
        self.sample(&format!("{name}_sum"), labels, sum);
        self.sample(&format!("{name}_count"), labels, count as f64);
    }

    pub fn finish(mut self) -> String {
        if self.openmetrics {
            self.out.push_str("# EOF\n");
        }
        self.out
    }
}

/// A sample value: integers without a fraction, `+Inf`, `-Inf`, `NaN` spelled as Prometheus
/// spells them.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn escape_label(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_openmetrics_differ_only_where_openmetrics_is_stricter() {
        for om in [false, true] {
            let mut e = Exposition::new(om);
            e.single("x_total", Kind::Counter, "X.", 3.0);
            e.single("y", Kind::Counter, "Y.", 1.0);
            e.family("h", Kind::Histogram, "H.");
            e.histogram("h", &[("k", "a\"b")], &[(0.5, 1)], 2, 1.25);
            let text = e.finish();
            if om {
                assert!(text.contains("# TYPE x counter\n"));
                assert!(text.contains("# TYPE y unknown\n"));
                assert!(text.ends_with("# EOF\n"));
            } else {
                assert!(text.contains("# TYPE x_total counter\n"));
                assert!(!text.contains("# EOF"));
            }
            assert!(text.contains("x_total 3\n"));
            assert!(text.contains("h_bucket{k=\"a\\\"b\",le=\"0.5\"} 1\n"));
            assert!(text.contains("h_bucket{k=\"a\\\"b\",le=\"+Inf\"} 2\n"));
            assert!(text.contains("h_sum{k=\"a\\\"b\"} 1.25\n"));
        }
    }
}
