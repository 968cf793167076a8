//! Certificate file formats: detecting and reading every format admins bring, writing PEM.
//!
//! The format is detected from the content, never from the file name. Readers cover PEM (any
//! number of blocks, with a UTF-8 BOM, CRLF line ends and text around the blocks), DER, base64
//! DER without armor, PKCS#7 certificate bundles (DER or PEM) and PKCS#12.

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use der::{Decode, Encode};
use rustls::pki_types::CertificateDer;
use x509_parser::prelude::FromDer;

use crate::error::{Error, Result};
use crate::files;

/// Object identifier of PKCS#7 / CMS SignedData (RFC 5652 section 5.1).
const ID_SIGNED_DATA: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");

/// Object identifier of CMS Data (RFC 5652 section 4), the content type of a certs-only bundle.
const ID_DATA: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The container a certificate was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Pem,
    Der,
    /// DER encoded as base64 without `-----BEGIN` armor.
    Base64,
    /// A PKCS#7 SignedData certificate bundle (`.p7b`, `.p7c`), DER or PEM.
    Pkcs7,
    /// A PKCS#12 file (`.pfx`, `.p12`).
    Pkcs12,
}

impl Format {
    /// Returns true for the formats Cisco's certificate upload accepts.
    pub fn cisco_uploads(self) -> bool {
        matches!(self, Format::Pem | Format::Der)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Pem => "PEM",
            Format::Der => "DER",
            Format::Base64 => "base64 DER",
            Format::Pkcs7 => "PKCS#7",
            Format::Pkcs12 => "PKCS#12",
        })
    }
}

/// The certificates found in one file.
#[derive(Debug)]
pub struct Decoded {
    pub format: Format,
    /// Certificates in file order.
    pub certificates: Vec<CertificateDer<'static>>,
    /// Notes on content skipped inside the file, such as private keys.
    pub notes: Vec<String>,
}

/// The result of reading a file's content.
#[derive(Debug)]
pub enum Content {
    Certificates(Decoded),
    /// Content in no certificate format, with a description of what it looked like.
    NotCertificates(String),
}

/// A parse failure at a byte offset of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub reason: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte offset {}: {}", self.offset, self.reason)
    }
}

/// Failure to read a PKCS#12 file that parsed.
#[derive(Debug)]
pub enum Pkcs12Failure {
    /// The password source failed, for example because no password was given.
    Password(Error),
    /// The password is wrong or the content cannot be decrypted.
    Decrypt(String),
}

/// Supplies the password of a PKCS#12 file, asked for only when one is found.
pub type PasswordSource<'a> = &'a mut dyn FnMut() -> Result<String>;

/// Reads every certificate in a PEM or DER file (or any other format without a password), in
/// file order.
pub fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let bytes = files::read(path)?;
    parse_certificates(&bytes).map_err(|reason| Error::InvalidInput {
        path: path.to_path_buf(),
        reason,
    })
}

/// Parses certificates from any format except PKCS#12, which needs a password.
pub fn parse_certificates(
    bytes: &[u8],
) -> std::result::Result<Vec<CertificateDer<'static>>, String> {
    let mut no_password = || -> Result<String> {
        Err(Error::CheckFailed(
            "this is a PKCS#12 file, which needs a password: use `gwtrust import`".into(),
        ))
    };
    match decode(bytes, &mut no_password) {
        Ok(Ok(Content::Certificates(decoded))) => Ok(decoded.certificates),
        Ok(Ok(Content::NotCertificates(description))) => Err(format!(
            "no certificate found ({description}): expected PEM, DER, base64 DER or PKCS#7"
        )),
        Ok(Err(Pkcs12Failure::Password(error))) => Err(error.to_string()),
        Ok(Err(Pkcs12Failure::Decrypt(reason))) => Err(reason),
        Err(error) => Err(error.to_string()),
    }
}

/// Reads a file and decodes it, naming the file and the byte offset in any error.
pub fn decode_file(path: &Path, password: PasswordSource<'_>) -> Result<Content> {
    let bytes = files::read(path)?;
    match decode(&bytes, password) {
        Ok(Ok(content)) => Ok(content),
        Ok(Err(Pkcs12Failure::Password(error))) => Err(error),
        Ok(Err(Pkcs12Failure::Decrypt(reason))) => Err(Error::InvalidInput {
            path: path.to_path_buf(),
            reason,
        }),
        Err(error) => Err(Error::InvalidInput {
            path: path.to_path_buf(),
            reason: error.to_string(),
        }),
    }
}

