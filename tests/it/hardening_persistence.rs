//! Persistence faults through the real binary, each named after what broke: a full disk
//! under `everysec` (a small tmpfs), a log file and data directory that refuse writes
//! (`chattr +i`), a background rewrite into a directory that refuses new files, and two
//! servers on one `--dir`.
//!
//! The server's own log lines are the events the tests wait on ("AOF write error looks
//! solved", "wrote base"): no sleeps. Mounting and `chattr` need root; where they are not
//! permitted the test says why and passes without checking anything.

use redis::{Connection, Value};
use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a test waits for the server to do something by itself (a retry backs off to a
/// few seconds at most here).
const PATIENCE: Duration = Duration::from_secs(60);

/// The real binary with its stderr read line by line.
struct Server {
    child: Child,
    addr: Option<SocketAddr>,
    lines: Receiver<String>,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn spawn(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_llmcached"))
            .args(["--port", "0", "--bind", "127.0.0.1"])
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn llmcached");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, lines) = mpsc::channel();
        let log = Arc::new(Mutex::new(Vec::new()));
        let log2 = log.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                log2.lock().unwrap().push(line.clone());
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Server {
            child,
            addr: None,
            lines,
            log,
        }
    }

    /// Starts the binary and waits until it is ready.
    fn start(args: &[&str]) -> Server {
        let mut s = Server::spawn(args);
        let line = s.wait_log("listening on ");
        let addr = line
            .split("listening on ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|a| a.parse().ok());
        s.addr = addr;
        s.wait_log("Ready to accept connections");
        s
    }

    /// Waits for a log line containing `needle` (lines before it are passed over) and
    /// returns it; fails if the server exits or stays silent about it for [`PATIENCE`].
    fn wait_log(&self, needle: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(e) => panic!(
                    "no log line with {needle:?} ({e:?}); log:\n{}",
                    self.log.lock().unwrap().join("\n")
                ),
            }
        }
    }

    /// Reads the log to its end (the process exits) and returns the exit status; fails if
    /// the server becomes ready instead.
    fn until_exit(mut self) -> (ExitStatus, String) {
        while let Ok(line) = self.lines.recv_timeout(PATIENCE) {
            assert!(
                !line.contains("Ready to accept connections"),
                "the server started: {}",
                self.log.lock().unwrap().join("\n")
            );
        }
        let status = self.child.wait().expect("wait");
        let log = self.log.lock().unwrap().join("\n");
        (status, log)
    }

    fn conn(&self) -> Connection {
        let addr = self.addr.expect("a started server");
        redis::Client::open(format!("redis://{addr}/"))
            .expect("client")
            .get_connection()
            .expect("connect")
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// kill -9
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then the exit status.
    fn terminate(mut self) -> ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().expect("wait")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn line(code: &str, detail: Option<&str>) -> String {
    match detail {
        Some(d) => format!("{code} {d}"),
        None => code.to_owned(),
    }
}

/// A reply as text; an error reply as `Err` with its whole line ("MISCONF Errors ...").
fn run(c: &mut Connection, args: &[&str]) -> Result<String, String> {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    let text = |v: Value| match v {
        Value::Nil => "(nil)".to_owned(),
        Value::Int(n) => n.to_string(),
        Value::BulkString(b) => String::from_utf8_lossy(&b).into_owned(),
        Value::SimpleString(s) => s,
        Value::Okay => "OK".to_owned(),
        other => format!("{other:?}"),
    };
    match cmd.query::<Value>(c) {
        Ok(Value::ServerError(e)) => Err(line(e.code(), e.details())),
        Ok(v) => Ok(text(v)),
        Err(e) if e.code().is_some() => Err(line(e.code().unwrap_or(""), e.detail())),
        Err(e) => panic!("transport error: {e}"),
    }
}

fn info(c: &mut Connection) -> String {
    run(c, &["INFO", "persistence"]).expect("INFO")
}

fn aof_args<'a>(dir: &'a str, appendfsync: &'a str) -> [&'a str; 8] {
    [
        "--dir",
        dir,
        "--appendonly",
        "yes",
        "--appendfsync",
        appendfsync,
        "--save",
        "",
    ]
}

/// A tmpfs of a few MB, unmounted on drop.
struct Tmpfs {
    path: PathBuf,
}

impl Tmpfs {
    fn mount(path: PathBuf, size: &str) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(&path).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
        }
        Ok(Tmpfs { path })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// `chattr +i` on each path (a directory then refuses new, renamed and removed entries; a
/// file refuses writes, even through descriptors already open); undone on drop.
struct Immutable {
    paths: Vec<PathBuf>,
}

impl Immutable {
    fn set(paths: &[&Path]) -> Result<Immutable, String> {
        let mut done = Immutable { paths: Vec::new() };
        for p in paths {
            let out = Command::new("chattr")
                .arg("+i")
                .arg(p)
                .output()
                .map_err(|e| format!("cannot run chattr: {e}"))?;
            if !out.status.success() {
                return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
            }
            done.paths.push(p.to_path_buf());
        }
        Ok(done)
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        for p in self.paths.iter().rev() {
            let _ = Command::new("chattr").arg("-i").arg(p).status();
        }
    }
}

fn live_segment(dir: &Path) -> PathBuf {
    let mut logs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("log."))
        .collect();
    logs.sort();
    logs.pop().expect("a live log segment")
}

