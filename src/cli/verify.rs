//! `verify` and `verify-host`.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::trust::ConnectArgs;
use super::{block_on, Context, Output};
use crate::anchors;
use crate::capture;
use crate::cert::CertSummary;
use crate::error::{Error, Result};
use crate::formats;
use crate::names::{self, NameMatch, PresentedNames, Profile, ReferenceName};
use crate::target::Target;
use crate::trust_store;
use crate::verify::{self, VerifyOptions, VerifyReport};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The leaf certificate (PEM or DER). Further certificates in the file are used as intermediates.
    pub leaf: PathBuf,

    /// Trust only the CA certificates in this file (PEM or DER) instead of a store list.
    #[arg(long, value_name = "FILE", conflicts_with = "list")]
    pub ca_file: Option<PathBuf>,

    /// Trust the certificates of this store list [default: presence].
    #[arg(long, value_name = "NAME")]
    pub list: Option<String>,

    /// Untrusted intermediate certificates (PEM or DER), in any order.
    #[arg(long, value_name = "FILE")]
    pub intermediates: Option<PathBuf>,

    /// Also check that the leaf names this host (DNS name or IP address).
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,

    /// Validate at this time (RFC 3339, e.g. 2027-01-31T12:00:00Z) instead of now.
    #[arg(long, value_name = "RFC3339")]
    pub at: Option<String>,

    /// Name-matching rules for --host: rfc6125, legacy or exact-san.
    #[arg(long, value_name = "PROFILE", default_value = "rfc6125")]
    pub profile: Profile,
}

#[derive(Debug, Args)]
pub struct VerifyHostArgs {
    /// The host to look for in the certificate: a DNS name or an IP address.
    pub host: String,

    /// Read the leaf from this file (the first certificate of a PEM or DER file).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "target",
        conflicts_with = "target"
    )]
    pub cert: Option<PathBuf>,

    /// Fetch the leaf from this server: host, host:port or https://host[:port]/path.
    #[arg(long, value_name = "TARGET")]
    pub target: Option<String>,

    #[command(flatten)]
    pub connect: ConnectArgs,

    /// Name-matching rules: rfc6125, legacy or exact-san.
    #[arg(long, value_name = "PROFILE", default_value = "rfc6125")]
    pub profile: Profile,
}

/// `gwtrust verify`.
pub fn verify(args: VerifyArgs, context: &Context) -> Result<Output> {
    let mut leaf_file = formats::read_certificates(&args.leaf)?;
    let leaf = leaf_file.remove(0);
    let mut intermediates = leaf_file;
    if let Some(path) = &args.intermediates {
        intermediates.extend(formats::read_certificates(path)?);
    }

    let options = VerifyOptions {
        at: parse_time(args.at.as_deref())?,
        host: args.host.as_deref().map(parse_host).transpose()?,
        profile: args.profile,
    };

    let anchors = match &args.ca_file {
        Some(path) => anchors::from_ca_file(path)?,
        None => {
            let list = args.list.as_deref().unwrap_or(trust_store::PRESENCE_LIST);
            let store = context.open_store()?;
            anchors::from_store_list(&store, list)?
        }
    };

    let report = verify::verify_chain(&leaf, &intermediates, &anchors, &options)?;
    let mut text = String::new();
    render_verify(&mut text, &report, &args);
    if report.valid {
        Ok(Output::ok(&report, text))
    } else {
        Ok(Output::check_failed(&report, text))
    }
}

fn parse_time(value: Option<&str>) -> Result<time::OffsetDateTime> {
    let Some(value) = value else {
        return Ok(time::OffsetDateTime::now_utc());
    };
    time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339).map_err(
        |err| Error::InvalidArgument {
            what: "--at",
            value: value.to_string(),
            reason: format!("{err}; write an RFC 3339 time such as 2027-01-31T12:00:00Z"),
        },
    )
}

fn parse_host(value: &str) -> Result<ReferenceName> {
    ReferenceName::parse(value).map_err(|err| Error::InvalidArgument {
        what: "host",
        value: value.to_string(),
        reason: err.to_string(),
    })
}

