//! `demo`: the main job end to end on loopback, with nothing outside the machine involved.
//!
//! The demo works in a temporary directory. It makes a lab root CA and an OWA server
//! certificate for `owa.lab.example.test` and serves the chain, without its root, on a free
//! loopback port. Then it pins the server with `--connect` to that port, expecting the CA's own
//! fingerprint, runs the gateway checks against it, and lists the store. The demo succeeds only when the pinned root is the generated CA.

use serde::Serialize;

use crate::capture::CaptureOptions;
use crate::cert;
use crate::error::{Error, Result};
use crate::gateway::{
    self, Api, CheckOptions, Gateway, GatewayReport, Outcome, Status, TrustIndex,
};
use crate::lab::serve::{LabServer, ServeOptions};
use crate::lab::{self, CaRequest, KeyKind, LoadedCa, ServerRequest};
use crate::pin::{self, Confirmation, PinOptions, PinReport};
use crate::target::Target;
use crate::trust_store;

/// The OWA host name the demo certificate is issued for; `.test` is reserved (RFC 2606).
pub const DEMO_HOST: &str = "owa.lab.example.test";
/// The presence server's account in the demo's gateway check.
pub const DEMO_ACCOUNT: &str = "presence@lab.example.test";

/// The demo's steps, one line each, and the fingerprints it compared.
#[derive(Debug, Serialize)]
pub struct DemoReport {
    pub steps: Vec<String>,
    pub generated_ca_fingerprint: String,
    pub pinned_fingerprint: String,
    pub pin: PinReport,
    pub gateway: GatewayReport,
    pub stored: Vec<String>,
}

/// Runs the demo in `workdir`, which must exist and be empty or disposable.
pub async fn run(workdir: &std::path::Path) -> Result<DemoReport> {
    let mut steps = Vec::new();

    let ca_dir = workdir.join("ca");
    let ca = lab::generate_ca(&CaRequest {
        common_name: lab::DEFAULT_CA_NAME.into(),
        key: KeyKind::Rsa2048,
        days: lab::DEFAULT_CA_DAYS,
        path_len: None,
    })?;
    lab::write_ca(&ca_dir, &ca)?;
    let ca_fingerprint = cert::fingerprint(&ca.cert_der);
    steps.push(format!(
        "Made a lab root CA, {:?}, in {} (SHA-256 {ca_fingerprint}).",
        lab::DEFAULT_CA_NAME,
        ca_dir.display()
    ));

    let loaded: LoadedCa = lab::load_ca(&ca_dir)?;
    let server_dir = workdir.join("owa");
    let server = lab::generate_server(
        &loaded,
        &ServerRequest {
            host: DEMO_HOST.into(),
            extra_sans: Vec::new(),
            key: KeyKind::Rsa2048,
            days: lab::DEFAULT_SERVER_DAYS,
        },
    )?;
    lab::write_server(&server_dir, &server)?;
    steps.push(format!(
        "Issued an OWA server certificate for {DEMO_HOST} (subjectAltName {DEMO_HOST}, serverAuth) in {}.",
        server_dir.display()
    ));

    let lab_server = LabServer::bind(
        "127.0.0.1:0",
        &ServeOptions {
            chain: server.chain.clone(),
            key_pem: server.key_pem.clone().into_bytes(),
            send_root: false,
        },
    )
    .await?;
    let addr = lab_server.local_addr();
    let serving = tokio::spawn(lab_server.run());
    steps.push(format!(
        "Serving the leaf without its root, as HTTPS servers usually do, on {addr}; /owa/ and /EWS/Exchange.asmx answer 401 like Exchange."
    ));

    let store_dir = workdir.join("store");
    let target = Target::parse(DEMO_HOST)?;
    let capture = CaptureOptions {
        connect: Some(addr.to_string()),
        ..CaptureOptions::default()
    };
    let options = PinOptions {
        list: trust_store::PRESENCE_LIST.into(),
        // The server does not send its root, so it is found in the CA file, as an admin
        // would pass the root they got from their CA.
        ca_file: Some(ca_dir.join("ca.pem")),
        ..PinOptions::default()
    };
    let pinned = pin::pin(
        &store_dir,
        &target,
        &capture,
        &options,
        Confirmation::Expect(ca_fingerprint),
    )
    .await;
    let pinned = match pinned {
        Ok(pinned) => pinned,
        Err(err) => {
            serving.abort();
            return Err(err);
        }
    };
    steps.push(format!(
        "Pinned {DEMO_HOST} (dialled at {addr}): the host matches the leaf, the root came from the CA file, its fingerprint was confirmed, and only the root went into list {}.",
        pinned.list
    ));

    // The preflight an admin runs before configuring the presence server's gateway.
    let store = trust_store::open(&store_dir)?;
    let gateway = Gateway {
        target: target.clone(),
        user: Some(DEMO_ACCOUNT.into()),
        connect: Some(addr.to_string()),
        line: None,
    };
    let check_options = CheckOptions {
        api: Api::Ews,
        profile: None,
        list: trust_store::PRESENCE_LIST.into(),
        timeout: capture.timeout,
        store_arg: None,
    };
    let trust = TrustIndex::load(&store, trust_store::PRESENCE_LIST)?;
    let preflight = gateway::check(&gateway, &check_options, &trust).await;
    serving.abort();
    steps.push(format!(
        "Checked the gateway as the presence server will use it ({DEMO_ACCOUNT}, EWS): {}, {} of {} checks passed.",
        preflight.outcome,
        preflight.count(Status::Passed),
        preflight.checks.len()
    ));

    let stored: Vec<String> = store
        .entries(trust_store::PRESENCE_LIST)?
        .iter()
        .map(|entry| format!("{} {}", entry.fingerprint, entry.subject))
        .collect();
    steps.push(format!(
        "The store at {} now holds {} certificate(s) in list {}.",
        store_dir.display(),
        stored.len(),
        trust_store::PRESENCE_LIST
    ));

    let pinned_fingerprint = cert::fingerprint(&pinned.root.der);
    if preflight.outcome != Outcome::Passed {
        return Err(Error::CheckFailed(format!(
            "demo failed: the gateway check of {DEMO_HOST} ended {}; run `gwtrust demo --json` to see each check",
            preflight.outcome
        )));
    }
    if pinned_fingerprint != ca_fingerprint || stored.len() != 1 {
        return Err(Error::CheckFailed(format!(
            "demo failed: the pinned root {pinned_fingerprint} is not the generated CA {ca_fingerprint}, or the list contains {} certificates instead of 1",
            stored.len()
        )));
    }
    steps.push("The pinned root's fingerprint equals the generated CA's: the demo passed.".into());

    Ok(DemoReport {
        steps,
        generated_ca_fingerprint: ca_fingerprint.to_string(),
        pinned_fingerprint: pinned_fingerprint.to_string(),
        pin: pinned,
        gateway: preflight,
        stored,
    })
}
