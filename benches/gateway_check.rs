//! Criterion benchmarks of `gateway check` against an in-process lab server on 127.0.0.1:
//! one gateway at a time, and a fleet of 100 with the default concurrency.

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use gwtrust::gateway::fleet::{self, DEFAULT_CONCURRENCY};
use gwtrust::gateway::{self, Api, CheckOptions, Gateway, TrustIndex};
use gwtrust::lab::serve::{LabServer, ServeMode, ServeOptions};
use gwtrust::lab::{self, CaRequest, KeyKind, ServerRequest};
use gwtrust::target::Target;

const HOST: &str = "owa.bench.example.test";

/// Starts a lab server for `HOST` (RSA 2048, as Exchange has) and returns its address.
fn start_server(runtime: &tokio::runtime::Runtime) -> String {
    let ca = lab::generate_ca(&CaRequest {
        common_name: "Bench Root CA".into(),
        key: KeyKind::Rsa2048,
        days: 30,
        path_len: None,
    })
    .expect("generate CA");
    let dir = tempfile::tempdir().expect("temporary directory");
    lab::write_ca(dir.path(), &ca).expect("write CA");
    let loaded = lab::load_ca(dir.path()).expect("load CA");
    let server = lab::generate_server(
        &loaded,
        &ServerRequest {
            host: HOST.into(),
            extra_sans: Vec::new(),
            key: KeyKind::Rsa2048,
            days: 30,
        },
    )
    .expect("generate server certificate");
    let server_dir = dir.path().join("owa");
    lab::write_server(&server_dir, &server).expect("write server");
    let (chain, key_pem) = lab::load_server(&server_dir).expect("load server");

    let options = ServeOptions {
        chain,
        key_pem,
        send_root: true,
    };
    let mode = ServeMode {
        apis: vec![Api::Ews],
        ..ServeMode::default()
    };
    let server = runtime
        .block_on(LabServer::bind_with_mode("127.0.0.1:0", &options, mode))
        .expect("bind lab server");
    let addr = server.local_addr().to_string();
    runtime.spawn(server.run());
    addr
}

fn benchmarks(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let addr = start_server(&runtime);

    let store_dir = tempfile::tempdir().expect("temporary directory");
    let store = gwtrust::trust_store::open(store_dir.path()).expect("open store");
    let trust = Arc::new(TrustIndex::load(&store, "presence").expect("read store"));
    drop(store);

    let options = Arc::new(CheckOptions {
        api: Api::Ews,
        profile: None,
        list: "presence".into(),
        timeout: Duration::from_secs(10),
        store_arg: None,
    });
    let gateway = Gateway {
        target: Target::parse(HOST).expect("target"),
        user: Some("jdoe@bench.example.test".into()),
        connect: Some(addr),
        line: None,
    };

    c.bench_function("gateway_check_one", |b| {
        b.iter(|| runtime.block_on(gateway::check(&gateway, &options, &trust)))
    });

    let mut group = c.benchmark_group("gateway_check_fleet");
    group.sample_size(10);
    group.bench_function("100_gateways", |b| {
        b.iter(|| {
            let gateways = vec![gateway.clone(); 100];
            runtime.block_on(fleet::run(
                gateways,
                options.clone(),
                trust.clone(),
                DEFAULT_CONCURRENCY,
                |_| {},
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, benchmarks);
criterion_main!(benches);
