//! The audit stream (SPEC §17): every audit entry, once committed, also written as one JSON
//! line to `PASSGATE_AUDIT_FILE` (or standard output).
//!
//! The stream follows the `audit_log` table rather than the requests: a background task reads
//! the entries after the last one it wrote and appends their lines. So only committed entries
//! are written (a rolled-back transaction's entry is never read), a request never waits for
//! the file or fails because of it, and entries written by the command line or by another
//! instance on the same database are streamed too. A failed open or write is logged and
//! counted and the same lines are tried again a second later: the database stays the record.
//!
//! Ids normally grow in commit order; on PostgreSQL a transaction may commit after a later
//! one. An id skipped over is therefore looked for again for [`GAP_GRACE`] before it is taken
//! for a rolled-back one.
//!
//! SIGHUP ([`AuditStream::reopen`]): the lines read so far are finished in the file as it is
//! (after logrotate's move, the old one), then the path is opened anew; no line is lost.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::Notify;

use super::line::line;
use crate::config::AuditSink;
use crate::entities::audit_log;

/// How often the table is read when nothing has poked the stream.
const POLL: Duration = Duration::from_secs(1);
/// After [`poke`], how long to wait for the poking transaction to commit.
const AFTER_POKE: Duration = Duration::from_millis(10);
/// How long an id skipped over is looked for before it is taken for a rolled-back entry.
const GAP_GRACE: Duration = Duration::from_secs(300);
/// At most this many skipped ids are looked for (a jump of the id sequence beyond it is not).
const MAX_GAPS: usize = 1000;
/// Entries read at once.
const BATCH: u64 = 500;

/// Wakes the stream of this process: an entry was just inserted (its transaction commits
/// soon). Called by [`super::record`].
pub fn poke() {
    WAKE.notify_one();
}

static WAKE: Notify = Notify::const_new();

/// The running stream; [`AuditStream::reopen`] is what SIGHUP calls.
#[derive(Clone)]
pub struct AuditStream {
    reopen: Arc<Notify>,
}

impl AuditStream {
    /// Opens the sink, finds where to go on, and starts following the table. Fails (one line,
    /// for the start-up error) only when the file cannot be opened now.
    ///
    /// Where to go on: after the last entry whose line the file already ends with (a restart
    /// loses nothing); for a new or empty file, and for standard output, after the newest
    /// entry at start (`passgate audit export` gives the history).
    pub async fn start(db: DatabaseConnection, sink: AuditSink) -> Result<AuditStream, String> {
        let mut out = Output::new(sink);
        out.open()
            .and_then(|()| out.end_cut_line())
            .map_err(|e| format!("PASSGATE_AUDIT_FILE: cannot open {}: {e}", out.describe()))?;
        let newest = newest_id(&db).await.map_err(|e| e.to_string())?;
        let cursor = match out.last_written_id() {
            Some(last) if last <= newest => last,
            Some(last) => {
                tracing::warn!(
                    last,
                    newest,
                    "the audit file ends with an entry this database does not have; streaming \
                     from the database's newest entry"
                );
                newest
            }
            None => newest,
        };
        let reopen = Arc::new(Notify::new());
        let follower = Follower {
            db,
            out,
            cursor,
            gaps: BTreeMap::new(),
            failing: false,
        };
        tokio::spawn(follower.run(Arc::clone(&reopen)));
        Ok(AuditStream { reopen })
    }

    /// Finishes the lines read so far in the file as it is, then opens the path anew (SIGHUP).
    pub fn reopen(&self) {
        self.reopen.notify_one();
    }
}

async fn newest_id(db: &DatabaseConnection) -> Result<i32, sea_orm::DbErr> {
    Ok(audit_log::Entity::find()
        .select_only()
        .column_as(audit_log::Column::AuditId.max(), "newest")
        .into_tuple::<Option<i32>>()
        .one(db)
        .await?
        .flatten()
        .unwrap_or(0))
}

struct Follower {
    db: DatabaseConnection,
    out: Output,
    /// The highest id written.
    cursor: i32,
    /// Ids below the cursor not seen yet, and when they were first missed.
    gaps: BTreeMap<i32, Instant>,
    /// In a spell of failures (logged once per spell).
    failing: bool,
}

