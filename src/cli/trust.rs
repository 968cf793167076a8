//! `fetch`, `pin`, `list`, `show` and `remove`.

use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use gwtrust_store::{Entry, Fingerprint};
use serde::Serialize;

use super::{block_on, Context, Output};
use crate::anchors;
use crate::capture::{CaptureOptions, Sni};
use crate::chain::{AnchorLookup, ChainReport, PinRoot, Root, RootSource, TrustAnchorReport};
use crate::error::{Error, Result};
use crate::fetch::{AnchorSources, FetchReport};
use crate::formats;
use crate::pin::{self, Confirmation, PinAction, PinOptions, PinReport};
use crate::target::Target;
use crate::trust_store;
use crate::verify::TimeStatus;

/// How to reach the server: shared by `fetch` and `pin`.
#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// Dial this ADDR:PORT instead of resolving TARGET; TARGET's host is still used for SNI and name checks.
    #[arg(long, value_name = "ADDR:PORT")]
    pub connect: Option<String>,

    /// Send this server name indication instead of TARGET's host.
    #[arg(long, value_name = "NAME", conflicts_with = "no_sni")]
    pub sni: Option<String>,

    /// Send no server name indication, as very old clients do.
    #[arg(long)]
    pub no_sni: bool,

    /// Seconds allowed for connecting and the TLS handshake together.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub timeout: f64,
}

impl ConnectArgs {
    pub fn options(&self) -> Result<CaptureOptions> {
        if !(self.timeout.is_finite() && self.timeout > 0.0 && self.timeout <= 3600.0) {
            return Err(Error::InvalidArgument {
                what: "--timeout",
                value: self.timeout.to_string(),
                reason: "expected a number of seconds above 0 and at most 3600".into(),
            });
        }
        if let Some(connect) = &self.connect {
            crate::target::check_connect(connect)?;
        }
        let sni = match (&self.sni, self.no_sni) {
            (Some(name), _) => Sni::Name(name.clone()),
            (None, true) => Sni::Disabled,
            (None, false) => Sni::FromTarget,
        };
        Ok(CaptureOptions {
            connect: self.connect.clone(),
            sni,
            timeout: Duration::from_secs_f64(self.timeout),
        })
    }
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The server: host, host:port or https://host[:port]/path (port 443 by default).
    pub target: String,

    #[command(flatten)]
    pub connect: ConnectArgs,

    /// Write the presented chain as PEM, in the order the server sent it.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// A file of CA certificates (PEM or DER) to look for the chain's trust anchor in.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PinArgs {
    /// The server: host, host:port or https://host[:port]/path (port 443 by default).
    pub target: String,

    #[command(flatten)]
    pub connect: ConnectArgs,

    /// The trust list to pin into.
    #[arg(long, value_name = "NAME", default_value = trust_store::PRESENCE_LIST)]
    pub list: String,

    /// A file of CA certificates (PEM or DER) to look for the root in when the server does not send it.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,

    /// Accept the root without asking; use only when the fingerprint was checked another way.
    #[arg(long, conflicts_with = "expect_fingerprint")]
    pub yes: bool,

    /// Accept the root only if its SHA-256 fingerprint is this (hex, colons allowed).
    #[arg(long, value_name = "HEX")]
    pub expect_fingerprint: Option<String>,

    /// Pin even if the host is a single label or an IP address.
    #[arg(long)]
    pub allow_non_fqdn: bool,