/// Detects the format of `bytes` and decodes it. The outer error is a parse failure; the inner
/// one is a PKCS#12 file that parsed but could not be read.
pub fn decode(
    bytes: &[u8],
    password: PasswordSource<'_>,
) -> std::result::Result<std::result::Result<Content, Pkcs12Failure>, ParseError> {
    let (start, body) = match bytes.strip_prefix(UTF8_BOM) {
        Some(rest) => (UTF8_BOM.len(), rest),
        None => (0, bytes),
    };

    if find(body, b"-----BEGIN ").is_some() {
        return decode_pem(body, start).map(Ok);
    }
    if body.first() == Some(&0x30) && der_length(body).is_some() {
        return decode_der(body, start, Format::Der, password);
    }
    if looks_like_base64(body) {
        // Plain words can pass the character test, so text that does not decode is no error.
        let Ok(der) = decode_base64(body) else {
            return Ok(Ok(Content::NotCertificates(
                "text that is not valid base64".into(),
            )));
        };
        if der.first() != Some(&0x30) {
            return Ok(Ok(Content::NotCertificates(
                "base64 text that does not decode to DER".into(),
            )));
        }
        // Offsets inside decoded base64 would not point into the file, so report the start.
        return decode_der(&der, 0, Format::Base64, password).map_err(|error| ParseError {
            offset: start,
            reason: format!("in the base64-decoded DER: {error}"),
        });
    }
    Ok(Ok(Content::NotCertificates(
        "neither PEM, DER, base64, PKCS#7 nor PKCS#12".into(),
    )))
}

/// Decodes a DER structure: a certificate, a PKCS#7 bundle or a PKCS#12 file.
fn decode_der(
    der: &[u8],
    offset: usize,
    format: Format,
    password: PasswordSource<'_>,
) -> std::result::Result<std::result::Result<Content, Pkcs12Failure>, ParseError> {
    let length = der_length(der).ok_or_else(|| ParseError {
        offset,
        reason: "truncated DER: the outer SEQUENCE is longer than the file".into(),
    })?;
    if length < der.len() {
        return Err(ParseError {
            offset: offset + length,
            reason: format!(
                "{} unexpected bytes after the DER structure",
                der.len() - length
            ),
        });
    }

    match der_kind(der) {
        DerKind::Certificate => {
            crate::cert::parse(der).map_err(|reason| ParseError {
                offset,
                reason: format!("not a valid X.509 certificate: {reason}"),
            })?;
            Ok(Ok(Content::Certificates(Decoded {
                format,
                certificates: vec![CertificateDer::from(der.to_vec())],
                notes: Vec::new(),
            })))
        }
        DerKind::ContentInfo => {
            let (certificates, notes) = decode_pkcs7(der, offset)?;
            Ok(Ok(Content::Certificates(Decoded {
                format: Format::Pkcs7,
                certificates,
                notes,
            })))
        }
        DerKind::Pfx => Ok(decode_pkcs12(der, password).map(Content::Certificates)),
        DerKind::Other => Err(ParseError {
            offset,
            reason: "a DER SEQUENCE that is neither a certificate, PKCS#7 nor PKCS#12".into(),
        }),
    }
}

enum DerKind {
    Certificate,
    ContentInfo,
    Pfx,
    Other,
}

/// Tells the DER structures apart by their first inner element: a certificate starts with the
/// TBSCertificate SEQUENCE, a ContentInfo with an OID, a PFX with its version INTEGER.
fn der_kind(der: &[u8]) -> DerKind {
    let Ok(outer) = der::asn1::AnyRef::from_der(der) else {
        return DerKind::Other;
    };
    let Ok(first) = der::asn1::AnyRef::from_der_partial(outer.value()) else {
        return DerKind::Other;
    };
    match der::Tagged::tag(&first.0) {
        der::Tag::Sequence => DerKind::Certificate,
        der::Tag::ObjectIdentifier => DerKind::ContentInfo,
        der::Tag::Integer => DerKind::Pfx,
        _ => DerKind::Other,
    }
}

