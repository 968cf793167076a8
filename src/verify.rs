//! Path validation: does a leaf chain up to a trust anchor, and if not, exactly why.
//!
//! rustls-webpki 0.103 builds and validates the path (serverAuth usage, the aws-lc-rs signature
//! algorithms, no revocation). It returns one error and does not say which certificate caused
//! it, so on failure this module builds a candidate path itself (names, key identifiers and
//! signatures, as [`crate::chain`] does) and points the error at a certificate on it. The host
//! is checked with [`names::match_host`] under the caller's profile, because webpki implements
//! only the RFC 6125 rules without a CN fallback.

use rustls::pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};
use serde::Serialize;
use time::OffsetDateTime;
use webpki::{EndEntityCert, KeyUsage, VerifiedPath};
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

use crate::anchors::Anchor;
use crate::cert::{self, CertSummary, SignatureCheck};
use crate::chain::RootSource;
use crate::error::{Error, Result};
use crate::names::{self, NameMatch, PresentedNames, Profile, ReferenceName};

/// Maximum length of the candidate path built for diagnosis, in certificates above the leaf.
/// rustls-webpki stops at 6 intermediates; a few more let the diagnosis see a loop or a
/// too-long path.
const MAX_DIAGNOSIS_DEPTH: usize = 10;

/// Validation time and host check, the inputs besides the certificates.
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    /// The validation time.
    pub at: OffsetDateTime,
    /// The host the leaf must name, if any.
    pub host: Option<ReferenceName>,
    /// The name-matching rules for `host`.
    pub profile: Profile,
}

impl VerifyOptions {
    /// Validates now, with no host check.
    pub fn now() -> VerifyOptions {
        VerifyOptions {
            at: OffsetDateTime::now_utc(),
            host: None,
            profile: Profile::default(),
        }
    }
}

/// The role of a certificate in a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepRole {
    Leaf,
    Intermediate,
    TrustAnchor,
}

impl std::fmt::Display for StepRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StepRole::Leaf => "leaf",
            StepRole::Intermediate => "intermediate",
            StepRole::TrustAnchor => "trust anchor",
        })
    }
}

/// One certificate of a validated path.
#[derive(Clone, Debug, Serialize)]
pub struct PathStep {
    pub role: StepRole,
    pub subject: String,
    /// SHA-256 of the certificate; `None` for a webpki-roots anchor, which has no certificate.
    pub fingerprint_sha256: Option<String>,
    pub not_after: Option<String>,
    /// Origin of the trust anchor; `None` for the leaf and intermediates.
    pub source: Option<RootSource>,
}

/// Reason a path is not valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// No trust anchor or intermediate issued the top of the path.
    UnknownIssuer,
    /// A certificate's notAfter is before the validation time.
    Expired,
    /// A certificate's notBefore is after the validation time.
    NotYetValid,
    /// A signature does not verify with the key of the certificate named as its issuer.
    BadSignature,
    /// A certificate is used as an issuer, but basicConstraints does not mark it as a CA.
    NotCa,
    /// The leaf is a CA certificate.
    CaUsedAsLeaf,
    /// A CA's pathLenConstraint allows fewer intermediates below it than the path has.
    PathLengthExceeded,
    /// A certificate's extendedKeyUsage does not allow serverAuth.
    WrongUsage,
    /// The leaf does not name the host under the chosen profile.
    NameMismatch,
    /// A signature algorithm that rustls-webpki with aws-lc-rs does not accept.
    UnsupportedAlgorithm,
    /// A name constraint of a CA excludes a name of a certificate below it.
    NameConstraintViolation,
    /// The key is on rustls-webpki's list of distrusted keys.
    Distrusted,
    /// Another error from rustls-webpki; its text is in the message.
    Other,
}

impl std::fmt::Display for FailureKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FailureKind::UnknownIssuer => "unknown issuer",
            FailureKind::Expired => "expired",
            FailureKind::NotYetValid => "not yet valid",
            FailureKind::BadSignature => "bad signature",
            FailureKind::NotCa => "not a CA",
            FailureKind::CaUsedAsLeaf => "CA used as leaf",
            FailureKind::PathLengthExceeded => "path length exceeded",
            FailureKind::WrongUsage => "wrong key usage",
            FailureKind::NameMismatch => "name mismatch",
            FailureKind::UnsupportedAlgorithm => "unsupported algorithm",
            FailureKind::NameConstraintViolation => "name constraint violation",
            FailureKind::Distrusted => "distrusted key",
            FailureKind::Other => "other",
        })
    }
}

