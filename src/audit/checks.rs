//! The checks: on each certificate alone, then across certificates (issuers, duplicates,
//! renewed roots, path length constraints).

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;

use super::facts::{self, Facts, KeyKind};
use super::findings::{Finding, Kind};
use super::input::Inputs;
use super::verify::{self, SignatureHash};
use super::{format_time, Role};
use crate::cert::{self, SignatureCheck};

/// Maximum number of issuers followed upward, which also stops at cycles.
const MAX_CHAIN_DEPTH: usize = 32;

/// Everything the checks read.
pub struct Context<'a> {
    pub inputs: &'a Inputs,
    pub certs: &'a [Facts<'a>],
    /// The role of each input, by input index.
    pub roles: &'a [Role],
    /// The time validity is checked at, Unix seconds.
    pub at: i64,
    pub warn_days: u32,
}

impl Context<'_> {
    fn source(&self, cert: &Facts<'_>) -> usize {
        self.inputs.buffers[self.inputs.entries[cert.entry].buffer].source
    }

    fn finding(&self, kind: Kind, cert: &Facts<'_>, message: String) -> Finding {
        let mut finding = Finding::new(
            kind,
            self.inputs.location(&self.inputs.entries[cert.entry]),
            message,
        );
        finding.fingerprint = Some(cert.fingerprint_hex());
        finding.subject = Some(cert.subject_text());
        finding
    }

    fn describe(&self, cert: &Facts<'_>) -> String {
        format!(
            "{} (SHA-256 {}, {})",
            cert.subject_text(),
            cert.fingerprint_hex(),
            self.inputs.location(&self.inputs.entries[cert.entry])
        )
    }
}

/// Runs every check and returns the findings.
pub fn run(context: &Context<'_>) -> Vec<Finding> {
    let certs = context.certs;

    // Only the names that some certificate was issued by are looked up, and a bundle of
    // roots has none, so index only certificates with those subjects.
    let wanted: HashSet<&[u8]> = certs
        .iter()
        .filter(|cert| !cert.self_issued)
        .map(|cert| cert.issuer)
        .collect();
    let mut by_subject: HashMap<&[u8], Vec<usize>> = HashMap::new();
    if !wanted.is_empty() {
        for (index, cert) in certs.iter().enumerate() {
            if wanted.contains(cert.subject) {
                by_subject.entry(cert.subject).or_default().push(index);
            }
        }
    }
    let parents: Vec<Option<usize>> = certs
        .par_iter()
        .enumerate()
        .map(|(index, cert)| find_issuer(context, &by_subject, index, cert))
        .collect();
    let mut has_children = vec![false; certs.len()];
    for parent in parents.iter().flatten() {
        has_children[*parent] = true;
    }

    let mut findings: Vec<Finding> = certs
        .par_iter()
        .enumerate()
        .flat_map_iter(|(index, cert)| {
            check_one(context, cert, has_children[index], parents[index].is_none())
        })
        .collect();

    findings.extend(check_duplicates(context));
    findings.extend(check_path_lengths(context, &parents));
    findings
}

/// Returns the certificate among `certs` that issued `cert`, preferring one in the same input,
/// or None for roots and orphans. A candidate must have the issuer's name, a consistent key
/// identifier, and a key that verifies the signature (or one aws-lc-rs cannot check).
fn find_issuer(
    context: &Context<'_>,
    by_subject: &HashMap<&[u8], Vec<usize>>,
    index: usize,
    cert: &Facts<'_>,
) -> Option<usize> {
    if cert.self_issued {
        return None;
    }
    let candidates = by_subject.get(cert.issuer)?;
    let child = facts::parse(cert.der, true).ok()?;
    let source = context.source(cert);

    let mut ordered: Vec<usize> = candidates.iter().copied().filter(|&c| c != index).collect();
    ordered.sort_by_key(|&c| context.source(&context.certs[c]) != source);

    let mut unverifiable = None;
    for candidate in ordered {
        let Ok(issuer) = facts::parse(context.certs[candidate].der, true) else {
            continue;
        };
        if let (Some(aki), Some(ski)) = (
            cert::authority_key_id(&child),
            cert::subject_key_id(&issuer),
        ) {
            if aki != ski {
                continue;
            }
        }
        match verify::check(&child, issuer.public_key()) {
            SignatureCheck::Valid => return Some(candidate),
            SignatureCheck::UnsupportedAlgorithm => {
                unverifiable.get_or_insert(candidate);
            }
            SignatureCheck::Invalid => {}
        }
    }
    unverifiable
}

