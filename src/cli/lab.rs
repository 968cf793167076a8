//! `lab ca`, `lab server`, `lab serve` and `demo`.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde::Serialize;

use super::lists::read_new_password;
use super::{block_on, Context, Output};
use crate::cert;
use crate::error::{Error, Result};
use crate::gateway::Api;
use crate::lab::pfx::PfxProfile;
use crate::lab::serve::{self, AuthScheme, LabServer, ServeMode, ServeOptions, TlsVersion};
use crate::lab::{self, CaRequest, KeyKind, ServerRequest};

#[derive(Debug, Subcommand)]
pub enum LabCommand {
    /// Make a root CA for a lab, or with --intermediate an issuing CA under --ca: ca.pem, ca.key (0600) and chain.pem in --out.
    Ca(CaArgs),
    /// Issue an OWA server certificate from a lab CA: cert.pem, key.pem (0600), chain.pem in --out.
    Server(ServerArgs),
    /// Serve a lab server certificate over HTTPS on loopback, responding to /owa/ and /EWS/ like Exchange.
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct CaArgs {
    /// Directory to write ca.pem, ca.key and chain.pem into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Common name of the CA.
    #[arg(long, value_name = "NAME", default_value = lab::DEFAULT_CA_NAME)]
    pub cn: String,

    /// Key algorithm and size: rsa2048, rsa3072, rsa4096, p256 or p384.
    #[arg(long, value_name = "KEY", default_value = "rsa2048")]
    pub key: KeyKind,

    /// Validity in days.
    #[arg(long, value_name = "N", default_value_t = lab::DEFAULT_CA_DAYS)]
    pub days: u32,

    /// Make an intermediate (issuing) CA signed by the CA in --ca instead of a root.
    #[arg(long, requires = "ca")]
    pub intermediate: bool,

    /// CA directory made by `gwtrust lab ca` that issues the intermediate.
    #[arg(long, value_name = "DIR", requires = "intermediate")]
    pub ca: Option<PathBuf>,

    /// basicConstraints path length: how many CA certificates may follow this one [default: unconstrained].
    #[arg(long, value_name = "N")]
    pub pathlen: Option<u8>,
}

#[derive(Debug, Args)]
pub struct ServerArgs {
    /// CA directory made by `gwtrust lab ca`.
    #[arg(long, value_name = "DIR")]
    pub ca: PathBuf,

    /// FQDN of the server: the first subjectAltName and the common name.
    #[arg(long, value_name = "FQDN")]
    pub host: String,

    /// Another subjectAltName (DNS name or IP address); repeat for more.
    #[arg(long = "san", value_name = "NAME")]
    pub sans: Vec<String>,

    /// Key algorithm and size: rsa2048, rsa3072, rsa4096, p256 or p384.
    #[arg(long, value_name = "KEY", default_value = "rsa2048")]
    pub key: KeyKind,

    /// Validity in days.
    #[arg(long, value_name = "N", default_value_t = lab::DEFAULT_SERVER_DAYS)]
    pub days: u32,

    /// Directory to write cert.pem, key.pem and chain.pem into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Also write the key and chain as PKCS#12 (AES-256/SHA-256), as Exchange imports them.
    #[arg(long, value_name = "FILE")]
    pub pfx: Option<PathBuf>,

    /// Encrypt the PKCS#12 file with 3DES and SHA-1, for Windows Server 2012 and older.
    #[arg(long, requires = "pfx")]
    pub pfx_legacy: bool,

    /// Environment variable that contains the PKCS#12 password [default: ask on the terminal].
    #[arg(long, value_name = "VAR", requires = "pfx")]
    pub password_env: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Server directory made by `gwtrust lab server`.
    #[arg(long, value_name = "DIR")]
    pub cert: PathBuf,

    /// Address and port to listen on; port 0 picks a free one.
    #[arg(long, value_name = "ADDR:PORT", default_value = serve::DEFAULT_LISTEN)]
    pub listen: String,

    /// Also send the self-signed root at the end of the chain.
    #[arg(long)]
    pub send_root: bool,

    /// Schemes the 401 responses offer: a comma-separated list of negotiate, ntlm, basic, or none.
    #[arg(long, value_name = "SCHEMES", default_value = "negotiate,ntlm,basic")]
    pub auth: String,

    /// Redirect /owa/ to /owa/auth/logon.aspx, as OWA with forms-based authentication does.
    #[arg(long)]
    pub fba: bool,

    /// API endpoints to serve with a 401: ews (/EWS/Exchange.asmx), webdav (/exchange/), or both separated by a comma; the others get 404.
    #[arg(long, value_name = "API", value_delimiter = ',', default_value = "ews")]
    pub api: Vec<Api>,