    /// Pin even if the host does not match the leaf certificate.
    #[arg(long)]
    pub allow_name_mismatch: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ListArgs {
    /// Only this list [default: every list].
    #[arg(long, value_name = "NAME")]
    pub list: Option<String>,

    #[command(subcommand)]
    pub action: Option<super::lists::ListAction>,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A prefix of the SHA-256 fingerprint (hex, colons allowed).
    pub fingerprint_prefix: String,

    /// Print the certificate as PEM.
    #[arg(long, conflicts_with = "der")]
    pub pem: bool,

    /// Write the certificate as DER to stdout (redirect it to a file).
    #[arg(long)]
    pub der: bool,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// A prefix of the SHA-256 fingerprint (hex, colons allowed).
    pub fingerprint_prefix: String,

    /// Remove it only from this list [default: from every list].
    #[arg(long, value_name = "NAME")]
    pub list: Option<String>,
}

/// `gwtrust fetch`.
pub fn fetch(args: FetchArgs, context: &Context) -> Result<Output> {
    let target = Target::parse(&args.target)?;
    let options = args.connect.options()?;
    let sources = AnchorSources {
        store_dir: context.store_dir().map_err(|err| err.to_string()),
        ca_file: args
            .ca_file
            .as_deref()
            .map(anchors::from_ca_file)
            .transpose()?,
        system: true,
    };

    let (mut report, captured) = block_on(crate::fetch::fetch(&target, &options))??;
    report.chain.trust_anchor = Some(crate::fetch::trust_anchor_report(
        &target, &captured, &sources,
    )?);

    if let Some(path) = &args.out {
        let pem = formats::to_pem_bundle(captured.chain.iter().map(|c| c.as_ref()));
        crate::files::write_atomic(path, pem.as_bytes(), crate::files::PUBLIC_MODE)?;
    }

    let mut text = String::new();
    render_fetch(&mut text, &report);
    if let Some(path) = &args.out {
        let _ = writeln!(
            text,
            "Chain written to {} ({} certificates, as sent).",
            path.display(),
            captured.chain.len()
        );
    }
    Ok(Output::ok(&report, text))
}

/// `gwtrust pin`.
pub fn pin(args: PinArgs, context: &Context) -> Result<Output> {
    let target = Target::parse(&args.target)?;
    let capture = args.connect.options()?;
    let expected = args
        .expect_fingerprint
        .as_deref()
        .map(|hex| {
            Fingerprint::from_hex(hex).map_err(|_| Error::InvalidArgument {
                what: "--expect-fingerprint",
                value: hex.to_string(),
                reason: "expected 64 hex digits (a SHA-256 fingerprint), colons allowed".into(),
            })
        })
        .transpose()?;

    let store_dir = context.store_dir()?;
    let options = PinOptions {
        list: args.list.clone(),
        ca_file: args.ca_file.clone(),
        allow_non_fqdn: args.allow_non_fqdn,
        allow_name_mismatch: args.allow_name_mismatch,
    };

    let mut ask = ask_on_terminal;
    let confirmation = match (args.yes, expected) {
        (true, _) => Confirmation::Yes,
        (false, Some(fingerprint)) => Confirmation::Expect(fingerprint),
        (false, None) if std::io::stdin().is_terminal() => Confirmation::Ask(&mut ask),
        (false, None) => Confirmation::Unavailable,
    };

    let report = block_on(pin::pin(
        &store_dir,
        &target,
        &capture,
        &options,
        confirmation,
    ))??;
    let mut text = String::new();
    render_pin(&mut text, &report);
    Ok(Output::ok(&report, text))
}

/// Shows the root on stderr and reads y/N from the terminal.
fn ask_on_terminal(root: &Root) -> bool {
    let mut stderr = std::io::stderr();
    let _ = writeln!(stderr, "Root to trust:");
    let _ = writeln!(stderr, "  subject  {}", root.summary.subject);
    let _ = writeln!(stderr, "  SHA-256  {}", root.summary.fingerprint_sha256);
    let _ = writeln!(stderr, "  expires  {}", root.summary.not_after);
    let _ = write!(
        stderr,
        "Check this fingerprint with the CA's owner. Trust this root? [y/N] "
    );
    let _ = stderr.flush();

    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() {
        return false;
    }
    matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// One stored certificate as `list` and `show` print it.
#[derive(Debug, Serialize)]
struct StoredCert {
    list: String,
    fingerprint_sha256: String,
    subject: String,
    issuer: String,
    not_after: String,
    is_ca: bool,
    self_signed: bool,
    hosts: Vec<String>,
    source: String,
    added: String,
}

impl StoredCert {
    fn from_entry(entry: &Entry) -> Result<StoredCert> {
        let summary = pin::summarise_entry(entry)?;
        Ok(StoredCert {
            list: entry.list.clone(),
            fingerprint_sha256: entry.fingerprint.to_string(),
            subject: summary.subject,
            issuer: summary.issuer,
            not_after: summary.not_after,
            is_ca: summary.is_ca,
            self_signed: summary.self_signed,
            hosts: entry.hosts.clone(),
            source: entry.source.clone(),
            added: entry.added.clone(),
        })
    }
}

#[derive(Debug, Serialize)]
struct ListReport {
    store: String,
    lists: Vec<ListSection>,
}

#[derive(Debug, Serialize)]
struct ListSection {
    name: String,
    policy: String,
    certificates: Vec<StoredCert>,
}

/// `gwtrust list`.
pub fn list(args: ListArgs, context: &Context) -> Result<Output> {
    let dir = context.store_dir()?;
    let store = trust_store::open(&dir)?;

    let infos = match &args.list {
        Some(name) => vec![store
            .list_info(name)?
            .ok_or_else(|| gwtrust_store::StoreError::ListNotFound { name: name.clone() })?],
        None => store.lists()?,
    };

    let mut sections = Vec::new();
    for info in infos {
        let certificates = store
            .entries(&info.name)?
            .iter()
            .map(StoredCert::from_entry)
            .collect::<Result<Vec<_>>>()?;
        sections.push(ListSection {
            name: info.name,
            policy: info.policy.to_string(),
            certificates,
        });
    }
    let report = ListReport {
        store: dir.display().to_string(),
        lists: sections,
    };

    let mut text = format!("store {}\n", report.store);
    for section in &report.lists {
        let _ = writeln!(
            text,
            "list {} (policy {}): {} certificate(s)",
            section.name,
            section.policy,
            section.certificates.len()
        );
        for cert in &section.certificates {
            let _ = writeln!(text, "  {}  {}", cert.fingerprint_sha256, cert.subject);
            let _ = writeln!(
                text,
                "      expires {}; added by {} on {}; hosts: {}",
                cert.not_after,
                cert.source,
                cert.added,
                display_hosts(&cert.hosts)
            );
        }
    }
    Ok(Output::ok(&report, text))
}

/// `gwtrust show`.
pub fn show(args: ShowArgs, context: &Context) -> Result<Output> {
    let store = context.open_store()?;
    let entries = find_unique(&store, &args.fingerprint_prefix)?;
    let der = entries[0].der.clone();

    if args.der {
        if context.json {
            return Err(Error::InvalidArgument {
                what: "--der",
                value: args.fingerprint_prefix,
                reason: "--der writes raw DER, which cannot be combined with --json; the JSON result has the PEM".into(),
            });
        }
        if std::io::stdout().is_terminal() {
            return Err(Error::InvalidArgument {
                what: "--der",
                value: args.fingerprint_prefix,
                reason: "DER is binary: redirect stdout to a file, or use --pem".into(),
            });
        }
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(&der)
            .and_then(|_| stdout.flush())
            .map_err(|source| Error::WriteFile {
                path: PathBuf::from("<stdout>"),
                source,
            })?;
        // The DER is the whole output; nothing else may be printed.
        std::process::exit(0);
    }

    let certs = entries
        .iter()
        .map(StoredCert::from_entry)
        .collect::<Result<Vec<_>>>()?;
    let pem = formats::to_pem(&der);

    let mut text = String::new();
    if args.pem {
        text.push_str(&pem);
    } else {
        let first = &certs[0];
        let _ = writeln!(text, "subject      {}", first.subject);
        let _ = writeln!(text, "issuer       {}", first.issuer);
        let _ = writeln!(text, "SHA-256      {}", first.fingerprint_sha256);
        let _ = writeln!(
            text,
            "             {}",
            crate::cert::fingerprint_colons(&entries[0].fingerprint)
        );
        let _ = writeln!(text, "expires      {}", first.not_after);
        let _ = writeln!(text, "CA           {}", yes_no(first.is_ca));
        let _ = writeln!(text, "self-signed  {}", yes_no(first.self_signed));
        for cert in &certs {
            let _ = writeln!(
                text,
                "in list {}: added by {} on {}; hosts: {}",
                cert.list,
                cert.source,
                cert.added,
                display_hosts(&cert.hosts)
            );
        }
    }
    let result = serde_json::json!({ "certificates": certs, "pem": pem });
    Ok(Output::ok(result, text))
}

/// `gwtrust remove`.
pub fn remove(args: RemoveArgs, context: &Context) -> Result<Output> {
    let store = context.open_store()?;
    let entries = find_unique(&store, &args.fingerprint_prefix)?;
    let fingerprint = entries[0].fingerprint;
    let subject = entries[0].subject.clone();

    let removed_from = match &args.list {
        Some(list) => {
            if store.remove(list, &fingerprint)? {
                vec![list.clone()]
            } else {
                return Err(Error::InvalidArgument {
                    what: "fingerprint",
                    value: args.fingerprint_prefix,
                    reason: format!("{fingerprint} is not in list {list}; see `gwtrust list`"),
                });
            }
        }
        None => store.remove_everywhere(&fingerprint)?,
    };

    let text = format!(
        "Removed {subject} ({fingerprint}) from: {}\n",
        removed_from.join(", ")
    );
    let result = serde_json::json!({
        "fingerprint_sha256": fingerprint.to_string(),
        "subject": subject,
        "removed_from": removed_from,
    });
    Ok(Output::ok(result, text))
}

/// Finds the entries of exactly one certificate by fingerprint prefix.
fn find_unique(store: &gwtrust_store::Store, prefix: &str) -> Result<Vec<Entry>> {
    let entries = store.find_prefix(prefix)?;
    let mut fingerprints: Vec<Fingerprint> = entries.iter().map(|e| e.fingerprint).collect();
    fingerprints.sort();
    fingerprints.dedup();

    match fingerprints.len() {
        0 => Err(Error::InvalidArgument {
            what: "fingerprint prefix",
            value: prefix.to_string(),
            reason: "no stored certificate has this fingerprint prefix; see `gwtrust list`".into(),
        }),
        1 => Ok(entries),
        _ => {
            let candidates = fingerprints
                .iter()
                .map(|fp| {
                    let subject = entries
                        .iter()
                        .find(|e| e.fingerprint == *fp)
                        .map(|e| e.subject.as_str())
                        .unwrap_or_default();
                    format!("{fp} {subject}")
                })
                .collect::<Vec<_>>()
                .join("; ");
            Err(Error::InvalidArgument {
                what: "fingerprint prefix",
                value: prefix.to_string(),
                reason: format!(
                    "it matches {} certificates ({candidates}); give more hex digits",
                    fingerprints.len()
                ),
            })
        }
    }
}

/// Formats a count with its noun: "1 certificate", "2 certificates".
pub(crate) fn count(n: usize, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        _ => format!("{n} {noun}s"),
    }
}

fn display_hosts(hosts: &[String]) -> String {
    if hosts.is_empty() {
        "-".into()
    } else {
        hosts.join(", ")
    }
}

fn yes_no(value: bool) -> &'static str {
    if value {
        "yes"
    } else {
        "no"
    }
}

