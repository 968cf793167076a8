//! The seven gateway checks, each returning one checklist line with its fix.

use rustls::pki_types::CertificateDer;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::http::{self, Connection, HttpError, Response};
use super::{Check, CheckId, CheckOptions, Gateway, HttpProbe, RootReport, Status, TrustIndex};
use crate::capture::{self, Capture, CaptureOptions};
use crate::cert;
use crate::chain::{self, Candidate, ParsedChain, RootSearch, RootSource};
use crate::error::Error;
use crate::fetch;
use crate::names::{self, Profile, ReferenceName};
use crate::target::{Host, Target, HTTPS_PORT};

/// A certificate that expires within this many days gets a warning.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// Check 1: the host must be an FQDN, because the certificate names FQDNs and the presence server
/// compares its configured host with them.
pub fn host_form(host: &Host) -> Check {
    let text = host.to_string();
    match names::is_fqdn(&text) {
        Ok(()) => Check::new(
            CheckId::HostForm,
            Status::Passed,
            format!("{text} is an FQDN"),
        ),
        Err(err) => Check::new(CheckId::HostForm, Status::Failed, err.to_string()).with_fix(
            "configure the gateway with the Exchange server's FQDN, a name its certificate carries",
        ),
    }
}

/// Check 2: the account should be a UPN, `user@domain`.
pub fn account(user: Option<&str>, host: &Host) -> Check {
    let Some(user) = user else {
        return Check::new(
            CheckId::Account,
            Status::Skipped,
            "no account given; pass --user user@domain to check its form",
        );
    };
    let invalid = |reason: String| {
        Check::new(
            CheckId::Account,
            Status::Failed,
            format!("account {user:?} is invalid: {reason}"),
        )
        .with_fix("configure the account as user@domain, its userPrincipalName")
    };

    if user.is_empty() {
        return invalid("it is empty".into());
    }
    if let Some(bad) = user.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return invalid(format!("it contains the character {bad:?}"));
    }

    if let Some((domain, name)) = user.split_once('\\') {
        if domain.is_empty() || name.is_empty() || name.contains(['\\', '@']) {
            return invalid("a down-level name is DOMAIN\\user, with both parts".into());
        }
        let upn = format!("{name}@{}", upn_suffix(host, domain));
        return Check::new(
            CheckId::Account,
            Status::Warned,
            format!(
                "{user} is the down-level (DOMAIN\\user) form: Cisco Unified Presence 7 rejects it, although some deployments work only with it"
            ),
        )
        .with_fix(format!(
            "try the UPN {upn} (check the account's userPrincipalName in Active Directory)"
        ));
    }

    match user.split_once('@') {
        Some((name, domain)) => {
            if name.is_empty() || domain.is_empty() || domain.contains('@') {
                return invalid("a UPN is user@domain, with one @ and both parts".into());
            }
            match ReferenceName::parse(domain) {
                Ok(ReferenceName::Dns(_)) => Check::new(
                    CheckId::Account,
                    Status::Passed,
                    format!("{user} is in user@domain form"),
                ),
                _ => invalid(format!(
                    "the domain part {domain:?} is not a DNS domain name"
                )),
            }
        }
        None => {
            let upn = format!("{user}@{}", upn_suffix(host, "DOMAIN"));
            Check::new(
                CheckId::Account,
                Status::Warned,
                format!("{user} has no domain, and Exchange needs it to find the mailbox"),
            )
            .with_fix(format!(
                "configure the account as {upn} (its userPrincipalName in Active Directory)"
            ))
        }
    }
}

/// Guesses the UPN suffix as the gateway host without its first label, when that leaves two
/// labels or more. Otherwise it returns a placeholder built from the NetBIOS `fallback`.
fn upn_suffix(host: &Host, fallback: &str) -> String {
    if let Host::Dns(name) = host {
        if let Some((_, parent)) = name.split_once('.') {
            if parent.contains('.') {
                return parent.to_string();
            }
        }
        if name.contains('.') {
            return name.clone();
        }
    }
    format!("{}.example.com", fallback.to_ascii_lowercase())
}

