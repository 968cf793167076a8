//! `lab serve`: an HTTPS endpoint that presents a lab chain and responds like OWA.
//!
//! `GET /owa/` gets a 401 with `WWW-Authenticate` headers for Negotiate, NTLM and Basic, as an
//! Exchange OWA virtual directory with Integrated Windows and Basic authentication does. A
//! [`ServeMode`] changes that: which schemes the 401s offer, forms-based authentication on
//! `/owa/`, the EWS and WebDAV endpoints, and the highest TLS version. Every connection is
//! served by its own task, and a connection carries several requests (HTTP/1.1 keep-alive), so
//! a gateway check can send its GETs over one TLS session.

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
use crate::gateway::Api;

/// The default listen address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8443";

/// Maximum request head size, in bytes; a longer head gets 431.
const MAX_REQUEST_HEAD: usize = 16 * 1024;
/// How long an idle connection stays open.
const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// The chain and key the lab server presents, and whether it sends its root.
#[derive(Clone)]
pub struct ServeOptions {
    /// The chain to present, leaf first, root last.
    pub chain: Vec<CertificateDer<'static>>,
    /// The leaf's private key, PEM.
    pub key_pem: Vec<u8>,
    /// Also send the self-signed root at the end of the chain.
    pub send_root: bool,
}

/// An HTTP authentication scheme that the lab server's 401 responses offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum AuthScheme {
    Negotiate,
    Ntlm,
    Basic,
}

impl AuthScheme {
    /// The command-line names, in the order the 401 headers list them.
    pub const NAMES: [&'static str; 3] = ["negotiate", "ntlm", "basic"];

    /// Parses a comma-separated list such as `basic,ntlm`; `none` is the empty list.
    pub fn parse_list(text: &str) -> std::result::Result<Vec<AuthScheme>, String> {
        if text.trim().eq_ignore_ascii_case("none") {
            return Ok(Vec::new());
        }
        let mut schemes = Vec::new();
        for name in text.split(',').map(str::trim) {
            let scheme = match name.to_ascii_lowercase().as_str() {
                "negotiate" => AuthScheme::Negotiate,
                "ntlm" => AuthScheme::Ntlm,
                "basic" => AuthScheme::Basic,
                "none" => {
                    return Err("none means a 401 without any scheme, so it cannot be combined with other schemes".into())
                }
                _ => {
                    return Err(format!(
                        "unknown scheme {name:?}: expected a comma-separated list of {}, or none",
                        AuthScheme::NAMES.join(", ")
                    ))
                }
            };
            if !schemes.contains(&scheme) {
                schemes.push(scheme);
            }
        }
        // The header order of OWA: Negotiate, then NTLM, then Basic.
        schemes.sort_by_key(|s| *s as u8);
        Ok(schemes)
    }

    fn header_value(self) -> &'static str {
        match self {
            AuthScheme::Negotiate => "Negotiate",
            AuthScheme::Ntlm => "NTLM",
            AuthScheme::Basic => "Basic realm=\"owa.lab.example.test\"",
        }
    }
}

/// A TLS protocol version, as `--tls-max` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsVersion {
    Tls12,
    Tls13,
}

impl std::str::FromStr for TlsVersion {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().trim_start_matches("tls") {
            "1.2" | "v1.2" => Ok(TlsVersion::Tls12),
            "1.3" | "v1.3" => Ok(TlsVersion::Tls13),
            _ => Err("expected 1.2 or 1.3 (rustls speaks no older version)".into()),
        }
    }
}

/// Response behaviour of the lab server, beyond the chain it presents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServeMode {
    /// The schemes every 401 offers in `WWW-Authenticate`; empty sends a 401 without any.
    pub auth: Vec<AuthScheme>,
    /// Redirect `/owa/` to `/owa/auth/logon.aspx`, as OWA with forms-based authentication does.
    pub forms_based: bool,
    /// The API endpoints to serve: `/EWS/Exchange.asmx` and `/exchange/`; others get 404.
    pub apis: Vec<Api>,
    /// The highest TLS version to accept; `None` accepts 1.2 and 1.3.
    pub tls_max: Option<TlsVersion>,
}

impl Default for ServeMode {
    /// OWA and EWS with Integrated Windows and Basic authentication, as Exchange 2007 and later
    /// install them, over TLS 1.2 and 1.3.
    fn default() -> Self {
        ServeMode {
            auth: vec![AuthScheme::Negotiate, AuthScheme::Ntlm, AuthScheme::Basic],
            forms_based: false,
            apis: vec![Api::Ews],
            tls_max: None,
        }
    }
}

/// A bound lab server, ready to run.
pub struct LabServer {
    listener: TcpListener,
    acceptor: TlsAcceptor,
    mode: Arc<ServeMode>,
    /// The chain actually presented.
    pub presented: Vec<CertificateDer<'static>>,
}

