//! The built `passgate` binary, run as an operator runs it: commands with a clean
//! environment in a directory of their own, and servers waited for by the line they print
//! when they listen; a small HTTP/1.1 client to talk to them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

/// Where and how commands run: a working directory, the environment (nothing inherited but
/// `PATH`), and a umask.
#[derive(Clone)]
pub struct Operator {
    pub dir: PathBuf,
    env: Vec<(String, String)>,
    umask: Option<u32>,
}

/// What a command did.
pub struct Ran {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    pub fn code(&self) -> i32 {
        self.status.code().unwrap_or(-1)
    }

    /// Asserts success and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert!(
            self.status.success(),
            "failed ({}):\nstdout: {}\nstderr: {}",
            self.status,
            self.stdout,
            self.stderr
        );
        &self.stdout
    }

    /// Asserts failure with `code` and returns stderr.
    #[track_caller]
    pub fn fails(&self, code: i32) -> &str {
        assert_eq!(
            self.code(),
            code,
            "expected exit status {code}:\nstdout: {}\nstderr: {}",
            self.stdout,
            self.stderr
        );
        &self.stderr
    }
}

impl Operator {
    /// A fresh directory; the database is the default `passgate.db` in it.
    pub fn new(dir: &Path) -> Operator {
        Operator {
            dir: dir.to_path_buf(),
            env: vec![("PASSGATE_LOG".into(), "warn".into())],
            umask: None,
        }
    }

    pub fn env(mut self, name: &str, value: impl Into<String>) -> Operator {
        self.env.retain(|(n, _)| n != name);
        self.env.push((name.into(), value.into()));
        self
    }

    /// Commands run under this umask (through `sh -c 'umask …; exec …'`).
    pub fn umask(mut self, umask: u32) -> Operator {
        self.umask = Some(umask);
        self
    }

    pub fn database(&self) -> PathBuf {
        self.dir.join("passgate.db")
    }

