//! TLS capture: connect to a server and record the certificate chain it presents.
//!
//! Capturing is not trusting. The verifier here accepts whatever chain the server sends, so
//! that gwtrust can show and analyse it, and it still checks the handshake signature, so the
//! peer has the private key of the leaf it presented. Nothing returned from this module is
//! trusted: trust decisions happen in `pin` after the fingerprint is confirmed.
//!
//! This is the only TLS client path. `fetch` and `pin` run it once; the gateway checks run it
//! many times concurrently on the same tokio runtime.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls13_signature_with_raw_key, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, SubjectPublicKeyInfoDer, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::error::{Error, Result};
use crate::target::{Host, Target};

/// The default limit for connecting and completing the handshake.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The server name indication (SNI) to send.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Sni {
    /// The target's host, when it is a DNS name; none for an IP address.
    #[default]
    FromTarget,
    /// This name, whatever the target's host is.
    Name(String),
    /// No SNI at all, as very old clients behave.
    Disabled,
}

/// How to reach the server.
#[derive(Clone, Debug)]
pub struct CaptureOptions {
    /// Dial this `ADDR:PORT` instead of resolving the target's host. The target's host is still
    /// used for SNI and name checks.
    pub connect: Option<String>,
    pub sni: Sni,
    /// Covers connecting and the TLS handshake together.
    pub timeout: Duration,
}

impl Default for CaptureOptions {
    fn default() -> Self {
        CaptureOptions {
            connect: None,
            sni: Sni::FromTarget,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// The record of one handshake: chain, peer, SNI, protocol and cipher suite.
#[derive(Clone, Debug)]
pub struct Capture {
    /// The certificates in the order the server sent them, leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    /// The address that was dialled.
    pub peer: SocketAddr,
    /// The SNI that was sent, if any.
    pub sni: Option<String>,
    /// The negotiated protocol version, e.g. `TLSv1.3`.
    pub protocol: String,
    /// The negotiated cipher suite, e.g. `TLS13_AES_256_GCM_SHA384`.
    pub cipher_suite: String,
}

/// Connects, completes the handshake and closes the connection, returning what was presented.
pub async fn capture(target: &Target, options: &CaptureOptions) -> Result<Capture> {
    let (mut stream, capture) = connect(target, options).await?;

    // A polite close_notify; a server that has already gone away does not matter here.
    let _ = tokio::io::AsyncWriteExt::shutdown(&mut stream).await;
    Ok(capture)
}

/// Connects and completes the handshake, returning the open stream with what was presented, so
/// a caller can send HTTP requests over the same connection.
pub async fn connect(
    target: &Target,
    options: &CaptureOptions,
) -> Result<(TlsStream<TcpStream>, Capture)> {
    let (server_name, sni) = server_name(target, &options.sni)?;
    let dial = options
        .connect
        .clone()
        .unwrap_or_else(|| target.authority());
    let connector = TlsConnector::from(client_config(options.sni != Sni::Disabled));

    let handshake = async {
        let (tcp, peer) = dial_first(&dial, target).await?;
        let stream = connector
            .connect(server_name, tcp)
            .await
            .map_err(|err| handshake_error(&dial, err))?;
        Ok::<_, Error>((stream, peer))
    };

    let (stream, peer) = match tokio::time::timeout(options.timeout, handshake).await {
        Ok(result) => result?,
        Err(_) => {
            return Err(Error::Timeout {
                addr: dial,
                timeout: options.timeout,
            })
        }
    };

    let (_, connection) = stream.get_ref();
    let chain = connection
        .peer_certificates()
        .map(|certs| certs.iter().map(|c| c.clone().into_owned()).collect())
        .unwrap_or_default();
    let protocol = connection
        .protocol_version()
        .and_then(|v| v.as_str())
        .unwrap_or("unknown")
        .to_string();
    let cipher_suite = connection
        .negotiated_cipher_suite()
        .and_then(|s| s.suite().as_str())
        .unwrap_or("unknown")
        .to_string();

    let capture = Capture {
        chain,
        peer,
        sni,
        protocol,
        cipher_suite,
    };
    Ok((stream, capture))
}

/// Resolves `dial` and connects to the first address that accepts.
async fn dial_first(dial: &str, target: &Target) -> Result<(TcpStream, SocketAddr)> {
    let addresses: Vec<SocketAddr> = match dial.parse::<SocketAddr>() {
        Ok(addr) => vec![addr],
        Err(_) => tokio::net::lookup_host(dial)
            .await
            .map_err(|err| Error::Resolve {
                host: dial.to_string(),
                reason: err.to_string(),
            })?
            .collect(),
    };
    if addresses.is_empty() {
        return Err(Error::Resolve {
            host: target.host.to_string(),
            reason: "the name has no addresses".into(),
        });
    }

    let mut last_error = None;
    for addr in addresses {
        match TcpStream::connect(addr).await {
            Ok(tcp) => {
                let _ = tcp.set_nodelay(true);
                return Ok((tcp, addr));
            }
            Err(err) => last_error = Some((addr, err)),
        }
    }
    let (addr, source) = last_error.expect("at least one address was tried");
    Err(Error::Connect {
        addr: addr.to_string(),
        source,
    })
}

fn server_name(target: &Target, sni: &Sni) -> Result<(ServerName<'static>, Option<String>)> {
    let invalid_sni = |name: &str, reason: String| Error::InvalidArgument {
        what: "SNI name",
        value: name.to_string(),
        reason,
    };

    match (sni, &target.host) {
        (Sni::Name(name), _) => {
            let server_name = ServerName::try_from(name.clone())
                .map_err(|err| invalid_sni(name, err.to_string()))?;
            Ok((server_name, Some(name.clone())))
        }
        (Sni::FromTarget, Host::Dns(name)) => {
            let server_name = ServerName::try_from(name.clone())
                .map_err(|err| invalid_sni(name, format!("{err}; pass --sni NAME or --no-sni")))?;
            Ok((server_name, Some(name.clone())))
        }
        (Sni::Disabled, Host::Dns(name)) => {
            // rustls needs a name for the connection even when no SNI is sent.
            let server_name = ServerName::try_from(name.clone())
                .unwrap_or_else(|_| ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
            Ok((server_name, None))
        }
        (_, Host::Ip(ip)) => Ok((ServerName::IpAddress((*ip).into()), None)),
    }
}

fn handshake_error(dial: &str, err: std::io::Error) -> Error {
    let reason = match err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(tls) => tls.to_string(),
        None if err.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the server closed the connection during the handshake".to_string()
        }
        None => err.to_string(),
    };
    Error::Handshake {
        addr: dial.to_string(),
        reason,
    }
}

fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .clone()
}

fn client_config(enable_sni: bool) -> Arc<ClientConfig> {
    static WITH_SNI: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    static WITHOUT_SNI: OnceLock<Arc<ClientConfig>> = OnceLock::new();

    let build = || {
        let provider = provider();
        let mut config = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("the aws-lc-rs provider supports the default protocol versions")
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(RecordingVerifier { provider }))
            .with_no_client_auth();
        config.enable_sni = enable_sni;
        Arc::new(config)
    };