/// A certificate that a failure points at.
#[derive(Clone, Debug, Serialize)]
pub struct CertRef {
    pub role: StepRole,
    pub subject: String,
    pub fingerprint_sha256: Option<String>,
}

/// One reason the path is not valid, and the certificate it concerns.
#[derive(Clone, Debug, Serialize)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
    pub certificate: Option<CertRef>,
}

/// The outcome of [`verify_chain`].
#[derive(Clone, Debug, Serialize)]
pub struct VerifyReport {
    /// True when a path to a trust anchor was validated and, if a host was given, it matched.
    pub valid: bool,
    /// The validation time, RFC 3339.
    pub at: String,
    pub leaf: CertSummary,
    /// The validated path, leaf first and trust anchor last; empty when no path validated.
    pub chain: Vec<PathStep>,
    /// Empty when `valid`.
    pub failures: Vec<Failure>,
    /// The error rustls-webpki returned, as it prints it.
    pub webpki_error: Option<String>,
    pub name_check: Option<NameMatch>,
    /// Whether rustls-webpki's own name check accepts the host (no CN fallback, no profiles).
    pub webpki_accepts_name: Option<bool>,
    pub warnings: Vec<String>,
    /// Number of untrusted intermediates and of trust anchors that were offered.
    pub intermediates_offered: usize,
    pub anchors_offered: usize,
}

/// Validates a path from `leaf` through any of `intermediates` (in any order, untrusted) to one
/// of `anchors`, at `options.at`, for serverAuth, and checks `options.host` against the leaf.
///
/// Returns an error only when a certificate cannot be parsed or the time is before 1970; an
/// invalid path is a report with `valid` false.
pub fn verify_chain(
    leaf: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    anchors: &[Anchor],
    options: &VerifyOptions,
) -> Result<VerifyReport> {
    let invalid = |what: String, reason: String| Error::InvalidCertificate { what, reason };
    let leaf_parsed = cert::parse(leaf).map_err(|reason| invalid("leaf".into(), reason))?;
    let parsed_intermediates = intermediates
        .iter()
        .enumerate()
        .map(|(index, der)| {
            cert::parse(der)
                .map_err(|reason| invalid(format!("intermediate {}", index + 1), reason))
        })
        .collect::<Result<Vec<_>>>()?;
    let end_entity = EndEntityCert::try_from(leaf)
        .map_err(|err| invalid("leaf".into(), format!("rustls-webpki rejects it: {err:?}")))?;
    let time = unix_time(options.at)?;

    let trust_anchors: Vec<TrustAnchor<'static>> =
        anchors.iter().map(|a| a.trust_anchor.clone()).collect();
    let mut warnings = Vec::new();
    if anchors.is_empty() {
        warnings.push("no trust anchors were offered, so no path can be valid".to_string());
    }

    // 1. Path validation by rustls-webpki.
    let outcome = end_entity.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &trust_anchors,
        intermediates,
        time,
        KeyUsage::server_auth(),
        None,
        None,
    );
    let (chain, mut failures, webpki_error) = match outcome {
        Ok(path) => {
            let chain = describe_path(&path, anchors);
            warn_expired_anchor(&path, anchors, options.at, &mut warnings);
            (chain, Vec::new(), None)
        }
        Err(err) => {
            let candidates = Pool {
                leaf: &leaf_parsed,
                leaf_der: leaf,
                intermediates: &parsed_intermediates,
                intermediate_ders: intermediates,
                anchors,
            };
            let failures = candidates.diagnose(&err, options.at);
            (Vec::new(), failures, Some(format!("{err:?}")))
        }
    };

    // 2. The host, under the chosen profile.
    let mut name_check = None;
    let mut webpki_accepts_name = None;
    if let Some(reference) = &options.host {
        let presented = PresentedNames::from_cert(&leaf_parsed);
        let matched = names::match_host(reference, &presented, options.profile);
        let accepted = ServerName::try_from(reference.to_string())
            .ok()
            .map(|name| end_entity.verify_is_valid_for_subject_name(&name).is_ok());

        if !matched.is_match() {
            failures.push(Failure {
                kind: FailureKind::NameMismatch,
                message: format!(
                    "{} does not match the leaf under the {} profile: {}",
                    matched.reference,
                    options.profile,
                    matched.summary()
                ),
                certificate: Some(cert_ref(StepRole::Leaf, leaf, &leaf_parsed)),
            });
        } else if accepted == Some(false) && !matched.is_common_name_match() {
            // A CN match already carries the names module's warning about current clients.
            warnings.push(format!(
                "{} matches under the {} profile, but rustls-webpki's name check, like current TLS clients, rejects it",
                matched.reference, options.profile
            ));
        }
        warnings.extend(matched.warnings.iter().cloned());
        name_check = Some(matched);
        webpki_accepts_name = accepted;
    }

    Ok(VerifyReport {
        valid: !chain.is_empty() && failures.is_empty(),
        at: rfc3339(options.at),
        leaf: CertSummary::from_parsed(leaf, &leaf_parsed),
        chain,
        failures,
        webpki_error,
        name_check,
        webpki_accepts_name,
        warnings,
        intermediates_offered: intermediates.len(),
        anchors_offered: anchors.len(),
    })
}

