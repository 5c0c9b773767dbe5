//! The `passgate` binary: parse the command line and hand over to the library.

use clap::Parser;
use passgate::cli::{self, Cli, Command};
use tracing_subscriber::EnvFilter;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let config = match cli::config(&cli) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("passgate: configuration error: {message}");
            return std::process::ExitCode::from(2);
        }
    };
    let filter = std::env::var("PASSGATE_LOG").unwrap_or_else(|_| "info".into());
    let filter = match EnvFilter::try_new(&filter) {
        Ok(filter) => filter,
        Err(_) => {
            eprintln!(
                "passgate: configuration error: PASSGATE_LOG: '{filter}' is not a tracing filter"
            );
            return std::process::ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("passgate: cannot start the runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            None | Some(Command::Serve { .. }) => {
                passgate::server::serve(config).await.map(|()| None)
            }
            Some(command) => cli::run_admin(&config, command).await.map(Some),
        }
    });
    match result {
        Ok(Some(output)) => {
            println!("{output}");
            std::process::ExitCode::SUCCESS
        }
        Ok(None) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("passgate: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
