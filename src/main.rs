//! The gwtrust binary: parse the command line and dispatch to the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = gwtrust::cli::Cli::parse();
    std::process::ExitCode::from(gwtrust::cli::run(cli))
}
