//! `pin`: fetch a server's chain, find its root, and store only the root once it is confirmed.
//!
//! The order of steps is the order of cheapest refusal: the host form is checked before any
//! network traffic, the name before the root search, and the store is written last, after the
//! fingerprint is confirmed. Any refusal leaves the store as it was.
//!
//! The store is opened twice, briefly: once to read the list and the known roots, and once to
//! write the root. It is not held during the network wait or the confirmation prompt, so other
//! gwtrust commands can use it meanwhile.

use std::path::{Path, PathBuf};

use gwtrust_store::{Entry, Fingerprint, PutOutcome, Store};
use serde::Serialize;

use crate::capture::CaptureOptions;
use crate::cert::{self, CertSummary};
use crate::chain::{self, Candidate, ParsedChain, Root, RootSearch, RootSource};
use crate::error::{Error, Result};
use crate::fetch::{self, FetchReport};
use crate::formats;
use crate::names;
use crate::target::{Host, Target};
use crate::trust_store;

/// The way the root's fingerprint is confirmed before it is stored.
pub enum Confirmation<'a> {
    /// `--yes`: the admin accepts whatever root is found.
    Yes,
    /// `--expect-fingerprint`: the root must have this SHA-256 fingerprint.
    Expect(Fingerprint),
    /// Ask on the terminal; the function returns true when the admin accepts.
    Ask(&'a mut dyn FnMut(&Root) -> bool),
    /// No way to confirm: fail with the fingerprint so the admin can rerun with it.
    Unavailable,
}

/// Options of `pin` besides the target and the connection.
#[derive(Clone, Debug, Default)]
pub struct PinOptions {
    pub list: String,
    pub ca_file: Option<PathBuf>,
    pub allow_non_fqdn: bool,
    pub allow_name_mismatch: bool,
}

/// The change `pin` made to the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PinAction {
    /// The root was not in the list and now is.
    Added,
    /// The root was in the list; this host was added to its hosts.
    HostAdded,
    /// The root was in the list for this host already.
    AlreadyPresent,
}

/// A certificate that was presented and deliberately not stored.
#[derive(Clone, Debug, Serialize)]
pub struct Discarded {
    pub position: usize,
    pub role: chain::Role,
    pub subject: String,
    pub fingerprint_sha256: String,
}

/// The report `pin` prints.
#[derive(Clone, Debug, Serialize)]
pub struct PinReport {
    pub list: String,
    pub host: String,
    pub action: PinAction,
    pub root: Root,
    /// Every host the root is now pinned for.
    pub hosts: Vec<String>,
    /// Leaf and intermediates: never stored in a trust list.
    pub discarded: Vec<Discarded>,
    pub warnings: Vec<String>,
    pub fetch: FetchReport,
}

/// Runs the whole pin workflow against an open store.
pub async fn pin(
    store_dir: &Path,
    target: &Target,
    capture: &CaptureOptions,
    options: &PinOptions,
    confirmation: Confirmation<'_>,
) -> Result<PinReport> {
    let mut warnings = Vec::new();

    // 1. Host form, before any traffic.
    check_host_form(target, options.allow_non_fqdn, &mut warnings)?;
    // A store that does not exist yet is created only when there is a root to write, so a
    // refused pin leaves nothing behind. Until then it counts as the empty built-in lists.
    let candidates = if store_dir.exists() {
        let store = trust_store::open(store_dir)?;
        if store.list_info(&options.list)?.is_none() {
            return Err(gwtrust_store::StoreError::ListNotFound {
                name: options.list.clone(),
            }
            .into());
        }
        root_candidates(&store, options)?
    } else if trust_store::BUILTIN_LISTS
        .iter()
        .any(|(name, _)| *name == options.list)
    {
        ca_file_candidates(options)?
    } else {
        return Err(gwtrust_store::StoreError::ListNotFound {
            name: options.list.clone(),
        }
        .into());
    };

    // 2. Capture and analyse.
    let (report, captured) = fetch::fetch(target, capture).await?;
    let parsed = ParsedChain::parse(&captured.chain, &report.target)?;

    // 3. The host must match the leaf.
    if !report.name_check.is_match() {
        let detail = report.name_check.summary();
        if !options.allow_name_mismatch {
            return Err(Error::NameMismatch {
                host: report.host.clone(),
                detail,
            });
        }
        warnings.push(format!(
            "{} does not match the leaf ({detail}); pinned anyway because of --allow-name-mismatch",
            report.host
        ));
    }
    warnings.extend(report.name_check.warnings.iter().cloned());

    // 4. Find the root: presented chain, then roots already in the store, then --ca-file.
    let root = match chain::find_root(&parsed, &candidates) {
        RootSearch::Found(root) => root,
        RootSearch::Missing { issuer } => {
            return Err(Error::NoRoot {
                target: report.target.clone(),
                issuer,
            })
        }
    };
    if root.self_signed_leaf {
        warnings.push(format!(
            "{} presented a single self-signed certificate, as a fresh Exchange install does; it is pinned as its own root, but replace it with a certificate issued by a CA: a self-signed certificate must be pinned again whenever Exchange renews it",
            report.target
        ));
    }

    if let Some(problem) = validity_problem(&root) {
        warnings.push(format!(
            "the root {} {problem}; clients reject a chain whose root is not valid, so get the CA's current root",
            root.summary.subject
        ));
    }

    // 5. Confirm the fingerprint.
    let fingerprint = cert::fingerprint(&root.der);
    confirm(&root, &fingerprint, confirmation)?;

    // 6. Store only the root.
    let host = target.host.to_string();
    let entry = Entry {
        list: options.list.clone(),
        fingerprint,
        der: root.der.to_vec(),
        subject: root.summary.subject.clone(),
        hosts: vec![host.clone()],
        source: "pin".into(),
        added: trust_store::now_rfc3339(),
    };
    let store = trust_store::open(store_dir)?;
    let action = match store.put(&entry)? {
        PutOutcome::Added => PinAction::Added,
        PutOutcome::HostsAdded(_) => PinAction::HostAdded,
        PutOutcome::AlreadyPresent => PinAction::AlreadyPresent,
    };
    let hosts = store
        .get(&options.list, &fingerprint)?
        .map(|stored| stored.hosts)
        .unwrap_or_else(|| vec![host.clone()]);

    let root_position = match root.source {
        RootSource::Presented { position } => Some(position),
        _ => None,
    };
    let discarded = report
        .chain
        .certificates
        .iter()
        .filter(|c| Some(c.position) != root_position)
        .map(|c| Discarded {
            position: c.position,
            role: c.role,
            subject: c.summary.subject.clone(),
            fingerprint_sha256: c.summary.fingerprint_sha256.clone(),
        })
        .collect();

    Ok(PinReport {
        list: options.list.clone(),
        host,
        action,
        root,
        hosts,
        discarded,
        warnings,
        fetch: report,
    })
}

