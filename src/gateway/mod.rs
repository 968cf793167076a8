//! `gateway check`: will this Exchange server work as a presence calendar gateway, and if not,
//! what to change.
//!
//! Seven checks, in order: host form, account form, TLS, name, trust, validity and HTTP. The
//! first two need no network. The rest share one TLS connection from the capture path in
//! [`crate::capture`], and the two HTTP GETs go over that same connection when the server keeps
//! it open. No credential is ever sent.

pub mod checks;
pub mod fleet;
pub mod http;

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use gwtrust_store::{Entry, Fingerprint, Store};
use serde::Serialize;

use crate::capture::{self, CaptureOptions, Sni};
use crate::chain::{Candidate, ParsedChain, RootSource};
use crate::error::{Error, Result};
use crate::names::Profile;
use crate::target::Target;

/// The API the presence server reads calendars through.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    /// Exchange Web Services, Exchange 2007 and later.
    #[default]
    Ews,
    /// WebDAV, Exchange 2003 and 2007 (Cisco's Unified Presence 8.5 and 8.6 integration guide).
    Webdav,
}

impl Api {
    /// Returns the path the presence server requests.
    pub fn endpoint(self) -> &'static str {
        match self {
            Api::Ews => "/EWS/Exchange.asmx",
            Api::Webdav => "/exchange/",
        }
    }

    /// Returns the IIS virtual directory of the endpoint, as Exchange names it.
    pub fn virtual_directory(self) -> &'static str {
        match self {
            Api::Ews => "EWS",
            Api::Webdav => "Exchange",
        }
    }

    /// Returns the name-matching profile of the presence versions that use this API. IM and
    /// Presence 12.5 and later (EWS) want the gateway host to equal a SAN exactly, and the older
    /// WebDAV versions follow RFC 6125.
    pub fn default_profile(self) -> Profile {
        match self {
            Api::Ews => Profile::ExactSan,
            Api::Webdav => Profile::Rfc6125,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Api::Ews => "ews",
            Api::Webdav => "webdav",
        }
    }
}

impl fmt::Display for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Api {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "ews" => Ok(Api::Ews),
            "webdav" => Ok(Api::Webdav),
            _ => Err("expected ews or webdav".into()),
        }
    }
}

/// The outcome of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not run: no account was given, or there is no TLS connection to check over.
    Skipped,
    Passed,
    Warned,
    Failed,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Status::Skipped => "skipped",
            Status::Passed => "passed",
            Status::Warned => "warned",
            Status::Failed => "failed",
        })
    }
}

/// Identifier of each of the seven checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckId {
    HostForm,
    Account,
    Tls,
    Name,
    Trust,
    Validity,
    Http,
}

impl CheckId {
    /// Returns the label of the check in text output.
    pub fn label(self) -> &'static str {
        match self {
            CheckId::HostForm => "host form",
            CheckId::Account => "account",
            CheckId::Tls => "TLS",
            CheckId::Name => "name",
            CheckId::Trust => "trust",
            CheckId::Validity => "validity",
            CheckId::Http => "HTTP",
        }
    }
}

/// One line of the checklist: what was found and, unless it passed, what to change.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    pub check: CheckId,
    pub status: Status,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    fn new(check: CheckId, status: Status, detail: impl Into<String>) -> Check {
        Check {
            check,
            status,
            detail: detail.into(),
            fix: None,
        }
    }

    fn with_fix(mut self, fix: impl Into<String>) -> Check {
        self.fix = Some(fix.into());
        self
    }
}

/// The overall result for one gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    Warned,
    Failed,
    /// The host could not be reached at all: no address, no TCP connection, or a timeout.
    Unreachable,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Outcome::Passed => "passed",
            Outcome::Warned => "warned",
            Outcome::Failed => "failed",
            Outcome::Unreachable => "unreachable",
        })
    }
}

/// One gateway to check: the host as the presence server is configured with it.
#[derive(Clone, Debug)]
pub struct Gateway {
    pub target: Target,
    /// The account the presence server signs in with.
    pub user: Option<String>,
    /// Dial this `ADDR:PORT` instead of resolving the host.
    pub connect: Option<String>,
    /// The line of the hosts file, in fleet mode.
    pub line: Option<usize>,
}

/// Options shared by every gateway of a run.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    pub api: Api,
    /// The name-matching profile; `None` uses the API's default.
    pub profile: Option<Profile>,
    /// The trust list the presence server's trust corresponds to.
    pub list: String,
    /// Bounds connecting plus the handshake, and each HTTP request.
    pub timeout: Duration,
    /// The `--store` argument, repeated in the `gwtrust pin` command of a fix.
    pub store_arg: Option<String>,
}

impl CheckOptions {
    pub fn profile(&self) -> Profile {
        self.profile.unwrap_or_else(|| self.api.default_profile())
    }
}

/// The store's certificates, read once per run: the roots that chains are looked up against.
pub struct TrustIndex {
    /// Every stored certificate, the checked list first.
    candidates: Vec<Candidate>,
    /// The entries of the checked list.
    entries: Vec<Entry>,
}

impl TrustIndex {
    /// Reads every list of `store`, with `list` first, as `pin` orders its root candidates.
    pub fn load(store: &Store, list: &str) -> Result<TrustIndex> {
        if store.list_info(list)?.is_none() {
            return Err(gwtrust_store::StoreError::ListNotFound {
                name: list.to_string(),
            }
            .into());
        }
        let entries = store.entries(list)?;
        let candidates = crate::trust_store::root_candidates(store, list)?;
        Ok(TrustIndex {
            candidates,
            entries,
        })
    }

