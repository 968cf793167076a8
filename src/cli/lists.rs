//! `list create`, `list delete`, `lists`, `import` and `export`.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use gwtrust_store::Policy;
use serde::Serialize;

use super::{Context, Output};
use crate::error::{Error, Result};
use crate::export::{self, ExportFormat};
use crate::import::{self, ImportOptions, ImportReport, Outcome};
use crate::trust_store;

#[derive(Debug, Subcommand)]
pub enum ListAction {
    /// Create a trust list with a policy: root-only, ca-chain or ordered.
    Create(CreateArgs),
    /// Delete a trust list. A list that still contains certificates needs --force.
    Delete(DeleteArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Name of the list: 1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-'.
    pub name: String,

    /// Admission policy: root-only (self-signed roots), ca-chain (roots and intermediate
    /// CAs, never a leaf) or ordered (a CA only after its issuer).
    #[arg(long, value_name = "POLICY")]
    pub policy: Policy,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Name of the list.
    pub name: String,

    /// Delete the list even if it still contains certificates or a service uses it.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ListsArgs {}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Certificate files (PEM, DER, base64, PKCS#7, PKCS#12) or directories, read recursively.
    #[arg(required = true, value_name = "FILE_OR_DIR")]
    pub inputs: Vec<PathBuf>,

    /// The trust list to import into.
    #[arg(long, value_name = "NAME")]
    pub list: String,

    /// Environment variable that contains the PKCS#12 password [default: ask on the terminal].
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,

    /// Report what would be imported, and write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Write nothing if any certificate is rejected.
    #[arg(long)]
    pub all_or_nothing: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The trust list to export.
    #[arg(long, value_name = "NAME")]
    pub list: String,

    /// pem (bundle), der (directory, one file each), hashdir (OpenSSL -CApath directory),
    /// p7b (PKCS#7 bundle) or p12 (PKCS#12 truststore).
    #[arg(long, value_name = "FORMAT")]
    pub format: ExportFormat,

    /// The file to write, or the new or empty directory for der and hashdir.
    #[arg(long, value_name = "PATH")]
    pub out: PathBuf,

    /// Environment variable that contains the p12 password [default: ask on the terminal,
    /// twice].
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,

    /// Replace an existing file at --out (pem, p7b and p12).
    #[arg(long)]
    pub force: bool,
}

/// Runs `list create` or `list delete`.
pub fn run_action(action: ListAction, context: &Context) -> Result<Output> {
    let store = context.open_store()?;
    match action {
        ListAction::Create(args) => {
            let info = store.create_list(&args.name, args.policy, &trust_store::now_rfc3339())?;
            let text = format!("Created list {} with policy {}.\n", info.name, info.policy);
            Ok(Output::ok(&info, text))
        }
        ListAction::Delete(args) => {
            check_deletable(&store, &args)?;
            let count = store.delete_list(&args.name, args.force)?;
            let text = format!(
                "Deleted list {} and its {count} certificate(s).\n",
                args.name
            );
            let result = serde_json::json!({ "name": args.name, "certificates_removed": count });
            Ok(Output::ok(result, text))
        }
    }
}

/// Rejects deleting a built-in list, which every store recreates empty on the next command so
/// its pins would be lost, and, without --force, a list that a service's record names.
fn check_deletable(store: &gwtrust_store::Store, args: &DeleteArgs) -> Result<()> {
    if trust_store::BUILTIN_LISTS
        .iter()
        .any(|(name, _)| *name == args.name)
    {
        return Err(Error::InvalidArgument {
            what: "list",
            value: args.name.clone(),
            reason: "it is a built-in list, which cannot be deleted; remove its certificates with `gwtrust remove` instead".into(),
        });
    }

    let services: Vec<String> = store
        .services()?
        .into_iter()
        .filter(|record| record.list == args.name)
        .map(|record| record.name)
        .collect();
    if !services.is_empty() && !args.force {
        return Err(Error::InvalidArgument {
            what: "list",
            value: args.name.clone(),
            reason: format!(
                "service(s) {} use this list, so deleting it leaves them without their trust list; install them from another list first, or pass --force",
                services.join(", ")
            ),
        });
    }
    Ok(())
}

#[derive(Debug, Serialize)]
struct ListLine {
    name: String,
    policy: String,
    created: String,
    certificates: usize,
}

/// `gwtrust lists`.
pub fn lists(_args: ListsArgs, context: &Context) -> Result<Output> {
    let store = context.open_store()?;
    let mut lines = Vec::new();
    for info in store.lists()? {
        lines.push(ListLine {
            certificates: store.entries(&info.name)?.len(),
            name: info.name,
            policy: info.policy.to_string(),
            created: info.created,
        });
    }

    let mut text = String::new();
    for line in &lines {
        let _ = writeln!(
            text,
            "{:<20} {:<10} {:>4} certificate(s)  created {}",
            line.name, line.policy, line.certificates, line.created
        );
    }
    Ok(Output::ok(serde_json::json!({ "lists": lines }), text))
}

/// `gwtrust import`.
pub fn import(args: ImportArgs, context: &Context) -> Result<Output> {
    // A dry run must not create a store: against a missing one it decides with a throwaway
    // store, which starts with the same built-in lists and policies.
    let store_dir = context.store_dir()?;
    let scratch = if args.dry_run && !store_dir.exists() {
        Some(tempfile::tempdir().map_err(|source| Error::WriteFile {
            path: std::env::temp_dir(),
            source,
        })?)
    } else {
        None
    };
    let store = match &scratch {
        Some(dir) => trust_store::open(&dir.path().join("store"))?,
        None => trust_store::open(&store_dir)?,
    };
    let options = ImportOptions {
        inputs: args.inputs,
        list: args.list,
        dry_run: args.dry_run,
        all_or_nothing: args.all_or_nothing,
    };
    let env = args.password_env;
    let mut password = |path: &Path| read_password(env.as_deref(), path);
    let report = import::import(&store, &options, &mut password)?;

    let text = render_import(&report, scratch.is_some());
    let blocked = report.all_or_nothing && report.rejected > 0;
    let nothing_admitted =
        report.imported == 0 && report.would_import == 0 && report.already_present == 0;
    if blocked || nothing_admitted {
        Ok(Output::check_failed(&report, text))
    } else {
        Ok(Output::ok(&report, text))
    }
}

/// Renders the import report; `no_store` marks a dry run against a store that does not exist.
fn render_import(report: &ImportReport, no_store: bool) -> String {
    let mut text = String::new();
    for file in &report.files {
        let format = file
            .format
            .map(|f| f.to_string())
            .unwrap_or_else(|| "skipped".into());
        let _ = writeln!(
            text,
            "{} ({format}): {} certificate(s)",
            file.path, file.certificates
        );
        for note in &file.notes {
            let _ = writeln!(text, "  note: {note}");
        }
    }

    for cert in &report.certificates {
        let outcome = match cert.outcome {
            Outcome::Imported => "imported",
            Outcome::WouldImport => "would import",
            Outcome::AlreadyPresent => "already present",
            Outcome::Rejected => "rejected",
        };
        let _ = writeln!(text, "{outcome}: {}", cert.subject);
        let _ = writeln!(text, "    SHA-256 {}", cert.fingerprint_sha256);
        if let Some(reason) = &cert.reason {
            let _ = writeln!(text, "    {reason}");
        }
        for warning in &cert.warnings {
            let _ = writeln!(text, "    warning: {warning}");
        }
    }
    for warning in &report.warnings {
        let _ = writeln!(text, "warning: {warning}");
    }

    let admitted = if report.written || report.would_import == 0 {
        format!("{} imported", report.imported)
    } else {
        format!("{} would be imported", report.would_import)
    };
    let summary = format!(
        "list {} (policy {}): {admitted}, {} already present, {} rejected",
        report.list, report.policy, report.already_present, report.rejected
    );
    let tail = if no_store {
        "; dry run against a store that does not exist yet, so it was not created and nothing was written"
    } else if report.dry_run {
        "; dry run, nothing was written"
    } else if report.all_or_nothing && report.rejected > 0 {
        "; --all-or-nothing: nothing was written"
    } else {
        ""
    };
    let _ = writeln!(text, "{summary}{tail}.");
    text
}

/// `gwtrust export`.
pub fn export(args: ExportArgs, context: &Context) -> Result<Output> {
    let store_dir = context.store_dir()?;
    let store = trust_store::open(&store_dir)?;
    let env = args.password_env;
    let out = args.out.clone();
    let mut password = || read_new_password(env.as_deref(), &out);
    let report = export::export(
        &store,
        &store_dir,
        &args.list,
        args.format,
        &args.out,
        args.force,
        &mut password,
    )?;

    let mut text = format!(
        "Exported {} certificate(s) of list {} to {}.\n",
        report.certificates, report.list, report.out
    );
    if args.format.is_directory() {
        for file in &report.files {
            let _ = writeln!(text, "  {file}");
        }
    }
    for warning in &report.warnings {
        let _ = writeln!(text, "warning: {warning}");
    }
    Ok(Output::ok(&report, text))
}

/// Reads a password from the environment variable `env`, else prompts on the terminal without
/// echo. A password is never taken from the command line, where `ps` shows it.
pub(crate) fn read_password(env: Option<&str>, path: &Path) -> Result<String> {
    if let Some(name) = env {
        return std::env::var(name).map_err(|_| Error::InvalidArgument {
            what: "--password-env",
            value: name.to_string(),
            reason:
                "the environment variable is not set or not UTF-8; export it before running gwtrust"
                    .into(),
        });
    }
    require_terminal(path)?;
    prompt(&format!("Password for {}: ", path.display()))
}

/// Reads the password of a PKCS#12 file about to be written. It comes from the environment
/// variable `env` (an empty value is accepted as intended), else from the terminal, asked
/// twice: the two entries must match and must not be empty.
pub(crate) fn read_new_password(env: Option<&str>, path: &Path) -> Result<String> {
    if env.is_some() {
        return read_password(env, path);
    }
    require_terminal(path)?;

    let password = prompt(&format!("New password for {}: ", path.display()))?;
    let invalid = |reason: &str| Error::InvalidInput {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    if password.is_empty() {
        return Err(invalid(
            "the password is empty, and keytool cannot open a PKCS#12 file without one; type a password, or, to write it with an empty password anyway, set an empty environment variable and pass --password-env VAR",
        ));
    }
    let again = prompt(&format!("Repeat the password for {}: ", path.display()))?;
    if again != password {
        return Err(invalid(
            "the two passwords typed do not match; run the command again and type the same password twice",
        ));
    }
    Ok(password)
}

fn require_terminal(path: &Path) -> Result<()> {
    if std::io::stdin().is_terminal() {
        return Ok(());
    }
    Err(Error::InvalidInput {
        path: path.to_path_buf(),
        reason: "the PKCS#12 password for this file is needed and there is no terminal to ask on: put it in an environment variable and pass --password-env VAR".into(),
    })
}

fn prompt(text: &str) -> Result<String> {
    rpassword::prompt_password(text).map_err(|source| Error::ReadFile {
        path: PathBuf::from("<terminal>"),
        source,
    })
}
