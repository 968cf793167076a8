//! Signature checks for the audit, which must also verify the legacy certificates that trust
//! stores still hold: RSA-1024 keys, SHA-1 signatures, ECDSA with SHA-1.
//!
//! `X509Certificate::verify_signature` rejects RSA keys under 2048 bits with SHA-256 as an
//! invalid signature, which the audit would misreport as a corrupted certificate, so the
//! algorithm is chosen here from the signature OID and the issuer's key.

use aws_lc_rs::signature::{self, VerificationAlgorithm};
use x509_parser::asn1_rs::{oid, Oid};
use x509_parser::certificate::X509Certificate;
use x509_parser::error::X509Error;
use x509_parser::oid_registry::{
    OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_NIST_EC_P521,
    OID_PKCS1_RSASSAPSS, OID_PKCS1_SHA1WITHRSA, OID_PKCS1_SHA256WITHRSA, OID_PKCS1_SHA384WITHRSA,
    OID_PKCS1_SHA512WITHRSA, OID_SHA1_WITH_RSA, OID_SIG_ECDSA_WITH_SHA256,
    OID_SIG_ECDSA_WITH_SHA384, OID_SIG_ECDSA_WITH_SHA512, OID_SIG_ED25519,
};
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::cert::SignatureCheck;

const OID_SIG_ECDSA_WITH_SHA1: Oid<'static> = oid!(1.2.840 .10045 .4 .1);

/// MD2, MD4 and MD5 with RSA (PKCS#1), and the OIW md5WithRSA and md5WithRSASignature.
const MD5_FAMILY: [Oid<'static>; 5] = [
    oid!(1.2.840 .113549 .1 .1 .2),
    oid!(1.2.840 .113549 .1 .1 .3),
    oid!(1.2.840 .113549 .1 .1 .4),
    oid!(1.3.14 .3 .2 .3),
    oid!(1.3.14 .3 .2 .25),
];

/// SHA-1 with RSA (PKCS#1 and OIW), with ECDSA, with DSA (X9.57 and OIW).
const SHA1_FAMILY: [Oid<'static>; 5] = [
    oid!(1.2.840 .113549 .1 .1 .5),
    oid!(1.3.14 .3 .2 .29),
    oid!(1.2.840 .10045 .4 .1),
    oid!(1.2.840 .10040 .4 .3),
    oid!(1.3.14 .3 .2 .27),
];

/// The hash named by a signature algorithm, as far as the audit grades it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureHash {
    /// MD2, MD4 or MD5: collisions are practical.
    Md5,
    /// SHA-1: chosen-prefix collisions are practical.
    Sha1,
    /// SHA-2, Ed25519 or anything else not known to be broken.
    Strong,
}

impl SignatureHash {
    /// Grades a signature algorithm OID.
    pub fn of(algorithm: &Oid<'_>) -> SignatureHash {
        if MD5_FAMILY.contains(algorithm) {
            SignatureHash::Md5
        } else if SHA1_FAMILY.contains(algorithm) {
            SignatureHash::Sha1
        } else {
            SignatureHash::Strong
        }
    }

    /// Returns the name printed in findings.
    pub fn name(self) -> &'static str {
        match self {
            SignatureHash::Md5 => "MD5 (or MD2/MD4)",
            SignatureHash::Sha1 => "SHA-1",
            SignatureHash::Strong => "a strong hash",
        }
    }
}

/// Returns the RSA modulus size in bits of a DER-encoded RSAPublicKey modulus.
pub fn rsa_bits(modulus: &[u8]) -> u32 {
    let significant = match modulus.iter().position(|&b| b != 0) {
        Some(first) => &modulus[first..],
        None => return 0,
    };
    (significant.len() as u32 - 1) * 8 + (8 - significant[0].leading_zeros())
}