    if enable_sni {
        WITH_SNI.get_or_init(build).clone()
    } else {
        WITHOUT_SNI.get_or_init(build).clone()
    }
}

/// Returns the leaf's SubjectPublicKeyInfo, parsed leniently with x509-parser.
///
/// rustls' own helpers parse the leaf with webpki, which rejects X.509 v1 certificates. A
/// capture must still show such a chain, because `openssl x509 -req` makes v1 by default.
fn leaf_spki(
    cert: &CertificateDer<'_>,
) -> std::result::Result<SubjectPublicKeyInfoDer<'static>, rustls::Error> {
    let parsed = crate::cert::parse(cert)
        .map_err(|_| rustls::Error::InvalidCertificate(rustls::CertificateError::BadEncoding))?;
    Ok(SubjectPublicKeyInfoDer::from(
        parsed.public_key().raw.to_vec(),
    ))
}

fn bad_key(err: webpki::Error) -> rustls::Error {
    rustls::Error::InvalidCertificate(rustls::CertificateError::Other(rustls::OtherError(
        std::sync::Arc::new(err),
    )))
}

/// A verifier that accepts any presented chain and checks only the handshake signature.
///
/// The chain is read afterwards from `peer_certificates()`; it is analysed and never trusted.
#[derive(Debug)]
struct RecordingVerifier {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        let spki = leaf_spki(cert)?;
        let key = webpki::RawPublicKeyEntity::try_from(&spki).map_err(bad_key)?;

        // TLS 1.2 schemes name the hash only, so try each algorithm the scheme maps to.
        let mut last_error = rustls::Error::PeerMisbehaved(
            rustls::PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme,
        );
        let candidates = algorithms
            .mapping
            .iter()
            .find(|(scheme, _)| *scheme == dss.scheme)
            .map(|(_, candidates)| *candidates)
            .unwrap_or_default();
        for algorithm in candidates {
            match key.verify_signature(*algorithm, message, dss.signature()) {
                Ok(()) => return Ok(HandshakeSignatureValid::assertion()),
                Err(err @ webpki::Error::UnsupportedSignatureAlgorithmForPublicKeyContext(_)) => {
                    last_error = bad_key(err);
                }
                Err(err) => return Err(bad_key(err)),
            }
        }
        Err(last_error)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        let spki = leaf_spki(cert)?;
        verify_tls13_signature_with_raw_key(
            message,
            &spki,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
