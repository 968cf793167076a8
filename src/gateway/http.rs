//! A small HTTP/1.1 client over an already open TLS stream, for the gateway's GETs.
//!
//! It sends `GET` with a `Host` header and no credential, parses the status line and headers
//! with `httparse`, and reads the body by `Content-Length`, chunked transfer coding, or until the
//! server closes. Every size is bounded and every request has a deadline, so a misbehaving
//! server costs at most one timeout.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

/// Maximum size of a response head, in bytes.
pub const MAX_HEAD: usize = 32 * 1024;
/// Maximum size of a body kept, in bytes. The rest is not read, so the connection is not reused.
pub const MAX_BODY: usize = 256 * 1024;
/// Maximum number of header fields parsed in one response.
const MAX_HEADERS: usize = 100;

/// Failure to get a complete response.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("timed out after {}s waiting for the response", .0.as_secs_f64())]
    Timeout(Duration),

    #[error("the server closed the connection before a complete response")]
    Closed,

    #[error("the response head is larger than {MAX_HEAD} bytes")]
    HeadTooLarge,

    #[error("the response is not valid HTTP/1.x: {0}")]
    Malformed(String),

    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// One response: status, headers in the order received, and the body read so far.
#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body was longer than [`MAX_BODY`] and was cut there.
    pub body_truncated: bool,
    /// The connection can carry another request.
    pub reusable: bool,
}

impl Response {
    /// Returns the values of every header called `name`, ignoring case.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Returns the first value of the header called `name`, ignoring case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An HTTP/1.1 connection over a stream, keeping bytes read past one response for the next.
pub struct Connection<S> {
    stream: S,
    buffer: Vec<u8>,
    timeout: Duration,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    /// Wraps an open stream; `timeout` bounds each request from sending to the last body byte.
    pub fn new(stream: S, timeout: Duration) -> Connection<S> {
        Connection {
            stream,
            buffer: Vec::new(),
            timeout,
        }
    }

