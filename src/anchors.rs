//! Trust anchors: the certificates a chain may end at, with where each one came from.
//!
//! An anchor comes from a store list, a `--ca-file`, or the system roots. The system roots are
//! the platform's store read by rustls-native-certs (which honours `SSL_CERT_FILE` and
//! `SSL_CERT_DIR`), or the Mozilla roots compiled into webpki-roots when the platform's store is
//! empty or unreadable. webpki-roots carries no certificates, only subject names and keys, so
//! those anchors have no fingerprint.

use std::borrow::Cow;
use std::path::Path;

use gwtrust_store::Store;
use rustls::pki_types::{CertificateDer, TrustAnchor};
use serde::Serialize;
use x509_parser::asn1_rs::{Sequence, ToDer};
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;
use x509_parser::x509::{SubjectPublicKeyInfo, X509Name};

use crate::cert::{self, SignatureCheck};
use crate::chain::RootSource;
use crate::error::{Error, Result};
use crate::formats;

/// A trust anchor with its origin.
#[derive(Clone, Debug)]
pub struct Anchor {
    /// The anchor as rustls-webpki uses it for path validation.
    pub trust_anchor: TrustAnchor<'static>,
    /// The certificate, when the anchor came from one (not for webpki-roots).
    pub der: Option<CertificateDer<'static>>,
    pub source: RootSource,
    /// The subject name as a complete DER `Name`, for comparison with an issuer name.
    subject_der: Vec<u8>,
    /// The subject key identifier, when the certificate has one.
    subject_key_id: Option<Vec<u8>>,
}

impl Anchor {
    /// Makes an anchor of a certificate. The error explains why the certificate is not usable.
    pub fn from_der(
        der: CertificateDer<'static>,
        source: RootSource,
    ) -> std::result::Result<Anchor, String> {
        let parsed = cert::parse(&der)?;
        let trust_anchor = webpki::anchor_from_trusted_cert(&der)
            .map_err(|err| format!("not usable as a trust anchor: {err}"))?
            .to_owned();
        Ok(Anchor {
            subject_der: parsed.subject().as_raw().to_vec(),
            subject_key_id: cert::subject_key_id(&parsed).map(<[u8]>::to_vec),
            trust_anchor,
            der: Some(der),
            source,
        })
    }

    /// Makes an anchor of a bare subject name and key, as webpki-roots provides them.
    pub fn from_trust_anchor(trust_anchor: TrustAnchor<'static>, source: RootSource) -> Anchor {
        Anchor {
            subject_der: wrap_sequence(trust_anchor.subject.as_ref()),
            subject_key_id: None,
            trust_anchor,
            der: None,
            source,
        }
    }

    /// Returns the subject name in the `CN=..., O=...` form of x509-parser.
    pub fn subject(&self) -> String {
        match X509Name::from_der(&self.subject_der) {
            Ok((_, name)) => name.to_string(),
            Err(_) => "<unreadable name>".into(),
        }
    }

    /// Returns the SHA-256 fingerprint of the certificate, or `None` for webpki-roots anchors.
    pub fn fingerprint(&self) -> Option<String> {
        self.der
            .as_ref()
            .map(|der| cert::fingerprint(der).to_string())
    }

    /// Returns true when this anchor issued `child`: the names are equal, the key identifiers
    /// agree where both are present, and the signature verifies with the anchor's key.
    pub fn issued(&self, child: &X509Certificate<'_>) -> bool {
        if child.issuer().as_raw() != self.subject_der.as_slice() {
            return false;
        }
        if let (Some(aki), Some(ski)) = (cert::authority_key_id(child), &self.subject_key_id) {
            if aki != ski.as_slice() {
                return false;
            }
        }
        self.check_signature(child) == SignatureCheck::Valid
    }

    /// Returns true when `child`'s issuer name is this anchor's subject name.
    pub fn names_issuer_of(&self, child: &X509Certificate<'_>) -> bool {
        child.issuer().as_raw() == self.subject_der.as_slice()
    }

    /// Verifies `child`'s signature with the anchor's public key.
    pub fn check_signature(&self, child: &X509Certificate<'_>) -> SignatureCheck {
        let spki_der = webpki::spki_for_anchor(&self.trust_anchor);
        let Ok((_, spki)) = SubjectPublicKeyInfo::from_der(spki_der.as_ref()) else {
            return SignatureCheck::Invalid;
        };
        match child.verify_signature(Some(&spki)) {
            Ok(()) => SignatureCheck::Valid,
            Err(x509_parser::prelude::X509Error::SignatureUnsupportedAlgorithm) => {
                SignatureCheck::UnsupportedAlgorithm
            }
            Err(_) => SignatureCheck::Invalid,
        }
    }

