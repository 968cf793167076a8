//! `fetch`: capture a server's chain and report on it, trusting nothing.

use serde::Serialize;

use crate::capture::{self, Capture, CaptureOptions};
use crate::chain::{ChainReport, ParsedChain};
use crate::error::Result;
use crate::names::{self, NameMatch, PresentedNames, Profile, ReferenceName};
use crate::target::{Host, Target};

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