/// Validates a chain as a server presents it: the first certificate is the leaf and the rest
/// are untrusted intermediates in any order. See [`verify_chain`].
pub fn verify_presented(
    presented: &[CertificateDer<'_>],
    anchors: &[Anchor],
    options: &VerifyOptions,
) -> Result<VerifyReport> {
    let Some((leaf, intermediates)) = presented.split_first() else {
        return Err(Error::InvalidCertificate {
            what: "presented chain".into(),
            reason: "no certificate was presented".into(),
        });
    };
    verify_chain(leaf, intermediates, anchors, options)
}

/// Formats a time as RFC 3339 UTC, to the second.
pub fn rfc3339(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    at.replace_nanosecond(0)
        .unwrap_or(at)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}

fn unix_time(at: OffsetDateTime) -> Result<UnixTime> {
    let seconds = u64::try_from(at.unix_timestamp()).map_err(|_| Error::InvalidArgument {
        what: "validation time",
        value: rfc3339(at),
        reason: "it is before 1970-01-01T00:00:00Z, which path validation cannot use; give a later time such as 2027-01-01T00:00:00Z".into(),
    })?;
    Ok(UnixTime::since_unix_epoch(std::time::Duration::from_secs(
        seconds,
    )))
}

fn cert_ref(role: StepRole, der: &[u8], parsed: &X509Certificate<'_>) -> CertRef {
    CertRef {
        role,
        subject: crate::cert::display_name(parsed.subject()),
        fingerprint_sha256: Some(cert::fingerprint(der).to_string()),
    }
}

fn describe_path(path: &VerifiedPath<'_>, anchors: &[Anchor]) -> Vec<PathStep> {
    let mut steps = Vec::new();
    let leaf_der = path.end_entity().der();
    steps.push(step_of_der(StepRole::Leaf, &leaf_der, None));
    for intermediate in path.intermediate_certificates() {
        steps.push(step_of_der(
            StepRole::Intermediate,
            &intermediate.der(),
            None,
        ));
    }

    let anchor = anchors.iter().find(|a| a.same_as(path.anchor()));
    let step = match anchor {
        Some(anchor) => match &anchor.der {
            Some(der) => step_of_der(StepRole::TrustAnchor, der, Some(anchor.source.clone())),
            None => PathStep {
                role: StepRole::TrustAnchor,
                subject: anchor.subject(),
                fingerprint_sha256: None,
                not_after: None,
                source: Some(anchor.source.clone()),
            },
        },
        // Unreachable: webpki returns one of the anchors it was given.
        None => PathStep {
            role: StepRole::TrustAnchor,
            subject: "<unknown trust anchor>".into(),
            fingerprint_sha256: None,
            not_after: None,
            source: None,
        },
    };
    steps.push(step);
    steps
}

fn step_of_der(role: StepRole, der: &[u8], source: Option<RootSource>) -> PathStep {
    match cert::parse(der) {
        Ok(parsed) => PathStep {
            role,
            subject: crate::cert::display_name(parsed.subject()),
            fingerprint_sha256: Some(cert::fingerprint(der).to_string()),
            not_after: Some(cert::rfc3339(&parsed.validity().not_after)),
            source,
        },
        Err(_) => PathStep {
            role,
            subject: "<unparsable certificate>".into(),
            fingerprint_sha256: Some(cert::fingerprint(der).to_string()),
            not_after: None,
            source,
        },
    }
}

/// rustls-webpki does not check a trust anchor's validity period (RFC 5280 §6.1.1 treats the
/// anchor as a name and key), but presence servers reject an expired root, so warn about it.
fn warn_expired_anchor(
    path: &VerifiedPath<'_>,
    anchors: &[Anchor],
    at: OffsetDateTime,
    warnings: &mut Vec<String>,
) {
    let Some(der) = anchors
        .iter()
        .find(|a| a.same_as(path.anchor()))
        .and_then(|a| a.der.as_ref())
    else {
        return;
    };
    let Ok(parsed) = cert::parse(der) else {
        return;
    };
    match time_status(&parsed, at) {
        TimeStatus::Valid => {}
        TimeStatus::Expired => warnings.push(format!(
            "the trust anchor {} expired on {}; path validation ignores an anchor's dates, but the presence server may reject it",
            parsed.subject(),
            cert::rfc3339(&parsed.validity().not_after)
        )),
        TimeStatus::NotYetValid => warnings.push(format!(
            "the trust anchor {} is not valid before {}; path validation ignores an anchor's dates, but the presence server may reject it",
            parsed.subject(),
            cert::rfc3339(&parsed.validity().not_before)
        )),
    }
}

/// Whether a certificate is within its validity period at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeStatus {
    Valid,
    Expired,
    NotYetValid,
}

