//! Benchmarks of `gwtrust audit` over generated bundles of distinct RSA-2048 roots.
//!
//! `audit_bundle` runs the whole audit (read, decode, parse, verify, checks) on a 10,000-root
//! PEM bundle generated in the setup. `read_one_root` measures parsing plus the self-signature
//! check of one root. The two `rsa_verify` cases measure aws-lc-rs alone, with a key parsed for
//! every signature (as the audit does, because real roots have distinct keys) and with a key
//! parsed once (as `openssl speed rsa2048` does).

#[path = "support/bundle.rs"]
mod bundle;

use std::hint::black_box;

use aws_lc_rs::signature::{ParsedPublicKey, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gwtrust::audit::{self, facts, Input, Options};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

const BUNDLE_SIZE: usize = 10_000;
const KEY_POOL: usize = 32;

fn audit_bundle(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("roots.pem");
    std::fs::write(
        &path,
        bundle::generate(BUNDLE_SIZE, KEY_POOL, bundle::KeyType::Rsa2048),
    )
    .expect("write bundle");
    let options = Options {
        at: time::OffsetDateTime::now_utc(),
        warn_days: audit::DEFAULT_WARN_DAYS,
    };

    let mut group = c.benchmark_group("audit");
    group.sample_size(10);
    group.throughput(Throughput::Elements(BUNDLE_SIZE as u64));
    group.bench_function("audit_bundle_10k_rsa2048", |b| {
        b.iter(|| {
            let report = audit::audit(vec![Input::Path(path.clone())], &options);
            assert_eq!(report.certificates, BUNDLE_SIZE);
            black_box(report)
        })
    });
    group.finish();
}

fn per_certificate(c: &mut Criterion) {
    let pem = bundle::generate(1, 1, bundle::KeyType::Rsa2048);
    let der = CertificateDer::from_pem_slice(pem.as_bytes()).expect("PEM");
    let parsed = gwtrust::cert::parse(&der).expect("parse");
    let tbs = parsed.tbs_certificate.as_ref().to_vec();
    let signature = parsed.signature_value.data.to_vec();
    let key = parsed.public_key().subject_public_key.data.to_vec();

    let mut group = c.benchmark_group("per_certificate");
    group.bench_function("read_one_root", |b| {
        b.iter(|| black_box(facts::read(0, black_box(&der), false).is_ok()))
    });
    group.bench_function("rsa_verify_fresh_key", |b| {
        b.iter(|| {
            UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, black_box(&key))
                .verify(&tbs, &signature)
                .is_ok()
        })
    });
    let parsed_key = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &key).expect("RSA key");
    group.bench_function("rsa_verify_parsed_key", |b| {
        b.iter(|| parsed_key.verify_sig(black_box(&tbs), &signature).is_ok())
    });
    group.finish();
}

criterion_group!(benches, audit_bundle, per_certificate);
criterion_main!(benches);
