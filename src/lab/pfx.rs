//! PKCS#12 (`.pfx`) files with a server's key and chain, for Exchange's certificate import.

use std::path::Path;

use crate::error::{Error, Result};
use crate::files::{self, PRIVATE_MODE};

use super::Generated;

/// The encryption of a PKCS#12 file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PfxProfile {
    /// PBES2 with AES-256-CBC and an HMAC-SHA-256 MAC: what current Windows and OpenSSL 3 write.
    Modern,
    /// PBE-SHA1-3DES with an HMAC-SHA-1 MAC, which Windows Server 2012 and older need.
    Legacy,
}

/// Encodes the server's key and chain (leaf first, root last) as PKCS#12.
pub fn encode(server: &Generated, password: &str, profile: PfxProfile) -> Result<Vec<u8>> {
    let generate_error = |reason: String| Error::Generate {
        what: "PKCS#12 file".to_string(),
        reason,
    };

    let key = rcgen::KeyPair::from_pem(&server.key_pem)
        .map_err(|error| generate_error(error.to_string()))?;
    let key = p12_keystore::PrivateKey::from_der(&key.serialize_der())
        .map_err(|error| generate_error(error.to_string()))?;
    let chain = server
        .chain
        .iter()
        .map(|der| p12_keystore::Certificate::from_der(der))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|error| generate_error(error.to_string()))?;

    // The local key ID links the key bag to the leaf's certificate bag; the fingerprint is unique.
    let local_key_id = crate::cert::fingerprint(&server.cert_der).0.to_vec();
    let alias = crate::cert::parse(&server.cert_der)
        .ok()
        .and_then(|c| crate::policy::common_name(&c))
        .map(|name| crate::export::bmp_safe(&name))
        .unwrap_or_else(|| "server".into());
    let mut keystore = p12_keystore::KeyStore::new();
    keystore.add_entry(
        &alias,
        p12_keystore::KeyStoreEntry::PrivateKeyChain(p12_keystore::PrivateKeyChain::new(
            local_key_id,
            key,
            chain,
        )),
    );

    let writer = keystore.writer(password);
    let writer = match profile {
        PfxProfile::Modern => writer
            .encryption_algorithm(p12_keystore::EncryptionAlgorithm::PbeWithHmacSha256AndAes256)
            .mac_algorithm(p12_keystore::MacAlgorithm::HmacSha256),
        PfxProfile::Legacy => writer
            .encryption_algorithm(p12_keystore::EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc)
            .mac_algorithm(p12_keystore::MacAlgorithm::HmacSha1),
    };
    writer
        .write()
        .map_err(|error| generate_error(error.to_string()))
}

/// Writes the server's key and chain to `path` as PKCS#12, mode 0600.
pub fn write(path: &Path, server: &Generated, password: &str, profile: PfxProfile) -> Result<()> {
    let der = encode(server, password, profile)?;
    files::write_atomic(path, &der, PRIVATE_MODE)
}
