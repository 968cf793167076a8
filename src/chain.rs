//! Chain analysis: how the presented certificates link up, and where the root is.
//!
//! A link is a verified signature plus matching names and key identifiers, never names alone.
//! The root of a chain is a self-signed CA certificate that issued the top of the path built
//! from the leaf. It is looked for in the presented chain first, then among the candidates the
//! caller supplies (roots already in the store, then a `--ca-file`).

use rustls::pki_types::CertificateDer;
use serde::Serialize;
use x509_parser::certificate::X509Certificate;

use crate::anchors::{Anchor, SystemOrigin};
use crate::cert::{self, CertSummary};
use crate::error::{Error, Result};
use crate::verify::{self, TimeStatus};

/// The role a presented certificate plays in the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Leaf,
    Intermediate,
    Root,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Leaf => "leaf",
            Role::Intermediate => "intermediate",
            Role::Root => "root",
        })
    }
}

/// One presented certificate with its position and role.
#[derive(Clone, Debug, Serialize)]
pub struct PresentedCert {
    pub position: usize,
    pub role: Role,
    #[serde(flatten)]
    pub summary: CertSummary,
    /// Whether the certificate at `position + 1` issued this one (false for the last).
    pub issued_by_next: bool,
    /// Whether the certificate is within its validity period at the report's `checked_at`.
    pub validity: TimeStatus,
}

/// A certificate sent more than once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Duplicate {
    pub position: usize,
    /// The position of its first occurrence.
    pub same_as: usize,
}

/// The report `fetch` prints about a presented chain.
#[derive(Clone, Debug, Serialize)]
pub struct ChainReport {
    pub certificates: Vec<PresentedCert>,
    /// Whether the server sent a self-signed CA certificate.
    pub root_sent: bool,
    /// Whether each certificate is issued by the next one.
    pub order_valid: bool,
    /// Positions of the path from the leaf upwards, following verified issuer links.
    pub path: Vec<usize>,
    /// Whether the certificates of `path` were sent in path order: each one after the
    /// certificate it issued. Duplicates and stray certificates in between do not count.
    pub path_in_order: bool,
    /// Certificates sent again after their first occurrence.
    pub duplicates: Vec<Duplicate>,
    /// Positions of certificates that are on no path from the leaf (neither the leaf, nor an
    /// issuer of a certificate that is), and are not duplicates.
    pub stray: Vec<usize>,
    /// Positions of certificates whose notAfter is before `checked_at`.
    pub expired: Vec<usize>,
    /// Positions of certificates whose notBefore is after `checked_at`.
    pub not_yet_valid: Vec<usize>,
    /// The time validity was checked at, RFC 3339.
    pub checked_at: String,
    /// Location of a trust anchor for the chain. `fetch` sets it, and `pin`'s report omits it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_anchor: Option<TrustAnchorReport>,
}

/// The certificates of a chain, parsed once.
pub struct ParsedChain<'a> {
    pub ders: &'a [CertificateDer<'a>],
    pub certs: Vec<X509Certificate<'a>>,
}