/// Check 3: the handshake completed.
pub fn tls_passed(captured: &Capture) -> Check {
    Check::new(
        CheckId::Tls,
        Status::Passed,
        format!(
            "{}, {}; {} certificate(s) presented by {}",
            captured.protocol,
            captured.cipher_suite,
            captured.chain.len(),
            captured.peer
        ),
    )
}

/// Check 3: the connection or the handshake failed.
pub fn tls_failed(err: &Error, unreachable: bool) -> Check {
    let fix = if unreachable {
        "check that the presence server can resolve and reach this host on its HTTPS port"
    } else {
        "enable TLS 1.2 or 1.3 on the server's HTTPS binding, and check that the port serves HTTPS"
    };
    Check::new(CheckId::Tls, Status::Failed, err.to_string()).with_fix(fix)
}

/// Check 4: the host must match the leaf under `profile`.
pub fn name(target: &Target, parsed: &ParsedChain<'_>, profile: Profile) -> Check {
    let host = target.host.to_string();
    let result = fetch::match_leaf(&target.host, parsed, profile);

    if result.is_match() {
        let detail = format!(
            "{host} matches the leaf under profile {profile}: {}",
            result.summary()
        );
        // The exact-san profile's note on several dNSName SANs is a warning here: the presence
        // server is the one that wants the gateway host as the certificate's only SAN.
        let mut concerns = result.warnings.clone();
        if profile == Profile::ExactSan {
            concerns.extend(result.notes.iter().cloned());
        }
        return match concerns.first() {
            None => Check::new(CheckId::Name, Status::Passed, detail),
            Some(_) if result.warnings.is_empty() => Check::new(
                CheckId::Name,
                Status::Warned,
                format!("{detail}; {}", concerns.join("; ")),
            )
            .with_fix(format!(
                "reissue the certificate with {host} as its only dNSName SAN, or check with your IM and Presence version whether more SANs are accepted"
            )),
            Some(warning) => Check::new(
                CheckId::Name,
                Status::Warned,
                format!("{detail}; {}", concerns.join("; ")),
            )
            .with_fix(warning.clone()),
        };
    }

    let mut fix = format!(
        "reissue the certificate with {host} as a subjectAltName, or configure a host the certificate names"
    );
    if profile == Profile::ExactSan
        && fetch::match_leaf(&target.host, parsed, Profile::Rfc6125).is_match()
    {
        fix.push_str(
            " (it matches under rfc6125, by wildcard or CN, but IM and Presence 12.5 and later want the host as one exact dNSName SAN)",
        );
    }
    Check::new(
        CheckId::Name,
        Status::Failed,
        format!(
            "{host} does not match the leaf under profile {profile}: {}",
            result.summary()
        ),
    )
    .with_fix(fix)
}