impl Follower {
    async fn run(mut self, reopen: Arc<Notify>) {
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let reopening = tokio::select! {
                () = WAKE.notified() => {
                    tokio::time::sleep(AFTER_POKE).await;
                    false
                }
                _ = tick.tick() => false,
                () = reopen.notified() => true,
            };
            // Whatever is committed goes to the file as it is before a reopen.
            self.catch_up().await;
            if reopening {
                self.out.close();
                if let Err(err) = self.out.open() {
                    self.failed(&format!("cannot reopen {}: {err}", self.out.describe()));
                } else {
                    tracing::info!(file = %self.out.describe(), "audit file reopened");
                }
            }
        }
    }

    /// Writes every committed entry not written yet.
    async fn catch_up(&mut self) {
        loop {
            let rows = match self.read().await {
                Ok(rows) => rows,
                Err(err) => {
                    tracing::warn!(error = %err, "reading the audit log for the stream failed");
                    return;
                }
            };
            if rows.is_empty() {
                return;
            }
            let full = rows.len() as u64 >= BATCH;
            let mut text = String::new();
            for row in &rows {
                text.push_str(&line(row));
                text.push('\n');
            }
            let out = std::mem::replace(&mut self.out, Output::Detached);
            let (out, written) = tokio::task::spawn_blocking(move || {
                let mut out = out;
                let written = out.write(text.as_bytes());
                (out, written)
            })
            .await
            .unwrap_or_else(|_| {
                (
                    Output::Detached,
                    Err(std::io::Error::other("writer panicked")),
                )
            });
            self.out = out;
            if let Err(err) = written {
                self.failed(&format!("cannot write {}: {err}", self.out.describe()));
                return;
            }
            if self.failing {
                self.failing = false;
                tracing::info!(file = %self.out.describe(), "the audit stream is written again");
            }
            crate::metrics::audit_lines_written(rows.len() as u64);
            self.advance(&rows);
            if !full {
                return;
            }
        }
    }

    fn failed(&mut self, what: &str) {
        crate::metrics::audit_stream_failed();
        if !self.failing {
            self.failing = true;
            tracing::error!(
                "audit stream: {what}; the entries stay in the database and are tried again"
            );
        }
        if !self.out.is_open() {
            // Try the path again on the next round (a directory put back, a disk remounted).
            let _ = self.out.open();
        }
    }

    /// The entries after the cursor, and those of the gaps that have turned up.
    async fn read(&mut self) -> Result<Vec<audit_log::Model>, sea_orm::DbErr> {
        let now = Instant::now();
        self.gaps
            .retain(|_, missed| now.duration_since(*missed) < GAP_GRACE);
        let mut rows = Vec::new();
        if !self.gaps.is_empty() {
            rows = audit_log::Entity::find()
                .filter(audit_log::Column::AuditId.is_in(self.gaps.keys().copied()))
                .order_by_asc(audit_log::Column::AuditId)
                .all(&self.db)
                .await?;
        }
        rows.extend(
            audit_log::Entity::find()
                .filter(audit_log::Column::AuditId.gt(self.cursor))
                .order_by_asc(audit_log::Column::AuditId)
                .limit(BATCH)
                .all(&self.db)
                .await?,
        );
        Ok(rows)
    }

    /// Moves the cursor past `rows` (just written), noting the ids skipped over.
    fn advance(&mut self, rows: &[audit_log::Model]) {
        let now = Instant::now();
        for row in rows {
            let id = row.audit_id;
            if self.gaps.remove(&id).is_some() || id <= self.cursor {
                continue;
            }
            let skipped = (id - self.cursor - 1) as usize;
            if skipped > 0 && skipped <= MAX_GAPS {
                for missing in self.cursor + 1..id {
                    self.gaps.insert(missing, now);
                }
            }
            self.cursor = id;
        }
        while self.gaps.len() > MAX_GAPS {
            self.gaps.pop_first();
        }
    }
}

/// Where lines go.
enum Output {
    File {
        path: PathBuf,
        file: Option<std::fs::File>,
    },
    Stdout,
    /// Only while a write is under way on a blocking thread.
    Detached,
}

impl Output {
    fn new(sink: AuditSink) -> Self {
        match sink {
            AuditSink::File(path) => Output::File { path, file: None },
            AuditSink::Stdout => Output::Stdout,
        }
    }

    fn describe(&self) -> String {
        match self {
            Output::File { path, .. } => path.display().to_string(),
            Output::Stdout | Output::Detached => "standard output".into(),
        }
    }

