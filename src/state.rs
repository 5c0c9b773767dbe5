//! What every handler shares.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::accounts::password::Hasher;
use crate::config::Config;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub hasher: Hasher,
}

impl AppState {
    /// Hashing is bounded by the number of cores: a login storm queues instead of starving
    /// every other request.
    pub fn new(db: DatabaseConnection, config: Config) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            db,
            config: Arc::new(config),
            hasher: Hasher::new(cores),
        }
    }
}
