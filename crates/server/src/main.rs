//! The `accueil` binary: parses the command line and hands over to [`accueil_server::cli`].

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    accueil_server::cli::run(accueil_server::cli::Cli::parse())
}
