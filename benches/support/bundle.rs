//! Generates PEM bundles of distinct self-signed root CAs for the audit benchmark, the
//! comparison script and the large-bundle test.
//!
//! Generating one RSA key per certificate would take minutes for 100,000 roots, so the roots
//! share a small pool of keys. Each root has its own subject and serial number, hence its own
//! fingerprint and its own self-signature to verify.
#![allow(dead_code)]

use rayon::prelude::*;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose, RsaKeySize,
    SerialNumber,
};

/// The key type of the generated roots.
#[derive(Clone, Copy, Debug)]
pub enum KeyType {
    /// RSA-2048 with SHA-256: what most real trust stores hold, and the slowest to verify.
    Rsa2048,
    /// EC P-256 with SHA-256: fast to generate, for tests.
    EcP256,
}

/// Returns a PEM bundle of `count` distinct self-signed roots that share `keys` keys.
pub fn generate(count: usize, keys: usize, key_type: KeyType) -> String {
    let pool: Vec<KeyPair> = (0..keys.max(1))
        .into_par_iter()
        .map(|_| match key_type {
            KeyType::Rsa2048 => {
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_2048)
                    .expect("RSA-2048 key generation")
            }
            KeyType::EcP256 => {
                KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("P-256 key generation")
            }
        })
        .collect();

    (0..count)
        .into_par_iter()
        .map(|index| root_pem(index, &pool[index % pool.len()]))
        .collect::<Vec<String>>()
        .concat()
}

fn root_pem(index: usize, key: &KeyPair) -> String {
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, format!("Bundle Root CA {index:06}"));
    params
        .distinguished_name
        .push(DnType::OrganizationName, "gwtrust benchmark");
    params.serial_number = Some(SerialNumber::from(
        (index as u64 + 1).to_be_bytes().to_vec(),
    ));
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2044, 1, 1);
    params.self_signed(key).expect("self-sign root").pem()
}
