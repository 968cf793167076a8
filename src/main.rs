//! The gwtrust binary: parse the command line and dispatch to the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let code = match gwtrust::cli::Cli::try_parse() {
        Ok(cli) => gwtrust::cli::run(cli),
        Err(error) => gwtrust::cli::render_usage_error(error),
    };
    std::process::ExitCode::from(code)
}
