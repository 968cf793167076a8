//! `service install` and `service show`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::lists::read_password;
use super::{Context, Output};
use crate::error::Result;
use crate::service::{self, InstallRequest, ServiceReport};
use crate::trust_store;

#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Install a service's certificate after validating its chain against a trust list.
    Install(InstallArgs),
    /// Show a service's installed certificate and its history.
    Show(ShowArgs),
}

impl ServiceCommand {
    pub fn name(&self) -> &'static str {
        match self {
            ServiceCommand::Install(_) => "service install",
            ServiceCommand::Show(_) => "service show",
        }
    }
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Name of the service, such as tomcat.
    pub name: String,

    /// The service certificate, optionally followed by its intermediates (any format import reads).
    #[arg(long, value_name = "FILE")]
    pub cert: PathBuf,

    /// The private key (PKCS#8 PEM); it must match the certificate.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,

    /// The trust list the chain must validate to.
    #[arg(long, value_name = "NAME", default_value = trust_store::TOMCAT_LIST)]
    pub list: String,

    /// Environment variable that contains the password when --cert is PKCS#12.
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Name of the service.
    pub name: String,
}

/// Runs a `service` subcommand.
pub fn run(command: ServiceCommand, context: &Context) -> Result<Output> {
    let store = context.open_store()?;
    match command {
        ServiceCommand::Install(args) => {
            let request = InstallRequest {
                name: args.name,
                cert: args.cert,
                key: args.key,
                list: args.list,
            };
            let env = args.password_env;
            let mut password = |path: &Path| read_password(env.as_deref(), path);
            let report = service::install(&store, &request, &mut password)?;

            let mut text = if report.unchanged {
                format!(
                    "Service {} already has this certificate; nothing changed.\n",
                    report.name
                )
            } else {
                format!(
                    "Installed the certificate of service {} (validated against list {}).\n",
                    report.name, report.list
                )
            };
            let _ = writeln!(text, "  path: {}", report.path.join(" <- "));
            render(&mut text, &report);
            Ok(Output::ok(&report, text))
        }
        ServiceCommand::Show(args) => {
            let report = service::show(&store, &args.name)?;
            let mut text = format!("service {} (list {})\n", report.name, report.list);
            render(&mut text, &report);
            Ok(Output::ok(&report, text))
        }
    }
}

fn render(text: &mut String, report: &ServiceReport) {
    let cert = &report.certificate;
    let _ = writeln!(text, "  subject    {}", cert.subject);
    let _ = writeln!(text, "  issuer     {}", cert.issuer);
    let _ = writeln!(text, "  SHA-256    {}", cert.fingerprint_sha256);
    let _ = writeln!(text, "  expires    {}", cert.not_after);
    let _ = writeln!(text, "  installed  {}", report.installed);
    for old in &report.history {
        let _ = writeln!(
            text,
            "  previously {} ({}), installed {}",
            old.subject, old.fingerprint_sha256, old.installed
        );
    }
    for warning in &report.warnings {
        let _ = writeln!(text, "warning: {warning}");
    }
}
