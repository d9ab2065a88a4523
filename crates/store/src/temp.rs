//! A migrated SQLite database in a fresh temporary directory, removed when
//! dropped: what the unit tests of this crate and of the crates above it open.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::{Db, DbOptions, Result};

/// See the module doc. `db` is usable for as long as this lives.
pub struct TempSqlite {
    pub db: Db,
    dir: PathBuf,
}

impl TempSqlite {
    /// Creates and migrates `<tmp>/spgw-<name>-<pid>-<n>/x.db`.
    pub async fn new(name: &str) -> Result<TempSqlite> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!("spgw-{name}-{}-{nanos}-{n}", std::process::id()));
        let opts = DbOptions {
            url: format!("sqlite://{}/x.db", dir.display()),
            max_open: 4,
            max_idle: 1,
            connect_timeout: Duration::from_secs(5),
        };
        let db = Db::connect(&opts).await?;
        db.migrate().await?;
        Ok(TempSqlite { db, dir })
    }
}

impl Drop for TempSqlite {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