/// Checks `at` against the certificate's notBefore and notAfter, both inclusive, as
/// rustls-webpki does.
pub fn time_status(cert: &X509Certificate<'_>, at: OffsetDateTime) -> TimeStatus {
    let at = at.unix_timestamp();
    let validity = cert.validity();
    if at > validity.not_after.timestamp() {
        TimeStatus::Expired
    } else if at < validity.not_before.timestamp() {
        TimeStatus::NotYetValid
    } else {
        TimeStatus::Valid
    }
}

/// A node of the candidate path built for diagnosis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Node {
    Leaf,
    Intermediate(usize),
    Anchor(usize),
}

/// One link of the candidate path: `issuer` has the name `child` names as its issuer.
struct Link {
    child: Node,
    issuer: Node,
    signature: SignatureCheck,
}

/// Every certificate that was offered, parsed, for diagnosis.
struct Pool<'a> {
    leaf: &'a X509Certificate<'a>,
    leaf_der: &'a CertificateDer<'a>,
    intermediates: &'a [X509Certificate<'a>],
    intermediate_ders: &'a [CertificateDer<'a>],
    anchors: &'a [Anchor],
}

impl Pool<'_> {
    fn cert(&self, node: Node) -> Option<&X509Certificate<'_>> {
        match node {
            Node::Leaf => Some(self.leaf),
            Node::Intermediate(i) => Some(&self.intermediates[i]),
            Node::Anchor(_) => None,
        }
    }

    fn cert_ref(&self, node: Node) -> CertRef {
        match node {
            Node::Leaf => cert_ref(StepRole::Leaf, self.leaf_der, self.leaf),
            Node::Intermediate(i) => cert_ref(
                StepRole::Intermediate,
                &self.intermediate_ders[i],
                &self.intermediates[i],
            ),
            Node::Anchor(j) => CertRef {
                role: StepRole::TrustAnchor,
                subject: self.anchors[j].subject(),
                fingerprint_sha256: self.anchors[j].fingerprint(),
            },
        }
    }

    fn subject(&self, node: Node) -> String {
        self.cert_ref(node).subject
    }

    /// Builds the path webpki most likely tried. Each step takes an anchor whose name and key
    /// fit, else an intermediate whose name and key fit. Failing both, it takes a certificate
    /// with the right name and a signature that does not verify, so that the bad link shows.
    fn candidate_path(&self) -> Vec<Link> {
        let mut links: Vec<Link> = Vec::new();
        let mut current = Node::Leaf;

        while links.len() < MAX_DIAGNOSIS_DEPTH {
            let Some(child) = self.cert(current) else {
                break;
            };
            let on_path = |i: usize| {
                current == Node::Intermediate(i)
                    || links.iter().any(|l| l.issuer == Node::Intermediate(i))
            };
            let named_anchors: Vec<usize> = (0..self.anchors.len())
                .filter(|j| self.anchors[*j].names_issuer_of(child))
                .collect();
            let named_intermediates: Vec<usize> = (0..self.intermediates.len())
                .filter(|i| !on_path(*i))
                .filter(|i| child.issuer().as_raw() == self.intermediates[*i].subject().as_raw())
                .collect();

            let next = if let Some(j) = named_anchors
                .iter()
                .find(|j| self.anchors[**j].issued(child))
            {
                (Node::Anchor(*j), SignatureCheck::Valid)
            } else if let Some(i) = named_intermediates
                .iter()
                .find(|i| cert::issued_by(child, &self.intermediates[**i]))
            {
                (Node::Intermediate(*i), SignatureCheck::Valid)
            } else if let Some(j) = named_anchors.first() {
                let check = self.anchors[*j].check_signature(child);
                (Node::Anchor(*j), check)
            } else if let Some(i) = named_intermediates.first() {
                let check = cert::check_signature(child, &self.intermediates[*i]);
                (Node::Intermediate(*i), check)
            } else {
                break;
            };

            links.push(Link {
                child: current,
                issuer: next.0,
                signature: next.1,
            });
            current = next.0;
        }
        links
    }

    /// Turns webpki's error into failures that name the certificate concerned.
    fn diagnose(&self, error: &webpki::Error, at: OffsetDateTime) -> Vec<Failure> {
        use webpki::Error as E;

        let links = self.candidate_path();
        // The leaf and intermediates of the candidate path, bottom up; anchors are not checked.
        let mut members = vec![Node::Leaf];
        members.extend(
            links
                .iter()
                .map(|l| l.issuer)
                .filter(|n| matches!(n, Node::Intermediate(_))),
        );

        let failures = match error {
            E::CertExpired { .. } | E::CertNotValidYet { .. } => self.time_failures(&members, at),
            E::InvalidSignatureForPublicKey | E::SignatureAlgorithmMismatch => {
                self.signature_failure(&links, SignatureCheck::Invalid)
            }
            #[allow(deprecated)]
            E::UnsupportedSignatureAlgorithm
            | E::UnsupportedSignatureAlgorithmContext(_)
            | E::UnsupportedSignatureAlgorithmForPublicKey
            | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
                self.signature_failure(&links, SignatureCheck::UnsupportedAlgorithm)
            }
            E::EndEntityUsedAsCa => self.not_ca_failure(&members),
            E::CaUsedAsEndEntity => vec![Failure {
                kind: FailureKind::CaUsedAsLeaf,
                message: format!(
                    "the leaf {} is a CA certificate (basicConstraints cA=TRUE), and a CA certificate cannot be a TLS server's certificate: issue a server certificate from this CA",
                    self.leaf.subject()
                ),
                certificate: Some(self.cert_ref(Node::Leaf)),
            }],
            E::PathLenConstraintViolated => self.path_length_failure(&members),
            E::UnknownIssuer => vec![self.unknown_issuer_failure(&links)],
            #[allow(deprecated)]
            E::RequiredEkuNotFound | E::RequiredEkuNotFoundContext(_) => {
                self.usage_failure(&members)
            }
            E::NameConstraintViolation => vec![Failure {
                kind: FailureKind::NameConstraintViolation,
                message: "a CA's name constraints exclude a name in a certificate below it"
                    .into(),
                certificate: None,
            }],
            E::CertDistrusted => vec![Failure {
                kind: FailureKind::Distrusted,
                message: "a certificate on the path has a key that rustls-webpki distrusts".into(),
                certificate: None,
            }],
            _ => Vec::new(),
        };

        if failures.is_empty() {
            // The diagnosis could not place the error: report webpki's own words.
            return vec![Failure {
                kind: FailureKind::Other,
                message: format!("path validation failed: {error:?}"),
                certificate: None,
            }];
        }
        failures
    }

    fn time_failures(&self, members: &[Node], at: OffsetDateTime) -> Vec<Failure> {
        let mut nodes: Vec<Node> = members.to_vec();
        // A certificate off the candidate path may still be the one webpki tried.
        nodes.extend(
            (0..self.intermediates.len())
                .map(Node::Intermediate)
                .filter(|n| !members.contains(n)),
        );

        let mut failures = Vec::new();
        for node in nodes {
            let Some(cert) = self.cert(node) else {
                continue;
            };
            let validity = cert.validity();
            let failure = match time_status(cert, at) {
                TimeStatus::Valid => continue,
                TimeStatus::Expired => Failure {
                    kind: FailureKind::Expired,
                    message: format!(
                        "the {} {} expired on {} (validation time {})",
                        self.cert_ref(node).role,
                        cert.subject(),
                        cert::rfc3339(&validity.not_after),
                        rfc3339(at)
                    ),
                    certificate: Some(self.cert_ref(node)),
                },
                TimeStatus::NotYetValid => Failure {
                    kind: FailureKind::NotYetValid,
                    message: format!(
                        "the {} {} is not valid before {} (validation time {})",
                        self.cert_ref(node).role,
                        cert.subject(),
                        cert::rfc3339(&validity.not_before),
                        rfc3339(at)
                    ),
                    certificate: Some(self.cert_ref(node)),
                },
            };
            // Off-path certificates count only when nothing on the path explains the error.
            if members.contains(&node) || failures.is_empty() {
                failures.push(failure);
            }
        }
        failures
    }

    fn signature_failure(&self, links: &[Link], expected: SignatureCheck) -> Vec<Failure> {
        let link = links.iter().find(|l| l.signature == expected).or_else(|| {
            // x509-parser verifies some algorithms that rustls-webpki rejects (RSA with SHA-1).
            (expected == SignatureCheck::UnsupportedAlgorithm)
                .then(|| {
                    links.iter().find(|l| {
                        self.cert(l.child)
                            .is_some_and(|child| !webpki_supports_algorithm(child))
                    })
                })
                .flatten()
        });
        let Some(link) = link else {
            return Vec::new();
        };
        let Some(child) = self.cert(link.child) else {
            return Vec::new();
        };
        let role = self.cert_ref(link.child).role;
        let issuer = self.subject(link.issuer);
        let issuer_role = self.cert_ref(link.issuer).role;

        // aws-lc-rs rejects RSA keys outside 2048 to 8192 bits as an invalid signature.
        if let Some(bits) = self
            .rsa_key_bits(link.issuer)
            .filter(|b| !(2048..=8192).contains(b))
        {
            return vec![Failure {
                kind: FailureKind::UnsupportedAlgorithm,
                message: format!(
                    "the {role} {} is signed with the {bits}-bit RSA key of the {issuer_role} {issuer}, and rustls-webpki, like current TLS clients, accepts RSA keys of 2048 to 8192 bits only: reissue the CA with a larger key",
                    child.subject()
                ),
                certificate: Some(self.cert_ref(link.child)),
            }];
        }

        let (kind, message) = match expected {
            SignatureCheck::UnsupportedAlgorithm => (
                FailureKind::UnsupportedAlgorithm,
                format!(
                    "the {role} {} is signed with {}, which rustls-webpki, like current TLS clients, does not accept: reissue it with RSA (PKCS#1 v1.5 or PSS) and SHA-256 or better, or ECDSA",
                    child.subject(),
                    algorithm_name(child)
                ),
            ),
            _ => (
                FailureKind::BadSignature,
                format!(
                    "the signature of the {role} {} does not verify with the key of the {issuer_role} {issuer}, which has the issuer's name: another CA with the same name signed it, or the certificate was altered",
                    child.subject()
                ),
            ),
        };
        vec![Failure {
            kind,
            message,
            certificate: Some(self.cert_ref(link.child)),
        }]
    }

    /// Returns the size of a node's RSA public key in bits, or `None` for another key type.
    fn rsa_key_bits(&self, node: Node) -> Option<usize> {
        use x509_parser::public_key::PublicKey;
        use x509_parser::x509::SubjectPublicKeyInfo;

        let anchor_spki;
        let spki = match node {
            Node::Anchor(j) => {
                anchor_spki = webpki::spki_for_anchor(&self.anchors[j].trust_anchor);
                SubjectPublicKeyInfo::from_der(anchor_spki.as_ref()).ok()?.1
            }
            _ => self.cert(node)?.public_key().clone(),
        };
        match spki.parsed() {
            Ok(PublicKey::RSA(rsa)) => Some(rsa.key_size()),
            _ => None,
        }
    }

    fn not_ca_failure(&self, members: &[Node]) -> Vec<Failure> {
        members
            .iter()
            .filter(|n| matches!(n, Node::Intermediate(_)))
            .filter_map(|node| {
                let cert = self.cert(*node)?;
                if cert::is_ca(cert) {
                    return None;
                }
                Some(Failure {
                    kind: FailureKind::NotCa,
                    message: format!(
                        "{} is used as an issuer, but it is not a CA certificate (no basicConstraints cA=TRUE): only a CA certificate can issue certificates",
                        cert.subject()
                    ),
                    certificate: Some(self.cert_ref(*node)),
                })
            })
            .take(1)
            .collect()
    }

    fn path_length_failure(&self, members: &[Node]) -> Vec<Failure> {
        // members[0] is the leaf; members[k] has k - 1 intermediates below it.
        for (k, node) in members.iter().enumerate().skip(1) {
            let Some(cert) = self.cert(*node) else {
                continue;
            };
            let below = k - 1;
            let limit = match cert.basic_constraints() {
                Ok(Some(bc)) => bc.value.path_len_constraint,
                _ => None,
            };
            if let Some(limit) = limit {
                if below > limit as usize {
                    return vec![Failure {
                        kind: FailureKind::PathLengthExceeded,
                        message: format!(
                            "{} has pathLenConstraint {limit}, so it allows {limit} intermediate CA(s) below it, and the path has {below}",
                            cert.subject()
                        ),
                        certificate: Some(self.cert_ref(*node)),
                    }];
                }
            }
        }
        Vec::new()
    }

    fn unknown_issuer_failure(&self, links: &[Link]) -> Failure {
        let top = links.last().map(|l| l.issuer).unwrap_or(Node::Leaf);
        let Some(cert) = self.cert(top) else {
            return Failure {
                kind: FailureKind::UnknownIssuer,
                message: "no path reaches a trust anchor".into(),
                certificate: None,
            };
        };
        let message = if cert::is_self_signed(cert) {
            format!(
                "{} is self-signed and is not among the trust anchors: trust it explicitly (pin it or pass it with --ca-file) if it is the root you expect",
                cert.subject()
            )
        } else {
            format!(
                "the issuer of {} ({}) is neither a trust anchor nor among the intermediates: pass the missing intermediate with --intermediates, or the root with --ca-file",
                cert.subject(),
                cert.issuer()
            )
        };
        Failure {
            kind: FailureKind::UnknownIssuer,
            message,
            certificate: Some(self.cert_ref(top)),
        }
    }

    fn usage_failure(&self, members: &[Node]) -> Vec<Failure> {
        members
            .iter()
            .filter_map(|node| {
                let cert = self.cert(*node)?;
                let eku = match cert.extended_key_usage() {
                    Ok(Some(eku)) => eku.value,
                    _ => return None,
                };
                if eku.server_auth {
                    return None;
                }
                Some(Failure {
                    kind: FailureKind::WrongUsage,
                    message: format!(
                        "{} has an extendedKeyUsage without serverAuth (1.3.6.1.5.5.7.3.1), so it cannot serve or issue TLS server certificates",
                        cert.subject()
                    ),
                    certificate: Some(self.cert_ref(*node)),
                })
            })
            .take(1)
            .collect()
    }
}

