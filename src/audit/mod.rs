//! `gwtrust audit`: what is wrong with a trust store or a certificate bundle, how bad it is,
//! and how to fix it.
//!
//! The audit reads every input into memory ([`input`]), reads the facts off every certificate
//! in parallel, checking each self-signature once ([`facts`]), then runs the checks that
//! compare certificates with each other ([`checks`]).

mod checks;
pub mod facts;
pub mod findings;
pub mod input;
mod verify;

use std::path::PathBuf;
use std::time::Instant;

use gwtrust_store::{Policy, Store};
use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
pub use findings::{Finding, Kind, Location, Severity};

/// Version of the JSON `result` document; raised when a field changes meaning or goes away.
pub const SCHEMA_VERSION: u32 = 1;

/// The default `--warn-days`.
pub const DEFAULT_WARN_DAYS: u32 = 30;

/// What an input is supposed to contain, which decides the list-specific checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Self-signed roots only (`root-only` lists): every certificate must be a self-signed CA.
    RootOnly,
    /// CA certificates (`ca-chain` and `ordered` lists, files and directories): every
    /// certificate must be a CA, intermediates are allowed.
    CaList,
}

impl Role {
    /// Returns the role of a store list with `policy`.
    pub fn of_policy(policy: Policy) -> Role {
        match policy {
            Policy::RootOnly => Role::RootOnly,
            // NOTE: `ordered` lists are audited as CA lists; a list policy for leaf
            // certificates would need its own role.
            _ => Role::CaList,
        }
    }
}

/// One thing to audit.
pub enum Input {
    /// A store list with its certificates' DER.
    List {
        name: String,
        policy: Policy,
        ders: Vec<Vec<u8>>,
    },
    /// A file or directory, audited as a CA list.
    Path(PathBuf),
}

/// The audit's settings.
pub struct Options {
    /// The time validity is checked at.
    pub at: time::OffsetDateTime,
    /// Certificates that expire within this many days of `at` get `expires-soon`.
    pub warn_days: u32,
}

/// One input as reported.
#[derive(Clone, Debug, Serialize)]
pub struct InputSummary {
    /// `list` or `path`.
    pub kind: &'static str,
    pub name: String,
    /// The list's policy, or `file` for paths.
    pub policy: String,
    pub role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<usize>,
    pub certificates: usize,
}

/// The audit's result, as printed with `--json`.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub schema_version: u32,
    /// The time validity was checked at, RFC 3339.
    pub at: String,
    pub warn_days: u32,
    pub inputs: Vec<InputSummary>,
    /// Certificates read and parsed, over all inputs.
    pub certificates: usize,
    pub errors: usize,
    pub warnings: usize,
    pub info: usize,
    pub elapsed_seconds: f64,
    /// Errors first, then warnings, then info; within a severity, in input order.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Returns true when a finding is at or above `severity`.
    pub fn has_at_least(&self, severity: Severity) -> bool {
        self.findings.iter().any(|f| f.severity >= severity)
    }
}

/// Reads store lists into inputs: the named ones, or every list when `names` is empty.
pub fn list_inputs(store: &Store, names: &[String]) -> Result<Vec<Input>> {
    let lists = store.lists()?;
    let selected: Vec<_> = if names.is_empty() {
        lists
    } else {
        let mut selected = Vec::new();
        for name in names {
            let Some(info) = lists.iter().find(|info| &info.name == name) else {
                let known: Vec<_> = lists.iter().map(|info| info.name.as_str()).collect();
                return Err(Error::InvalidArgument {
                    what: "--list",
                    value: name.clone(),
                    reason: format!("no such list in the store; lists: {}", known.join(", ")),
                });
            };
            selected.push(info.clone());
        }
        selected
    };

    let mut inputs = Vec::new();
    for info in selected {
        let ders = store
            .entries(&info.name)?
            .into_iter()
            .map(|entry| entry.der)
            .collect();
        inputs.push(Input::List {
            name: info.name,
            policy: info.policy,
            ders,
        });
    }
    Ok(inputs)
}

/// Audits `inputs`. Problems with the inputs themselves are findings, never errors.
pub fn audit(inputs: Vec<Input>, options: &Options) -> Report {
    let started = Instant::now();

    let mut read = input::Inputs::default();
    let mut summaries = Vec::new();
    let mut roles = Vec::new();
    for item in inputs {
        match item {
            Input::List { name, policy, ders } => {
                read.add_list(&name, ders);
                summaries.push(InputSummary {
                    kind: "list",
                    name,
                    policy: policy.to_string(),
                    role: Role::of_policy(policy),
                    files: None,
                    certificates: 0,
                });
                roles.push(Role::of_policy(policy));
            }
            Input::Path(path) => {
                read.add_path(&path);
                summaries.push(InputSummary {
                    kind: "path",
                    name: path.display().to_string(),
                    policy: "file".into(),
                    role: Role::CaList,
                    files: Some(0),
                    certificates: 0,
                });
                roles.push(Role::CaList);
            }
        }
    }
    read.decode();
    for (summary, files) in summaries.iter_mut().zip(&read.files) {
        if summary.files.is_some() {
            summary.files = Some(*files);
        }
    }

    // Parse every certificate and check its self-signature, in parallel, once.
    let parsed: Vec<std::result::Result<facts::Facts<'_>, String>> = read
        .entries
        .par_iter()
        .enumerate()
        .map(|(index, entry)| facts::read(index, read.der(entry), entry.trailing_allowed))
        .collect();

    let mut all_findings = read.findings.clone();
    let mut certs = Vec::with_capacity(parsed.len());
    for (entry, result) in read.entries.iter().zip(parsed) {
        match result {
            Ok(facts) => {
                let source = read.buffers[entry.buffer].source;
                summaries[source].certificates += 1;
                certs.push(facts);
            }
            Err(reason) => all_findings.push(Finding::new(
                Kind::Unparseable,
                read.location(entry),
                format!("not a valid X.509 certificate: {reason}"),
            )),
        }
    }

    let context = checks::Context {
        inputs: &read,
        certs: &certs,
        roles: &roles,
        at: options.at.unix_timestamp(),
        warn_days: options.warn_days,
    };
    all_findings.extend(checks::run(&context));
    sort_findings(&mut all_findings, &read.sources);

    let count = |severity| {
        all_findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    };
    Report {
        schema_version: SCHEMA_VERSION,
        at: format_time(options.at.unix_timestamp()),
        warn_days: options.warn_days,
        inputs: summaries,
        certificates: certs.len(),
        errors: count(Severity::Error),
        warnings: count(Severity::Warning),
        info: count(Severity::Info),
        elapsed_seconds: started.elapsed().as_secs_f64(),
        findings: all_findings,
    }
}

/// Orders findings by severity, then input, file and offset; ties keep their order.
fn sort_findings(findings: &mut [Finding], sources: &[String]) {
    let source_index = |location: &Location| sources.iter().position(|s| *s == location.source);
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| source_index(&a.location).cmp(&source_index(&b.location)))
            .then_with(|| a.location.file.cmp(&b.location.file))
            .then_with(|| a.location.offset.cmp(&b.location.offset))
    });
}

/// Formats a Unix time as RFC 3339 UTC.
pub fn format_time(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("@{unix}"))
}
