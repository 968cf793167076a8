//! Admission rules of the trust-list policies, as pure functions over parsed certificates.
//!
//! - `root-only`: self-signed certificates whose self-signature verifies (the presence trust of
//!   Cisco Unified Presence 7 keeps the root only).
//! - `ca-chain`: roots and intermediate CA certificates, never a leaf (IM and Presence 9+).
//! - `ordered`: a CA certificate only when its issuer is already in the list or is the
//!   certificate itself (Tomcat's trust: root before intermediate before leaf).
//!
//! A self-signed server certificate (Exchange installs one by default) is its own root, so
//! every policy accepts it, with a warning.

use gwtrust_store::Policy;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::public_key::PublicKey;

use crate::cert;

/// The largest RSA key, in bits, that Cisco's certificate upload accepts.
pub const CISCO_MAX_KEY_BITS: usize = 4096;

/// The decision of a policy on one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    Accept { warnings: Vec<String> },
    Reject { reason: String },
}

/// The role a certificate plays, read from the certificate alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Self-signed CA certificate.
    Root,
    /// Self-signed certificate without the CA flag, such as Exchange's default certificate.
    SelfSignedLeaf,
    /// CA certificate issued by another CA.
    Intermediate,
    /// End-entity certificate issued by a CA.
    Leaf,
}

/// Classifies a certificate by its self-signature and basicConstraints.
pub fn kind(cert: &X509Certificate<'_>) -> Kind {
    match (cert::is_self_signed(cert), cert::is_ca(cert)) {
        (true, true) => Kind::Root,
        (true, false) => Kind::SelfSignedLeaf,
        (false, true) => Kind::Intermediate,
        (false, false) => Kind::Leaf,
    }
}

/// Decides whether `list`, with `policy`, admits `cert`, given the certificates `members`
/// already in the list (including those admitted earlier in the same import).
pub fn admit(
    policy: Policy,
    list: &str,
    cert: &X509Certificate<'_>,
    members: &[X509Certificate<'_>],
) -> Admission {
    if has_broken_self_signature(cert) {
        return reject(format!(
            "{} is self-issued, but its self-signature does not verify: the file is corrupt or was altered; get the certificate again from its CA",
            cert.subject()
        ));
    }

    let kind = kind(cert);
    let self_signed_leaf_warning = || {
        format!(
            "{} is a self-signed server certificate, so it is its own root; replace it with a CA-issued certificate and trust that CA's root instead",
            describe(cert, kind)
        )
    };

    match (policy, kind) {
        (_, Kind::Root) => accept(Vec::new()),
        (_, Kind::SelfSignedLeaf) => accept(vec![self_signed_leaf_warning()]),

        (Policy::RootOnly, Kind::Intermediate | Kind::Leaf) => reject(format!(
            "not a root: a root-only list keeps only self-signed CA certificates — this is {}; {}",
            describe(cert, kind),
            match kind {
                Kind::Leaf => "pin its root instead",
                _ => "import its root instead",
            }
        )),

        (Policy::CaChain, Kind::Intermediate) => accept(Vec::new()),
        (Policy::CaChain, Kind::Leaf) => reject(format!(
            "not a CA certificate: a ca-chain list keeps roots and intermediate CA certificates, never a leaf — this is {}; import its root and intermediate CA certificates instead",
            describe(cert, kind)
        )),

        (Policy::Ordered, Kind::Intermediate) => {
            if members.iter().any(|member| cert::issued_by(cert, member)) {
                accept(Vec::new())
            } else {
                reject(format!(
                    "issuer {} is not in list {list}: import the root certificate first, then each CA certificate under it in order",
                    cert.issuer()
                ))
            }
        }
        (Policy::Ordered, Kind::Leaf) => reject(format!(
            "not a trust anchor: an ordered list keeps CA certificates — this is {}; install it for the service with `gwtrust service install NAME --cert FILE --list {list}`",
            describe(cert, kind)
        )),

        // Policy is non_exhaustive: a policy this code does not know admits nothing.
        (_, _) => reject(format!(
            "list {list} has policy {policy}, which this version of gwtrust does not implement"
        )),
    }
}

/// Returns true for a self-issued certificate (subject equals issuer) that claims to be signed
/// by its own key but whose signature does not verify with it. A key-rollover certificate, whose
/// authority key identifier names another key, is not checked; nor is an algorithm aws-lc-rs
/// cannot verify.
fn has_broken_self_signature(cert: &X509Certificate<'_>) -> bool {
    if cert.subject().as_raw() != cert.issuer().as_raw() {
        return false;
    }
    if let (Some(aki), Some(ski)) = (cert::authority_key_id(cert), cert::subject_key_id(cert)) {
        if aki != ski {
            return false;
        }
    }
    cert::check_signature(cert, cert) == cert::SignatureCheck::Invalid
}

fn accept(warnings: Vec<String>) -> Admission {
    Admission::Accept { warnings }
}

fn reject(reason: String) -> Admission {
    Admission::Reject { reason }
}

/// Describes a certificate the way an admin recognises it: the server certificate of a host,
/// or a CA certificate by subject.
pub fn describe(cert: &X509Certificate<'_>, kind: Kind) -> String {
    match kind {
        Kind::Leaf | Kind::SelfSignedLeaf => match server_name(cert) {
            Some(host) => format!("the server certificate of {host}"),
            None => format!("the end-entity certificate {}", cert.subject()),
        },
        Kind::Intermediate => format!("the intermediate CA certificate {}", cert.subject()),
        Kind::Root => format!("the root CA certificate {}", cert.subject()),
    }
}

/// Returns the first DNS subjectAltName, else the common name.
pub fn server_name(cert: &X509Certificate<'_>) -> Option<String> {
    dns_names(cert)
        .into_iter()
        .next()
        .or_else(|| common_name(cert))
}

/// Returns the subject common name, if it has one.
pub fn common_name(cert: &X509Certificate<'_>) -> Option<String> {
    cert.subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_string)
}

