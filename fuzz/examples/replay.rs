//! Runs one harness over files or directories of inputs, without libFuzzer, on any toolchain:
//! `cargo run --manifest-path fuzz/Cargo.toml --example replay -- <target> <path>...`.
//! A failing input panics with the harness's message; the exit status is then non-zero.

use std::path::{Path, PathBuf};

fn inputs(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            inputs(&e, out)?;
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let target = args.next().unwrap_or_default();
    let run: fn(&[u8]) = match target.as_str() {
        "parser" => llmcached_fuzz::parser::run,
        "dispatch" => llmcached_fuzz::dispatch::run,
        "keying" => llmcached_fuzz::keying::run,
        "recovery" => llmcached_fuzz::recovery::run,
        other => {
            eprintln!("unknown target {other:?}: parser, dispatch, keying or recovery");
            std::process::exit(2);
        }
    };
    let mut files = Vec::new();
    for a in args {
        inputs(Path::new(&a), &mut files)?;
    }
    for f in &files {
        eprintln!("{}", f.display());
        run(&std::fs::read(f)?);
    }
    eprintln!("{} inputs ran", files.len());
    Ok(())
}
