//! The `passgate` binary: parse the command line and hand over to the library.

use std::io::IsTerminal;

use clap::Parser;
use passgate::cli::{self, Cli, Command};
use passgate::config::LogFormat;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

fn main() -> std::process::ExitCode {
    passgate::malloc::tune();
    let cli = Cli::parse();
    let config = match cli::config(&cli) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("passgate: configuration error: {message}");
            return std::process::ExitCode::from(2);
        }
    };
    let filter = config.log.clone();
    let lines = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    match config.operations.log_format {
        LogFormat::Text => tracing_subscriber::registry()
            .with(lines.with_ansi(std::io::stderr().is_terminal()))
            .with(filter)
            .init(),
        // One object a line; a request's lines carry its span (`id`, method, path).
        LogFormat::Json => tracing_subscriber::registry()
            .with(lines.json().with_current_span(true).with_span_list(false))
            .with(filter)
            .init(),
    }
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("passgate: cannot start the runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            None | Some(Command::Serve { .. }) => passgate::serve(config).await.map(|()| None),
            Some(command) => cli::run_admin(&config, command).await.map(Some),
        }
    });
    match result {
        Ok(Some(output)) if !output.is_empty() => {
            println!("{output}");
            std::process::ExitCode::SUCCESS
        }
        Ok(_) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("passgate: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Half the cores run async work (at least one thread): on every request the other half
/// runs the SQLite connection threads, and during logins the argon2 threads (one per core,
/// see `Hasher`). On 2 cores one worker thread cost about a quarter less CPU per request
/// than two, which kept waking each other for the database's replies (BENCHMARKS.md).
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(Ord::max(cores / 2, 1))
        // Hashing has threads of its own; the blocking pool serves only rare file and DNS work.
        .max_blocking_threads(16)
        .enable_all()
        .build()
}