/// Returns the encoded length of the DER element at the start of `bytes`, if it fits.
fn der_length(bytes: &[u8]) -> Option<usize> {
    let mut reader = der::SliceReader::new(bytes).ok()?;
    let header = der::Header::decode(&mut reader).ok()?;
    let total = usize::try_from(header.encoded_len().ok()?).ok()?
        + usize::try_from(header.length()).ok()?;
    (total <= bytes.len()).then_some(total)
}

/// Reads the certificates of a PKCS#7 SignedData bundle.
fn decode_pkcs7(
    der: &[u8],
    offset: usize,
) -> std::result::Result<(Vec<CertificateDer<'static>>, Vec<String>), ParseError> {
    // NOTE: only DER is read; a BER bundle with indefinite lengths fails here with an offset.
    let at = |error: der::Error| ParseError {
        offset: offset
            + error
                .position()
                .and_then(|p| usize::try_from(p).ok())
                .unwrap_or(0),
        reason: format!("invalid PKCS#7: {error}"),
    };
    let info = cms::content_info::ContentInfo::from_der(der).map_err(at)?;
    if info.content_type != ID_SIGNED_DATA {
        return Err(ParseError {
            offset,
            reason: format!(
                "PKCS#7 content type {} is not SignedData, so it holds no certificate bundle",
                info.content_type
            ),
        });
    }
    let signed: cms::signed_data::SignedData = info.content.decode_as().map_err(|error| {
        let mut error = at(error);
        error.offset = offset;
        error
    })?;

    let mut certificates = Vec::new();
    let mut notes = Vec::new();
    for choice in signed.certificates.iter().flat_map(|set| set.0.iter()) {
        match choice {
            cms::cert::CertificateChoices::Certificate(cert) => {
                let encoded = cert.to_der().map_err(at)?;
                certificates.push(CertificateDer::from(encoded));
            }
            cms::cert::CertificateChoices::Other(_) => {
                notes.push("skipped a non-X.509 certificate in the PKCS#7 bundle".into());
            }
        }
    }
    if certificates.is_empty() {
        return Err(ParseError {
            offset,
            reason: "the PKCS#7 bundle contains no certificate".into(),
        });
    }
    Ok((certificates, notes))
}

/// Reads the certificates of a PKCS#12 file; its private keys are never read out.
fn decode_pkcs12(
    der: &[u8],
    password: PasswordSource<'_>,
) -> std::result::Result<Decoded, Pkcs12Failure> {
    let password = password().map_err(Pkcs12Failure::Password)?;
    let archive = p12_keystore::Pkcs12Archive::from_pkcs12(der, &password).map_err(|error| {
        let reason = match error {
            p12_keystore::error::Error::MacError(_) => {
                "the password is wrong (the PKCS#12 MAC does not verify)".to_string()
            }
            other => format!("cannot decrypt or read it: {other}"),
        };
        Pkcs12Failure::Decrypt(format!("PKCS#12 file: {reason}"))
    })?;

    let mut notes = Vec::new();
    if !archive.keys.is_empty() {
        notes.push(format!(
            "skipped {} private key(s): a trust list keeps certificates only",
            archive.keys.len()
        ));
    }
    let certificates = archive
        .certs
        .iter()
        .map(|bag| CertificateDer::from(bag.cert.as_der().to_vec()))
        .collect();
    Ok(Decoded {
        format: Format::Pkcs12,
        certificates,
        notes,
    })
}