impl LabServer {
    /// Binds `listen` and prepares the TLS configuration, responding as the default [`ServeMode`].
    pub async fn bind(listen: &str, options: &ServeOptions) -> Result<LabServer> {
        LabServer::bind_with_mode(listen, options, ServeMode::default()).await
    }

    /// Binds `listen` and prepares the TLS configuration, responding as `mode` sets.
    pub async fn bind_with_mode(
        listen: &str,
        options: &ServeOptions,
        mode: ServeMode,
    ) -> Result<LabServer> {
        let presented = presented_chain(&options.chain, options.send_root);
        let key = PrivateKeyDer::from_pem_slice(&options.key_pem).map_err(|err| {
            Error::InvalidArgument {
                what: "lab server key",
                value: "key.pem".into(),
                reason: format!("not a PEM private key: {err}"),
            }
        })?;

        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let versions: &[&rustls::SupportedProtocolVersion] = match mode.tls_max {
            Some(TlsVersion::Tls12) => &[&rustls::version::TLS12],
            Some(TlsVersion::Tls13) | None => rustls::DEFAULT_VERSIONS,
        };
        let config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .expect("the aws-lc-rs provider supports TLS 1.2 and 1.3")
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
            mode: Arc::new(mode),
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
            // Responses are single writes after a TLS 1.3 session ticket; with Nagle on, the
            // response would wait for the client's delayed ACK of the ticket.
            let _ = tcp.set_nodelay(true);
            let acceptor = self.acceptor.clone();
            let mode = self.mode.clone();
            tokio::spawn(async move {
                let handshake = tokio::time::timeout(IDLE_TIMEOUT, acceptor.accept(tcp)).await;
                if let Ok(Ok(stream)) = handshake {
                    let _ = serve_connection(stream, &mode).await;
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

async fn serve_connection<S>(mut stream: S, mode: &ServeMode) -> std::io::Result<()>
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
        let request = parse_head(&head);
        let close = request.close;

        let mut reply = answer(&request, mode);
        let method = request.method;
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

/// The parts of a request head the lab server looks at.
struct Request {
    method: String,
    path: String,
    host: Option<String>,
    /// The client asked to close the connection, or spoke HTTP/1.0.
    close: bool,
}

fn parse_head(head: &str) -> Request {
    let mut lines = head.lines();
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let version = parts.next().unwrap_or_default();

    let mut connection_close = false;
    let mut host = None;
    for (name, value) in lines.filter_map(|line| line.split_once(':')) {
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("connection") && value.eq_ignore_ascii_case("close") {
            connection_close = true;
        }
        if name.eq_ignore_ascii_case("host") {
            host = Some(value.to_string());
        }
    }
    Request {
        method,
        path,
        host,
        close: connection_close || version == "HTTP/1.0",
    }
}

/// The OWA logon page that forms-based authentication sends browsers to.
const LOGON_PATH: &str = "/owa/auth/logon.aspx";

fn answer(request: &Request, mode: &ServeMode) -> String {
    let (method, path, close) = (&request.method, &request.path, request.close);
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
    let challenges: Vec<(&str, &str)> = mode
        .auth
        .iter()
        .map(|scheme| ("WWW-Authenticate", scheme.header_value()))
        .collect();

    if path_only == "/owa" || path_only.starts_with("/owa/") {
        if !mode.forms_based {
            return response(401, "Unauthorized", &challenges, close);
        }
        if path_only == LOGON_PATH {
            return logon_form(close);
        }
        // OWA sends the browser to the logon page with the original URL as a parameter.
        let host = request.host.as_deref().unwrap_or("owa.lab.example.test");
        let location =
            format!("https://{host}{LOGON_PATH}?url=https%3a%2f%2f{host}%2fowa%2f&reason=0");
        return response(302, "Found", &[("Location", &location)], close);
    }

    let api = mode
        .apis
        .iter()
        .find(|api| path_only == api.endpoint().to_ascii_lowercase());
    if api.is_some() || (mode.apis.contains(&Api::Webdav) && path_only == "/exchange") {
        return response(401, "Unauthorized", &challenges, close);
    }
    response(404, "Not Found", &[], close)
}

fn logon_form(close: bool) -> String {
    let body = "<html><body><form action=\"/owa/auth.owa\" method=\"POST\" name=\"logonForm\">\n\
                <input id=\"username\" name=\"username\" type=\"text\">\n\
                <input id=\"password\" name=\"password\" type=\"password\">\n\
                </form></body></html>\n";
    let mut text = format!("HTTP/1.1 200 OK\r\nServer: gwtrust-lab\r\nContent-Type: text/html\r\nContent-Length: {}\r\n", body.len());
    if close {
        text.push_str("Connection: close\r\n");
    }
    text.push_str("\r\n");
    text.push_str(body);
    text
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