/// Runs the checks that need only the certificate, its input's role, and whether it issued
/// or was issued by another audited certificate.
fn check_one(
    context: &Context<'_>,
    cert: &Facts<'_>,
    has_children: bool,
    no_issuer: bool,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let role = context.roles[context.source(cert)];

    // Validity at --at.
    let warn_seconds = i64::from(context.warn_days) * 86_400;
    if context.at > cert.not_after {
        findings.push(context.finding(
            Kind::Expired,
            cert,
            format!("expired on {}", format_time(cert.not_after)),
        ));
    } else if context.at < cert.not_before {
        findings.push(context.finding(
            Kind::NotYetValid,
            cert,
            format!("not valid before {}", format_time(cert.not_before)),
        ));
    } else if cert.not_after - context.at <= warn_seconds {
        let days = (cert.not_after - context.at) / 86_400;
        findings.push(context.finding(
            Kind::ExpiresSoon,
            cert,
            format!(
                "expires on {}, in {days} days (--warn-days {})",
                format_time(cert.not_after),
                context.warn_days
            ),
        ));
    }

    // Keys.
    match cert.key {
        KeyKind::Rsa { bits } if bits < 2048 => findings.push(context.finding(
            Kind::WeakRsaKey,
            cert,
            format!("RSA key of {bits} bits; at least 2048 bits are required"),
        )),
        KeyKind::Rsa { bits } if bits > 4096 => findings.push(context.finding(
            Kind::RsaKeyTooLarge,
            cert,
            format!("RSA key of {bits} bits; Cisco certificate upload rejects keys over 4096 bits"),
        )),
        KeyKind::Ec { bits } if bits < 256 => findings.push(context.finding(
            Kind::WeakEcKey,
            cert,
            format!("EC key of {bits} bits; at least 256 bits (P-256) are required"),
        )),
        KeyKind::Dsa => findings.push(context.finding(
            Kind::DsaKey,
            cert,
            "DSA key; TLS clients no longer accept DSA signatures".into(),
        )),
        _ => {}
    }

    // Clients never check a root's own signature, but they check every other one.
    if cert.hash != SignatureHash::Strong {
        if cert.is_root() {
            findings.push(context.finding(
                Kind::WeakRootSignature,
                cert,
                format!(
                    "root self-signed with {}; clients do not check a root's own signature",
                    cert.hash.name()
                ),
            ));
        } else {
            findings.push(context.finding(
                Kind::WeakSignature,
                cert,
                format!(
                    "signed with {}, which collision attacks have broken, so current TLS clients reject it",
                    cert.hash.name()
                ),
            ));
        }
    }

    if cert.self_issued && cert.self_signature == Some(SignatureCheck::Invalid) {
        findings.push(context.finding(
            Kind::BadSelfSignature,
            cert,
            "self-issued, but its own key does not verify its signature".into(),
        ));
    }

    // A version 1 certificate has no basicConstraints, so nothing marks it as a CA; it acts
    // as one when it is a root or issued another audited certificate.
    let v1_acting_as_ca = cert.version == 1 && (cert.is_root() || has_children);
    if v1_acting_as_ca {
        findings.push(
            context.finding(
                Kind::V1Ca,
                cert,
                "version 1 certificate used as a CA; it cannot carry basicConstraints or keyUsage"
                    .into(),
            ),
        );
    }

    let is_ca = cert.ca == Some(true) || v1_acting_as_ca;
    if !is_ca {
        let list = match role {
            Role::RootOnly => "a root-only list",
            Role::CaList => "a CA list",
        };
        findings.push(context.finding(
            Kind::NotCa,
            cert,
            format!(
                "not a CA certificate (basicConstraints cA is {}) in {list}, issued by {}; a server certificate was likely added instead of its root",
                match cert.ca {
                    Some(_) => "FALSE",
                    None => "absent",
                },
                cert.issuer_text()
            ),
        ));
    } else if role == Role::RootOnly && !cert.self_issued {
        findings.push(context.finding(
            Kind::NotSelfSigned,
            cert,
            format!(
                "not self-signed in a root-only list; issued by {}",
                cert.issuer_text()
            ),
        ));
    }

    if is_ca && !cert.self_issued && no_issuer {
        findings.push(context.finding(
            Kind::Orphan,
            cert,
            format!(
                "intermediate CA whose issuer {} is in none of the audited inputs",
                cert.issuer_text()
            ),
        ));
    }

    if cert.ca == Some(true) && cert.key_cert_sign == Some(false) {
        findings.push(
            context.finding(
                Kind::CaWithoutKeyCertSign,
                cert,
                "CA certificate whose keyUsage lacks keyCertSign, so it cannot issue certificates"
                    .into(),
            ),
        );
    }

    if let Some(name) = &cert.wildcard {
        findings.push(context.finding(
            Kind::Wildcard,
            cert,
            format!("wildcard certificate ({name}) in a trust list"),
        ));
    }

    findings
}