/// Reads PEM blocks, skipping text around them. `base` is the offset of `text` in the file.
fn decode_pem(text: &[u8], base: usize) -> std::result::Result<Content, ParseError> {
    let mut certificates = Vec::new();
    let mut notes = Vec::new();
    let mut skipped = Vec::new();
    let mut format = Format::Pem;
    let mut position = 0;

    while let Some(found) = find(&text[position..], b"-----BEGIN ") {
        let begin = position + found;
        let label_start = begin + b"-----BEGIN ".len();
        let label_end = find(&text[label_start..], b"-----")
            .map(|i| label_start + i)
            .ok_or_else(|| ParseError {
                offset: base + begin,
                reason: "unterminated BEGIN line".into(),
            })?;
        let label = String::from_utf8_lossy(&text[label_start..label_end]).into_owned();
        let body_start = label_end + b"-----".len();
        let end_marker = format!("-----END {label}-----");
        let body_end = find(&text[body_start..], end_marker.as_bytes())
            .map(|i| body_start + i)
            .ok_or_else(|| ParseError {
                offset: base + begin,
                reason: format!("the {label} block has no {end_marker} line"),
            })?;
        position = body_end + end_marker.len();

        let block_offset = base + begin;
        let decode_body = || {
            decode_base64(&text[body_start..body_end]).map_err(|reason| ParseError {
                offset: block_offset,
                reason: format!("in the {label} block: {reason}"),
            })
        };
        match label.as_str() {
            "CERTIFICATE" | "X509 CERTIFICATE" => {
                let der = decode_body()?;
                crate::cert::parse(&der).map_err(|reason| ParseError {
                    offset: block_offset,
                    reason: format!("the {label} block is not a valid certificate: {reason}"),
                })?;
                certificates.push(CertificateDer::from(der));
            }
            "TRUSTED CERTIFICATE" => {
                // OpenSSL appends its trust settings after the certificate; keep the certificate.
                let der = decode_body()?;
                let rest_len = match x509_parser::certificate::X509Certificate::from_der(&der) {
                    Ok((rest, _)) => rest.len(),
                    Err(error) => {
                        return Err(ParseError {
                            offset: block_offset,
                            reason: format!(
                                "the {label} block is not a valid certificate: {error}"
                            ),
                        })
                    }
                };
                certificates.push(CertificateDer::from(der[..der.len() - rest_len].to_vec()));
            }
            "PKCS7" | "PKCS #7 SIGNED DATA" | "CERTIFICATE CHAIN" => {
                let der = decode_body()?;
                let (found, found_notes) =
                    decode_pkcs7(&der, block_offset).map_err(|mut error| {
                        error.offset = block_offset;
                        error.reason = format!("in the {label} block: {}", error.reason);
                        error
                    })?;
                certificates.extend(found);
                notes.extend(found_notes);
                format = Format::Pkcs7;
            }
            _ => skipped.push((label, block_offset)),
        }
    }

    if certificates.is_empty() {
        let labels: Vec<&str> = skipped.iter().map(|(label, _)| label.as_str()).collect();
        return Ok(Content::NotCertificates(format!(
            "PEM without certificate blocks (found: {})",
            labels.join(", ")
        )));
    }
    for (label, offset) in skipped {
        notes.push(format!("skipped the {label} block at byte offset {offset}"));
    }
    Ok(Content::Certificates(Decoded {
        format,
        certificates,
        notes,
    }))
}

/// Returns true when the content is only base64 characters and whitespace, with enough of
/// them to hold a certificate.
fn looks_like_base64(bytes: &[u8]) -> bool {
    let significant = bytes.iter().filter(|b| !b.is_ascii_whitespace()).count();
    significant >= 64
        && bytes.iter().all(|&b| {
            b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=') || b.is_ascii_whitespace()
        })
}

/// Decodes base64 with any line breaks, as PEM bodies and Windows "Base-64" exports have.
fn decode_base64(bytes: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let compact: Vec<u8> = bytes
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if compact.contains(&b':') {
        return Err("encrypted or header-carrying PEM blocks are not supported".into());
    }
    base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .map_err(|error| format!("invalid base64: {error}"))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Encodes one DER certificate as a PEM `CERTIFICATE` block.
pub fn to_pem(der: &[u8]) -> String {
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    pem::encode_config(&pem::Pem::new("CERTIFICATE", der.to_vec()), config)
}

/// Encodes certificates as concatenated PEM blocks.
pub fn to_pem_bundle<'a>(ders: impl IntoIterator<Item = &'a [u8]>) -> String {
    ders.into_iter().map(to_pem).collect()
}

