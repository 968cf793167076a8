//! `audit`: check store lists and certificate files, and report findings by severity.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{Context, Output};
use crate::audit::{self, Input, Options, Report, Severity};
use crate::error::{Error, Result};

/// The lowest severity that makes `audit` exit 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Never,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Certificate files (PEM bundles, DER) or directories of them, each audited as a CA list.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Audit this store list, and repeat the option for more [default: every list when no PATH is given].
    #[arg(long = "list", value_name = "NAME")]
    pub lists: Vec<String>,

    /// Check validity at this time (RFC 3339, e.g. 2027-01-31T00:00:00Z) instead of now.
    #[arg(long, value_name = "RFC3339")]
    pub at: Option<String>,

    /// Report certificates that expire within this many days as expires-soon.
    #[arg(long, value_name = "DAYS", default_value_t = audit::DEFAULT_WARN_DAYS)]
    pub warn_days: u32,

    /// Exit 1 when a finding of this severity or worse is found.
    #[arg(long, value_enum, value_name = "SEVERITY", default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
}

pub fn audit(args: AuditArgs, context: &Context) -> Result<Output> {
    let at = match &args.at {
        Some(text) => {
            time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .map_err(|err| Error::InvalidArgument {
                    what: "--at",
                    value: text.clone(),
                    reason: format!("{err}; expected RFC 3339, e.g. 2027-01-31T00:00:00Z"),
                })?
        }
        None => time::OffsetDateTime::now_utc(),
    };
    let options = Options {
        at,
        warn_days: args.warn_days,
    };

    // The store is opened only when lists are audited, and never created by an audit.
    let mut inputs = Vec::new();
    if !args.lists.is_empty() || args.paths.is_empty() {
        let dir = context.store_dir()?;
        if !dir.is_dir() {
            return Err(Error::InvalidArgument {
                what: "store",
                value: dir.display().to_string(),
                reason: "no store in this directory; pass --store DIR, or give files or directories to audit".into(),
            });
        }
        let store = gwtrust_store::Store::open(&dir)?;
        inputs = audit::list_inputs(&store, &args.lists)?;
    }
    inputs.extend(args.paths.iter().cloned().map(Input::Path));

    let report = audit::audit(inputs, &options);
    let text = render(&report);
    let failed = match args.fail_on {
        FailOn::Error => report.has_at_least(Severity::Error),
        FailOn::Warning => report.has_at_least(Severity::Warning),
        FailOn::Never => false,
    };
    if failed {
        Ok(Output::check_failed(&report, text))
    } else {
        Ok(Output::ok(&report, text))
    }
}

/// Findings grouped by severity, worst first, then one summary line.
fn render(report: &Report) -> String {
    let mut text = String::new();
    for (severity, heading) in [
        (Severity::Error, "Errors"),
        (Severity::Warning, "Warnings"),
        (Severity::Info, "Info"),
    ] {
        let group: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.severity == severity)
            .collect();
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(text, "{heading} ({}):", group.len());
        for finding in group {
            let _ = writeln!(
                text,
                "  {}: {}",
                finding.id.id(),
                finding.subject.as_deref().unwrap_or("(no certificate)")
            );
            let _ = write!(text, "    {}", finding.location);
            if let Some(fingerprint) = &finding.fingerprint {
                let _ = write!(text, ", SHA-256 {fingerprint}");
            }
            let _ = writeln!(text);
            let _ = writeln!(text, "    {}", finding.message);
            let _ = writeln!(text, "    fix: {}", finding.fix);
        }
        let _ = writeln!(text);
    }

    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let _ = writeln!(
        text,
        "Audited {} from {} in {:.2} s: {}, {}, {} info.",
        plural(report.certificates, "certificate"),
        plural(report.inputs.len(), "input"),
        report.elapsed_seconds,
        plural(report.errors, "error"),
        plural(report.warnings, "warning"),
        report.info
    );
    text
}