    fn entry(&self, fingerprint: &Fingerprint) -> Option<&Entry> {
        self.entries.iter().find(|e| e.fingerprint == *fingerprint)
    }
}

/// The negotiated connection.
#[derive(Clone, Debug, Serialize)]
pub struct TlsReport {
    pub peer: String,
    pub sni: Option<String>,
    pub protocol: String,
    pub cipher_suite: String,
    pub certificates: usize,
}

/// The root the trust check found.
#[derive(Clone, Debug, Serialize)]
pub struct RootReport {
    pub subject: String,
    pub fingerprint_sha256: String,
    pub source: RootSource,
    /// Whether the checked list contains it.
    pub pinned: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pinned_at: Option<String>,
    pub hosts: Vec<String>,
}

/// The result of one GET: status and authentication schemes.
#[derive(Clone, Debug, Serialize)]
pub struct HttpProbe {
    pub path: String,
    pub status: Option<u16>,
    /// The schemes of the `WWW-Authenticate` headers, in order.
    pub schemes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// A redirect to the OWA logon page, or a logon form, instead of a 401.
    pub forms_based: bool,
    /// The server closed the first connection, so this GET went over a new one.
    pub new_connection: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Everything `gateway check` found for one gateway.
#[derive(Clone, Debug, Serialize)]
pub struct GatewayReport {
    pub host: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub user: Option<String>,
    pub connect: Option<String>,
    pub api: Api,
    pub profile: Profile,
    pub list: String,
    pub outcome: Outcome,
    pub checks: Vec<Check>,
    pub tls: Option<TlsReport>,
    pub root: Option<RootReport>,
    pub http: Vec<HttpProbe>,
    pub elapsed_ms: u64,
}

impl GatewayReport {
    /// Returns how many checks ended with `status`.
    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }
}

/// Runs the seven checks against one gateway. Problems are reported in the checks, never as an
/// error, so that a fleet run reports every host.
pub async fn check(gateway: &Gateway, options: &CheckOptions, trust: &TrustIndex) -> GatewayReport {
    let started = Instant::now();
    let target = &gateway.target;
    let profile = options.profile();
    let mut report = GatewayReport {
        host: target.host.to_string(),
        line: gateway.line,
        user: gateway.user.clone(),
        connect: gateway.connect.clone(),
        api: options.api,
        profile,
        list: options.list.clone(),
        outcome: Outcome::Passed,
        checks: Vec::with_capacity(7),
        tls: None,
        root: None,
        http: Vec::new(),
        elapsed_ms: 0,
    };

    // 1 and 2 need no network.
    report.checks.push(checks::host_form(&target.host));
    report
        .checks
        .push(checks::account(gateway.user.as_deref(), &target.host));

    // 3. One TLS connection, through the capture path every gwtrust command uses.
    let capture_options = CaptureOptions {
        connect: gateway.connect.clone(),
        sni: Sni::FromTarget,
        timeout: options.timeout,
    };
    let (stream, captured) = match capture::connect(target, &capture_options).await {
        Ok(connected) => connected,
        Err(err) => {
            let unreachable = matches!(
                err,
                Error::Resolve { .. } | Error::Connect { .. } | Error::Timeout { .. }
            );
            report.checks.push(checks::tls_failed(&err, unreachable));
            skip_rest(&mut report, "not run: there is no TLS connection");
            report.outcome = if unreachable {
                Outcome::Unreachable
            } else {
                Outcome::Failed
            };
            report.elapsed_ms = elapsed_ms(started);
            return report;
        }
    };
    report.tls = Some(TlsReport {
        peer: captured.peer.to_string(),
        sni: captured.sni.clone(),
        protocol: captured.protocol.clone(),
        cipher_suite: captured.cipher_suite.clone(),
        certificates: captured.chain.len(),
    });
    report.checks.push(checks::tls_passed(&captured));

    // 4, 5 and 6 read the presented chain.
    match ParsedChain::parse(&captured.chain, &format!("presented by {target}")) {
        Ok(parsed) => {
            report.checks.push(checks::name(target, &parsed, profile));
            let (trust_check, root) =
                checks::trust(gateway, options, trust, &parsed, &trust.candidates);
            report.checks.push(trust_check);
            report.checks.push(checks::validity(&parsed, root.as_ref()));
            report.root = root.map(|(root, _)| root);
        }
        Err(err) => {
            for id in [CheckId::Name, CheckId::Trust, CheckId::Validity] {
                report.checks.push(
                    Check::new(id, Status::Failed, err.to_string())
                        .with_fix("install a valid X.509 certificate chain on the server"),
                );
            }
        }
    }

    // 7. The GETs, over the same connection while the server keeps it open.
    let (http_check, probes) = checks::http(stream, gateway, &capture_options, options).await;
    report.checks.push(http_check);
    report.http = probes;

    report.outcome = outcome(&report.checks);
    report.elapsed_ms = elapsed_ms(started);
    report
}

fn skip_rest(report: &mut GatewayReport, reason: &str) {
    for id in [
        CheckId::Name,
        CheckId::Trust,
        CheckId::Validity,
        CheckId::Http,
    ] {
        report.checks.push(Check::new(id, Status::Skipped, reason));
    }
}

fn outcome(checks: &[Check]) -> Outcome {
    match checks.iter().map(|c| c.status).max() {
        Some(Status::Failed) => Outcome::Failed,
        Some(Status::Warned) => Outcome::Warned,
        _ => Outcome::Passed,
    }
}

fn elapsed_ms(started: Instant) -> u64 {
    started.elapsed().as_millis().try_into().unwrap_or(u64::MAX)
}
