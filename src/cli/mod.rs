//! The command line: argument definitions, one entry point per command, and rendering.
//!
//! Every command returns an [`Output`] or an [`Error`]; both are rendered here, once, as text or
//! as one JSON document with `--json`. The JSON shape is the same for every command:
//!
//! ```text
//! {"command": "pin", "status": "ok", "exit_code": 0, "result": { ... }}
//! {"command": "pin", "status": "check_failed", "exit_code": 1, "error": {"kind": "name_mismatch", "message": "..."}}
//! ```

mod audit;
mod gateway;
mod lab;
mod lists;
mod service;
mod trust;
mod verify;

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::error::{Error, ExitStatus, Result};

const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  a check failed (name mismatch, fingerprint mismatch, no root found, host not an FQDN,
     certificate rejected by a list's policy, path validation failed, key does not match,
     pin cancelled, an audit finding at or above --fail-on, a failed gateway check)
  2  usage or input error (bad argument, unreadable or invalid file, confirmation missing,
     unknown list or fingerprint prefix)
  3  network or TLS error (resolve, connect, timeout, handshake, cannot listen; for
     gateway check: the host, or with --hosts every host, was unreachable)
  4  store error (store in use by another process, unreadable, or not writable)";

/// gwtrust: trust-store manager for presence gateways.
///
/// Fetches an Exchange server's certificate chain over TLS and pins only its root CA, the way a
/// presence server's trust store needs it. Checks gateways and audits stores, and makes lab CAs
/// and OWA certificates for test servers.
#[derive(Debug, Parser)]
#[command(name = "gwtrust", version, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    /// Store directory [default: $GWTRUST_STORE, else $XDG_DATA_HOME/gwtrust, else ~/.local/share/gwtrust]
    #[arg(long, global = true, value_name = "DIR")]
    pub store: Option<PathBuf>,

    /// Print one JSON document on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Capture the certificate chain a server presents and report on it; trusts nothing.
    Fetch(trust::FetchArgs),
    /// Fetch a server's chain and store only its root CA, after the fingerprint is confirmed.
    Pin(trust::PinArgs),
    /// List the certificates in the store; `list create` and `list delete` manage trust lists.
    List(trust::ListArgs),
    /// List the trust lists with their policies.
    Lists(lists::ListsArgs),
    /// Import certificates from files or directories into a trust list, as its policy admits.
    Import(lists::ImportArgs),
    /// Write a trust list as PEM, DER files, an OpenSSL hashed directory, PKCS#7 or PKCS#12.
    Export(lists::ExportArgs),
    /// Install and show the certificates of local services, such as Tomcat.
    #[command(subcommand)]
    Service(service::ServiceCommand),
    /// Show one stored certificate by fingerprint prefix.
    Show(trust::ShowArgs),
    /// Remove a stored certificate by fingerprint prefix.
    Remove(trust::RemoveArgs),
    /// Validate a leaf's path to a trust anchor, and optionally its host name.
    Verify(verify::VerifyArgs),
    /// Check whether a certificate names a host, and why each presented name does or does not match.
    VerifyHost(verify::VerifyHostArgs),
    /// Make lab CAs and server certificates, and serve them like OWA.
    #[command(subcommand)]
    Lab(lab::LabCommand),
    /// Run the main job end to end on loopback with a generated lab CA.
    Demo(lab::DemoArgs),
    /// Check Exchange servers as presence calendar gateways: a checklist with fixes.
    #[command(subcommand)]
    Gateway(gateway::GatewayCommand),
    /// Audit store lists and certificate files: expired, weak, misplaced and duplicate certificates.
    Audit(audit::AuditArgs),
}

impl Command {
    fn name(&self) -> &'static str {
        match self {
            Command::Fetch(_) => "fetch",
            Command::Pin(_) => "pin",
            Command::List(args) => match &args.action {
                Some(lists::ListAction::Create(_)) => "list create",
                Some(lists::ListAction::Delete(_)) => "list delete",
                None => "list",
            },
            Command::Lists(_) => "lists",
            Command::Import(_) => "import",
            Command::Export(_) => "export",
            Command::Service(command) => command.name(),
            Command::Show(_) => "show",
            Command::Remove(_) => "remove",
            Command::Verify(_) => "verify",
            Command::VerifyHost(_) => "verify-host",
            Command::Lab(lab::LabCommand::Ca(_)) => "lab ca",
            Command::Lab(lab::LabCommand::Server(_)) => "lab server",
            Command::Lab(lab::LabCommand::Serve(_)) => "lab serve",
            Command::Demo(_) => "demo",
            Command::Gateway(gateway::GatewayCommand::Check(_)) => "gateway check",
            Command::Audit(_) => "audit",
        }
    }
}

/// Global options every command can read.
pub struct Context {
    pub store: Option<PathBuf>,
    pub json: bool,
}

impl Context {
    /// Returns the store directory from `--store`, the environment, or the default.
    pub fn store_dir(&self) -> Result<PathBuf> {
        crate::trust_store::store_dir(self.store.as_deref())
    }

