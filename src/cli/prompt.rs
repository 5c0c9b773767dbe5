//! Asking the operator: a password from standard input (or typed twice, without echo, on a
//! terminal) and a yes before something is destroyed.

use std::io::{BufRead, IsTerminal, Write};

use crate::accounts::secret::Secret;

/// The password of `--password-stdin`: on a terminal it is asked for twice without echo;
/// otherwise it is the first line of standard input. Trailing spaces and the line end are
/// not part of it (a stray space after `echo` would make a password nobody can type).
pub fn password_from_stdin() -> anyhow::Result<Secret> {
    if std::io::stdin().is_terminal() {
        let first = Secret::new(hidden_line("New password: ")?);
        let again = Secret::new(hidden_line("The same again: ")?);
        anyhow::ensure!(
            first.expose() == again.expose(),
            "the two passwords differ; nothing was changed"
        );
        return password_line(first.expose());
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = password_line(&line);
    zeroize::Zeroize::zeroize(&mut line);
    password
}

/// A line typed on the terminal (standard input) without echo. Echo goes off *before* the
/// prompt is shown, so that nothing typed as soon as the prompt appears is echoed; it comes
/// back when the line is read, also on an error.
fn hidden_line(prompt: &str) -> anyhow::Result<String> {
    use std::os::fd::AsRawFd;

    /// Puts the terminal's settings back when dropped.
    struct Restore(i32, libc::termios);
    impl Drop for Restore {
        fn drop(&mut self) {
            // SAFETY: a valid descriptor and the settings tcgetattr gave for it.
            unsafe { libc::tcsetattr(self.0, libc::TCSANOW, &self.1) };
        }
    }

    let stdin = std::io::stdin();
    let fd = stdin.as_raw_fd();
    let mut settings = std::mem::MaybeUninit::<libc::termios>::uninit();
    // SAFETY: `fd` is open; tcgetattr fills `settings` when it returns 0.
    if unsafe { libc::tcgetattr(fd, settings.as_mut_ptr()) } != 0 {
        return Err(std::io::Error::last_os_error().into());
    }
    // SAFETY: initialised by the successful tcgetattr above.
    let original = unsafe { settings.assume_init() };
    let mut hidden = original;
    hidden.c_lflag &= !libc::ECHO;
    hidden.c_lflag |= libc::ECHONL;
    // SAFETY: a valid descriptor and settings derived from its own.
    if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &hidden) } != 0 {
        return Err(std::io::Error::last_os_error().into());
    }
    let _restore = Restore(fd, original);
    let mut terminal = std::fs::OpenOptions::new().write(true).open("/dev/tty")?;
    terminal.write_all(prompt.as_bytes())?;
    terminal.flush()?;
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    Ok(line)
}

/// The password in a line as typed: the line end and trailing spaces dropped.
fn password_line(line: &str) -> anyhow::Result<Secret> {
    let password = line.trim_end_matches(['\n', '\r']).trim_end();
    anyhow::ensure!(
        !password.is_empty(),
        "no password on standard input; nothing was changed"
    );
    Ok(Secret::new(password.to_string()))
}

/// Whether the operator agrees to `question` (typing `yes`). Off a terminal nobody can be
/// asked: `None`, and the caller refuses unless told `--yes`.
pub fn confirm(question: &str) -> anyhow::Result<Option<bool>> {
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    let mut stderr = std::io::stderr();
    write!(stderr, "{question} Type yes to go on: ")?;
    stderr.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(Some(answer.trim().eq_ignore_ascii_case("yes")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_loses_its_end_and_trailing_spaces_only() {
        let cases = [
            ("Tidal-Marble-Orchard-47\n", "Tidal-Marble-Orchard-47"),
            ("Tidal-Marble-Orchard-47  \r\n", "Tidal-Marble-Orchard-47"),
            (" lead space kept\t\n", " lead space kept"),
            ("inner  spaces kept", "inner  spaces kept"),
        ];
        for (line, password) in cases {
            assert_eq!(password_line(line).unwrap().expose(), password);
        }
        assert!(password_line("   \n").is_err());
        assert!(password_line("").is_err());
    }
}