/// Returns why the root is not valid now, if it is not.
fn validity_problem(root: &Root) -> Option<String> {
    let parsed = cert::parse(&root.der).ok()?;
    let now = x509_parser::time::ASN1Time::now();
    let validity = parsed.validity();
    if now < validity.not_before {
        Some(format!("is not valid before {}", root.summary.not_before))
    } else if now > validity.not_after {
        Some(format!("expired on {}", root.summary.not_after))
    } else {
        None
    }
}

fn check_host_form(target: &Target, allow: bool, warnings: &mut Vec<String>) -> Result<()> {
    let host = target.host.to_string();
    let form = match &target.host {
        Host::Ip(_) => names::is_fqdn(&host),
        Host::Dns(name) => names::is_fqdn(name),
    };
    match form {
        Ok(()) => Ok(()),
        Err(err) if allow => {
            warnings.push(format!(
                "{host} is not an FQDN ({err}); pinned anyway because of --allow-non-fqdn"
            ));
            Ok(())
        }
        Err(err) => Err(Error::NotFqdn {
            host,
            reason: err.to_string(),
        }),
    }
}

fn root_candidates(store: &Store, options: &PinOptions) -> Result<Vec<Candidate>> {
    let mut candidates = trust_store::root_candidates(store, &options.list)?;
    candidates.extend(ca_file_candidates(options)?);
    Ok(candidates)
}

/// Returns the certificates of `--ca-file` as root candidates.
fn ca_file_candidates(options: &PinOptions) -> Result<Vec<Candidate>> {
    let mut candidates = Vec::new();

    if let Some(path) = &options.ca_file {
        for der in formats::read_certificates(path)? {
            candidates.push(Candidate {
                der,
                source: RootSource::CaFile {
                    path: path.display().to_string(),
                },
            });
        }
    }
    Ok(candidates)
}

fn confirm(root: &Root, fingerprint: &Fingerprint, confirmation: Confirmation<'_>) -> Result<()> {
    match confirmation {
        Confirmation::Yes => Ok(()),
        Confirmation::Expect(expected) if expected == *fingerprint => Ok(()),
        Confirmation::Expect(expected) => Err(Error::FingerprintMismatch {
            subject: root.summary.subject.clone(),
            expected: expected.to_string(),
            actual: fingerprint.to_string(),
        }),
        Confirmation::Ask(ask) => match ask(root) {
            true => Ok(()),
            false => Err(Error::Cancelled),
        },
        Confirmation::Unavailable => Err(Error::ConfirmationRequired {
            subject: root.summary.subject.clone(),
            fingerprint: fingerprint.to_string(),
        }),
    }
}

/// Summarises a stored certificate for `list` and `show`.
pub fn summarise_entry(entry: &Entry) -> Result<CertSummary> {
    CertSummary::from_der(&entry.der, &format!("stored {}", entry.fingerprint))
}
