//! The applications as the forward-auth decision reads them: a snapshot kept in memory at
//! most 5 s (SPEC §15.1: a rule change takes effect on every instance within 5 s). The
//! instance that makes a change drops its snapshot at once. A snapshot older than 3 s is
//! served while a fresh one is read in the background, so a steady stream of decisions never
//! waits for the applications; only one older than 5 s (an idle instance) is read first.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sea_orm::DatabaseConnection;
use tokio::sync::{Mutex, RwLock};

use crate::accounts::apps::{AppTable, store};
use crate::accounts::error::Result;

/// Never served once older than this.
pub const MAX_AGE: Duration = Duration::from_secs(5);
/// Refreshed in the background once older than this.
const REFRESH_AFTER: Duration = Duration::from_secs(3);

#[derive(Clone)]
struct Snapshot {
    loaded: Instant,
    table: Arc<AppTable>,
}

/// Shared by every request of one instance (cheap to clone).
#[derive(Clone, Default)]
pub struct AppsCache {
    snapshot: Arc<RwLock<Option<Snapshot>>>,
    /// Held while a read of the applications is under way: one at a time.
    loading: Arc<Mutex<()>>,
    /// Moved by every change this instance makes: a read begun before it is not kept.
    generation: Arc<AtomicU64>,
}

impl std::fmt::Debug for AppsCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppsCache")
    }
}

impl AppsCache {
    /// The applications, at most [`MAX_AGE`] old.
    pub async fn table(&self, db: &DatabaseConnection) -> Result<Arc<AppTable>> {
        if let Some(snapshot) = self.snapshot.read().await.clone() {
            let age = snapshot.loaded.elapsed();
            if age < REFRESH_AFTER {
                return Ok(snapshot.table);
            }
            if age < MAX_AGE {
                if let Ok(guard) = self.loading.clone().try_lock_owned() {
                    let cache = self.clone();
                    let db = db.clone();
                    tokio::spawn(async move {
                        if let Err(err) = cache.reload(&db).await {
                            tracing::warn!(error = %err, "reading the applications failed");
                        }
                        drop(guard);
                    });
                }
                return Ok(snapshot.table);
            }
        }
        let _guard = self.loading.lock().await;
        // Another request may have read them while this one waited.
        if let Some(snapshot) = self.snapshot.read().await.clone()
            && snapshot.loaded.elapsed() < REFRESH_AFTER
        {
            return Ok(snapshot.table);
        }
        self.reload(db).await
    }

    async fn reload(&self, db: &DatabaseConnection) -> Result<Arc<AppTable>> {
        let generation = self.generation.load(Ordering::SeqCst);
        let loaded = Instant::now();
        let table = Arc::new(AppTable::new(store::load_all(db).await?));
        let mut snapshot = self.snapshot.write().await;
        // A change made meanwhile dropped the snapshot; a read begun before it must not win.
        if self.generation.load(Ordering::SeqCst) == generation {
            *snapshot = Some(Snapshot {
                loaded,
                table: table.clone(),
            });
        }
        Ok(table)
    }

    /// Drops the snapshot: the next decision reads the applications (after a change made by
    /// this instance).
    pub async fn invalidate(&self) {
        let mut snapshot = self.snapshot.write().await;
        self.generation.fetch_add(1, Ordering::SeqCst);
        *snapshot = None;
    }
}