/// Returns the short name of a certificate's signature algorithm, or its OID.
fn algorithm_name(cert: &X509Certificate<'_>) -> String {
    let oid = &cert.signature_algorithm.algorithm;
    match x509_parser::objects::oid2sn(oid, x509_parser::objects::oid_registry()) {
        Ok(name) => format!("{name} ({})", oid.to_id_string()),
        Err(_) => oid.to_id_string(),
    }
}

/// Signature algorithm OIDs that rustls-webpki 0.103 verifies with aws-lc-rs: RSA PKCS#1 v1.5
/// with SHA-256/384/512, RSA-PSS, ECDSA with SHA-256/384/512, Ed25519 and ML-DSA.
/// NOTE: matched by OID only; RSA keys under 2048 bits and unusual PSS parameters are rejected
/// by webpki too, and then the diagnosis falls back to webpki's own error text.
const WEBPKI_SIGNATURE_OIDS: &[&str] = &[
    "1.2.840.113549.1.1.11",
    "1.2.840.113549.1.1.12",
    "1.2.840.113549.1.1.13",
    "1.2.840.113549.1.1.10",
    "1.2.840.10045.4.3.2",
    "1.2.840.10045.4.3.3",
    "1.2.840.10045.4.3.4",
    "1.3.101.112",
    "2.16.840.1.101.3.4.3.17",
    "2.16.840.1.101.3.4.3.18",
    "2.16.840.1.101.3.4.3.19",
];

fn webpki_supports_algorithm(cert: &X509Certificate<'_>) -> bool {
    let oid = cert.signature_algorithm.algorithm.to_id_string();
    WEBPKI_SIGNATURE_OIDS.contains(&oid.as_str())
}
