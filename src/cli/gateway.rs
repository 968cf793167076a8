//! `gateway check`, for one gateway (`--host`) or a fleet (`--hosts FILE`).

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{ArgGroup, Args, Subcommand};

use super::{block_on, Context, Output};
use crate::error::{Error, ExitStatus, Result};
use crate::gateway::fleet::{self, Summary};
use crate::gateway::{
    self, Api, CheckOptions, Gateway, GatewayReport, Outcome, Status, TrustIndex,
};
use crate::names::Profile;
use crate::target::Target;
use crate::trust_store;

#[derive(Debug, Subcommand)]
pub enum GatewayCommand {
    /// Check whether an Exchange server works as a presence calendar gateway, and what to change.
    Check(CheckArgs),
}

const CHECK_HELP: &str = "\
Checks, each passed, warned, failed or skipped, with a fix for each that did not pass:
  host form, account, TLS, name, trust, validity, HTTP (GET /owa/ and the API endpoint;
  no credential is sent)

Exit codes with --host:
  0  nothing failed (warnings allowed)
  1  a check failed
  3  the host could not be reached (resolve, connect or handshake timeout)

Exit codes with --hosts:
  0  no host failed or was unreachable
  1  some host failed a check or was unreachable
  3  every host was unreachable
  2  and 4 as for every command (invalid hosts file, store errors)

With --hosts and --json the output is JSON lines, unlike other commands: one object per
host as it finishes, then one summary object {\"command\", \"status\", \"exit_code\", \"result\"}.";

#[derive(Debug, Args)]
#[command(
    group(ArgGroup::new("gateways").required(true).args(["host", "hosts"])),
    after_help = CHECK_HELP
)]
pub struct CheckArgs {
    /// The gateway host as the presence server is configured with it (host or host:port).
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,

    /// A file of gateways, one per line: host, host,user or host,user,ADDR:PORT; # starts a comment.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["user", "connect"])]
    pub hosts: Option<PathBuf>,

    /// The account the presence server signs in with, ideally user@domain.
    #[arg(long, value_name = "ACCOUNT")]
    pub user: Option<String>,

    /// The trust list that mirrors the presence server's trust store.
    #[arg(long, value_name = "NAME", default_value = trust_store::PRESENCE_LIST)]
    pub list: String,

    /// The calendar API: ews (GET /EWS/Exchange.asmx) or webdav (GET /exchange/).
    #[arg(long, value_name = "API", default_value = "ews")]
    pub api: Api,

    /// Name-matching profile: rfc6125, legacy or exact-san [default: exact-san with ews, rfc6125 with webdav].
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<Profile>,

    /// Dial this ADDR:PORT instead of resolving HOST; HOST is still used for SNI and name checks.
    #[arg(long, value_name = "ADDR:PORT")]
    pub connect: Option<String>,

    /// Seconds allowed for connecting plus the TLS handshake, and for each HTTP request.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub timeout: f64,

    /// With --hosts: how many gateways to check at the same time.
    #[arg(long, value_name = "N", default_value_t = fleet::DEFAULT_CONCURRENCY)]
    pub concurrency: usize,
}

impl CheckArgs {
    /// Returns true for a fleet run (`--hosts`).
    pub fn is_fleet(&self) -> bool {
        self.hosts.is_some()
    }

    fn options(&self, context: &Context) -> Result<CheckOptions> {
        if !(self.timeout.is_finite() && self.timeout > 0.0 && self.timeout <= 3600.0) {
            return Err(Error::InvalidArgument {
                what: "--timeout",
                value: self.timeout.to_string(),
                reason: "expected a number of seconds above 0 and at most 3600".into(),
            });
        }
        if self.concurrency == 0 || self.concurrency > 4096 {
            return Err(Error::InvalidArgument {
                what: "--concurrency",
                value: self.concurrency.to_string(),
                reason: "expected a number from 1 to 4096".into(),
            });
        }
        Ok(CheckOptions {
            api: self.api,
            profile: self.profile,
            list: self.list.clone(),
            timeout: Duration::from_secs_f64(self.timeout),
            store_arg: context.store.as_ref().map(|p| p.display().to_string()),
        })
    }
}

/// Runs a `gateway` subcommand.
pub fn run(command: GatewayCommand, context: &Context) -> Result<Output> {
    match command {
        GatewayCommand::Check(args) if args.is_fleet() => check_fleet(&args, context),
        GatewayCommand::Check(args) => check_one(&args, context),
    }
}

/// Reads the checked list, and every other list for root candidates, then closes the store so
/// that it is not held during the network checks.
fn load_trust(context: &Context, list: &str) -> Result<TrustIndex> {
    let store = context.open_store()?;
    TrustIndex::load(&store, list)
}

fn check_one(args: &CheckArgs, context: &Context) -> Result<Output> {
    let options = args.options(context)?;
    let host = args.host.as_deref().unwrap_or_default();
    let target = Target::parse(host)?;
    if target.path.is_some() {
        return Err(Error::InvalidArgument {
            what: "--host",
            value: host.to_string(),
            reason: "give the host (or host:port) without a path".into(),
        });
    }
    if let Some(connect) = &args.connect {
        crate::target::check_connect(connect)?;
    }
    let trust = load_trust(context, &options.list)?;
    let gateway = Gateway {
        target,
        user: args.user.clone(),
        connect: args.connect.clone(),
        line: None,
    };

    let report = block_on(async { gateway::check(&gateway, &options, &trust).await })?;
    let mut text = String::new();
    render_report(&mut text, &report, true);
    let status = match report.outcome {
        Outcome::Passed | Outcome::Warned => ExitStatus::Ok,
        Outcome::Failed => ExitStatus::CheckFailed,
        Outcome::Unreachable => ExitStatus::Network,
    };
    Ok(Output {
        result: serde_json::to_value(&report).unwrap_or_default(),
        text,
        status,
    })
}