/// Check 5: the chain's root must be in the checked list.
///
/// Returns the root with its DER when one was found, for the validity check.
pub fn trust(
    gateway: &Gateway,
    options: &CheckOptions,
    index: &TrustIndex,
    parsed: &ParsedChain<'_>,
    candidates: &[Candidate],
) -> (Check, Option<(RootReport, CertificateDer<'static>)>) {
    let list = &options.list;
    let root = match chain::find_root(parsed, candidates) {
        RootSearch::Found(root) => root,
        RootSearch::Missing { issuer } => {
            let check = Check::new(
                CheckId::Trust,
                Status::Failed,
                format!(
                    "no root found: the top of the presented chain was issued by {issuer}, which the server did not send and the store does not hold"
                ),
            )
            .with_fix(format!(
                "get the certificate of {issuer} from the CA's owner and run: {} --ca-file ROOT.pem",
                pin_command(gateway, options)
            ));
            return (check, None);
        }
    };

    let fingerprint = cert::fingerprint(&root.der);
    let entry = index.entry(&fingerprint);
    let report = RootReport {
        subject: root.summary.subject.clone(),
        fingerprint_sha256: fingerprint.to_string(),
        source: root.source.clone(),
        pinned: entry.is_some(),
        pinned_at: entry.map(|e| e.added.clone()),
        hosts: entry.map(|e| e.hosts.clone()).unwrap_or_default(),
    };

    let check = match entry {
        Some(entry) => {
            let hosts = if entry.hosts.is_empty() {
                "no host".to_string()
            } else {
                entry.hosts.join(", ")
            };
            let detail = format!(
                "root {} (SHA-256 {fingerprint}) is in list {list}, pinned {} for {hosts}",
                root.summary.subject, entry.added
            );
            if root.self_signed_leaf {
                Check::new(
                    CheckId::Trust,
                    Status::Warned,
                    format!("{detail}; it is the server's own self-signed certificate"),
                )
                .with_fix("replace the self-signed certificate with one issued by a CA, then pin that CA's root: a self-signed certificate must be pinned again whenever Exchange renews it")
            } else {
                Check::new(CheckId::Trust, Status::Passed, detail)
            }
        }
        None => {
            let source = root.source.to_string();
            Check::new(
                CheckId::Trust,
                Status::Failed,
                format!(
                    "root {} (SHA-256 {fingerprint}, {source}) is not in list {list}",
                    root.summary.subject
                ),
            )
            .with_fix(format!(
                "check the fingerprint with the CA's owner, then run: {} --expect-fingerprint {fingerprint}",
                pin_command(gateway, options)
            ))
        }
    };
    (check, Some((report, root.der)))
}

/// Builds the `gwtrust pin` command, without its confirmation option, that pins this gateway's
/// root.
fn pin_command(gateway: &Gateway, options: &CheckOptions) -> String {
    let target = &gateway.target;
    let mut words = vec!["gwtrust".to_string()];
    if let Some(store) = &options.store_arg {
        words.push("--store".into());
        words.push(shell_quote(store));
    }
    words.push("pin".into());
    words.push(if target.port == HTTPS_PORT {
        shell_quote(&target.host.to_string())
    } else {
        shell_quote(&target.authority())
    });
    if let Some(connect) = &gateway.connect {
        words.push("--connect".into());
        words.push(shell_quote(connect));
    }
    if options.list != crate::trust_store::PRESENCE_LIST {
        words.push("--list".into());
        words.push(shell_quote(&options.list));
    }
    words.join(" ")
}

fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._/:@[],=+".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// Check 6: no certificate of the chain, or the root found for it, may be expired or not yet
/// valid. One that expires within [`EXPIRY_WARNING_DAYS`] gets a warning.
pub fn validity(
    parsed: &ParsedChain<'_>,
    root: Option<&(RootReport, CertificateDer<'static>)>,
) -> Check {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let soon = now + EXPIRY_WARNING_DAYS * 86_400;

    // The presented certificates, plus the root when it came from the store.
    let mut members: Vec<(String, i64, i64)> = parsed
        .certs
        .iter()
        .enumerate()
        .map(|(position, c)| {
            let role = if position == 0 { "leaf" } else { "CA" };
            (
                format!("{role} {}", c.subject()),
                c.validity().not_before.timestamp(),
                c.validity().not_after.timestamp(),
            )
        })
        .collect();
    if let Some((report, der)) = root {
        if !matches!(report.source, RootSource::Presented { .. }) {
            if let Ok(c) = cert::parse(der) {
                members.push((
                    format!("root {}", c.subject()),
                    c.validity().not_before.timestamp(),
                    c.validity().not_after.timestamp(),
                ));
            }
        }
    }

    let date = |timestamp: i64| {
        time::OffsetDateTime::from_unix_timestamp(timestamp)
            .map(|t| t.date().to_string())
            .unwrap_or_else(|_| timestamp.to_string())
    };
    let mut failed = Vec::new();
    let mut expiring = Vec::new();
    for (name, not_before, not_after) in &members {
        if *not_after < now {
            failed.push(format!("{name} expired on {}", date(*not_after)));
        } else if *not_before > now {
            failed.push(format!("{name} is not valid before {}", date(*not_before)));
        } else if *not_after < soon {
            let days = (not_after - now) / 86_400;
            expiring.push(format!(
                "{name} expires on {} (in {days} days)",
                date(*not_after)
            ));
        }
    }

    if !failed.is_empty() {
        return Check::new(CheckId::Validity, Status::Failed, failed.join("; ")).with_fix(
            "renew the certificate named above and install it, with its chain, on the server",
        );
    }
    if !expiring.is_empty() {
        return Check::new(CheckId::Validity, Status::Warned, expiring.join("; ")).with_fix(
            "renew it before it expires; the presence server stops reading calendars when it does",
        );
    }
    let first = members.iter().min_by_key(|(_, _, not_after)| *not_after);
    let detail = match first {
        Some((name, _, not_after)) => format!(
            "{} certificate(s) valid for more than {EXPIRY_WARNING_DAYS} days; the first to expire is {name}, on {}",
            members.len(),
            date(*not_after)
        ),
        None => "no certificate to check".into(),
    };
    Check::new(CheckId::Validity, Status::Passed, detail)
}

/// Check 7: `GET /owa/` and the API endpoint; the server must challenge for credentials with a 401
/// instead of sending a logon form.
pub async fn http(
    stream: TlsStream<TcpStream>,
    gateway: &Gateway,
    capture_options: &CaptureOptions,
    options: &CheckOptions,
) -> (Check, Vec<HttpProbe>) {
    let host_header = match gateway.target.port {
        HTTPS_PORT => gateway
            .target
            .authority()
            .trim_end_matches(":443")
            .to_string(),
        _ => gateway.target.authority(),
    };
    let paths = [
        ("/owa/", "owa"),
        (options.api.endpoint(), options.api.virtual_directory()),
    ];

    let mut connection = Some(Connection::new(stream, options.timeout));
    let mut probes = Vec::new();
    let mut lines = Vec::new();
    for (path, directory) in paths {
        // A server that closed the first connection gets a new one, through the same path.
        let mut new_connection = false;
        if connection.is_none() {
            new_connection = true;
            match capture::connect(&gateway.target, capture_options).await {
                Ok((stream, _)) => connection = Some(Connection::new(stream, options.timeout)),
                Err(err) => {
                    let probe = probe_error(path, new_connection, err.to_string());
                    lines.push(judge(&probe, directory, None));
                    probes.push(probe);
                    continue;
                }
            }
        }
        let Some(open) = connection.as_mut() else {
            continue;
        };

        let result = open.get(&host_header, path).await;
        let reusable = matches!(&result, Ok(response) if response.reusable);
        let (probe, response) = match result {
            Ok(response) => (probe_from(path, new_connection, &response), Some(response)),
            Err(err) => (probe_error(path, new_connection, describe(&err)), None),
        };
        lines.push(judge(&probe, directory, response.as_ref()));
        probes.push(probe);
        if !reusable {
            if let Some(closed) = connection.take() {
                closed.close().await;
            }
        }
    }
    if let Some(open) = connection.take() {
        open.close().await;
    }

    let status = lines
        .iter()
        .map(|(s, _, _)| *s)
        .max()
        .unwrap_or(Status::Skipped);
    let detail = lines
        .iter()
        .map(|(_, d, _)| d.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    let fix = lines
        .iter()
        .find(|(s, _, f)| *s == status && f.is_some())
        .and_then(|(_, _, f)| f.clone());
    let mut check = Check::new(CheckId::Http, status, detail);
    check.fix = fix;
    (check, probes)
}

fn describe(err: &HttpError) -> String {
    format!("no HTTP response: {err}")
}

fn probe_error(path: &str, new_connection: bool, error: String) -> HttpProbe {
    HttpProbe {
        path: path.to_string(),
        status: None,
        schemes: Vec::new(),
        location: None,
        forms_based: false,
        new_connection,
        error: Some(error),
    }
}

fn probe_from(path: &str, new_connection: bool, response: &Response) -> HttpProbe {
    let location = response.header("location").map(str::to_string);
    let redirect_to_logon =
        (300..400).contains(&response.status) && location.as_deref().is_some_and(is_logon_url);
    HttpProbe {
        path: path.to_string(),
        status: Some(response.status),
        schemes: http::auth_schemes(response.header_values("www-authenticate")),
        location,
        forms_based: redirect_to_logon || is_logon_form(response),
        new_connection,
        error: None,
    }
}

/// Returns true for a logon page of OWA forms-based authentication: `/owa/auth/logon.aspx`
/// (Exchange 2007 and later) or `owalogon.asp` (Exchange 2003).
fn is_logon_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    lower.contains("/auth/logon.aspx") || lower.contains("owalogon.asp")
}

/// Returns true for a 2xx page with a form that has a password field or posts to an OWA logon
/// handler.
fn is_logon_form(response: &Response) -> bool {
    if !(200..300).contains(&response.status) {
        return false;
    }
    let body = String::from_utf8_lossy(&response.body).to_ascii_lowercase();
    body.contains("<form")
        && (body.contains("type=\"password\"")
            || body.contains("type=password")
            || body.contains("auth.owa")
            || body.contains("owaauth.dll")
            || is_logon_url(&body))
}

/// Rates one probe: (status, detail, fix).
fn judge(
    probe: &HttpProbe,
    directory: &str,
    response: Option<&Response>,
) -> (Status, String, Option<String>) {
    let path = &probe.path;
    let enable = format!(
        "enable Basic or Integrated Windows authentication on the {directory} virtual directory"
    );
    let Some(status) = probe.status else {
        let error = probe.error.clone().unwrap_or_default();
        return (
            Status::Failed,
            format!("GET {path}: {error}"),
            Some("check that the server answers HTTPS requests on this port".into()),
        );
    };
    let reason = response.map(|r| r.reason.as_str()).unwrap_or_default();
    let head = format!("GET {path}: {status} {reason}")
        .trim_end()
        .to_string();

    if probe.forms_based {
        let how = match &probe.location {
            Some(location) if is_logon_url(location) => format!("redirects to {location}"),
            _ => "sends a logon form".to_string(),
        };
        return (
            Status::Failed,
            format!("{head}, forms-based authentication: the server {how} instead of a 401, and the presence server cannot sign in through a form"),
            Some(format!("{enable} and turn forms-based authentication off there")),
        );
    }

    match status {
        401 if probe.schemes.is_empty() => (
            Status::Failed,
            format!("{head} without a WWW-Authenticate header, so no sign-in method is offered"),
            Some(enable),
        ),
        401 => {
            // NOTE: Cisco's integration guides enable Basic or Integrated Windows (NTLM) on the
            // virtual directory; whether a Negotiate-only server works was not tested.
            let schemes = probe.schemes.join(", ");
            let usable = probe
                .schemes
                .iter()
                .any(|s| s.eq_ignore_ascii_case("basic") || s.eq_ignore_ascii_case("ntlm"));
            if usable {
                (Status::Passed, format!("{head}, offers {schemes}"), None)
            } else {
                (
                    Status::Warned,
                    format!("{head}, offers only {schemes}; presence gateways sign in with Basic or NTLM"),
                    Some(format!(
                        "enable Basic authentication, or the NTLM provider of Integrated Windows authentication, on the {directory} virtual directory"
                    )),
                )
            }
        }
        300..=399 => (
            Status::Warned,
            format!(
                "{head}, redirects to {}",
                probe.location.as_deref().unwrap_or("nowhere (no Location header)")
            ),
            Some(format!(
                "serve {path} on this host directly: the presence server does not follow redirects"
            )),
        ),
        200..=299 => (
            Status::Warned,
            format!("{head} without asking for credentials"),
            Some(format!("turn anonymous access off and {enable}")),
        ),
        404 => (
            Status::Failed,
            format!("{head}: the {directory} virtual directory is not there"),
            Some(format!(
                "create the {directory} virtual directory on this server, or check the --api option"
            )),
        ),
        _ => (
            Status::Failed,
            head,
            Some(format!(
                "fix the {directory} virtual directory so that it answers 401 with an authentication challenge"
            )),
        ),
    }
}