fn dns_names(cert: &X509Certificate<'_>) -> Vec<String> {
    let mut names = Vec::new();
    for extension in cert.extensions() {
        if let ParsedExtension::SubjectAlternativeName(san) = extension.parsed_extension() {
            for name in &san.general_names {
                if let GeneralName::DNSName(dns) = name {
                    names.push(dns.to_string());
                }
            }
        }
    }
    names
}

/// Returns the warnings for what Cisco's certificate upload would reject in this certificate:
/// keys over 4096 bits and, when `in_trust_list`, wildcard names.
pub fn cisco_warnings(cert: &X509Certificate<'_>, in_trust_list: bool) -> Vec<String> {
    let mut warnings = Vec::new();

    if let Ok(PublicKey::RSA(rsa)) = cert.public_key().parsed() {
        let bits = rsa.key_size();
        if bits > CISCO_MAX_KEY_BITS {
            warnings.push(format!(
                "{} has a {bits}-bit RSA key: Cisco's certificate upload rejects keys over {CISCO_MAX_KEY_BITS} bits",
                cert.subject()
            ));
        }
    }

    if in_trust_list {
        let wildcard = dns_names(cert)
            .into_iter()
            .chain(common_name(cert))
            .find(|name| name.contains('*'));
        if let Some(name) = wildcard {
            warnings.push(format!(
                "{} is a wildcard certificate ({name}): Cisco's certificate upload rejects wildcard certificates in a trust list",
                cert.subject()
            ));
        }
    }
    warnings
}

/// Returns the indices of `certs` in import order: roots first, then each CA certificate after
/// its issuer, leaves last, so a file with leaf, intermediate and root in any order imports the
/// root first. The order among unrelated certificates is kept.
pub fn import_order(certs: &[X509Certificate<'_>]) -> Vec<usize> {
    let issuer_of =
        |i: usize| (0..certs.len()).find(|&j| j != i && cert::issued_by(&certs[i], &certs[j]));

    let depth = |start: usize| {
        let mut depth = 0;
        let mut current = start;
        // Bounded by the batch size, so an issuer cycle cannot loop forever.
        while depth <= certs.len() {
            if cert::is_self_signed(&certs[current]) {
                return depth;
            }
            match issuer_of(current) {
                Some(issuer) => {
                    depth += 1;
                    current = issuer;
                }
                // The issuer is outside this import: place it right below the roots.
                None => return depth + 1,
            }
        }
        depth
    };

    let mut order: Vec<(bool, usize, usize)> = (0..certs.len())
        .map(|i| (kind(&certs[i]) == Kind::Leaf, depth(i), i))
        .collect();
    order.sort();
    order.into_iter().map(|(_, _, i)| i).collect()
}