    /// Sends `GET path` with `Host: host` and reads the response.
    pub async fn get(&mut self, host: &str, path: &str) -> Result<Response, HttpError> {
        let deadline = Instant::now() + self.timeout;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: gwtrust/{}\r\nAccept: */*\r\n\r\n",
            env!("CARGO_PKG_VERSION")
        );
        let send = async {
            self.stream.write_all(request.as_bytes()).await?;
            self.stream.flush().await
        };
        match tokio::time::timeout_at(deadline, send).await {
            Ok(result) => result?,
            Err(_) => return Err(HttpError::Timeout(self.timeout)),
        }

        let mut response = self.read_head(deadline).await?;
        self.read_body(&mut response, deadline).await?;
        Ok(response)
    }

    /// Closes the TLS session politely; errors do not matter any more at this point.
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(1), self.stream.shutdown()).await;
    }

    /// Reads more bytes into the buffer; returns how many (0 at end of stream).
    async fn fill(&mut self, deadline: Instant) -> Result<usize, HttpError> {
        let timeout = self.timeout;
        let mut chunk = [0u8; 8192];
        let read = match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
            Ok(result) => result?,
            Err(_) => return Err(HttpError::Timeout(timeout)),
        };
        self.buffer.extend_from_slice(&chunk[..read]);
        Ok(read)
    }

    async fn read_head(&mut self, deadline: Instant) -> Result<Response, HttpError> {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut parsed = httparse::Response::new(&mut headers);
            match parsed.parse(&self.buffer) {
                Ok(httparse::Status::Complete(length)) => {
                    let status = parsed.code.unwrap_or_default();
                    let reason = parsed.reason.unwrap_or_default().to_string();
                    let version = parsed.version.unwrap_or(1);
                    let headers: Vec<(String, String)> = parsed
                        .headers
                        .iter()
                        .map(|h| {
                            let value = String::from_utf8_lossy(h.value).trim().to_string();
                            (h.name.to_string(), value)
                        })
                        .collect();
                    self.buffer.drain(..length);

                    // An interim 1xx response precedes the real one.
                    if (100..200).contains(&status) && status != 101 {
                        continue;
                    }
                    let close = headers.iter().any(|(n, v)| {
                        n.eq_ignore_ascii_case("connection")
                            && v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close"))
                    });
                    return Ok(Response {
                        status,
                        reason,
                        headers,
                        body: Vec::new(),
                        body_truncated: false,
                        reusable: version == 1 && !close,
                    });
                }
                Ok(httparse::Status::Partial) => {}
                Err(err) => return Err(HttpError::Malformed(err.to_string())),
            }

            if self.buffer.len() > MAX_HEAD {
                return Err(HttpError::HeadTooLarge);
            }
            if self.fill(deadline).await? == 0 {
                return Err(HttpError::Closed);
            }
        }
    }

    async fn read_body(
        &mut self,
        response: &mut Response,
        deadline: Instant,
    ) -> Result<(), HttpError> {
        // Responses that never carry a body (RFC 9112, section 6.3).
        if response.status == 204 || response.status == 304 {
            return Ok(());
        }

        let chunked = response.header_values("transfer-encoding").any(|v| {
            v.rsplit(',')
                .next()
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
        });
        if chunked {
            return self.read_chunked(response, deadline).await;
        }

        match response.header("content-length") {
            Some(text) => {
                let length: usize = text.parse().map_err(|_| {
                    HttpError::Malformed(format!("Content-Length {text:?} is not a number"))
                })?;
                let keep = length.min(MAX_BODY);
                while self.buffer.len() < keep {
                    if self.fill(deadline).await? == 0 {
                        return Err(HttpError::Closed);
                    }
                }
                response.body = self.buffer.drain(..keep).collect();
                if length > MAX_BODY {
                    response.body_truncated = true;
                    response.reusable = false;
                }
                Ok(())
            }
            None => {
                // No length: the body ends when the server closes the connection.
                response.reusable = false;
                while self.buffer.len() <= MAX_BODY {
                    if self.fill(deadline).await? == 0 {
                        break;
                    }
                }
                response.body_truncated = self.buffer.len() > MAX_BODY;
                self.buffer.truncate(MAX_BODY);
                response.body = std::mem::take(&mut self.buffer);
                Ok(())
            }
        }
    }

    async fn read_chunked(
        &mut self,
        response: &mut Response,
        deadline: Instant,
    ) -> Result<(), HttpError> {
        loop {
            let line = self.read_line(deadline).await?;
            let size_text = line.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size_text, 16).map_err(|_| {
                HttpError::Malformed(format!("chunk size {size_text:?} is not hexadecimal"))
            })?;

            if size == 0 {
                // Trailer fields, up to the empty line.
                while !self.read_line(deadline).await?.is_empty() {}
                return Ok(());
            }
            if response.body.len() + size > MAX_BODY {
                response.body_truncated = true;
                response.reusable = false;
                return Ok(());
            }

            while self.buffer.len() < size + 2 {
                if self.fill(deadline).await? == 0 {
                    return Err(HttpError::Closed);
                }
            }
            response.body.extend_from_slice(&self.buffer[..size]);
            self.buffer.drain(..size + 2);
        }
    }

    /// Reads one CRLF-terminated line, without the CRLF.
    async fn read_line(&mut self, deadline: Instant) -> Result<String, HttpError> {
        loop {
            if let Some(end) = self.buffer.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.buffer[..end]).into_owned();
                self.buffer.drain(..end + 2);
                return Ok(line);
            }
            if self.buffer.len() > MAX_HEAD {
                return Err(HttpError::HeadTooLarge);
            }
            if self.fill(deadline).await? == 0 {
                return Err(HttpError::Closed);
            }
        }
    }
}

/// Returns the authentication scheme names of `WWW-Authenticate` values, in order.
///
/// One value can hold several challenges (`Negotiate, NTLM`) and a challenge has parameters
/// after its scheme (`Basic realm="x", charset="UTF-8"`): a comma-separated piece whose first
/// word has no `=` starts a challenge, and that word is its scheme.
pub fn auth_schemes<'a>(values: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut schemes = Vec::new();
    for value in values {
        for piece in split_outside_quotes(value) {
            let first = piece.split_whitespace().next().unwrap_or_default();
            if !first.is_empty() && !first.contains('=') {
                schemes.push(first.to_string());
            }
        }
    }
    schemes
}

fn split_outside_quotes(value: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                pieces.push(value[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    pieces.push(value[start..].trim());
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_from_challenges() {
        let values = [
            "Negotiate",
            "NTLM",
            "Basic realm=\"owa, lab\", charset=\"UTF-8\"",
            "Negotiate, NTLM",
            "Bearer token68==",
        ];
        assert_eq!(
            auth_schemes(values.into_iter()),
            ["Negotiate", "NTLM", "Basic", "Negotiate", "NTLM", "Bearer"]
        );
    }

    /// Sends `server_bytes` after the first request, then closes when `close` is set, else
    /// reads requests until the client goes away.
    async fn exchange(server_bytes: &'static [u8], close: bool) -> Vec<Result<Response, String>> {
        let (client, mut server) = tokio::io::duplex(64 * 1024);
        tokio::spawn(async move {
            let mut sink = [0u8; 4096];
            let _ = server.read(&mut sink).await;
            let _ = server.write_all(server_bytes).await;
            if close {
                return;
            }
            while let Ok(n) = server.read(&mut sink).await {
                if n == 0 {
                    break;
                }
            }
        });
        let mut connection = Connection::new(client, Duration::from_secs(5));
        let mut results = Vec::new();
        for _ in 0..2 {
            let result = connection.get("h.example.test", "/").await;
            let stop = result.as_ref().map(|r| !r.reusable).unwrap_or(true);
            results.push(result.map_err(|e| e.to_string()));
            if stop {
                break;
            }
        }
        results
    }

    #[tokio::test]
    async fn reads_content_length_then_next() {
        let results = exchange(
            b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 3\r\nWWW-Authenticate: NTLM\r\n\r\nabcHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            false,
        )
        .await;
        let first = results[0].as_ref().unwrap();
        assert_eq!(first.status, 401);
        assert_eq!(first.body, b"abc");
        assert!(first.reusable);
        let second = results[1].as_ref().unwrap();
        assert_eq!(second.status, 404);
        assert!(!second.reusable);
    }

    #[tokio::test]
    async fn reads_chunked_body() {
        let results = exchange(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nWiki\r\n5\r\npedia\r\n0\r\nTrailer: 1\r\n\r\n",
            false,
        )
        .await;
        let first = results[0].as_ref().unwrap();
        assert_eq!(first.body, b"Wikipedia");
        assert!(first.reusable);
    }

    #[tokio::test]
    async fn reads_until_close_without_length() {
        let results = exchange(
            b"HTTP/1.0 200 ok\r\nContent-type: text/html\r\n\r\n<html>",
            true,
        )
        .await;
        assert_eq!(results.len(), 1);
        let first = results[0].as_ref().unwrap();
        assert_eq!(first.status, 200);
        assert!(!first.reusable);
    }

    #[tokio::test]
    async fn rejects_garbage() {
        let results = exchange(b"\x16\x03\x01garbage\r\n\r\n", true).await;
        assert!(results[0].is_err(), "{:?}", results[0]);
    }
}