    fn is_open(&self) -> bool {
        !matches!(self, Output::File { file: None, .. })
    }

    fn open(&mut self) -> std::io::Result<()> {
        if let Output::File { path, file } = self {
            *file = Some(open_append(path)?);
        }
        Ok(())
    }

    fn close(&mut self) {
        if let Output::File { file, .. } = self {
            *file = None;
        }
    }

    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Output::File {
                file: Some(file), ..
            } => {
                file.write_all(bytes)?;
                file.flush()
            }
            Output::File { path, file } => {
                let mut opened = open_append(path)?;
                opened.write_all(bytes)?;
                *file = Some(opened);
                Ok(())
            }
            Output::Stdout => {
                let mut stdout = std::io::stdout().lock();
                stdout.write_all(bytes)?;
                stdout.flush()
            }
            Output::Detached => Err(std::io::Error::other("no output")),
        }
    }

    /// Ends a line a crash cut short (the file does not end with a newline), so that the
    /// next line starts on a line of its own; the cut entry is written again after it.
    fn end_cut_line(&mut self) -> std::io::Result<()> {
        let Output::File {
            path,
            file: Some(file),
        } = self
        else {
            return Ok(());
        };
        let Ok(mut reader) = std::fs::File::open(&*path) else {
            return Ok(());
        };
        let metadata = reader.metadata()?;
        if !metadata.is_file() || metadata.len() == 0 {
            return Ok(());
        }
        reader.seek(SeekFrom::End(-1))?;
        let mut last = [0u8; 1];
        reader.read_exact(&mut last)?;
        if last[0] != b'\n' {
            file.write_all(b"\n")?;
        }
        Ok(())
    }

    /// The id of the last complete line of the file, if it ends with one.
    fn last_written_id(&mut self) -> Option<i32> {
        let Output::File { path, .. } = self else {
            return None;
        };
        last_line_id(path)
    }
}

/// Append-only, created with mode 0640 if missing (audit lines name users and addresses).
fn open_append(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o640)
        .open(path)
}

/// The `id` of the last complete line of `path`, a regular file (only its last 64 KiB are
/// read; a device such as `/dev/full` is never read).
fn last_line_id(path: &Path) -> Option<i32> {
    const TAIL: u64 = 64 * 1024;
    let mut file = std::fs::File::open(path).ok()?;
    let metadata = file.metadata().ok()?;
    if !metadata.is_file() {
        return None;
    }
    file.seek(SeekFrom::Start(metadata.len().saturating_sub(TAIL)))
        .ok()?;
    let mut tail = Vec::new();
    file.take(TAIL).read_to_end(&mut tail).ok()?;
    let text = String::from_utf8_lossy(&tail);
    // A line cut short (a crash in the middle of a write) is not complete: skip it.
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => return None,
    };
    complete.lines().rev().find_map(|line| {
        serde_json::from_str::<serde_json::Value>(line)
            .ok()?
            .get("id")?
            .as_i64()
            .and_then(|id| i32::try_from(id).ok())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_cut_short_is_ended_before_the_next_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stream.log");
        std::fs::write(&path, "{\"v\":1,\"id\":7}\n{\"v\":1,\"i").unwrap();
        let mut out = Output::new(AuditSink::File(path.clone()));
        out.open().unwrap();
        out.end_cut_line().unwrap();
        out.end_cut_line().unwrap();
        out.write(b"{\"v\":1,\"id\":8}\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"v\":1,\"id\":7}\n{\"v\":1,\"i\n{\"v\":1,\"id\":8}\n"
        );
    }

    #[test]
    fn the_last_complete_line_tells_where_to_go_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stream.log");
        assert_eq!(last_line_id(&path), None);
        std::fs::write(&path, "").unwrap();
        assert_eq!(last_line_id(&path), None);
        std::fs::write(&path, "{\"v\":1,\"id\":7}\n{\"v\":1,\"id\":9}\n").unwrap();
        assert_eq!(last_line_id(&path), Some(9));
        // Cut short by a crash: the line before it counts.
        std::fs::write(
            &path,
            "{\"v\":1,\"id\":7}\n{\"v\":1,\"id\":9}\n{\"v\":1,\"i",
        )
        .unwrap();
        assert_eq!(last_line_id(&path), Some(9));
    }
}