impl<'a> ParsedChain<'a> {
    /// Parses every certificate; `what` names the source in errors (a server, a file).
    pub fn parse(ders: &'a [CertificateDer<'a>], what: &str) -> Result<ParsedChain<'a>> {
        if ders.is_empty() {
            return Err(Error::InvalidCertificate {
                what: what.to_string(),
                reason: "no certificate was presented".into(),
            });
        }
        let certs = ders
            .iter()
            .enumerate()
            .map(|(position, der)| {
                cert::parse(der).map_err(|reason| Error::InvalidCertificate {
                    what: format!("{what}, position {position}"),
                    reason,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ParsedChain { ders, certs })
    }

    /// Builds the path from the leaf: each step is the first presented certificate, not yet on
    /// the path, that issued the previous one. The path stops at a self-signed certificate or
    /// where no presented certificate is the issuer.
    pub fn path(&self) -> Vec<usize> {
        let mut path = vec![0];
        let mut current = 0;
        while !cert::is_self_signed(&self.certs[current]) {
            let next = (0..self.certs.len()).find(|i| {
                !path.contains(i) && cert::issued_by(&self.certs[current], &self.certs[*i])
            });
            match next {
                Some(i) => {
                    path.push(i);
                    current = i;
                }
                None => break,
            }
        }
        path
    }

    /// Reports positions, roles, links, duplicates, stray certificates and validity now.
    pub fn report(&self) -> ChainReport {
        self.report_at(time::OffsetDateTime::now_utc())
    }

    /// Reports positions, roles, links, duplicates, stray certificates and validity at `at`.
    pub fn report_at(&self, at: time::OffsetDateTime) -> ChainReport {
        let count = self.certs.len();
        let certificates: Vec<PresentedCert> = self
            .certs
            .iter()
            .enumerate()
            .map(|(position, parsed)| {
                let summary = CertSummary::from_parsed(&self.ders[position], parsed);
                let role = if position == 0 {
                    Role::Leaf
                } else if summary.self_signed && summary.is_ca {
                    Role::Root
                } else {
                    Role::Intermediate
                };
                let issued_by_next =
                    position + 1 < count && cert::issued_by(parsed, &self.certs[position + 1]);
                PresentedCert {
                    position,
                    role,
                    summary,
                    issued_by_next,
                    validity: verify::time_status(parsed, at),
                }
            })
            .collect();

        let root_sent = certificates
            .iter()
            .any(|c| c.role == Role::Root || (count == 1 && c.summary.self_signed));
        let order_valid = certificates[..count - 1].iter().all(|c| c.issued_by_next);
        let path = self.path();
        let path_in_order = path.windows(2).all(|pair| pair[0] < pair[1]);
        let duplicates = self.duplicates();
        let reachable = self.reachable();
        let stray = (0..count)
            .filter(|p| !reachable[*p] && !duplicates.iter().any(|d| d.position == *p))
            .collect();
        let positions_with = |status: TimeStatus| {
            certificates
                .iter()
                .filter(|c| c.validity == status)
                .map(|c| c.position)
                .collect::<Vec<_>>()
        };

        ChainReport {
            root_sent,
            order_valid,
            path,
            path_in_order,
            duplicates,
            stray,
            expired: positions_with(TimeStatus::Expired),
            not_yet_valid: positions_with(TimeStatus::NotYetValid),
            checked_at: verify::rfc3339(at),
            trust_anchor: None,
            certificates,
        }
    }

    /// Returns every certificate whose exact DER was already sent at an earlier position.
    fn duplicates(&self) -> Vec<Duplicate> {
        (0..self.ders.len())
            .filter_map(|position| {
                let first = self.ders[..position]
                    .iter()
                    .position(|earlier| earlier.as_ref() == self.ders[position].as_ref())?;
                Some(Duplicate {
                    position,
                    same_as: first,
                })
            })
            .collect()
    }

    /// Marks the certificates on some path from the leaf: the leaf, and every certificate that
    /// issued a marked one. Unlike [`ParsedChain::path`], this follows every issuer, so a
    /// cross-signed alternative is not stray.
    fn reachable(&self) -> Vec<bool> {
        let mut marked = vec![false; self.certs.len()];
        marked[0] = true;
        let mut queue = vec![0];
        while let Some(child) = queue.pop() {
            for (issuer, candidate) in self.certs.iter().enumerate() {
                if !marked[issuer] && cert::issued_by(&self.certs[child], candidate) {
                    marked[issuer] = true;
                    queue.push(issuer);
                }
            }
        }
        marked
    }

    /// Finds the trust anchors that issued a certificate of the path, walking up from the leaf
    /// and stopping at the first certificate that one of `anchors` issued, as path building
    /// does. A self-signed root that is itself an anchor counts as issued by that anchor.
    pub fn find_anchors(&self, anchors: &[Anchor]) -> Vec<FoundAnchor> {
        for position in self.path() {
            let found: Vec<FoundAnchor> = anchors
                .iter()
                .filter(|anchor| anchor.issued(&self.certs[position]))
                .map(|anchor| FoundAnchor {
                    subject: anchor.subject(),
                    fingerprint_sha256: anchor.fingerprint(),
                    source: anchor.source.clone(),
                    issued_position: position,
                })
                .collect();
            if !found.is_empty() {
                return found;
            }
        }
        Vec::new()
    }
}

/// A trust anchor that issued a presented certificate.
#[derive(Clone, Debug, Serialize)]
pub struct FoundAnchor {
    pub subject: String,
    /// SHA-256 of the anchor certificate; `None` for a webpki-roots anchor.
    pub fingerprint_sha256: Option<String>,
    pub source: RootSource,
    /// The position of the presented certificate this anchor issued.
    pub issued_position: usize,
}

/// The outcome of looking for a trust anchor in one source.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum AnchorLookup {
    Found {
        anchors: Vec<FoundAnchor>,
    },
    NotFound,
    /// The source could not be read (the store is in use, or there is no store).
    Unavailable {
        reason: String,
    },
    /// The source was not given (no `--ca-file`).
    NotGiven,
}

impl AnchorLookup {
    /// Looks for anchors of `chain` among `anchors`, or reports why the source is unavailable.
    pub fn search(
        chain: &ParsedChain<'_>,
        anchors: std::result::Result<&[Anchor], &str>,
    ) -> AnchorLookup {
        match anchors {
            Err(reason) => AnchorLookup::Unavailable {
                reason: reason.to_string(),
            },
            Ok(anchors) => {
                let found = chain.find_anchors(anchors);
                if found.is_empty() {
                    AnchorLookup::NotFound
                } else {
                    AnchorLookup::Found { anchors: found }
                }
            }
        }
    }
}

/// Trust anchor locations for a presented chain, and the root `pin` would store.
#[derive(Clone, Debug, Serialize)]
pub struct TrustAnchorReport {
    /// Every list of the store, read without changing it.
    pub store: AnchorLookup,
    pub ca_file: AnchorLookup,
    pub system: AnchorLookup,
    /// The system store that was read, or `None` when none was.
    pub system_origin: Option<SystemOrigin>,
    /// The root `pin` would store: from the presented chain, else the store, else `--ca-file`.
    /// `pin` never takes a root from the system roots.
    pub pin_root: PinRoot,
}

