//! The file behind a SQLite URL: where it is, made readable by its owner only (it holds
//! credential material), and whether a process has it open.

use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Owner read and write, nothing for group and others: database files and backups.
pub const PRIVATE: u32 = 0o600;

/// The file of a `sqlite:` URL (`sqlite://FILE?…`, `sqlite:///ABSOLUTE?…`, `sqlite:FILE`),
/// `None` for in-memory databases and other URLs.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let file = rest.split('?').next().unwrap_or("");
    if file.is_empty() || file == ":memory:" || url.contains("mode=memory") {
        return None;
    }
    Some(PathBuf::from(file))
}

/// Creates `path` empty with mode 0600 whatever the umask, failing if it exists: the start of
/// a database or a backup, so that no moment exists where another user could open it.
pub fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(PRIVATE)
        .open(path)?;
    // `mode` is filtered by the umask (which can only take bits away): set it exactly.
    file.set_permissions(std::fs::Permissions::from_mode(PRIVATE))?;
    Ok(file)
}

/// Takes group and other access away from an existing database and its `-wal`/`-shm` files
/// (databases made before passgate created them 0600). Returns the files it changed.
pub fn make_private(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut changed = Vec::new();
    for file in with_companions(path) {
        let Ok(meta) = std::fs::metadata(&file) else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode & 0o700))?;
            changed.push(file);
        }
    }
    Ok(changed)
}

/// The database file and the `-wal` and `-shm` files SQLite keeps beside it.
pub fn with_companions(path: &Path) -> [PathBuf; 3] {
    let companion = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    [path.to_path_buf(), companion("-wal"), companion("-shm")]
}

/// Whether some process has the (WAL-mode) database open: every connection holds a shared
/// lock on the "dead man switch" byte of the `-shm` file while it is open (SQLite's WAL
/// format, section 2.3.1 of <https://sqlite.org/walformat.html>), so a write lock on it can
/// be had only when nobody is connected. Call it before this process opens the database:
/// POSIX locks of the caller's own process do not conflict.
pub fn in_use(path: &Path) -> std::io::Result<bool> {
    let [_, _, shm] = with_companions(path);
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&shm)
    {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(err) => return Err(err),
    };
    /// `UNIX_SHM_BASE + SQLITE_SHM_NLOCK` in SQLite's `os_unix.c`: (22 + 8) * 4 + 8.
    const DEAD_MAN_SWITCH: i64 = 128;
    let mut lock = libc::flock {
        l_type: libc::F_WRLCK as libc::c_short,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: DEAD_MAN_SWITCH,
        l_len: 1,
        l_pid: 0,
    };
    use std::os::fd::AsRawFd;
    // SAFETY: F_GETLK on an open descriptor with a valid `flock`, which it only writes to.
    let result = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETLK, &mut lock) };
    if result == -1 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(lock.l_type != libc::F_UNLCK as libc::c_short)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_files_from_urls() {
        assert_eq!(
            sqlite_file("sqlite://passgate.db?mode=rwc"),
            Some("passgate.db".into())
        );
        assert_eq!(
            sqlite_file("sqlite:///var/lib/passgate/p.db"),
            Some("/var/lib/passgate/p.db".into())
        );
        assert_eq!(sqlite_file("sqlite:p.db"), Some("p.db".into()));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://x/y"), None);
    }

    #[test]
    fn private_files_are_0600_whatever_the_umask() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        create_private(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(
            create_private(&path).is_err(),
            "never over an existing file"
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(make_private(&path).unwrap(), vec![path.clone()]);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(make_private(&path).unwrap().is_empty());
    }
}