/// Writes fresh keys until the server refuses one; returns the refusal. Every write it
/// acknowledged is added to `acked`.
fn write_until_refused(c: &mut Connection, acked: &mut Vec<(String, String)>) -> String {
    for i in 0..200_000 {
        let (k, v) = (
            format!("during:{i}"),
            format!("value-{i}-{}", "x".repeat(100)),
        );
        match run(c, &["SET", &k, &v]) {
            Ok(r) => {
                assert_eq!(r, "OK");
                acked.push((k, v));
            }
            Err(e) => return e,
        }
    }
    panic!("200,000 writes and none refused");
}

fn assert_all_there(c: &mut Connection, acked: &[(String, String)]) {
    for (k, v) in acked {
        assert_eq!(
            run(c, &["GET", k]).as_deref(),
            Ok(v.as_str()),
            "{k} was acknowledged and is lost"
        );
    }
}

/// The fault as found: on a full disk under `everysec`, writes were acknowledged, then
/// refused with -MISCONF; after space was freed they stayed refused, and after a restart
/// acknowledged writes were missing. Redis lost none and resumed by itself.
#[test]
fn disk_full_under_everysec_loses_no_acknowledged_write_and_recovers_by_itself() {
    let tmp = tempfile::tempdir().unwrap();
    let mnt = match Tmpfs::mount(tmp.path().join("mnt"), "4m") {
        Ok(m) => m,
        Err(e) => {
            println!("skipped: cannot mount a small tmpfs to fill up ({e})");
            return;
        }
    };
    let data = mnt.path.join("data");
    let d = data.to_str().unwrap().to_owned();
    let args = aof_args(&d, "everysec");
    let s = Server::start(&args);
    let mut c = s.conn();
    let mut acked = Vec::new();
    for i in 0..500 {
        let (k, v) = (format!("before:{i}"), format!("v{i}"));
        assert_eq!(run(&mut c, &["SET", &k, &v]).as_deref(), Ok("OK"));
        acked.push((k, v));
    }

    // Fill the disk to the last byte.
    let filler = mnt.path.join("filler");
    let mut f = std::fs::File::create(&filler).unwrap();
    let chunk = vec![7u8; 64 << 10];
    while f.write_all(&chunk).is_ok() {}
    for n in [4096, 512, 64, 1] {
        while f.write_all(&chunk[..n]).is_ok() {}
    }
    drop(f);

    let refused = write_until_refused(&mut c, &mut acked);
    assert!(
        refused.starts_with("MISCONF Errors writing to the AOF file: ")
            && refused.contains("No space left on device"),
        "{refused}"
    );
    assert!(info(&mut c).contains("aof_last_write_status:err"));
    assert_eq!(
        run(&mut c, &["GET", "before:0"]).as_deref(),
        Ok("v0"),
        "reads go on"
    );

    std::fs::remove_file(&filler).unwrap();
    s.wait_log("AOF write error looks solved");
    assert_eq!(run(&mut c, &["SET", "after", "1"]).as_deref(), Ok("OK"));
    acked.push(("after".into(), "1".into()));
    assert!(info(&mut c).contains("aof_last_write_status:ok"));
    assert_all_there(&mut c, &acked);

    drop(c);
    s.kill();
    let s = Server::start(&args);
    let mut c = s.conn();
    assert_all_there(&mut c, &acked);
    drop(c);
    assert!(s.terminate().success());
}