/// Renders the connection, the chain and the name check.
pub(crate) fn render_fetch(text: &mut String, report: &FetchReport) {
    let sni = report.sni.as_deref().unwrap_or("none");
    let _ = writeln!(
        text,
        "{} via {} (SNI {sni}): {}, {}",
        report.target, report.peer, report.protocol, report.cipher_suite
    );
    render_chain(text, &report.chain);

    let check = &report.name_check;
    match &check.matched {
        Some(matched) => {
            let _ = writeln!(text, "Host {} matches the leaf: {}", report.host, matched);
        }
        None => {
            let _ = writeln!(
                text,
                "Host {} does NOT match the leaf: {}",
                report.host,
                check.summary()
            );
        }
    }
    for warning in &check.warnings {
        let _ = writeln!(text, "warning: {warning}");
    }
}

fn render_chain(text: &mut String, chain: &ChainReport) {
    let _ = writeln!(
        text,
        "Presented chain ({}, in the order sent):",
        count(chain.certificates.len(), "certificate")
    );
    for cert in &chain.certificates {
        let s = &cert.summary;
        let _ = writeln!(text, "  [{}] {}: {}", cert.position, cert.role, s.subject);
        let _ = writeln!(text, "      issuer      {}", s.issuer);
        let _ = writeln!(text, "      serial      {}", s.serial);
        let validity = match cert.validity {
            TimeStatus::Valid => "",
            TimeStatus::Expired => " (EXPIRED)",
            TimeStatus::NotYetValid => " (NOT YET VALID)",
        };
        let _ = writeln!(
            text,
            "      valid       {} to {}{validity}",
            s.not_before, s.not_after
        );
        let _ = writeln!(text, "      SHA-256     {}", s.fingerprint_sha256);
        let _ = writeln!(
            text,
            "      CA {}, self-signed {}",
            yes_no(s.is_ca),
            yes_no(s.self_signed)
        );
    }

    let root = if chain.root_sent {
        "the server sent a root (harmless but wasteful: clients use their own copy of the root)"
    } else {
        "the server did not send a root"
    };
    let _ = writeln!(text, "Root sent: {root}.");

    let path = positions(&chain.path);
    if chain.order_valid {
        let _ = writeln!(
            text,
            "Order: valid, each certificate is issued by the next."
        );
    } else {
        let broken: Vec<String> = chain.certificates[..chain.certificates.len() - 1]
            .iter()
            .filter(|c| !c.issued_by_next)
            .map(|c| format!("[{}] is not issued by [{}]", c.position, c.position + 1))
            .collect();
        let _ = writeln!(text, "Order: NOT valid: {}.", broken.join(", "));
    }
    let path_order = if chain.path_in_order {
        "sent in order"
    } else {
        "sent OUT OF ORDER: each certificate must come right after the one it issued"
    };
    let _ = writeln!(text, "Path from the leaf: {path} ({path_order}).");

    if chain.duplicates.is_empty() {
        let _ = writeln!(text, "Duplicates: none.");
    }
    for duplicate in &chain.duplicates {
        let _ = writeln!(
            text,
            "Duplicate: [{}] is the same certificate as [{}]; send it once.",
            duplicate.position, duplicate.same_as
        );
    }
    if chain.stray.is_empty() {
        let _ = writeln!(text, "Stray certificates: none.");
    }
    for position in &chain.stray {
        let _ = writeln!(
            text,
            "Stray: [{position}] {} is on no path from the leaf; remove it from the server's chain.",
            chain.certificates[*position].summary.subject
        );
    }

    if chain.expired.is_empty() && chain.not_yet_valid.is_empty() {
        let _ = writeln!(
            text,
            "Validity: every certificate is valid at {}.",
            chain.checked_at
        );
    }
    for position in &chain.expired {
        let cert = &chain.certificates[*position].summary;
        let _ = writeln!(
            text,
            "EXPIRED: [{position}] {} expired on {}.",
            cert.subject, cert.not_after
        );
    }
    for position in &chain.not_yet_valid {
        let cert = &chain.certificates[*position].summary;
        let _ = writeln!(
            text,
            "NOT YET VALID: [{position}] {} is valid from {}.",
            cert.subject, cert.not_before
        );
    }

    if let Some(anchor) = &chain.trust_anchor {
        render_trust_anchor(text, anchor);
    }
}

