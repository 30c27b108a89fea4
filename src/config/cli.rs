//! The command line, built from the settings table: `llmcached [CONFIG_FILE] [--<setting> <value>
//! ...]`, `--help` and `--version`.
//!
//! clap only splits the command line here; values stay raw bytes and are applied through their
//! rows by [`super::Config::from_args`], which also reads the environment variables (so tests can
//! give their own). `--help` shows each flag's default and variable as the README's table does.

use super::SETTINGS;
use clap::{Arg, ArgAction, Command};
use std::ffi::OsString;
use std::path::PathBuf;

/// What the command line holds, before validation.
pub(super) struct Given {
    pub config_file: Option<PathBuf>,
    /// `(setting name, raw value)` for each flag given.
    pub flags: Vec<(&'static str, Vec<u8>)>,
}

const CONFIG_FILE: &str = "CONFIG_FILE";

/// The clap command: one `--<name>` per row that can be given at start.
pub(super) fn command() -> Command {
    let mut cmd = Command::new("llmcached")
        .version(env!("CARGO_PKG_VERSION"))
        .about("A Redis-protocol cache server for LLM responses")
        .long_about(
            "llmcached speaks the Redis protocol (RESP2 and RESP3), so any Redis client is an LLM \
cache client. Besides the usual string, key and server commands it offers LLMGET / LLMSETNX / \
LLMABORT (single-flight: one caller fills a missing answer while the others wait inside the \
server), LLMKEY (canonical cache keys built from the request body) and LLMSTATS.",
        )
        .arg(
            Arg::new(CONFIG_FILE)
                .value_name(CONFIG_FILE)
                .value_parser(clap::builder::OsStringValueParser::new())
                .help("A redis.conf-style configuration file; environment variables and flags override it."),
        );
    for s in SETTINGS.iter().filter(|s| s.flag) {
        cmd = cmd.arg(
            Arg::new(s.name)
                .long(s.name)
                .value_name(s.value_name)
                .action(ArgAction::Set)
                .value_parser(clap::builder::OsStringValueParser::new())
                // `--save ""` and `--bind -::1` are values, not flags.
                .allow_hyphen_values(true)
                .help(format!(
                    "{}{}\n[default: {}] [env: {}]",
                    s.help,
                    if s.mutable {
                        " CONFIG SET can change it."
                    } else {
                        ""
                    },
                    shown_default(s.default),
                    s.env
                )),
        );
    }
    cmd
}

/// A default as `--help` and the README show it: quoted when empty or with spaces.
pub(super) fn shown_default(d: &str) -> String {
    if d.is_empty() || d.contains(' ') {
        format!("\"{d}\"")
    } else {
        d.to_string()
    }
}

/// Splits the command line. `--help` and `--version` come back as errors, which print them.
pub(super) fn parse<I, T>(args: I) -> Result<Given, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let matches = command().try_get_matches_from(args)?;
    let raw = |id: &str| {
        matches
            .get_one::<OsString>(id)
            .map(|v| v.as_encoded_bytes().to_vec())
    };
    let flags = SETTINGS
        .iter()
        .filter(|s| s.flag)
        .filter_map(|s| raw(s.name).map(|v| (s.name, v)))
        .collect();
    Ok(Given {
        config_file: matches.get_one::<OsString>(CONFIG_FILE).map(PathBuf::from),
        flags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(flag, env, default, help)` for each flag, read back from the rendered `--help`.
    fn help_rows() -> Vec<[String; 4]> {
        let help = command().render_long_help().to_string();
        let mut rows = Vec::new();
        let mut lines = help.lines().map(str::trim).peekable();
        while let Some(line) = lines.next() {
            let Some(flag) = line.strip_prefix("--") else {
                continue;
            };
            let flag = flag.split_whitespace().next().unwrap_or("");
            if flag == "help" || flag == "version" {
                continue;
            }
            let text = lines.next().unwrap_or("").to_string();
            let tail = lines.next().unwrap_or("");
            let (default, env) = tail
                .strip_prefix("[default: ")
                .and_then(|t| t.strip_suffix(']'))
                .and_then(|t| t.split_once("] [env: "))
                .unwrap_or_else(|| panic!("--{flag}: no default and env in {tail:?}"));
            rows.push([format!("--{flag}"), env.into(), default.into(), text]);
        }
        rows
    }

    /// `(flag, env, default, meaning)` for each row of the README's flag table, backticks removed.
    fn readme_rows() -> Vec<[String; 4]> {
        let readme = include_str!("../../README.md");
        let section = readme
            .split("\n## Flags\n")
            .nth(1)
            .and_then(|s| s.split("\n## ").next())
            .expect("README has a Flags section");
        section
            .lines()
            .filter(|l| l.starts_with("| `--"))
            .map(|l| {
                let cells: Vec<String> = l
                    .trim_matches('|')
                    .split(" | ")
                    .map(|c| c.trim().replace('`', ""))
                    .collect();
                // A row with another shape fails the comparison (showing the wanted rows).
                cells
                    .try_into()
                    .unwrap_or_else(|_| [l.to_string(), "".into(), "".into(), "".into()])
            })
            .collect()
    }

    #[test]
    fn readme_flag_table_equals_help() {
        let help = help_rows();
        assert_eq!(
            help.len(),
            SETTINGS.iter().filter(|s| s.flag).count(),
            "every flag is in --help"
        );
        let readme = readme_rows();
        let want: String = help
            .iter()
            .map(|[flag, env, default, text]| {
                format!("| `{flag}` | `{env}` | `{default}` | {text} |\n")
            })
            .collect();
        for (i, (h, r)) in help.iter().zip(&readme).enumerate() {
            assert_eq!(
                h, r,
                "README flag row {i} differs from --help; the rows should be:\n{want}"
            );
        }
        assert_eq!(
            help.len(),
            readme.len(),
            "README lists other flags than --help; the rows should be:\n{want}"
        );
    }

    #[test]
    fn help_shows_usage_with_the_config_file_first() {
        let help = command().render_long_help().to_string();
        assert!(
            help.contains("Usage: llmcached [OPTIONS] [CONFIG_FILE]"),
            "{help}"
        );
        assert!(help.contains("--port <PORT>"), "{help}");
    }

    #[test]
    fn flags_are_split_without_validation() {
        let g = parse(["llmcached", "x.conf", "--save", "", "--bind", "-::1"]).unwrap();
        assert_eq!(g.config_file, Some(PathBuf::from("x.conf")));
        assert_eq!(
            g.flags,
            [("bind", b"-::1".to_vec()), ("save", Vec::new())],
            "in table order"
        );
        assert!(parse(["llmcached", "--port", "1", "--port", "2"]).is_err());
    }
}
