//! `export`: write a trust list in a format another tool reads.
//!
//! - `pem`: one PEM bundle file;
//! - `der`: a directory with one DER file per certificate;
//! - `hashdir`: an OpenSSL hashed directory (`<subject hash>.N` PEM files, as `openssl rehash`
//!   names them) for `-CApath`;
//! - `p7b`: a certs-only PKCS#7 bundle in DER;
//! - `p12`: a PKCS#12 truststore whose entries Java's keytool lists as trusted certificates.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use der::{Decode, Encode};
use gwtrust_store::{Entry, Store, StoreError};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::files::{self, PRIVATE_MODE, PUBLIC_MODE};
use crate::formats;
use crate::policy;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Pem,
    Der,
    Hashdir,
    P7b,
    P12,
}

impl ExportFormat {
    pub const NAMES: [&'static str; 5] = ["pem", "der", "hashdir", "p7b", "p12"];

    /// Returns true when `--out` names a directory rather than a file.
    pub fn is_directory(self) -> bool {
        matches!(self, ExportFormat::Der | ExportFormat::Hashdir)
    }
}

impl FromStr for ExportFormat {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, Self::Err> {
        match text {
            "pem" => Ok(ExportFormat::Pem),
            "der" => Ok(ExportFormat::Der),
            "hashdir" => Ok(ExportFormat::Hashdir),
            "p7b" => Ok(ExportFormat::P7b),
            "p12" => Ok(ExportFormat::P12),
            _ => Err(format!(
                "expected one of {}",
                ExportFormat::NAMES.join(", ")
            )),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ExportReport {
    pub list: String,
    pub format: ExportFormat,
    pub out: String,
    pub certificates: usize,
    /// Files written, relative to `out` for directory formats.
    pub files: Vec<String>,
    pub warnings: Vec<String>,
}

/// Writes list `list` to `out`. `store_dir` is the store's directory, which `out` must not be
/// inside; `force` allows replacing an existing file. `password` is asked for only for `p12`.
pub fn export(
    store: &Store,
    store_dir: &Path,
    list: &str,
    format: ExportFormat,
    out: &Path,
    force: bool,
    password: &mut dyn FnMut() -> Result<String>,
) -> Result<ExportReport> {
    check_out(store_dir, format, out, force)?;
    if store.list_info(list)?.is_none() {
        return Err(StoreError::ListNotFound {
            name: list.to_string(),
        }
        .into());
    }
    let entries = store.entries(list)?;
    if entries.is_empty() {
        return Err(Error::InvalidArgument {
            what: "--list",
            value: list.to_string(),
            reason: "the list is empty, so there is nothing to export; import certificates first"
                .into(),
        });
    }

    let mut warnings = Vec::new();
    // A hashdir contains PEM files, which the upload takes; the bundle formats it does not.
    if matches!(format, ExportFormat::P7b | ExportFormat::P12) {
        warnings.push(
            "Cisco's certificate upload accepts PEM or DER only; use --format pem or der for it"
                .to_string(),
        );
    }

    // Single-file formats get their directory made, as the directory formats do.
    if matches!(
        format,
        ExportFormat::Pem | ExportFormat::P7b | ExportFormat::P12
    ) {
        if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
            files::create_dir(parent)?;
        }
    }

    let files = match format {
        ExportFormat::Pem => {
            let pem = formats::to_pem_bundle(entries.iter().map(|e| e.der.as_slice()));
            files::write_atomic(out, pem.as_bytes(), PUBLIC_MODE)?;
            vec![out.display().to_string()]
        }
        ExportFormat::P7b => {
            let der =
                formats::to_pkcs7(entries.iter().map(|e| e.der.as_slice())).map_err(|reason| {
                    Error::InvalidCertificate {
                        what: format!("list {list}"),
                        reason,
                    }
                })?;
            files::write_atomic(out, &der, PUBLIC_MODE)?;
            vec![out.display().to_string()]
        }
        ExportFormat::P12 => {
            let password = password()?;
            if password.is_empty() {
                warnings.push(
                    "the PKCS#12 password is empty: keytool needs a password to open the truststore (-storepass), so set a non-empty one".into(),
                );
            }
            let der = pkcs12_truststore(&entries, &password)?;
            files::write_atomic(out, &der, PRIVATE_MODE)?;
            vec![out.display().to_string()]
        }
        ExportFormat::Der => write_directory(out, &der_files(&entries))?,
        ExportFormat::Hashdir => write_directory(out, &hashdir_files(&entries)?)?,
    };

    Ok(ExportReport {
        list: list.to_string(),
        format,
        out: out.display().to_string(),
        certificates: entries.len(),
        files,
        warnings,
    })
}

/// Rejects an `out` inside the store directory, an existing file unless `force`, and anything
/// but a directory for the directory formats.
fn check_out(store_dir: &Path, format: ExportFormat, out: &Path, force: bool) -> Result<()> {
    let invalid = |reason: String| Error::InvalidArgument {
        what: "--out",
        value: out.display().to_string(),
        reason,
    };

    if let (Ok(store), Some(target)) = (store_dir.canonicalize(), canonical_target(out)) {
        if target.starts_with(&store) {
            return Err(invalid(format!(
                "it is inside the store directory {}, and writing there would damage the store; choose a path outside it",
                store.display()
            )));
        }
    }

    let existing = std::fs::symlink_metadata(out).ok();
    match existing {
        None => Ok(()),
        Some(metadata) if format.is_directory() && !metadata.is_dir() => Err(invalid(format!(
            "it exists and is not a directory: --out must be a new or empty directory for --format {}",
            format_name(format)
        ))),
        Some(_) if format.is_directory() => Ok(()),
        Some(metadata) if metadata.is_dir() => Err(invalid(format!(
            "it is a directory: --format {} writes one file, so name a file",
            format_name(format)
        ))),
        Some(_) if force => Ok(()),
        Some(_) => Err(invalid(
            "the file exists: pass --force to replace it, or choose a new path".into(),
        )),
    }
}

/// Returns the canonical path `out` refers to, resolving its nearest existing ancestor when
/// `out` does not exist yet, or None when no ancestor resolves.
fn canonical_target(out: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(out).ok()?;
    let mut missing = Vec::new();
    let mut existing = absolute.as_path();
    loop {
        if let Ok(path) = existing.canonicalize() {
            return Some(
                missing
                    .iter()
                    .rev()
                    .fold(path, |path, name| path.join(name)),
            );
        }
        missing.push(existing.file_name()?.to_owned());
        existing = existing.parent()?;
    }
}

fn format_name(format: ExportFormat) -> &'static str {
    match format {
        ExportFormat::Pem => "pem",
        ExportFormat::Der => "der",
        ExportFormat::Hashdir => "hashdir",
        ExportFormat::P7b => "p7b",
        ExportFormat::P12 => "p12",
    }
}

/// Names one DER file per certificate after its common name and fingerprint.
fn der_files(entries: &[Entry]) -> BTreeMap<String, Vec<u8>> {
    entries
        .iter()
        .map(|entry| {
            let name = crate::cert::parse(&entry.der)
                .ok()
                .and_then(|c| policy::common_name(&c))
                .unwrap_or_else(|| "certificate".into());
            let safe: String = name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            let fingerprint = entry.fingerprint.to_string();
            (
                format!("{safe}_{}.der", &fingerprint[..16]),
                entry.der.clone(),
            )
        })
        .collect()
}

/// PEM files named `<subject hash>.N`, numbering certificates with the same hash from 0 in
/// list order, as `openssl rehash` does.
fn hashdir_files(entries: &[Entry]) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut files = BTreeMap::new();
    for entry in entries {
        let hash =
            openssl_subject_hash(&entry.der).map_err(|reason| Error::InvalidCertificate {
                what: entry.fingerprint.to_string(),
                reason,
            })?;
        let mut suffix = 0;
        while files.contains_key(&format!("{hash:08x}.{suffix}")) {
            suffix += 1;
        }
        files.insert(
            format!("{hash:08x}.{suffix}"),
            formats::to_pem(&entry.der).into_bytes(),
        );
    }
    Ok(files)
}

/// Writes `files` into a new directory `out`. They are written into a temporary sibling first,
/// which is renamed to `out`, so `out` never contains half an export.
fn write_directory(out: &Path, files: &BTreeMap<String, Vec<u8>>) -> Result<Vec<String>> {
    let occupied = std::fs::read_dir(out)
        .map(|mut dir| dir.next().is_some())
        .unwrap_or(false);
    if occupied {
        return Err(Error::InvalidArgument {
            what: "--out",
            value: out.display().to_string(),
            reason: "the directory is not empty: pass a new or empty directory".into(),
        });
    }

    let parent = match out.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    files::create_dir(&parent)?;
    let staging = tempfile::Builder::new()
        .prefix(".gwtrust-export-")
        .tempdir_in(&parent)
        .map_err(|source| Error::WriteFile {
            path: parent.clone(),
            source,
        })?;
    for (name, data) in files {
        files::write_atomic(&staging.path().join(name), data, PUBLIC_MODE)?;
    }

    let staged = staging.keep();
    let rename_error = |source| Error::WriteFile {
        path: out.to_path_buf(),
        source,
    };
    // rename(2) replaces an empty directory, so an existing empty --out is fine.
    if let Err(source) =
        std::fs::set_permissions(&staged, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .and_then(|_| std::fs::rename(&staged, out))
    {
        let _ = std::fs::remove_dir_all(&staged);
        return Err(rename_error(source));
    }
    Ok(files.keys().cloned().collect())
}

/// Builds a PKCS#12 truststore: one certificate bag per certificate, each with Java's
/// trusted-key-usage attribute, so keytool lists them as `trustedCertEntry`.
fn pkcs12_truststore(entries: &[Entry], password: &str) -> Result<Vec<u8>> {
    let mut keystore = p12_keystore::KeyStore::new();
    for entry in entries {
        let certificate = p12_keystore::Certificate::from_der(&entry.der).map_err(|error| {
            Error::InvalidCertificate {
                what: entry.fingerprint.to_string(),
                reason: error.to_string(),
            }
        })?;
        let name = crate::cert::parse(&entry.der)
            .ok()
            .and_then(|c| policy::common_name(&c))
            .unwrap_or_else(|| "certificate".into());
        // keytool shows aliases in lower case; the fingerprint keeps them unique.
        let alias = format!(
            "{} ({})",
            bmp_safe(&name.to_lowercase()),
            &entry.fingerprint.to_string()[..8]
        );
        keystore.add_entry(
            &alias,
            p12_keystore::KeyStoreEntry::Certificate(certificate),
        );
    }
    keystore
        .writer(password)
        .write()
        .map_err(|error| Error::Generate {
            what: "PKCS#12 truststore".into(),
            reason: format!(
                "{error}; export the list with --format pem and convert it with `keytool -importcert` instead"
            ),
        })
}

/// Replaces characters outside the Basic Multilingual Plane (emoji, for example) with U+FFFD,
/// because a PKCS#12 friendly name is a BMPString, which holds only UCS-2.
pub(crate) fn bmp_safe(name: &str) -> String {
    name.chars()
        .map(|c| if u32::from(c) > 0xFFFF { '\u{FFFD}' } else { c })
        .collect()
}

/// Computes OpenSSL's subject name hash (`openssl x509 -subject_hash`, `X509_NAME_hash_ex`):
/// the first four bytes, little-endian, of the SHA-1 of the canonical subject encoding.
///
/// The canonical encoding is the DER of each RDN's SET, concatenated without the outer
/// SEQUENCE header, where every string value is converted to a UTF8String, trimmed, its inner
/// whitespace runs collapsed to one space and ASCII lower-cased.
pub fn openssl_subject_hash(cert_der: &[u8]) -> std::result::Result<u32, String> {
    let parsed = crate::cert::parse(cert_der)?;
    let name = x509_cert::name::Name::from_der(parsed.subject().as_raw())
        .map_err(|error| format!("cannot decode the subject name: {error}"))?;

    let mut canonical = Vec::new();
    for rdn in name.iter_rdn() {
        let mut set = der::asn1::SetOfVec::new();
        for atv in rdn.iter() {
            let value = match canonical_string(&atv.value) {
                Some(text) => der::Any::new(der::Tag::Utf8String, text.into_bytes())
                    .map_err(|error| error.to_string())?,
                None => atv.value.clone(),
            };
            set.insert(x509_cert::attr::AttributeTypeAndValue {
                oid: atv.oid,
                value,
            })
            .map_err(|error| error.to_string())?;
        }
        set.encode_to_vec(&mut canonical)
            .map_err(|error| error.to_string())?;
    }

    let digest =
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &canonical);
    let bytes = digest.as_ref();
    Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

/// Returns the canonical text of a string value, or None for a type OpenSSL copies unchanged
/// (its `ASN1_MASK_CANON` covers UTF8, BMP, Universal, Printable, T61, IA5 and Visible strings).
fn canonical_string(value: &der::Any) -> Option<String> {
    let bytes = value.value();
    let text = match der::Tagged::tag(value) {
        der::Tag::Utf8String
        | der::Tag::PrintableString
        | der::Tag::Ia5String
        | der::Tag::VisibleString => String::from_utf8_lossy(bytes).into_owned(),
        // T61String is read as Latin-1, as OpenSSL's conversion does.
        der::Tag::TeletexString => bytes.iter().map(|&b| char::from(b)).collect(),
        der::Tag::BmpString => {
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        // NOTE: der has no UniversalString tag, so such values keep their encoding here,
        // where OpenSSL would canonicalise them; CAs practically never use that type.
        _ => return None,
    };

    // OpenSSL's space test: space, \t, \n, \v, \f and \r.
    let is_space = |c: char| matches!(c, ' ' | '\t' | '\n' | '\u{b}' | '\u{c}' | '\r');
    let mut canonical = String::with_capacity(text.len());
    let mut in_space = false;
    for c in text.trim_matches(is_space).chars() {
        if is_space(c) {
            if !in_space {
                canonical.push(' ');
            }
            in_space = true;
        } else {
            canonical.push(c.to_ascii_lowercase());
            in_space = false;
        }
    }
    Some(canonical)
}