    /// Opens the store, creating it and its built-in lists on first use.
    pub fn open_store(&self) -> Result<gwtrust_store::Store> {
        crate::trust_store::open(&self.store_dir()?)
    }
}

/// A command's result: the JSON value, the text for a person, and the exit status.
pub struct Output {
    pub result: serde_json::Value,
    pub text: String,
    pub status: ExitStatus,
}

impl Output {
    /// Builds a successful output.
    pub fn ok(result: impl serde::Serialize, text: String) -> Output {
        Output {
            result: to_json(result),
            text,
            status: ExitStatus::Ok,
        }
    }

    /// Builds an output whose checks failed: printed in full, with exit code 1.
    pub fn check_failed(result: impl serde::Serialize, text: String) -> Output {
        Output {
            result: to_json(result),
            text,
            status: ExitStatus::CheckFailed,
        }
    }
}

fn to_json(value: impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(value)
        .unwrap_or_else(|err| serde_json::json!({ "serialization_error": err.to_string() }))
}

/// Runs a parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> u8 {
    let context = Context {
        store: cli.store,
        json: cli.json,
    };
    let name = cli.command.name();

    // A fleet check with --json prints JSON lines, not one document.
    if let Command::Gateway(gateway::GatewayCommand::Check(args)) = &cli.command {
        if context.json && args.is_fleet() {
            return gateway::check_fleet_json_lines(args, &context);
        }
    }

    let result = match cli.command {
        Command::Fetch(args) => trust::fetch(args, &context),
        Command::Pin(args) => trust::pin(args, &context),
        Command::List(mut args) => match args.action.take() {
            Some(action) => lists::run_action(action, &context),
            None => trust::list(args, &context),
        },
        Command::Lists(args) => lists::lists(args, &context),
        Command::Import(args) => lists::import(args, &context),
        Command::Export(args) => lists::export(args, &context),
        Command::Service(command) => service::run(command, &context),
        Command::Show(args) => trust::show(args, &context),
        Command::Remove(args) => trust::remove(args, &context),
        Command::Verify(args) => verify::verify(args, &context),
        Command::VerifyHost(args) => verify::verify_host(args, &context),
        Command::Lab(command) => lab::run(command, &context),
        Command::Demo(args) => lab::demo(args, &context),
        Command::Gateway(command) => gateway::run(command, &context),
        Command::Audit(args) => audit::audit(args, &context),
    };

    render(name, context.json, result)
}

/// Prints a command-line parsing error and returns its exit code: clap's own text, or with
/// `--json` anywhere on the command line, the usual JSON document with `error.kind` `usage`.
pub fn render_usage_error(error: clap::Error) -> u8 {
    use clap::error::ErrorKind;

    let informational = matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    let json = std::env::args_os().any(|arg| arg == "--json");
    if informational || !json {
        let _ = error.print();
        return if error.use_stderr() {
            ExitStatus::Usage.code()
        } else {
            0
        };
    }

    let message = error.render().to_string();
    let message = message.trim().trim_start_matches("error: ");
    let document = serde_json::json!({
        "command": command_from_args(),
        "status": ExitStatus::Usage,
        "exit_code": ExitStatus::Usage.code(),
        "error": { "kind": "usage", "message": message },
    });
    // A closed pipe (`gwtrust ... | head`) is not an error worth reporting.
    let _ = writeln!(std::io::stdout(), "{document:#}");
    ExitStatus::Usage.code()
}

/// Returns the subcommand named on the command line, as `lab ca`, or None when there is none,
/// so a usage error's JSON names the command like every other error does.
fn command_from_args() -> Option<String> {
    use clap::CommandFactory;

    let mut command = Cli::command();
    let mut names = Vec::new();
    for arg in std::env::args().skip(1) {
        let Some(sub) = command.find_subcommand(&arg).cloned() else {
            continue;
        };
        names.push(sub.get_name().to_string());
        if !sub.has_subcommands() {
            break;
        }
        command = sub;
    }
    (!names.is_empty()).then(|| names.join(" "))
}

/// Prints an output or an error, once, and returns the exit code.
fn render(command: &str, json: bool, result: Result<Output>) -> u8 {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();

    let status = match result {
        Ok(output) => {
            let status = output.status;
            if json {
                let document = serde_json::json!({
                    "command": command,
                    "status": status,
                    "exit_code": status.code(),
                    "result": output.result,
                });
                let _ = writeln!(out, "{document:#}");
            } else {
                let _ = write!(out, "{}", output.text);
            }
            status
        }
        Err(error) => {
            let status = error.exit_status();
            if json {
                let document = serde_json::json!({
                    "command": command,
                    "status": status,
                    "exit_code": status.code(),
                    "error": { "kind": error.kind(), "message": error.to_string() },
                });
                let _ = writeln!(out, "{document:#}");
            } else {
                eprintln!("gwtrust {command}: error: {error}");
            }
            status
        }
    };
    let _ = out.flush();
    status.code()
}

/// Runs an async workflow on a multi-threaded tokio runtime.
pub(crate) fn block_on<F: std::future::Future>(future: F) -> Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| Error::Network(format!("cannot start the async runtime: {err}")))?;
    Ok(runtime.block_on(future))
}
