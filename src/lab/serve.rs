//! `lab serve`: an HTTPS endpoint that presents a lab chain and answers like OWA.
//!
//! `GET /owa/` gets a 401 with `WWW-Authenticate` headers for Negotiate, NTLM and Basic, as an
//! Exchange OWA virtual directory with Integrated Windows and Basic authentication does. Every
//! connection is served by its own task, and a connection carries several requests
//! (HTTP/1.1 keep-alive), so a gateway check can send its GETs over one TLS session.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::cert;
use crate::error::{Error, Result};

/// The default listen address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8443";

/// Maximum request head size, in bytes; a longer head gets 431.
const MAX_REQUEST_HEAD: usize = 16 * 1024;
/// How long an idle connection stays open.
const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the lab server presents and how it answers.
#[derive(Clone)]
pub struct ServeOptions {
    /// The chain to present, leaf first, root last.
    pub chain: Vec<CertificateDer<'static>>,
    /// The leaf's private key, PEM.
    pub key_pem: Vec<u8>,
    /// Also send the self-signed root at the end of the chain.
    pub send_root: bool,
}

/// A bound lab server, ready to run.
pub struct LabServer {
    listener: TcpListener,
    acceptor: TlsAcceptor,
    /// The chain actually presented.
    pub presented: Vec<CertificateDer<'static>>,
}

impl LabServer {
    /// Binds `listen` and prepares the TLS configuration.
    pub async fn bind(listen: &str, options: &ServeOptions) -> Result<LabServer> {
        let presented = presented_chain(&options.chain, options.send_root);
        let key = PrivateKeyDer::from_pem_slice(&options.key_pem).map_err(|err| {
            Error::InvalidArgument {
                what: "lab server key",
                value: "key.pem".into(),
                reason: format!("not a PEM private key: {err}"),
            }
        })?;

        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("the aws-lc-rs provider supports the default protocol versions")
            .with_no_client_auth()
            .with_single_cert(presented.clone(), key)
            .map_err(|err| Error::InvalidArgument {
                what: "lab server certificate",
                value: "chain.pem".into(),
                reason: format!("the key does not fit the leaf certificate: {err}"),
            })?;

        let addr: SocketAddr = listen.parse().map_err(|_| Error::InvalidArgument {
            what: "--listen",
            value: listen.to_string(),
            reason: "expected ADDR:PORT, for example 127.0.0.1:8443".into(),
        })?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| Error::Listen {
                addr: addr.to_string(),
                source,
            })?;

        Ok(LabServer {
            listener,
            acceptor: TlsAcceptor::from(Arc::new(config)),
            presented,
        })
    }

    /// Returns the bound address, with the real port when port 0 was requested.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has a local address")
    }

    /// Accepts connections until the task is dropped, serving each on its own task.
    pub async fn run(self) {
        loop {
            let Ok((tcp, _)) = self.listener.accept().await else {
                // Accept errors (out of descriptors, a reset before accept) end one
                // connection, not the server: back off briefly and go on.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            let acceptor = self.acceptor.clone();
            tokio::spawn(async move {
                let handshake = tokio::time::timeout(IDLE_TIMEOUT, acceptor.accept(tcp)).await;
                if let Ok(Ok(stream)) = handshake {
                    let _ = serve_connection(stream).await;
                }
            });
        }
    }
}

/// Returns the chain to present: without a trailing self-signed root unless `send_root`.
fn presented_chain(
    chain: &[CertificateDer<'static>],
    send_root: bool,
) -> Vec<CertificateDer<'static>> {
    let mut presented = chain.to_vec();
    if !send_root && presented.len() > 1 {
        let last_is_root = presented
            .last()
            .and_then(|der| cert::parse(der).ok().map(|c| cert::is_self_signed(&c)))
            .unwrap_or(false);
        if last_is_root {
            presented.pop();
        }
    }
    presented
}

async fn serve_connection<S>(mut stream: S) -> std::io::Result<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut buffer = Vec::with_capacity(4096);
    loop {
        let head_end = loop {
            if let Some(end) = find_head_end(&buffer) {
                break end;
            }
            if buffer.len() > MAX_REQUEST_HEAD {
                let response = response(431, "Request Header Fields Too Large", &[], true);
                stream.write_all(response.as_bytes()).await?;
                return stream.shutdown().await;
            }
            let mut chunk = [0u8; 4096];
            let read = match tokio::time::timeout(IDLE_TIMEOUT, stream.read(&mut chunk)).await {
                Ok(result) => result?,
                Err(_) => return Ok(()),
            };
            if read == 0 {
                return Ok(());
            }
            buffer.extend_from_slice(&chunk[..read]);
        };

        let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
        buffer.drain(..head_end);
        let (method, path, close) = parse_head(&head);

        let mut reply = answer(&method, &path, close);
        if method == "HEAD" {
            // A HEAD response carries the headers of a GET, without the body.
            if let Some(end) = reply.find("\r\n\r\n") {
                reply.truncate(end + 4);
            }
        }
        stream.write_all(reply.as_bytes()).await?;
        stream.flush().await?;
        if close {
            return stream.shutdown().await;
        }
    }
}

fn find_head_end(buffer: &[u8]) -> Option<usize> {
    buffer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
}

/// Returns the method, the path, and whether the client asked to close the connection.
fn parse_head(head: &str) -> (String, String, bool) {
    let mut lines = head.lines();
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let version = parts.next().unwrap_or_default();

    let connection_close = lines.any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("connection")
                && value.trim().eq_ignore_ascii_case("close")
        })
    });
    (method, path, connection_close || version == "HTTP/1.0")
}

fn answer(method: &str, path: &str, close: bool) -> String {
    if method.is_empty() || path.is_empty() {
        return response(400, "Bad Request", &[], true);
    }
    if method != "GET" && method != "HEAD" {
        return response(405, "Method Not Allowed", &[("Allow", "GET, HEAD")], close);
    }

    let path_only = path
        .split('?')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if path_only == "/owa" || path_only.starts_with("/owa/") {
        let headers = [
            ("WWW-Authenticate", "Negotiate"),
            ("WWW-Authenticate", "NTLM"),
            ("WWW-Authenticate", "Basic realm=\"owa.lab.example.test\""),
        ];
        return response(401, "Unauthorized", &headers, close);
    }
    response(404, "Not Found", &[], close)
}

fn response(status: u16, reason: &str, headers: &[(&str, &str)], close: bool) -> String {
    let body = format!("{status} {reason}\n");
    let mut text = format!("HTTP/1.1 {status} {reason}\r\nServer: gwtrust-lab\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    if close {
        text.push_str("Connection: close\r\n");
    }
    text.push_str("\r\n");
    text.push_str(&body);
    text
}
