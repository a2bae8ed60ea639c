//! The `toktok` binary: parse the command line, load the configuration,
//! start tracing, and hand over to the library.

use clap::Parser as _;
use toktok::cli::{self, Cli};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let config = match cli::load_config(&cli) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("toktok: configuration error: {e:#}");
            return std::process::ExitCode::from(2);
        }
    };
    let (json, level) = cli::log_settings(&cli, &config);
    if let Err(e) = toktok::telemetry::init(json, &level) {
        eprintln!("toktok: {e:#}");
        return std::process::ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("toktok: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli, config)) {
        Ok(0) => std::process::ExitCode::SUCCESS,
        Ok(code) => std::process::ExitCode::from(u8::try_from(code).unwrap_or(1)),
        // A reader that stopped early (`toktok openapi | head`) is not an
        // error worth a word.
        Err(e) if cli::is_broken_pipe(&e) => std::process::ExitCode::SUCCESS,
        // Printed once, here; not logged as well.
        Err(e) => {
            eprintln!("toktok: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