/// Writes that fail on a log file that refuses them (`chattr +i`, `EPERM`) get Redis's
/// MISCONF text without any path; SAVE's failure names none either; once the files accept
/// writes again the server repairs the log from memory by itself.
#[test]
fn persistence_error_replies_do_not_name_the_data_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let d = data.to_str().unwrap().to_owned();
    let args = aof_args(&d, "everysec");
    let s = Server::start(&args);
    let mut c = s.conn();
    assert_eq!(run(&mut c, &["SET", "k", "v"]).as_deref(), Ok("OK"));
    let segment = live_segment(&data);
    let frozen = match Immutable::set(&[&segment, &data]) {
        Ok(f) => f,
        Err(e) => {
            println!("skipped: cannot make the data directory immutable ({e})");
            return;
        }
    };
    let mut acked = vec![("k".to_owned(), "v".to_owned())];
    let refused = write_until_refused(&mut c, &mut acked);
    assert_eq!(
        refused,
        "MISCONF Errors writing to the AOF file: Operation not permitted"
    );
    // Redis answers a failed SAVE with a bare "-ERR" (a retry already running: "already in
    // progress").
    let save = run(&mut c, &["SAVE"]).unwrap_err();
    assert!(
        save == "ERR" || save == "ERR Background save already in progress",
        "{save}"
    );
    for reply in [&refused, &save] {
        assert!(!reply.contains('/') && !reply.contains(&d), "{reply}");
    }
    drop(frozen);
    s.wait_log("AOF write error looks solved");
    assert_eq!(run(&mut c, &["SET", "after", "1"]).as_deref(), Ok("OK"));
    drop(c);
    s.kill();
    let s = Server::start(&args);
    let mut c = s.conn();
    assert_all_there(&mut c, &acked);
}

/// The fault as found: with the data directory unwritable, BGREWRITEAOF failed and every
/// later write got -MISCONF, even once the directory was writable again, though the live log
/// was healthy. Now the failure is logged and counted, writes go on (fsynced: `always`), and
/// the rewrite is retried until it succeeds.
#[test]
fn a_failed_background_rewrite_does_not_stop_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let d = data.to_str().unwrap().to_owned();
    let args = aof_args(&d, "always");
    let s = Server::start(&args);
    let mut c = s.conn();
    assert_eq!(run(&mut c, &["SET", "a", "1"]).as_deref(), Ok("OK"));
    let frozen = match Immutable::set(&[&data]) {
        Ok(f) => f,
        Err(e) => {
            println!("skipped: cannot make the data directory immutable ({e})");
            return;
        }
    };
    assert_eq!(
        run(&mut c, &["BGREWRITEAOF"]).as_deref(),
        Ok("Background append only file rewriting started")
    );
    s.wait_log("rewrite failed");
    let st = info(&mut c);
    for field in [
        "aof_last_bgrewrite_status:err",
        "rdb_last_bgsave_status:err",
        "aof_last_write_status:ok",
    ] {
        assert!(st.contains(field), "{field} missing in {st}");
    }
    assert!(!st.contains("aof_rewrites_consecutive_failures:0"), "{st}");
    assert_eq!(run(&mut c, &["SET", "b", "2"]).as_deref(), Ok("OK"));
    assert_eq!(run(&mut c, &["INCR", "n"]).as_deref(), Ok("1"));

    drop(frozen);
    s.wait_log("persistence: wrote base");
    let st = info(&mut c);
    assert!(st.contains("aof_last_bgrewrite_status:ok"), "{st}");
    assert!(st.contains("aof_rewrites_consecutive_failures:0"), "{st}");
    assert!(!data.join("base.tmp").exists());
    drop(c);
    s.kill();
    let s = Server::start(&args);
    let mut c = s.conn();
    for (k, v) in [("a", "1"), ("b", "2"), ("n", "1")] {
        assert_eq!(run(&mut c, &["GET", k]).as_deref(), Ok(v));
    }
}

/// The fault as found: two servers on one `--dir` both started, and the second destroyed
/// the first one's data at the next restart. The second now refuses to start, naming the
/// directory and the holder's pid; once the holder is killed (-9), a new one starts.
#[test]
fn two_servers_on_one_dir_the_second_refuses_to_start() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let d = data.to_str().unwrap().to_owned();
    let args = aof_args(&d, "always");
    let first = Server::start(&args);
    let mut c = first.conn();
    assert_eq!(run(&mut c, &["SET", "k", "v"]).as_deref(), Ok("OK"));

    let (status, log) = Server::spawn(&args).until_exit();
    assert!(!status.success(), "{status}: {log}");
    assert!(log.contains(&d), "the directory is not named: {log}");
    assert!(
        log.contains(&format!("pid {}", first.pid())),
        "the holder's pid is not named: {log}"
    );
    assert_eq!(run(&mut c, &["GET", "k"]).as_deref(), Ok("v"));

    drop(c);
    first.kill();
    let third = Server::start(&args);
    let mut c = third.conn();
    assert_eq!(run(&mut c, &["GET", "k"]).as_deref(), Ok("v"));
}
