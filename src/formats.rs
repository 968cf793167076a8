//! Certificate file formats: reading PEM or DER, writing PEM.
//!
//! The format is detected from the content, never from the file name.

use std::path::Path;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use crate::error::{Error, Result};
use crate::files;

/// Reads every certificate in a PEM or DER file, in file order.
pub fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let bytes = files::read(path)?;
    parse_certificates(&bytes).map_err(|reason| Error::InvalidInput {
        path: path.to_path_buf(),
        reason,
    })
}

/// Parses PEM (one or more `CERTIFICATE` blocks) or a single DER certificate.
pub fn parse_certificates(
    bytes: &[u8],
) -> std::result::Result<Vec<CertificateDer<'static>>, String> {
    // DER starts with a SEQUENCE tag; PEM is text.
    if bytes.first() == Some(&0x30) {
        crate::cert::parse(bytes).map_err(|reason| format!("not a DER certificate: {reason}"))?;
        return Ok(vec![CertificateDer::from(bytes.to_vec())]);
    }

    let certificates = CertificateDer::pem_slice_iter(bytes)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|err| format!("invalid PEM: {err}"))?;
    if certificates.is_empty() {
        return Err(
            "no certificate found: expected PEM with BEGIN CERTIFICATE blocks, or DER".into(),
        );
    }
    Ok(certificates)
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
