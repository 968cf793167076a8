//! Fleet mode: check the gateways of a hosts file concurrently on one tokio runtime.
//!
//! Each gateway runs in its own task, at most `concurrency` at a time. Every network step of a
//! check has its own timeout, and the whole check has an outer bound, so a slow or dead host
//! occupies only its own slot, and for at most that bound.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::task::JoinSet;

use super::{
    check, Check, CheckId, CheckOptions, Gateway, GatewayReport, Outcome, Status, TrustIndex,
};
use crate::error::{Error, Result};
use crate::target::Target;

/// The default number of gateways checked at the same time.
pub const DEFAULT_CONCURRENCY: usize = 32;

/// Parses a hosts file: one gateway per line as `host`, `host,user` or `host,user,ADDR:PORT`;
/// blank lines and lines starting with `#` are skipped. An empty user field means no account.
pub fn parse_hosts(text: &str, path: &Path) -> Result<Vec<Gateway>> {
    let mut gateways = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let invalid = |reason: String| Error::InvalidInput {
            path: path.to_path_buf(),
            reason: format!(
                "line {number}: {reason}; write host, host,user or host,user,ADDR:PORT"
            ),
        };

        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() > 3 {
            return Err(invalid(format!("{} fields, at most 3", fields.len())));
        }
        let target = Target::parse(fields[0]).map_err(|err| invalid(err.to_string()))?;
        if target.path.is_some() {
            return Err(invalid(format!(
                "{:?} has a path; give the host only",
                fields[0]
            )));
        }
        let user = fields
            .get(1)
            .filter(|user| !user.is_empty())
            .map(|user| user.to_string());
        let connect = match fields.get(2).filter(|c| !c.is_empty()) {
            Some(connect) => {
                connect
                    .parse::<std::net::SocketAddr>()
                    .map_err(|_| invalid(format!("{connect:?} is not ADDR:PORT")))?;
                Some(connect.to_string())
            }
            None => None,
        };
        gateways.push(Gateway {
            target,
            user,
            connect,
            line: Some(number),
        });
    }
    if gateways.is_empty() {
        return Err(Error::InvalidInput {
            path: path.to_path_buf(),
            reason: "no gateway in the file; write one host per line".into(),
        });
    }
    Ok(gateways)
}

/// How many hosts ended each way.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub hosts: usize,
    pub passed: usize,
    pub warned: usize,
    pub failed: usize,
    pub unreachable: usize,
    pub elapsed_ms: u64,
}

impl Summary {
    fn add(&mut self, outcome: Outcome) {
        self.hosts += 1;
        match outcome {
            Outcome::Passed => self.passed += 1,
            Outcome::Warned => self.warned += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Unreachable => self.unreachable += 1,
        }
    }
}

/// Checks every gateway, calling `on_report` as each one finishes; returns the reports in file
/// order, with the summary.
pub async fn run(
    gateways: Vec<Gateway>,
    options: Arc<CheckOptions>,
    trust: Arc<TrustIndex>,
    concurrency: usize,
    mut on_report: impl FnMut(&GatewayReport),
) -> (Vec<GatewayReport>, Summary) {
    let started = Instant::now();
    let concurrency = concurrency.max(1);
    // Connect plus handshake, then at most two GETs and one reconnect: a generous outer bound.
    let bound = options.timeout * 5 + Duration::from_secs(1);

    let mut pending = gateways.into_iter();
    let mut tasks = JoinSet::new();
    let spawn = |tasks: &mut JoinSet<GatewayReport>, gateway: Gateway| {
        let options = options.clone();
        let trust = trust.clone();
        tasks.spawn(async move {
            match tokio::time::timeout(bound, check(&gateway, &options, &trust)).await {
                Ok(report) => report,
                Err(_) => timed_out(&gateway, &options, bound),
            }
        });
    };
    for gateway in pending.by_ref().take(concurrency) {
        spawn(&mut tasks, gateway);
    }

    let mut reports = Vec::new();
    let mut summary = Summary::default();
    while let Some(joined) = tasks.join_next().await {
        if let Some(gateway) = pending.next() {
            spawn(&mut tasks, gateway);
        }
        // A panicking check is a bug; it loses that host's report, not the run.
        let Ok(report) = joined else { continue };
        summary.add(report.outcome);
        on_report(&report);
        reports.push(report);
    }

    reports.sort_by_key(|r| r.line);
    summary.elapsed_ms = started.elapsed().as_millis().try_into().unwrap_or(u64::MAX);
    (reports, summary)
}

/// Builds the report of a check that exceeded the outer bound.
fn timed_out(gateway: &Gateway, options: &CheckOptions, bound: Duration) -> GatewayReport {
    let mut checks = vec![
        super::checks::host_form(&gateway.target.host),
        super::checks::account(gateway.user.as_deref(), &gateway.target.host),
    ];
    checks.push(
        Check::new(
            CheckId::Tls,
            Status::Failed,
            format!("the checks did not finish within {}s", bound.as_secs_f64()),
        )
        .with_fix("check that the server answers HTTPS requests promptly"),
    );
    GatewayReport {
        host: gateway.target.host.to_string(),
        line: gateway.line,
        user: gateway.user.clone(),
        connect: gateway.connect.clone(),
        api: options.api,
        profile: options.profile(),
        list: options.list.clone(),
        outcome: Outcome::Unreachable,
        checks,
        tls: None,
        root: None,
        http: Vec::new(),
        elapsed_ms: bound.as_millis().try_into().unwrap_or(u64::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_file_forms() {
        let text = "# gateways\n\nowa.example.com\nmail.example.com,jdoe@example.com\n  ews.example.com:444 , CORP\\jdoe , 127.0.0.1:8443 \nx.example.com,,[::1]:9\n";
        let gateways = parse_hosts(text, Path::new("hosts")).unwrap();
        assert_eq!(gateways.len(), 4);
        assert_eq!(gateways[0].line, Some(3));
        assert_eq!(gateways[0].user, None);
        assert_eq!(gateways[1].user.as_deref(), Some("jdoe@example.com"));
        assert_eq!(gateways[2].target.port, 444);
        assert_eq!(gateways[2].user.as_deref(), Some("CORP\\jdoe"));
        assert_eq!(gateways[2].connect.as_deref(), Some("127.0.0.1:8443"));
        assert_eq!(gateways[3].user, None);
        assert_eq!(gateways[3].connect.as_deref(), Some("[::1]:9"));
    }

    #[test]
    fn hosts_file_rejects_bad_lines() {
        for text in [
            "",
            "# only a comment\n",
            "a.example.com,u,127.0.0.1:1,extra\n",
            "a.example.com,u,not-an-address\n",
            "http://a.example.com/\n",
            "https://a.example.com/owa/\n",
        ] {
            let err = parse_hosts(text, Path::new("hosts")).unwrap_err();
            assert!(matches!(err, Error::InvalidInput { .. }), "{text:?}: {err}");
        }
    }
}