fn positions(list: &[usize]) -> String {
    list.iter()
        .map(|p| format!("[{p}]"))
        .collect::<Vec<_>>()
        .join(" -> ")
}

fn render_trust_anchor(text: &mut String, report: &TrustAnchorReport) {
    let _ = writeln!(text, "Trust anchor for this chain:");
    let system = match &report.system_origin {
        Some(crate::anchors::SystemOrigin::Native { certificates, .. }) => {
            format!("system roots (platform store, {certificates} certificates)")
        }
        Some(crate::anchors::SystemOrigin::WebpkiRoots { reason }) => {
            format!("system roots (webpki-roots, because {reason})")
        }
        None => "system roots".to_string(),
    };
    for (label, lookup) in [
        ("store".to_string(), &report.store),
        ("--ca-file".to_string(), &report.ca_file),
        (system, &report.system),
    ] {
        let line = match lookup {
            AnchorLookup::Found { anchors } => anchors
                .iter()
                .map(|a| {
                    format!(
                        "found in {}: {} (SHA-256 {}), issuer of [{}]",
                        a.source,
                        a.subject,
                        a.fingerprint_sha256.as_deref().unwrap_or("none"),
                        a.issued_position
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
            AnchorLookup::NotFound => "not found".to_string(),
            AnchorLookup::Unavailable { reason } => format!("not checked: {reason}"),
            AnchorLookup::NotGiven => "not given".to_string(),
        };
        let _ = writeln!(text, "  {label}: {line}");
    }
    let pin = match &report.pin_root {
        PinRoot::Found {
            subject,
            fingerprint_sha256,
            source,
        } => format!("{subject} (SHA-256 {fingerprint_sha256}); source: {source}"),
        PinRoot::Missing { issuer } => format!(
            "no root: the issuer {issuer} is neither in the chain, nor in the store, nor in --ca-file"
        ),
    };
    let _ = writeln!(text, "  pin would store: {pin}");
}

fn render_pin(text: &mut String, report: &PinReport) {
    render_fetch(text, &report.fetch);
    let root = &report.root;
    let source = match &root.source {
        RootSource::Presented { position } => {
            format!("presented by the server at position {position}")
        }
        RootSource::Store { list } => format!("already in store list {list}"),
        RootSource::CaFile { path } => format!("from --ca-file {path}"),
        RootSource::System { .. } => format!("from {}", root.source),
    };
    let _ = writeln!(text, "Root: {} ({source})", root.summary.subject);
    let _ = writeln!(text, "      SHA-256 {}", root.summary.fingerprint_sha256);
    let action = match report.action {
        PinAction::Added => format!(
            "Pinned the root into list {} for {}.",
            report.list, report.host
        ),
        PinAction::HostAdded => format!(
            "The root was already in list {}; added host {}.",
            report.list, report.host
        ),
        PinAction::AlreadyPresent => format!(
            "The root was already pinned in list {} for {}; nothing changed.",
            report.list, report.host
        ),
    };
    let _ = writeln!(text, "{action} Hosts: {}", display_hosts(&report.hosts));
    for discarded in &report.discarded {
        let _ = writeln!(
            text,
            "Not stored ({}; a trust list keeps roots only): {}",
            discarded.role, discarded.subject
        );
    }
    for warning in &report.warnings {
        let _ = writeln!(text, "warning: {warning}");
    }
}