    /// Highest TLS version to accept: 1.2 or 1.3 [default: 1.3].
    #[arg(long, value_name = "VERSION")]
    pub tls_max: Option<TlsVersion>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the demo's files in this directory instead of a temporary one.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
struct Written {
    subject: String,
    fingerprint_sha256: String,
    files: Vec<String>,
}

/// Runs a `lab` subcommand.
pub fn run(command: LabCommand, context: &Context) -> Result<Output> {
    match command {
        LabCommand::Ca(args) => ca(args),
        LabCommand::Server(args) => server(args),
        LabCommand::Serve(args) => serve(args, context),
    }
}

fn ca(args: CaArgs) -> Result<Output> {
    let mut request = CaRequest {
        common_name: args.cn,
        key: args.key,
        days: args.days,
        path_len: args.pathlen,
    };
    let (generated, what) = match &args.ca {
        Some(ca_dir) if args.intermediate => {
            if request.common_name == lab::DEFAULT_CA_NAME {
                request.common_name = lab::DEFAULT_INTERMEDIATE_NAME.into();
            }
            let issuer = lab::load_ca(ca_dir)?;
            (
                lab::generate_intermediate(&issuer, &request)?,
                "intermediate CA",
            )
        }
        _ => (lab::generate_ca(&request)?, "CA"),
    };
    let files = lab::write_ca(&args.out, &generated)?;
    written(&generated.cert_der, files, what)
}

fn server(args: ServerArgs) -> Result<Output> {
    // The password comes first, so a missing one stops the command before anything is written.
    let password = match &args.pfx {
        Some(pfx_path) => Some(read_new_password(args.password_env.as_deref(), pfx_path)?),
        None => None,
    };
    let ca = lab::load_ca(&args.ca)?;
    let generated = lab::generate_server(
        &ca,
        &ServerRequest {
            host: args.host,
            extra_sans: args.sans,
            key: args.key,
            days: args.days,
        },
    )?;
    let mut files = lab::write_server(&args.out, &generated)?;

    if let (Some(pfx_path), Some(password)) = (&args.pfx, &password) {
        let profile = if args.pfx_legacy {
            PfxProfile::Legacy
        } else {
            PfxProfile::Modern
        };
        lab::pfx::write(pfx_path, &generated, password, profile)?;
        files.push(pfx_path.clone());
    }
    written(&generated.cert_der, files, "server certificate")
}

fn written(der: &[u8], files: Vec<PathBuf>, what: &str) -> Result<Output> {
    let summary = cert::CertSummary::from_der(der, what)?;
    let report = Written {
        subject: summary.subject,
        fingerprint_sha256: summary.fingerprint_sha256,
        files: files.iter().map(|p| p.display().to_string()).collect(),
    };
    let mut text = format!(
        "Made {what} {}\n  SHA-256 {}\n",
        report.subject, report.fingerprint_sha256
    );
    for file in &report.files {
        let _ = writeln!(text, "  wrote {file}");
    }
    Ok(Output::ok(&report, text))
}

fn serve(args: ServeArgs, context: &Context) -> Result<Output> {
    let (chain, key_pem) = lab::load_server(&args.cert)?;
    let options = ServeOptions {
        chain,
        key_pem,
        send_root: args.send_root,
    };
    let auth = AuthScheme::parse_list(&args.auth).map_err(|reason| Error::InvalidArgument {
        what: "--auth",
        value: args.auth.clone(),
        reason,
    })?;
    let mode = ServeMode {
        auth,
        forms_based: args.fba,
        apis: args.api,
        tls_max: args.tls_max,
    };

    block_on(async move {
        let server = LabServer::bind_with_mode(&args.listen, &options, mode).await?;
        let addr = server.local_addr();

        // The address goes out first and at once, so scripts and tests can read the port.
        let line = if context.json {
            serde_json::json!({
                "command": "lab serve",
                "event": "listening",
                "address": addr.to_string(),
                "certificates_presented": server.presented.len(),
            })
            .to_string()
        } else {
            format!(
                "listening on {addr}, presenting {} certificate(s); stop with Ctrl-C",
                server.presented.len()
            )
        };
        let mut stdout = std::io::stdout();
        let _ = writeln!(stdout, "{line}");
        let _ = stdout.flush();

        tokio::select! {
            _ = server.run() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        Ok::<_, Error>(())
    })??;

    Ok(Output::ok(
        serde_json::json!({ "stopped": true }),
        String::new(),
    ))
}

/// `gwtrust demo`.
pub fn demo(args: DemoArgs, _context: &Context) -> Result<Output> {
    let temporary;
    let workdir = match &args.keep {
        Some(dir) => {
            // A second demo in the same directory would find the first one's store and CA.
            let occupied = std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some());
            if occupied {
                return Err(Error::InvalidInput {
                    path: dir.clone(),
                    reason: "is not empty; pass a new or empty directory to --keep".into(),
                });
            }
            crate::files::create_dir(dir)?;
            dir.clone()
        }
        None => {
            temporary = tempfile::tempdir().map_err(|source| Error::WriteFile {
                path: std::env::temp_dir(),
                source,
            })?;
            temporary.path().to_path_buf()
        }
    };

    let report = block_on(crate::demo::run(&workdir))??;
    let mut text = String::new();
    if args.keep.is_none() {
        text.push_str(
            "Working in a temporary directory, removed at exit (--keep DIR keeps the files).\n",
        );
    }
    for (number, step) in report.steps.iter().enumerate() {
        let _ = writeln!(text, "{}. {step}", number + 1);
    }
    Ok(Output::ok(&report, text))
}
