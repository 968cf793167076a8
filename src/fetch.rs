//! `fetch`: capture a server's chain and report on it, trusting nothing.

use std::path::Path;

use gwtrust_store::Store;
use serde::Serialize;

use crate::anchors::{self, Anchor};
use crate::capture::{self, Capture, CaptureOptions};
use crate::chain::{AnchorLookup, ChainReport, ParsedChain, PinRoot, TrustAnchorReport};
use crate::error::Result;
use crate::names::{self, NameMatch, PresentedNames, Profile, ReferenceName};
use crate::target::{Host, Target};
use crate::trust_store;

/// The report `fetch` prints: the connection, the chain, and the name check of the leaf.
#[derive(Clone, Debug, Serialize)]
pub struct FetchReport {
    pub target: String,
    pub host: String,
    pub peer: String,
    pub sni: Option<String>,
    pub protocol: String,
    pub cipher_suite: String,
    pub chain: ChainReport,
    pub name_check: NameMatch,
}

/// Captures the chain of `target` and analyses it.
pub async fn fetch(target: &Target, options: &CaptureOptions) -> Result<(FetchReport, Capture)> {
    let captured = capture::capture(target, options).await?;
    let report = analyse(target, &captured)?;
    Ok((report, captured))
}

/// Analyses a captured chain against the target's host.
pub fn analyse(target: &Target, captured: &Capture) -> Result<FetchReport> {
    let what = format!("presented by {}", target.authority());
    let parsed = ParsedChain::parse(&captured.chain, &what)?;
    let name_check = match_leaf(&target.host, &parsed, Profile::Rfc6125);

    Ok(FetchReport {
        target: target.authority(),
        host: target.host.to_string(),
        peer: captured.peer.to_string(),
        sni: captured.sni.clone(),
        protocol: captured.protocol.clone(),
        cipher_suite: captured.cipher_suite.clone(),
        chain: parsed.report(),
        name_check,
    })
}

/// Matches `host` against the leaf of a parsed chain under `profile`.
pub fn match_leaf(host: &Host, chain: &ParsedChain<'_>, profile: Profile) -> NameMatch {
    let presented = PresentedNames::from_cert(&chain.certs[0]);
    let reference = match host {
        Host::Ip(ip) => ReferenceName::Ip(*ip),
        Host::Dns(name) => match ReferenceName::parse(name) {
            Ok(reference) => reference,
            Err(err) => return NameMatch::invalid_reference(name, &err.to_string()),
        },
    };
    names::match_host(&reference, &presented, profile)
}

/// Sources `fetch` searches for a trust anchor of the presented chain.
pub struct AnchorSources {
    /// The store directory, or why there is none.
    pub store_dir: std::result::Result<std::path::PathBuf, String>,
    /// The anchors of `--ca-file`, read before connecting so that a bad file fails early.
    pub ca_file: Option<Vec<Anchor>>,
    /// Whether to look in the system roots.
    pub system: bool,
}

/// Looks for a trust anchor of a captured chain in the store, `--ca-file` and the system roots,
/// and runs `pin`'s root search, without changing the store.
pub fn trust_anchor_report(
    target: &Target,
    captured: &Capture,
    sources: &AnchorSources,
) -> Result<TrustAnchorReport> {
    let what = format!("presented by {}", target.authority());
    let chain = ParsedChain::parse(&captured.chain, &what)?;

    let store = match &sources.store_dir {
        Ok(dir) => read_store_anchors(dir),
        Err(reason) => Err(reason.clone()),
    };
    let store_lookup = AnchorLookup::search(&chain, store.as_deref().map_err(String::as_str));
    let ca_file_lookup = match &sources.ca_file {
        Some(anchors) => AnchorLookup::search(&chain, Ok(anchors)),
        None => AnchorLookup::NotGiven,
    };
    let (system_lookup, system_origin) = if sources.system {
        let (anchors, origin) = anchors::system();
        (AnchorLookup::search(&chain, Ok(&anchors)), Some(origin))
    } else {
        (AnchorLookup::NotGiven, None)
    };
    let pin_root = PinRoot::search(
        &chain,
        store.as_deref().unwrap_or_default(),
        sources.ca_file.as_deref().unwrap_or_default(),
    );

    Ok(TrustAnchorReport {
        store: store_lookup,
        ca_file: ca_file_lookup,
        system: system_lookup,
        system_origin,
        pin_root,
    })
}

/// Reads the certificates of every store list, the presence list first, without creating the
/// store or its lists. The error explains why the store could not be read, for the report.
pub fn read_store_anchors(dir: &Path) -> std::result::Result<Vec<Anchor>, String> {
    if !dir.exists() {
        return Err(format!(
            "there is no store at {} yet (nothing is pinned)",
            dir.display()
        ));
    }
    let store = Store::open(dir).map_err(|err| format!("the store could not be read: {err}"))?;
    anchors::from_store(&store, trust_store::PRESENCE_LIST)
        .map_err(|err| format!("the store could not be read: {err}"))
}