/// Same certificate twice in one input, and renewed certificates (same subject and key,
/// other validity) in one input. Sorting finds both without hashing every certificate.
fn check_duplicates(context: &Context<'_>) -> Vec<Finding> {
    let certs = context.certs;
    let mut findings = Vec::new();

    // Equal fingerprints in one input end up adjacent; the first in input order stays.
    let mut order: Vec<usize> = (0..certs.len()).collect();
    order.par_sort_unstable_by_key(|&i| (context.source(&certs[i]), certs[i].fingerprint, i));
    let mut duplicate = vec![false; certs.len()];
    let mut run_start = 0;
    for position in 1..order.len() {
        let original = &certs[order[run_start]];
        let cert = &certs[order[position]];
        if original.fingerprint != cert.fingerprint
            || context.source(original) != context.source(cert)
        {
            run_start = position;
            continue;
        }
        duplicate[order[position]] = true;
        findings.push(context.finding(
            Kind::Duplicate,
            cert,
            format!(
                "same certificate as {}",
                context.inputs.location(&context.inputs.entries[original.entry])
            ),
        ));
    }

    // Same subject and key in one input, other fingerprints: renewed certificates.
    let mut order: Vec<usize> = (0..certs.len()).filter(|&i| !duplicate[i]).collect();
    order.par_sort_unstable_by_key(|&i| {
        (
            context.source(&certs[i]),
            certs[i].subject,
            certs[i].spki,
            i,
        )
    });
    for group in order.chunk_by(|&a, &b| {
        context.source(&certs[a]) == context.source(&certs[b])
            && certs[a].subject == certs[b].subject
            && certs[a].spki == certs[b].spki
    }) {
        if group.len() < 2 {
            continue;
        }
        // The newest is the one that expires last; a tie goes to the later notBefore.
        let newest = *group
            .iter()
            .max_by_key(|&&i| (certs[i].not_after, certs[i].not_before))
            .expect("group is not empty");
        let newest_cert = &certs[newest];
        for &older in group.iter().filter(|&&i| i != newest) {
            let cert = &certs[older];
            findings.push(context.finding(
                Kind::Renewed,
                cert,
                format!(
                    "renewed: {} has the same subject and key and is newer (valid until {}, this one until {})",
                    context.describe(newest_cert),
                    format_time(newest_cert.not_after),
                    format_time(cert.not_after)
                ),
            ));
        }
    }
    findings
}

/// Finds certificates below a CA with pathLenConstraint n, in the same input, with more
/// than n non-self-issued intermediate CAs between them.
fn check_path_lengths(context: &Context<'_>, parents: &[Option<usize>]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (index, cert) in context.certs.iter().enumerate() {
        let source = context.source(cert);
        let mut between = 0u32;
        let mut current = parents[index];
        let mut depth = 0;
        while let Some(ancestor) = current {
            let ancestor_cert = &context.certs[ancestor];
            if let Some(limit) = ancestor_cert.path_len {
                if between > limit && context.source(ancestor_cert) == source {
                    findings.push(context.finding(
                        Kind::PathLengthViolated,
                        cert,
                        format!(
                            "{between} intermediate CAs between it and {}, whose pathLenConstraint is {limit}",
                            context.describe(ancestor_cert)
                        ),
                    ));
                    break;
                }
            }
            if !ancestor_cert.self_issued {
                between += 1;
            }
            depth += 1;
            if depth > MAX_CHAIN_DEPTH || ancestor_cert.self_issued {
                break;
            }
            current = parents[ancestor];
        }
    }
    findings
}