/// Encodes certificates as a certs-only PKCS#7 SignedData bundle in DER, as `.p7b` files are.
///
/// The certificates form a DER SET OF, which orders its elements by their encodings. They are
/// sorted here once by their DER bytes, because filling the set one insert at a time (as
/// `ContentInfo::try_from(PkiPath)` in cms 0.3.0-pre.1 does) re-sorts and re-encodes the whole
/// set on every insert, and took 274 s for 3,000 certificates.
pub fn to_pkcs7<'a>(
    ders: impl IntoIterator<Item = &'a [u8]>,
) -> std::result::Result<Vec<u8>, String> {
    let mut ders: Vec<&[u8]> = ders.into_iter().collect();
    ders.sort_unstable();

    let mut choices = Vec::with_capacity(ders.len());
    for der in ders {
        let cert = x509_cert::Certificate::from_der(der)
            .map_err(|error| format!("cannot encode a certificate into PKCS#7: {error}"))?;
        choices.push(cms::cert::CertificateChoices::Certificate(cert));
    }
    // Already in DER order, so this sort only checks it.
    let certificates = der::asn1::SetOfVec::try_from(choices)
        .map_err(|error| format!("cannot build the PKCS#7 certificate set: {error}"))?;

    // An empty CRL set is written rather than omitted, as OpenSSL and cms do.
    let signed = cms::signed_data::SignedData {
        version: cms::content_info::CmsVersion::V1,
        digest_algorithms: der::asn1::SetOfVec::default(),
        encap_content_info: cms::signed_data::EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: None,
        },
        certificates: Some(cms::signed_data::CertificateSet(certificates)),
        crls: Some(cms::revocation::RevocationInfoChoices(Default::default())),
        signer_infos: cms::signed_data::SignerInfos(Default::default()),
    };
    let content = der::Any::encode_from(&signed)
        .map_err(|error| format!("cannot encode the PKCS#7 bundle: {error}"))?;
    cms::content_info::ContentInfo {
        content_type: ID_SIGNED_DATA,
        content,
    }
    .to_der()
    .map_err(|error| format!("cannot encode the PKCS#7 bundle: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_password() -> Result<String> {
        panic!("no PKCS#12 in these inputs")
    }

    fn root_der() -> Vec<u8> {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = rcgen::CertificateParams::default();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn pkcs7_matches_cms_encoding() {
        let ders: Vec<Vec<u8>> = (0..5).map(|_| root_der()).collect();
        let ours = to_pkcs7(ders.iter().map(Vec::as_slice)).unwrap();

        let path: x509_cert::PkiPath = ders
            .iter()
            .map(|der| x509_cert::Certificate::from_der(der).unwrap())
            .collect();
        let theirs = cms::content_info::ContentInfo::try_from(path)
            .unwrap()
            .to_der()
            .unwrap();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn der_trailing_bytes_report_offset() {
        let mut der = root_der();
        let length = der.len();
        der.extend_from_slice(b"junk");

        let error = decode(&der, &mut no_password).unwrap_err();
        assert_eq!(error.offset, length);
        assert!(
            error.reason.contains("4 unexpected bytes"),
            "{}",
            error.reason
        );
    }

    #[test]
    fn pem_without_end_line_reports_begin() {
        let text = b"header text\n-----BEGIN CERTIFICATE-----\nMIIB\n";

        let error = decode(text, &mut no_password).unwrap_err();
        assert_eq!(error.offset, 12);
        assert!(error.reason.contains("no -----END CERTIFICATE----- line"));
    }

    #[test]
    fn plain_text_is_not_certificates() {
        let content = decode(b"hello, world\n", &mut no_password)
            .unwrap()
            .unwrap();
        assert!(matches!(content, Content::NotCertificates(_)));
    }

    #[test]
    fn pkcs7_round_trips() {
        let first = root_der();
        let second = root_der();
        let bundle = to_pkcs7([first.as_slice(), second.as_slice()]).unwrap();

        let content = decode(&bundle, &mut no_password).unwrap().unwrap();
        let Content::Certificates(decoded) = content else {
            panic!("the bundle decodes to certificates");
        };
        assert_eq!(decoded.format, Format::Pkcs7);
        let mut found: Vec<Vec<u8>> = decoded.certificates.iter().map(|c| c.to_vec()).collect();
        found.sort();
        let mut expected = vec![first, second];
        expected.sort();
        assert_eq!(found, expected);
    }
}
