//! Running commands in unit tests, without a socket.
//!
//! [`TestServer`] is a [`Shared`] with persistence off, on a [`Clock`] the test moves forward
//! (`server.clock.advance(ms)`) instead of sleeping. [`TestClient`] runs a command through
//! [`cmd::execute`], the checks and the call a connection makes (lookup, arity, authentication,
//! loading, MULTI queueing). So a test sees the reply a client would, error texts included.

use crate::cache::Clock;
use crate::client::{Client, ClientInfo};
use crate::cmd::{self, Ctx, Flow};
use crate::config::Config;
use crate::persistence::SaveSchedule;
use crate::protocol::Reply;
use crate::state::Shared;
use bytes::Bytes;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

/// Server state for handler tests.
pub struct TestServer {
    pub shared: Arc<Shared>,
    /// The store's clock: every clone moves with it.
    pub clock: Clock,
}

impl TestServer {
    /// The default settings, persistence off.
    pub fn new() -> TestServer {
        TestServer::with_config(Config::default())
    }

    /// `config` with persistence turned off, so nothing is loading and nothing touches disk.
    pub fn with_config(mut config: Config) -> TestServer {
        config.appendonly = false;
        config.save = SaveSchedule::default();
        let clock = Clock::new();
        let shared = Arc::new(Shared::new(config, clock.clone(), cmd::row_names()));
        cmd::permit::install(&shared).expect("test users are valid");
        TestServer { shared, clock }
    }

    /// A new connected client on loopback, registered as a connection registers it.
    pub fn client(&self) -> TestClient {
        let id = self.shared.clients.next_id();
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 40_000 + (id % 20_000) as u16));
        let laddr = SocketAddr::from((Ipv4Addr::LOCALHOST, 6379));
        let info = Arc::new(ClientInfo::new(id, addr, laddr));
        self.shared.clients.register(info.clone());
        let authenticated = !self.shared.acl.auth_required();
        TestClient {
            shared: self.shared.clone(),
            client: Client::new(info, authenticated),
        }
    }
}

impl Default for TestServer {
    fn default() -> Self {
        TestServer::new()
    }
}

/// One client of a [`TestServer`].
pub struct TestClient {
    shared: Arc<Shared>,
    pub client: Client,
}

impl TestClient {
    /// Runs one command as the connection would and returns what its handler decided.
    pub fn flow(&mut self, args: &[&str]) -> Flow {
        let args: Vec<Bytes> = args
            .iter()
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect();
        self.flow_bytes(&args)
    }

    /// [`TestClient::flow`] for binary arguments: through [`cmd::execute`], the very path a
    /// connection takes.
    pub fn flow_bytes(&mut self, args: &[Bytes]) -> Flow {
        let mut ctx = Ctx {
            shared: &self.shared,
            client: &mut self.client,
        };
        cmd::execute(&mut ctx, args)
    }

    /// Runs a command that replies at once. Panics if it blocks or closes the connection.
    pub fn run(&mut self, args: &[&str]) -> Reply {
        match self.flow(args) {
            Flow::Reply(r) => r,
            Flow::Wait(_) => panic!("{args:?} blocked"),
            Flow::Close => panic!("{args:?} closed the connection"),
        }
    }

    /// [`TestClient::run`] for binary arguments.
    pub fn run_with(&mut self, args: &[&[u8]]) -> Reply {
        let args: Vec<Bytes> = args.iter().map(|a| Bytes::copy_from_slice(a)).collect();
        match self.flow_bytes(&args) {
            Flow::Reply(r) => r,
            _ => panic!("{args:?} did not reply at once"),
        }
    }

    /// The bytes of a command's bulk-string reply.
    pub fn run_bytes(&mut self, args: &[&str]) -> Bytes {
        match self.run(args) {
            Reply::Bulk(b) => b,
            other => panic!("{args:?} answered {other:?}, not a bulk string"),
        }
    }

    /// Runs a command, awaiting its reply if it blocks. Panics if it closes the connection.
    pub async fn run_async(&mut self, args: &[&str]) -> Reply {
        match self.flow(args) {
            Flow::Reply(r) => r,
            Flow::Wait(w) => w.await,
            Flow::Close => panic!("{args:?} closed the connection"),
        }
    }
}

/// A bulk string reply.
pub fn bulk(s: &str) -> Reply {
    Reply::Bulk(Bytes::copy_from_slice(s.as_bytes()))
}

/// An error reply: the whole line, code first (`ERR syntax error`).
pub fn error(line: &str) -> Reply {
    Reply::Error(line.to_owned())
}
