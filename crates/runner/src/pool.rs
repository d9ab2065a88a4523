//! Open SSH connections for the coding actions, one per codebase, reused
//! across an agent's tool calls and dropped after a few idle minutes.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::ssh::SshSession;
use crate::types::SshTarget;

/// Connections unused for this long are closed.
const IDLE: Duration = Duration::from_secs(300);

struct Pooled {
    session: Arc<SshSession>,
    identity: u64,
    last_used: Instant,
}

/// Connections by codebase id.
#[derive(Default)]
pub struct SshPool {
    conns: Mutex<HashMap<i64, Pooled>>,
}

/// What a connection was opened with: a changed host, user, key or recorded host key
/// means a new connection.
pub(crate) fn identity(t: &SshTarget) -> u64 {
    let mut h = DefaultHasher::new();
    (&t.host, t.port, &t.user, &t.private_key, &t.host_key_fingerprint).hash(&mut h);
    h.finish()
}

impl SshPool {
    /// A live connection opened with the same identity, if any; drops idle ones on the way.
    pub(crate) fn get(&self, codebase_id: i64, identity: u64) -> Option<Arc<SshSession>> {
        let mut conns = self.conns.lock().ok()?;
        conns.retain(|_, p| p.last_used.elapsed() < IDLE && !p.session.is_closed());
        let p = conns.get_mut(&codebase_id).filter(|p| p.identity == identity)?;
        p.last_used = Instant::now();
        Some(p.session.clone())
    }

    /// Keeps a connection for reuse.
    pub(crate) fn put(&self, codebase_id: i64, identity: u64, session: Arc<SshSession>) {
        if let Ok(mut conns) = self.conns.lock() {
            conns.insert(codebase_id, Pooled { session, identity, last_used: Instant::now() });
        }
    }

    /// Drops a codebase's connection (its host key was forgotten, say).
    pub(crate) fn forget(&self, codebase_id: i64) {
        if let Ok(mut conns) = self.conns.lock() {
            conns.remove(&codebase_id);
        }
    }
}