/// The root `pin` would store.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PinRoot {
    Found {
        subject: String,
        fingerprint_sha256: String,
        source: RootSource,
    },
    /// No root: `issuer` is the distinguished name of the missing issuer.
    Missing { issuer: String },
}

impl PinRoot {
    /// Runs the root search of `pin` over the store and `--ca-file` anchors.
    pub fn search(chain: &ParsedChain<'_>, store: &[Anchor], ca_file: &[Anchor]) -> PinRoot {
        let candidates: Vec<Candidate> = store
            .iter()
            .chain(ca_file)
            .filter_map(|anchor| {
                Some(Candidate {
                    der: anchor.der.clone()?,
                    source: anchor.source.clone(),
                })
            })
            .collect();
        match find_root(chain, &candidates) {
            RootSearch::Found(root) => PinRoot::Found {
                subject: root.summary.subject,
                fingerprint_sha256: root.summary.fingerprint_sha256,
                source: root.source,
            },
            RootSearch::Missing { issuer } => PinRoot::Missing { issuer },
        }
    }
}

/// The source of a root certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RootSource {
    /// The server sent it.
    Presented { position: usize },
    /// It was already in this store list.
    Store { list: String },
    /// It was in the file given with `--ca-file`.
    CaFile { path: String },
    /// It is one of the system roots: `native` (the platform's store) or `webpki-roots`.
    System { store: String },
}

impl std::fmt::Display for RootSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RootSource::Presented { position } => {
                write!(f, "presented by the server at position {position}")
            }
            RootSource::Store { list } => write!(f, "store list {list}"),
            RootSource::CaFile { path } => write!(f, "--ca-file {path}"),
            RootSource::System { store } if store == "native" => {
                f.write_str("the system roots (platform store)")
            }
            RootSource::System { store } => write!(f, "the system roots ({store})"),
        }
    }
}

/// A certificate that may be the root of a chain, with where it came from.
pub struct Candidate {
    pub der: CertificateDer<'static>,
    pub source: RootSource,
}

/// The root that `pin` would store.
#[derive(Clone, Debug, Serialize)]
pub struct Root {
    #[serde(skip)]
    pub der: CertificateDer<'static>,
    #[serde(flatten)]
    pub summary: CertSummary,
    pub source: RootSource,
    /// True when the server presented a single self-signed certificate that is its own root.
    pub self_signed_leaf: bool,
}

/// The outcome of looking for the root.
#[derive(Clone, Debug)]
pub enum RootSearch {
    Found(Root),
    /// No root: `issuer` is the distinguished name of the missing issuer.
    Missing {
        issuer: String,
    },
}

/// Maximum number of candidate intermediates `find_root` walks through above the presented chain.
const MAX_CANDIDATE_DEPTH: usize = 8;

/// Finds the root of a presented chain: in the chain itself, else among `candidates` in order,
/// walking through candidate intermediates when the server sent only part of the chain.
pub fn find_root(chain: &ParsedChain<'_>, candidates: &[Candidate]) -> RootSearch {
    let path = chain.path();
    let top_position = *path.last().expect("a path has at least the leaf");
    let top = &chain.certs[top_position];

    if cert::is_self_signed(top) {
        let self_signed_leaf = top_position == 0;
        if cert::is_ca(top) || self_signed_leaf {
            let der = chain.ders[top_position].clone().into_owned();
            return RootSearch::Found(Root {
                summary: CertSummary::from_parsed(&der, top),
                der,
                source: RootSource::Presented {
                    position: top_position,
                },
                self_signed_leaf,
            });
        }
    }

    // Walk up through candidate CA certificates (intermediates from a CA file or a CA list)
    // until a self-signed CA certificate issued the current top.
    let parsed: Vec<(usize, X509Certificate<'_>)> = candidates
        .iter()
        .enumerate()
        .filter_map(|(index, candidate)| cert::parse(&candidate.der).ok().map(|p| (index, p)))
        .collect();
    let mut current = top;
    let mut used = Vec::new();
    for _ in 0..MAX_CANDIDATE_DEPTH {
        let root = parsed.iter().find(|(_, candidate)| {
            cert::is_self_signed(candidate)
                && cert::is_ca(candidate)
                && cert::issued_by(current, candidate)
        });
        if let Some((index, root)) = root {
            let candidate = &candidates[*index];
            return RootSearch::Found(Root {
                summary: CertSummary::from_parsed(&candidate.der, root),
                der: candidate.der.clone(),
                source: candidate.source.clone(),
                self_signed_leaf: false,
            });
        }

        let intermediate = parsed.iter().find(|(index, candidate)| {
            !used.contains(index)
                && cert::is_ca(candidate)
                && !cert::is_self_signed(candidate)
                && cert::issued_by(current, candidate)
        });
        match intermediate {
            Some((index, intermediate)) => {
                used.push(*index);
                current = intermediate;
            }
            None => break,
        }
    }

    RootSearch::Missing {
        issuer: crate::cert::display_name(current.issuer()),
    }
}