/// Returns the exit status of a fleet run: 0 when no host failed or was unreachable, 3 when
/// every host was unreachable, else 1.
fn fleet_status(summary: &Summary) -> ExitStatus {
    if summary.hosts > 0 && summary.unreachable == summary.hosts {
        ExitStatus::Network
    } else if summary.failed + summary.unreachable > 0 {
        ExitStatus::CheckFailed
    } else {
        ExitStatus::Ok
    }
}

/// Parses the hosts file and runs every check, calling `on_report` as each host finishes.
fn run_fleet(
    args: &CheckArgs,
    context: &Context,
    progress: bool,
    mut on_report: impl FnMut(&GatewayReport),
) -> Result<(Vec<GatewayReport>, Summary)> {
    let options = args.options(context)?;
    let path = args.hosts.clone().unwrap_or_default();
    let text = String::from_utf8(crate::files::read(&path)?).map_err(|_| Error::InvalidInput {
        path: path.clone(),
        reason: "is not UTF-8 text; write one gateway per line as host, host,user or host,user,ADDR:PORT".into(),
    })?;
    let gateways = fleet::parse_hosts(&text, &path)?;
    let trust = load_trust(context, &options.list)?;

    let bar = if progress {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(gateways.len() as u64),
            indicatif::ProgressDrawTarget::stderr(),
        );
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} gateways, {elapsed} {msg}",
        ) {
            bar.set_style(style);
        }
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };

    let concurrency = args.concurrency;
    let result = block_on(fleet::run(
        gateways,
        Arc::new(options),
        Arc::new(trust),
        concurrency,
        |report| {
            bar.inc(1);
            on_report(report);
        },
    ))?;
    bar.finish_and_clear();
    Ok(result)
}

fn check_fleet(args: &CheckArgs, context: &Context) -> Result<Output> {
    let progress = !context.json && std::io::stdout().is_terminal();
    let (reports, summary) = run_fleet(args, context, progress, |_| {})?;

    // Only the hosts that need attention get their checklist; the table counts them all.
    let mut text = String::new();
    for report in reports.iter().filter(|r| r.outcome != Outcome::Passed) {
        render_report(&mut text, report, false);
        text.push('\n');
    }
    render_summary(&mut text, &summary);

    let result = serde_json::json!({ "summary": summary, "hosts": reports });
    Ok(Output {
        result,
        text,
        status: fleet_status(&summary),
    })
}

/// Fleet mode with `--json`: JSON lines, one object per host as it finishes, then one summary
/// object in the shape every command uses. Returns the exit code.
pub fn check_fleet_json_lines(args: &CheckArgs, context: &Context) -> u8 {
    let command = "gateway check";
    let stdout = std::io::stdout();
    let result = run_fleet(args, context, false, |report| {
        let mut out = stdout.lock();
        if let Ok(line) = serde_json::to_string(report) {
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
    });

    let (status, document) = match result {
        Ok((_, summary)) => {
            let status = fleet_status(&summary);
            let document = serde_json::json!({
                "command": command,
                "status": status,
                "exit_code": status.code(),
                "result": { "summary": summary },
            });
            (status, document)
        }
        Err(error) => {
            let status = error.exit_status();
            let document = serde_json::json!({
                "command": command,
                "status": status,
                "exit_code": status.code(),
                "error": { "kind": error.kind(), "message": error.to_string() },
            });
            (status, document)
        }
    };
    let mut out = stdout.lock();
    let _ = writeln!(out, "{document}");
    let _ = out.flush();
    status.code()
}

fn render_report(text: &mut String, report: &GatewayReport, with_connection: bool) {
    let line = report
        .line
        .map(|n| format!(" (line {n})"))
        .unwrap_or_default();
    let _ = writeln!(
        text,
        "Gateway {}{line}: {} (api {}, profile {}, list {})",
        report.host, report.outcome, report.api, report.profile, report.list
    );
    if with_connection {
        if let Some(tls) = &report.tls {
            let sni = tls.sni.as_deref().unwrap_or("none");
            let _ = writeln!(text, "  connected to {} with SNI {sni}", tls.peer);
        }
    }
    for check in &report.checks {
        let _ = writeln!(
            text,
            "  {:<8} {:<10} {}",
            check.status,
            check.check.label(),
            check.detail
        );
        if let Some(fix) = &check.fix {
            let _ = writeln!(text, "  {:<8} {:<10} fix: {fix}", "", "");
        }
    }
    if with_connection {
        let count = |status| report.count(status);
        let _ = writeln!(
            text,
            "Result: {} ({} passed, {} warned, {} failed, {} skipped)",
            report.outcome,
            count(Status::Passed),
            count(Status::Warned),
            count(Status::Failed),
            count(Status::Skipped)
        );
    }
}

fn render_summary(text: &mut String, summary: &Summary) {
    let _ = writeln!(text, "hosts        {:>6}", summary.hosts);
    let _ = writeln!(text, "passed       {:>6}", summary.passed);
    let _ = writeln!(text, "warned       {:>6}", summary.warned);
    let _ = writeln!(text, "failed       {:>6}", summary.failed);
    let _ = writeln!(text, "unreachable  {:>6}", summary.unreachable);
    let _ = writeln!(
        text,
        "checked in {:.2}s",
        summary.elapsed_ms as f64 / 1000.0
    );
}
