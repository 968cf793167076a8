//! `import`: read certificate files in any format and add what the list's policy admits.
//!
//! Every file is read before anything is written, so an unparseable file stops the import
//! with nothing written. The certificates are then put in root-first order and each one is
//! imported, found already present, or rejected with the reason.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use gwtrust_store::{Entry, Fingerprint, PutOutcome, Store, StoreError};
use rustls::pki_types::CertificateDer;
use serde::Serialize;

use crate::cert;
use crate::error::{Error, Result};
use crate::formats::{self, Content, Format};
use crate::policy::{self, Admission};
use crate::trust_store;

/// Supplies the password of a PKCS#12 file, given its path.
pub type PasswordPrompt<'a> = &'a mut dyn FnMut(&Path) -> Result<String>;

/// Options of one import: the inputs, the target list and whether to write.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub inputs: Vec<PathBuf>,
    pub list: String,
    /// Decide and report, but write nothing.
    pub dry_run: bool,
    /// Write nothing when any certificate is rejected.
    pub all_or_nothing: bool,
}

/// The outcome for one certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Imported,
    /// Admitted, but not written: a dry run, or `--all-or-nothing` with a rejection.
    WouldImport,
    AlreadyPresent,
    Rejected,
}

#[derive(Debug, Serialize)]
pub struct CertReport {
    pub subject: String,
    pub fingerprint_sha256: String,
    pub file: String,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct FileReport {
    pub path: String,
    /// None for a file skipped as not a certificate.
    pub format: Option<Format>,
    pub certificates: usize,
    pub notes: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct ImportReport {
    pub list: String,
    pub policy: String,
    pub dry_run: bool,
    pub all_or_nothing: bool,
    /// True when the store was changed.
    pub written: bool,
    pub files: Vec<FileReport>,
    /// In the order they were decided: roots first.
    pub certificates: Vec<CertReport>,
    /// Certificates written to the list.
    pub imported: usize,
    /// Certificates admitted but not written, because of --dry-run or --all-or-nothing.
    pub would_import: usize,
    pub already_present: usize,
    pub rejected: usize,
    pub warnings: Vec<String>,
}

/// One certificate read from a file.
struct Found {
    der: CertificateDer<'static>,
    file: String,
}

/// Imports the certificates in `options.inputs` into `options.list`.
pub fn import(
    store: &Store,
    options: &ImportOptions,
    password: PasswordPrompt<'_>,
) -> Result<ImportReport> {
    let info = store
        .list_info(&options.list)?
        .ok_or_else(|| StoreError::ListNotFound {
            name: options.list.clone(),
        })?;

    let mut files = Vec::new();
    let mut found = Vec::new();
    let mut warnings = Vec::new();
    for input in &options.inputs {
        read_input(input, true, password, &mut files, &mut found)?;
    }
    for file in &files {
        if let Some(format) = file.format {
            if !format.cisco_uploads() {
                warnings.push(format!(
                    "{} is {format}: Cisco's certificate upload accepts PEM or DER only, so export the list with --format pem or der before uploading it there",
                    file.path
                ));
            }
        }
    }
    if found.is_empty() {
        return Err(Error::InvalidArgument {
            what: "input",
            value: display_paths(&options.inputs),
            reason:
                "no certificate found in it; see the notes of `--json` output or check the files"
                    .into(),
        });
    }

    // One decision per certificate, even if several files hold it.
    let mut seen = HashSet::new();
    found.retain(|f| seen.insert(cert::fingerprint(&f.der)));
    let parsed = found
        .iter()
        .map(|f| {
            cert::parse(&f.der).map_err(|reason| Error::InvalidCertificate {
                what: f.file.clone(),
                reason,
            })
        })
        .collect::<Result<Vec<_>>>()?;

    let existing = store.entries(&options.list)?;
    let present: HashSet<Fingerprint> = existing.iter().map(|e| e.fingerprint).collect();
    let mut members = existing
        .iter()
        .filter_map(|e| cert::parse(&e.der).ok())
        .collect::<Vec<_>>();

    let added = trust_store::now_rfc3339();
    let mut reports = Vec::new();
    let mut entries = Vec::new();
    for index in policy::import_order(&parsed) {
        let certificate = &parsed[index];
        let der = &found[index].der;
        let fingerprint = cert::fingerprint(der);
        let subject = crate::cert::display_name(certificate.subject());

        let (outcome, reason, cert_warnings) = if present.contains(&fingerprint) {
            (Outcome::AlreadyPresent, None, Vec::new())
        } else {
            match policy::admit(info.policy, &options.list, certificate, &members) {
                Admission::Accept { mut warnings } => {
                    warnings.extend(policy::cisco_warnings(certificate, true));
                    members.push(certificate.clone());
                    entries.push(Entry {
                        list: options.list.clone(),
                        fingerprint,
                        der: der.to_vec(),
                        subject: subject.clone(),
                        hosts: Vec::new(),
                        source: "import".into(),
                        added: added.clone(),
                    });
                    (Outcome::Imported, None, warnings)
                }
                Admission::Reject { reason } => (Outcome::Rejected, Some(reason), Vec::new()),
            }
        };
        reports.push(CertReport {
            subject,
            fingerprint_sha256: fingerprint.to_string(),
            file: found[index].file.clone(),
            outcome,
            reason,
            warnings: cert_warnings,
        });
    }

    let rejected = reports
        .iter()
        .filter(|r| r.outcome == Outcome::Rejected)
        .count();
    let blocked = options.all_or_nothing && rejected > 0;

    let mut written = false;
    if options.dry_run || blocked {
        for report in &mut reports {
            if report.outcome == Outcome::Imported {
                report.outcome = Outcome::WouldImport;
            }
        }
    } else if !entries.is_empty() {
        let outcomes = store.put_all(&entries)?;
        written = outcomes.iter().any(|o| *o != PutOutcome::AlreadyPresent);
    }
    let count = |outcome| reports.iter().filter(|r| r.outcome == outcome).count();

    Ok(ImportReport {
        list: options.list.clone(),
        policy: info.policy.to_string(),
        dry_run: options.dry_run,
        all_or_nothing: options.all_or_nothing,
        written,
        files,
        imported: count(Outcome::Imported),
        would_import: count(Outcome::WouldImport),
        already_present: count(Outcome::AlreadyPresent),
        rejected,
        certificates: reports,
        warnings,
    })
}

/// Reads one input: a file, or a directory walked recursively in name order. A file named on
/// the command line must contain certificates. A file found in a directory is skipped with a
/// note when it contains none.
fn read_input(
    path: &Path,
    named: bool,
    password: PasswordPrompt<'_>,
    files: &mut Vec<FileReport>,
    found: &mut Vec<Found>,
) -> Result<()> {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(_) if is_link && !named => {
            files.push(skipped(path, "a symbolic link whose target does not exist"));
            return Ok(());
        }
        Err(source) => {
            return Err(Error::ReadFile {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    if metadata.is_dir() && is_link && !named {
        // A link to a directory may point back up the tree, so the walk does not follow it.
        files.push(skipped(
            path,
            "a symbolic link to a directory is not followed",
        ));
        return Ok(());
    }
    if !metadata.is_dir() && !metadata.is_file() && !named {
        files.push(skipped(
            path,
            "not a regular file (a device, FIFO or socket)",
        ));
        return Ok(());
    }

    if metadata.is_dir() {
        let mut children = std::fs::read_dir(path)
            .and_then(|dir| {
                dir.map(|e| e.map(|e| e.path()))
                    .collect::<std::io::Result<Vec<_>>>()
            })
            .map_err(|source| Error::ReadFile {
                path: path.to_path_buf(),
                source,
            })?;
        children.sort();
        for child in children {
            read_input(&child, false, password, files, found)?;
        }
        return Ok(());
    }

    let display = path.display().to_string();
    let mut ask = || password(path);
    // Every file is read before anything is written, so one bad file stops the whole import.
    let content = formats::decode_file(path, &mut ask).map_err(|error| match error {
        Error::InvalidInput { path, reason } => Error::InvalidInput {
            path,
            reason: format!("{reason}; the import stopped, so nothing was written"),
        },
        other => other,
    })?;
    match content {
        Content::Certificates(decoded) => {
            files.push(FileReport {
                path: display.clone(),
                format: Some(decoded.format),
                certificates: decoded.certificates.len(),
                notes: decoded.notes,
            });
            found.extend(decoded.certificates.into_iter().map(|der| Found {
                der,
                file: display.clone(),
            }));
        }
        Content::NotCertificates(description) if named => {
            return Err(Error::InvalidInput {
                path: path.to_path_buf(),
                reason: format!(
                    "at byte offset 0: no certificate found ({description}); expected PEM, DER, base64 DER, PKCS#7 or PKCS#12; the import stopped, so nothing was written"
                ),
            });
        }
        Content::NotCertificates(description) => files.push(FileReport {
            path: display,
            format: None,
            certificates: 0,
            notes: vec![format!("skipped: not a certificate file ({description})")],
        }),
    }
    Ok(())
}

/// Reports a path found in a directory walk and not read, with the reason.
fn skipped(path: &Path, reason: &str) -> FileReport {
    FileReport {
        path: path.display().to_string(),
        format: None,
        certificates: 0,
        notes: vec![format!("skipped: {reason}")],
    }
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" ")
}
