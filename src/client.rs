//! Per-connection state, and the registry of connected clients (`CLIENT LIST`, `INFO clients`).

use crate::acl::UserCell;
use crate::cache::watch::Watching;
use crate::protocol::Protocol;
use bytes::Bytes;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What other connections may read about a client: shared through the registry.
#[derive(Debug)]
pub struct ClientInfo {
    pub id: u64,
    pub addr: SocketAddr,
    pub laddr: SocketAddr,
    pub created: Instant,
    /// Milliseconds since `created` of the last command.
    last_active_ms: AtomicU64,
    /// Index in the command table of the last command, `usize::MAX` for none.
    last_cmd: AtomicUsize,
    meta: Mutex<ClientMeta>,
    /// Set once the connection is to close (its ACL user was deleted or reloaded).
    killed: AtomicBool,
    kill_signal: tokio::sync::Notify,
    /// CLIENT UNBLOCK's hold on the blocking pop this client waits in, if any.
    unblock: UnblockCell,
}

/// How CLIENT UNBLOCK ends a blocked pop: answered as if it had timed out, or with
/// `-UNBLOCKED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unblocked {
    Timeout,
    Error,
}

/// Whether the client waits in a blocking pop (`armed`) and how it was asked to stop (`how`:
/// 0 not asked, 1 timeout, 2 error); `signal` wakes the wait.
#[derive(Default)]
struct UnblockCell {
    armed: AtomicBool,
    how: std::sync::atomic::AtomicU8,
    signal: tokio::sync::Notify,
}

impl std::fmt::Debug for UnblockCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UnblockCell")
    }
}

/// Held while a blocking pop waits: CLIENT UNBLOCK can reach the client until it drops.
pub struct UnblockArm(Arc<ClientInfo>);

impl Drop for UnblockArm {
    fn drop(&mut self) {
        self.0.unblock.armed.store(false, Ordering::Release);
    }
}

/// Names a client gave itself, and its protocol.
#[derive(Debug, Default, Clone)]
pub struct ClientMeta {
    pub name: String,
    pub lib_name: String,
    pub lib_ver: String,
    pub resp: i64,
    /// Commands queued in MULTI, -1 outside a transaction.
    pub multi: i64,
    /// The selected database (CLIENT LIST's `db=`).
    pub db: usize,
    /// True while the client is blocked in LLMGET.
    pub blocked: bool,
    /// The ACL user the connection is authenticated as (`default` until AUTH).
    pub user: String,
}

impl ClientInfo {
    pub fn new(id: u64, addr: SocketAddr, laddr: SocketAddr) -> Self {
        ClientInfo {
            id,
            addr,
            laddr,
            created: Instant::now(),
            last_active_ms: AtomicU64::new(0),
            last_cmd: AtomicUsize::new(usize::MAX),
            meta: Mutex::new(ClientMeta {
                resp: 2,
                multi: -1,
                db: 0,
                user: "default".into(),
                ..ClientMeta::default()
            }),
            killed: AtomicBool::new(false),
            kill_signal: tokio::sync::Notify::new(),
            unblock: UnblockCell::default(),
        }
    }

    /// Marks the client as waiting in a blocking pop, which CLIENT UNBLOCK may end, until the
    /// returned arm drops.
    pub fn arm_unblock(self: &Arc<Self>) -> UnblockArm {
        self.unblock.how.store(0, Ordering::Release);
        self.unblock.armed.store(true, Ordering::Release);
        UnblockArm(self.clone())
    }

    /// CLIENT UNBLOCK: asks the blocking pop this client waits in to end `how`; false if it
    /// waits in none.
    pub fn unblock(&self, how: Unblocked) -> bool {
        if !self.unblock.armed.load(Ordering::Acquire) {
            return false;
        }
        let code = match how {
            Unblocked::Timeout => 1,
            Unblocked::Error => 2,
        };
        self.unblock.how.store(code, Ordering::Release);
        self.unblock.signal.notify_one();
        true
    }

    /// Resolves once CLIENT UNBLOCK asked the armed wait to end, with how. (A wake left over
    /// from an earlier wait finds nothing asked and waits on.)
    pub async fn unblocked(&self) -> Unblocked {
        loop {
            match self.unblock.how.swap(0, Ordering::AcqRel) {
                1 => return Unblocked::Timeout,
                2 => return Unblocked::Error,
                _ => self.unblock.signal.notified().await,
            }
        }
    }

    /// Asks the connection to close after the command it is running (ACL DELUSER, ACL LOAD).
    pub fn kill(&self) {
        self.killed.store(true, Ordering::Release);
        // One waiter (the connection task); the permit is kept if it is not waiting now.
        self.kill_signal.notify_one();
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }

    /// Resolves once [`ClientInfo::kill`] was called.
    pub async fn killed(&self) {
        if self.is_killed() {
            return;
        }
        self.kill_signal.notified().await;
    }