fn render_verify(text: &mut String, report: &VerifyReport, args: &VerifyArgs) {
    let anchors = match &args.ca_file {
        Some(path) => format!("--ca-file {}", path.display()),
        None => format!(
            "store list {}",
            args.list.as_deref().unwrap_or(trust_store::PRESENCE_LIST)
        ),
    };
    let _ = writeln!(
        text,
        "Leaf {} ({})",
        report.leaf.subject, report.leaf.fingerprint_sha256
    );
    let _ = writeln!(
        text,
        "Validated at {} against {} trust anchor(s) from {anchors}, with {} intermediate(s) offered.",
        report.at, report.anchors_offered, report.intermediates_offered
    );

    if report.chain.is_empty() {
        let _ = writeln!(text, "No valid path to a trust anchor.");
    } else {
        let _ = writeln!(text, "Path:");
        for (index, step) in report.chain.iter().enumerate() {
            let fingerprint = step
                .fingerprint_sha256
                .as_deref()
                .unwrap_or("(no certificate: webpki-roots anchor)");
            let _ = writeln!(text, "  [{index}] {}: {}", step.role, step.subject);
            let _ = writeln!(text, "      SHA-256 {fingerprint}");
            if let Some(source) = &step.source {
                let _ = writeln!(text, "      from {source}");
            }
        }
    }

    // The name check's warnings are part of report.warnings, printed below.
    if let Some(check) = &report.name_check {
        render_name_check(text, check, false);
    }
    for failure in &report.failures {
        let _ = writeln!(text, "FAILED ({}): {}", failure.kind, failure.message);
        if let Some(cert) = &failure.certificate {
            if let Some(fingerprint) = &cert.fingerprint_sha256 {
                let _ = writeln!(text, "      SHA-256 {fingerprint}");
            }
        }
    }
    for warning in &report.warnings {
        let _ = writeln!(text, "warning: {warning}");
    }
    let verdict = if report.valid { "VALID" } else { "INVALID" };
    let _ = writeln!(text, "Result: {verdict}");
}

/// Output of `verify-host`.
#[derive(Debug, Serialize)]
struct VerifyHostReport {
    host: String,
    /// `file PATH` or `server TARGET`.
    source: String,
    leaf: CertSummary,
    name_check: NameMatch,
}

/// `gwtrust verify-host`.
pub fn verify_host(args: VerifyHostArgs, _context: &Context) -> Result<Output> {
    let reference = parse_host(&args.host)?;

    let (leaf, source) = match (&args.cert, &args.target) {
        (Some(path), _) => {
            let leaf = formats::read_certificates(path)?.remove(0);
            (leaf, format!("file {}", path.display()))
        }
        (None, Some(target)) => {
            let target = Target::parse(target)?;
            let options = args.connect.options()?;
            let captured = block_on(capture::capture(&target, &options))??;
            let leaf =
                captured
                    .chain
                    .into_iter()
                    .next()
                    .ok_or_else(|| Error::InvalidCertificate {
                        what: format!("presented by {}", target.authority()),
                        reason: "no certificate was presented".into(),
                    })?;
            (leaf, format!("server {}", target.authority()))
        }
        (None, None) => unreachable!("clap requires --cert or --target"),
    };

    let parsed = crate::cert::parse(&leaf).map_err(|reason| Error::InvalidCertificate {
        what: format!("leaf from {source}"),
        reason,
    })?;
    let presented = PresentedNames::from_cert(&parsed);
    let name_check = names::match_host(&reference, &presented, args.profile);
    let report = VerifyHostReport {
        host: args.host.clone(),
        source,
        leaf: CertSummary::from_parsed(&leaf, &parsed),
        name_check,
    };

    let mut text = String::new();
    let _ = writeln!(
        text,
        "Leaf from {}: {} ({})",
        report.source, report.leaf.subject, report.leaf.fingerprint_sha256
    );
    render_name_check(&mut text, &report.name_check, true);
    if report.name_check.is_match() {
        Ok(Output::ok(&report, text))
    } else {
        Ok(Output::check_failed(&report, text))
    }
}

/// Renders a name check: the verdict, the matching name and rule, every rejected name, notes,
/// and the warnings when `with_warnings`.
fn render_name_check(text: &mut String, check: &NameMatch, with_warnings: bool) {
    match &check.matched {
        Some(matched) => {
            let _ = writeln!(
                text,
                "Host {} MATCHES under the {} profile: {matched}",
                check.reference, check.profile
            );
        }
        None => {
            let _ = writeln!(
                text,
                "Host {} does NOT match under the {} profile.",
                check.reference, check.profile
            );
        }
    }
    if let Some(error) = &check.reference_error {
        let _ = writeln!(text, "  invalid host: {error}");
    }
    for rejected in &check.rejected {
        let _ = writeln!(text, "  not matched: {rejected}");
    }
    if check.matched.is_none() && check.rejected.is_empty() && check.reference_error.is_none() {
        let _ = writeln!(
            text,
            "  the certificate presents no dNSName SAN, iPAddress SAN or subject CN"
        );
    }
    if with_warnings {
        for warning in &check.warnings {
            let _ = writeln!(text, "warning: {warning}");
        }
    }
    for note in &check.notes {
        let _ = writeln!(text, "note: {note}");
    }
}