    fn command(&self, args: &[&str]) -> Command {
        let binary = env!("CARGO_BIN_EXE_passgate");
        let mut command = match self.umask {
            Some(mask) => {
                let mut sh = Command::new("sh");
                sh.arg("-c")
                    .arg(format!("umask {mask:03o}; exec \"$0\" \"$@\""))
                    .arg(binary);
                sh
            }
            None => Command::new(binary),
        };
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&self.dir);
        command
    }

    /// Runs `passgate ARGS` with nothing on standard input.
    pub fn run(&self, args: &[&str]) -> Ran {
        self.run_with_stdin(args, "")
    }

    /// Runs `passgate ARGS` with `input` on standard input (a pipe, not a terminal).
    pub fn run_with_stdin(&self, args: &[&str], input: &str) -> Ran {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run passgate");
        child.stdin.take().unwrap().write_all(input.as_bytes()).ok();
        let out = child.wait_with_output().expect("wait for passgate");
        Ran {
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs `passgate ARGS` on a terminal (a pseudo-terminal from util-linux's `script`),
    /// typing `typed`; returns everything the terminal showed.
    pub fn run_on_terminal(&self, args: &[&str], typed: &str) -> Ran {
        let binary = env!("CARGO_BIN_EXE_passgate");
        let line = std::iter::once(binary)
            .chain(args.iter().copied())
            .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
            .collect::<Vec<_>>()
            .join(" ");
        let mut command = Command::new("script");
        command
            .args(["-qefc", &line, "/dev/null"])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("TERM", "dumb")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&self.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("run script");
        let mut stdin = child.stdin.take().unwrap();
        // Typed one line at a time, each once the program asked for it (the prompt reads
        // from the terminal after it flushed its question).
        let mut stdout = child.stdout.take().unwrap();
        let (shown_tx, shown_rx) = mpsc::channel::<Vec<u8>>();
        let reader = std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buffer) {
                if n == 0 || shown_tx.send(buffer[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        let mut shown = Vec::new();
        for line in typed.split_inclusive('\n') {
            // Wait for a prompt (text ending in ": ") before typing.
            loop {
                let text = String::from_utf8_lossy(&shown).to_string();
                if text.trim_end_matches(' ').ends_with(':') {
                    break;
                }
                match shown_rx.recv_timeout(Duration::from_secs(60)) {
                    Ok(bytes) => shown.extend(bytes),
                    Err(_) => panic!("no prompt on the terminal; it showed: {text}"),
                }
            }
            stdin.write_all(line.as_bytes()).unwrap();
            stdin.flush().unwrap();
            shown.extend(b"\n<typed>\n");
        }
        // stdin stays open until the program ends: an end of input sent while it still
        // reads its last line (or turns echo back on) would cut that line short.
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for script") {
                break status;
            }
            if std::time::Instant::now() > deadline {
                child.kill().ok();
                break child.wait().expect("wait for script");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        drop(stdin);
        reader.join().ok();
        shown.extend(shown_rx.try_iter().flatten());
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .ok();
        Ran {
            status,
            stdout: String::from_utf8_lossy(&shown).into_owned(),
            stderr,
        }
    }

    /// Starts `passgate serve` on a free port (unless `PASSGATE_BIND` is set).
    pub fn spawn_server(&self) -> Server {
        let addr = match self.env.iter().find(|(k, _)| k == "PASSGATE_BIND") {
            Some((_, bind)) => bind.parse().expect("PASSGATE_BIND is an address"),
            None => free_port(),
        };
        let child = self
            .command(&["serve"])
            .env("PASSGATE_BIND", addr.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start passgate");
        Server::watch(child, addr)
    }
}

/// A running `passgate serve`, killed when dropped (also when the test panics).
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    output: Arc<Mutex<String>>,
    stdout: Arc<Mutex<String>>,
    lines: Mutex<mpsc::Receiver<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn watch(mut child: Child, addr: SocketAddr) -> Server {
        let output = Arc::new(Mutex::new(String::new()));
        let stdout = Arc::new(Mutex::new(String::new()));
        let (tx, lines) = mpsc::channel();
        for (stream, alone) in [
            (
                Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
                Some(stdout.clone()),
            ),
            (Box::new(child.stderr.take().unwrap()), None),
        ] {
            let (output, tx) = (output.clone(), tx.clone());
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    output.lock().unwrap().push_str(&format!("{line}\n"));
                    if let Some(alone) = &alone {
                        alone.lock().unwrap().push_str(&format!("{line}\n"));
                    }
                    // Nobody may wait for lines any more: the output is kept all the same.
                    let _ = tx.send(line);
                }
            });
        }
        Server {
            child,
            addr,
            output,
            stdout,
            lines: Mutex::new(lines),
        }
    }

    /// Everything the server printed so far (stdout and stderr).
    pub fn log(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// The generated password of `admin` the first start printed (on standard output, the
    /// line after "Created the superuser").
    pub fn first_admin_password(&self) -> String {
        self.stdout
            .lock()
            .unwrap()
            .lines()
            .skip_while(|l| !l.contains("Created the superuser"))
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.contains("Created"))
            .unwrap_or_else(|| panic!("no first admin's password:\n{}", self.log()))
            .to_string()
    }

    /// Waits until the server says it listens; panics with its output if it exits first.
    pub async fn wait_ready(&mut self) {
        let found = self.wait_for_line("passgate is listening on");
        assert!(found.is_some(), "passgate did not come up:\n{}", self.log());
    }

    /// The first line (from now on) containing `needle`, or `None` if the server exited
    /// first; waits at most 60 s.
    pub fn wait_for_line(&mut self, needle: &str) -> Option<String> {
        let lines = self.lines.lock().unwrap();
        loop {
            match lines.recv_timeout(Duration::from_secs(60)) {
                Ok(line) if line.contains(needle) => return Some(line),
                Ok(_) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => return None,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("waited 60 s for '{needle}':\n{}", self.log())
                }
            }
        }
    }

    /// Waits for the process to end (after it failed to start, or after `stop`).
    pub fn wait_exit(&mut self) -> ExitStatus {
        let status = self.child.wait().expect("wait for passgate");
        // Both output threads end with the process; drain what they sent.
        let lines = self.lines.lock().unwrap();
        while lines.recv_timeout(Duration::from_secs(10)).is_ok() {}
        status
    }

    /// SIGTERM, as systemd stops it, and waits for the exit.
    pub fn stop(&mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill -TERM");
        self.wait_exit()
    }
}

/// A port nobody listens on right now (bound to :0, then released).
pub fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

pub use crate::serving::{HttpResponse, api, api_login, api_token};

impl crate::serving::Served for Server {
    fn addr(&self) -> SocketAddr {
        self.addr
    }
    fn log(&self) -> String {
        Server::log(self)
    }
}

/// A migrated database with the superuser `root` (password `STRONG`, no change pending),
/// served: the server and a login token of `root`.
pub async fn serving_with_root(op: &Operator) -> (Server, String) {
    op.run(&["migrate", "up"]).ok();
    op.run_with_stdin(
        &[
            "user",
            "create",
            "root",
            "--superuser",
            "--no-require-change",
            "--password-stdin",
        ],
        crate::helpers::STRONG,
    )
    .ok();
    let mut server = op.spawn_server();
    server.wait_ready().await;
    let token = api_token(&server, "root", crate::helpers::STRONG).await;
    (server, token)
}