/// Verifies `child`'s signature with `issuer_key`.
pub fn check(child: &X509Certificate<'_>, issuer_key: &SubjectPublicKeyInfo<'_>) -> SignatureCheck {
    let algorithm = &child.signature_algorithm.algorithm;

    // RSA-PSS parameters need parsing; x509-parser does it and covers 2048-8192 bit keys.
    if *algorithm == OID_PKCS1_RSASSAPSS {
        return match child.verify_signature(Some(issuer_key)) {
            Ok(()) => SignatureCheck::Valid,
            Err(X509Error::SignatureUnsupportedAlgorithm) => SignatureCheck::UnsupportedAlgorithm,
            Err(_) => SignatureCheck::Invalid,
        };
    }

    let Some(verifier) = choose(algorithm, issuer_key) else {
        return SignatureCheck::UnsupportedAlgorithm;
    };
    let key = signature::UnparsedPublicKey::new(verifier, &issuer_key.subject_public_key.data);
    match key.verify(child.tbs_certificate.as_ref(), &child.signature_value.data) {
        Ok(()) => SignatureCheck::Valid,
        Err(_) => SignatureCheck::Invalid,
    }
}

/// Picks the aws-lc-rs verifier for a signature algorithm and an issuer key, or None when
/// aws-lc-rs has none (MD5, DSA, RSA keys outside 1024-8192 bits, other curves).
fn choose(
    algorithm: &Oid<'_>,
    issuer_key: &SubjectPublicKeyInfo<'_>,
) -> Option<&'static dyn VerificationAlgorithm> {
    if *algorithm == OID_SIG_ED25519 {
        return Some(&signature::ED25519);
    }

    if issuer_key.algorithm.algorithm == OID_KEY_TYPE_EC_PUBLIC_KEY {
        let curve = issuer_key.algorithm.parameters.as_ref()?.as_oid().ok()?;
        let sha = if *algorithm == OID_SIG_ECDSA_WITH_SHA1 {
            1
        } else if *algorithm == OID_SIG_ECDSA_WITH_SHA256 {
            256
        } else if *algorithm == OID_SIG_ECDSA_WITH_SHA384 {
            384
        } else if *algorithm == OID_SIG_ECDSA_WITH_SHA512 {
            512
        } else {
            return None;
        };
        let verifier: &'static dyn VerificationAlgorithm = if curve == OID_EC_P256 {
            match sha {
                1 => &signature::ECDSA_P256_SHA1_ASN1,
                256 => &signature::ECDSA_P256_SHA256_ASN1,
                384 => &signature::ECDSA_P256_SHA384_ASN1,
                _ => &signature::ECDSA_P256_SHA512_ASN1,
            }
        } else if curve == OID_NIST_EC_P384 {
            match sha {
                256 => &signature::ECDSA_P384_SHA256_ASN1,
                384 => &signature::ECDSA_P384_SHA384_ASN1,
                512 => &signature::ECDSA_P384_SHA512_ASN1,
                _ => return None,
            }
        } else if curve == OID_NIST_EC_P521 {
            match sha {
                1 => &signature::ECDSA_P521_SHA1_ASN1,
                256 => &signature::ECDSA_P521_SHA256_ASN1,
                384 => &signature::ECDSA_P521_SHA384_ASN1,
                _ => &signature::ECDSA_P521_SHA512_ASN1,
            }
        } else {
            return None;
        };
        return Some(verifier);
    }

    // RSA PKCS#1 v1.5: aws-lc-rs verifies 1024-8192 bit keys, and 2048 bits up with SHA-384.
    let bits = match issuer_key.parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => rsa_bits(rsa.modulus),
        _ => return None,
    };
    if !(1024..=8192).contains(&bits) {
        return None;
    }
    if *algorithm == OID_PKCS1_SHA1WITHRSA || *algorithm == OID_SHA1_WITH_RSA {
        Some(&signature::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY)
    } else if *algorithm == OID_PKCS1_SHA256WITHRSA {
        Some(&signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY)
    } else if *algorithm == OID_PKCS1_SHA384WITHRSA && bits >= 2048 {
        Some(&signature::RSA_PKCS1_2048_8192_SHA384)
    } else if *algorithm == OID_PKCS1_SHA512WITHRSA {
        Some(&signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY)
    } else {
        None
    }
}