    /// Records the last command and when it ran (`now`, read once by the caller).
    pub fn touch(&self, cmd_index: usize, now: Instant) {
        self.last_cmd.store(cmd_index, Ordering::Relaxed);
        let ms = now.saturating_duration_since(self.created).as_millis() as u64;
        self.last_active_ms.store(ms, Ordering::Relaxed);
    }

    pub fn last_cmd(&self) -> Option<usize> {
        match self.last_cmd.load(Ordering::Relaxed) {
            usize::MAX => None,
            i => Some(i),
        }
    }

    pub fn idle_secs(&self) -> u64 {
        let now = self.created.elapsed().as_millis() as u64;
        now.saturating_sub(self.last_active_ms.load(Ordering::Relaxed)) / 1000
    }

    /// Reads or changes the client's names and flags.
    pub fn meta<R>(&self, f: impl FnOnce(&mut ClientMeta) -> R) -> R {
        let mut guard = match self.meta.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        f(&mut guard)
    }
}

/// A transaction being queued between MULTI and EXEC.
#[derive(Debug, Default)]
pub struct Multi {
    /// Command table index and arguments of each queued command.
    pub queued: Vec<(usize, Vec<Bytes>)>,
    /// Set when a command could not be queued (unknown, wrong arity): EXEC then aborts.
    pub dirty: bool,
}

/// The state a connection carries between commands. Owned by the connection task.
#[derive(Debug)]
pub struct Client {
    pub info: Arc<ClientInfo>,
    pub protocol: Protocol,
    pub authenticated: bool,
    pub multi: Option<Multi>,
    /// Close the connection once the replies written so far are sent (QUIT, protocol error).
    pub close_after_reply: bool,
    /// True while EXEC runs queued commands: handlers must not block.
    pub in_exec: bool,
    /// A write command ran since the last flush: its durability must be awaited before replying.
    pub wrote: bool,
    /// This client used LLMGET: on disconnect, leases it may hold are handed on.
    pub used_leases: bool,
    /// The ACL user: the cell is shared with the registry, so `ACL SETUSER` reaches this
    /// connection at its next command. `None` is the `default` user.
    pub user: Option<Arc<UserCell>>,
    /// The keys WATCHed since the last EXEC, DISCARD, UNWATCH or RESET.
    pub watching: Option<Watching>,
    /// Set by a command that wrote while the connection awaited it (a script on its own
    /// thread): the connection then awaits durability before the next reply goes out.
    pub deferred_write: Arc<AtomicBool>,
    /// In MONITOR mode: the lines to send, between replies.
    pub monitor: Option<tokio::sync::mpsc::UnboundedReceiver<bytes::Bytes>>,
    /// The client a script's commands run as (MONITOR shows them from `lua`).
    pub script: bool,
    /// The selected database: the dispatcher stores key arguments in its form
    /// ([`crate::cache::databases`]).
    pub db: usize,
}

impl Client {
    /// A client that stands in for this connection in a command that continues after an await
    /// (off-loop keying, a server-side embedding): the same id, ACL user, protocol and
    /// deferred-write flag, so ACL checks and logs, the lease owner and durability are this
    /// connection's. The lease flag is set on this connection itself, so a lease taken
    /// meanwhile is handed on if the client goes away.
    pub fn stand_in(&mut self) -> Client {
        let mut c = Client::new(self.info.clone(), true);
        c.protocol = self.protocol;
        c.db = self.db;
        c.user = self.user.clone();
        c.deferred_write = self.deferred_write.clone();
        self.used_leases = true;
        c
    }

    pub fn new(info: Arc<ClientInfo>, authenticated: bool) -> Self {
        Client {
            info,
            protocol: Protocol::Resp2,
            user: None,
            authenticated,
            multi: None,
            close_after_reply: false,
            in_exec: false,
            deferred_write: Arc::new(AtomicBool::new(false)),
            wrote: false,
            used_leases: false,
            watching: None,
            monitor: None,
            script: false,
            db: 0,
        }
    }

    pub fn id(&self) -> u64 {
        self.info.id
    }
}

/// Every connected client, by id.
#[derive(Debug, Default)]
pub struct Clients {
    next_id: AtomicU64,
    map: Mutex<BTreeMap<u64, Arc<ClientInfo>>>,
}

impl Clients {
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn register(&self, info: Arc<ClientInfo>) {
        if let Ok(mut m) = self.map.lock() {
            m.insert(info.id, info);
        }
    }

    pub fn unregister(&self, id: u64) {
        if let Ok(mut m) = self.map.lock() {
            m.remove(&id);
        }
    }

    pub fn get(&self, id: u64) -> Option<Arc<ClientInfo>> {
        self.map.lock().ok().and_then(|m| m.get(&id).cloned())
    }

    pub fn all(&self) -> Vec<Arc<ClientInfo>> {
        match self.map.lock() {
            Ok(m) => m.values().cloned().collect(),
            Err(_) => Vec::new(),
        }
    }

    pub fn count(&self) -> usize {
        self.map.lock().map(|m| m.len()).unwrap_or(0)
    }
}