    /// Returns true when `other` is the same subject name and key.
    pub fn same_as(&self, other: &TrustAnchor<'_>) -> bool {
        self.trust_anchor.subject.as_ref() == other.subject.as_ref()
            && self.trust_anchor.subject_public_key_info.as_ref()
                == other.subject_public_key_info.as_ref()
    }
}

/// Wraps the contents of a name in its SEQUENCE header, as it appears inside a certificate.
fn wrap_sequence(contents: &[u8]) -> Vec<u8> {
    Sequence::new(Cow::Borrowed(contents))
        .to_der_vec()
        .unwrap_or_default()
}

/// Reads every certificate of a CA file as an anchor.
pub fn from_ca_file(path: &Path) -> Result<Vec<Anchor>> {
    let source = RootSource::CaFile {
        path: path.display().to_string(),
    };
    formats::read_certificates(path)?
        .into_iter()
        .enumerate()
        .map(|(index, der)| {
            Anchor::from_der(der, source.clone()).map_err(|reason| Error::InvalidInput {
                path: path.to_path_buf(),
                reason: format!("certificate {} of the file: {reason}", index + 1),
            })
        })
        .collect()
}

/// Reads the certificates of one store list as anchors.
pub fn from_store_list(store: &Store, list: &str) -> Result<Vec<Anchor>> {
    if store.list_info(list)?.is_none() {
        return Err(gwtrust_store::StoreError::ListNotFound { name: list.into() }.into());
    }
    store_anchors(store.entries(list)?)
}

/// Reads the certificates of every store list as anchors, `first_list` first.
pub fn from_store(store: &Store, first_list: &str) -> Result<Vec<Anchor>> {
    let mut entries = store.all_entries()?;
    // A stable sort keeps the store's order (list name, then fingerprint) within each group.
    entries.sort_by_key(|entry| entry.list != first_list);
    store_anchors(entries)
}

fn store_anchors(entries: Vec<gwtrust_store::Entry>) -> Result<Vec<Anchor>> {
    entries
        .into_iter()
        .map(|entry| {
            let what = format!("stored {} in list {}", entry.fingerprint, entry.list);
            let source = RootSource::Store {
                list: entry.list.clone(),
            };
            Anchor::from_der(entry.der.into(), source)
                .map_err(|reason| Error::InvalidCertificate { what, reason })
        })
        .collect()
}

/// Origin of the system anchors: the platform's store or webpki-roots.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SystemOrigin {
    /// The platform's store, read by rustls-native-certs.
    Native {
        certificates: usize,
        /// Files or certificates that could not be read; the rest were used.
        errors: Vec<String>,
    },
    /// The Mozilla roots in webpki-roots, because the platform's store was empty or unreadable.
    WebpkiRoots { reason: String },
}

/// Loads the system roots: the platform's store, or webpki-roots when that gives no anchor.
pub fn system() -> (Vec<Anchor>, SystemOrigin) {
    let loaded = rustls_native_certs::load_native_certs();
    let errors: Vec<String> = loaded.errors.iter().map(ToString::to_string).collect();
    let source = RootSource::System {
        store: "native".into(),
    };
    let anchors: Vec<Anchor> = loaded
        .certs
        .into_iter()
        .filter_map(|der| Anchor::from_der(der, source.clone()).ok())
        .collect();

    if !anchors.is_empty() {
        let origin = SystemOrigin::Native {
            certificates: anchors.len(),
            errors,
        };
        return (anchors, origin);
    }

    let reason = if errors.is_empty() {
        "the platform's certificate store is empty".to_string()
    } else {
        format!(
            "the platform's certificate store is unreadable: {}",
            errors.join("; ")
        )
    };
    let source = RootSource::System {
        store: "webpki-roots".into(),
    };
    let anchors = webpki_roots::TLS_SERVER_ROOTS
        .iter()
        .map(|anchor| Anchor::from_trust_anchor(anchor.to_owned(), source.clone()))
        .collect();
    (anchors, SystemOrigin::WebpkiRoots { reason })
}
