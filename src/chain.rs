//! Chain analysis: how the presented certificates link up, and where the root is.
//!
//! A link is a verified signature plus matching names and key identifiers, never names alone.
//! The root of a chain is a self-signed CA certificate that issued the top of the path built
//! from the leaf. It is looked for in the presented chain first, then among the candidates the
//! caller supplies (roots already in the store, then a `--ca-file`).

use rustls::pki_types::CertificateDer;
use serde::Serialize;
use x509_parser::certificate::X509Certificate;

use crate::cert::{self, CertSummary};
use crate::error::{Error, Result};

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
}

/// What `fetch` reports about a presented chain.
#[derive(Clone, Debug, Serialize)]
pub struct ChainReport {
    pub certificates: Vec<PresentedCert>,
    /// Whether the server sent a self-signed CA certificate.
    pub root_sent: bool,
    /// Whether each certificate is issued by the next one.
    pub order_valid: bool,
    /// Positions of the path from the leaf upwards, following verified issuer links.
    pub path: Vec<usize>,
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

    /// Reports positions, roles and links.
    pub fn report(&self) -> ChainReport {
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
                }
            })
            .collect();

        let root_sent = certificates
            .iter()
            .any(|c| c.role == Role::Root || (count == 1 && c.summary.self_signed));
        let order_valid = certificates[..count - 1].iter().all(|c| c.issued_by_next);

        ChainReport {
            certificates,
            root_sent,
            order_valid,
            path: self.path(),
        }
    }
}

/// Where a root certificate came from.
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

/// Finds the root of a presented chain: in the chain itself, else among `candidates` in order.
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

    for candidate in candidates {
        let Ok(parsed) = cert::parse(&candidate.der) else {
            continue;
        };
        if cert::is_self_signed(&parsed) && cert::is_ca(&parsed) && cert::issued_by(top, &parsed) {
            return RootSearch::Found(Root {
                summary: CertSummary::from_parsed(&candidate.der, &parsed),
                der: candidate.der.clone(),
                source: candidate.source.clone(),
                self_signed_leaf: false,
            });
        }
    }

    RootSearch::Missing {
        issuer: top.issuer().to_string(),
    }
}
