//! The TARGET argument of `fetch`, `pin` and `verify-host`: which HTTPS server to contact.
//!
//! | input                                | host                 | port |
//! |--------------------------------------|----------------------|------|
//! | `owa.example.com`                    | `owa.example.com`    | 443  |
//! | `owa.example.com:8443`               | `owa.example.com`    | 8443 |
//! | `https://owa.example.com/owa/`       | `owa.example.com`    | 443  |
//! | `https://owa.example.com:444/ews/`   | `owa.example.com`    | 444  |
//! | `[::1]:8443`, `https://[::1]/`       | `::1`                | 8443, 443 |
//! | `::1` (bare IPv6)                    | `::1`                | 443  |
//! | `http://owa.example.com/`            | rejected: gwtrust speaks only HTTPS | |

use std::fmt;
use std::net::IpAddr;

use crate::error::{Error, Result};

/// The default HTTPS port.
pub const HTTPS_PORT: u16 = 443;

/// The host part of a target: a DNS name or an IP address literal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    /// A DNS name, lowercased, with one trailing dot removed.
    Dns(String),
    /// An IP address literal.
    Ip(IpAddr),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Dns(name) => f.write_str(name),
            Host::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// A parsed TARGET: host and port of an HTTPS server, and the path when a URL was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub host: Host,
    pub port: u16,
    pub path: Option<String>,
}

impl Target {
    /// Parses `host`, `host:port`, `[v6]:port` or `https://host[:port]/path`.
    pub fn parse(input: &str) -> Result<Target> {
        let invalid = |reason: &str| Error::InvalidTarget {
            value: shorten(input),
            reason: reason.to_string(),
        };

        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(invalid("the target is empty"));
        }

        let (authority, path) = match trimmed.split_once("://") {
            Some((scheme, rest)) => {
                if !scheme.eq_ignore_ascii_case("https") {
                    return Err(invalid(
                        "only https:// URLs are supported, because gwtrust checks TLS servers",
                    ));
                }
                match rest.find('/') {
                    Some(slash) => (&rest[..slash], Some(rest[slash..].to_string())),
                    None => (rest, None),
                }
            }
            None => {
                if trimmed.contains('/') {
                    return Err(invalid("a path needs the https:// scheme in front"));
                }
                (trimmed, None)
            }
        };

        if authority.contains('@') {
            return Err(invalid(
                "user information in the URL is not supported; pass the account with --user",
            ));
        }

        let (host_text, port) = split_host_port(authority).map_err(|reason| invalid(&reason))?;
        let host = parse_host(host_text).map_err(|reason| invalid(&reason))?;

        Ok(Target { host, port, path })
    }

    /// Returns the host and port as `host:port`, with brackets around an IPv6 address.
    pub fn authority(&self) -> String {
        match &self.host {
            Host::Ip(IpAddr::V6(ip)) => format!("[{ip}]:{}", self.port),
            host => format!("{host}:{}", self.port),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.authority())
    }
}

/// Checks a `--connect` value: `ADDR:PORT`, `[IPv6]:PORT` or `HOST:PORT`, port 1 to 65535.
pub fn check_connect(value: &str) -> Result<()> {
    let invalid = |reason: String| Error::InvalidArgument {
        what: "--connect",
        value: shorten(value),
        reason: format!(
            "{reason}; write it as ADDR:PORT, for example 127.0.0.1:8443 or [::1]:8443"
        ),
    };
    if value
        .parse::<std::net::SocketAddr>()
        .is_ok_and(|addr| addr.port() != 0)
    {
        return Ok(());
    }

    let (host, port) = value
        .rsplit_once(':')
        .ok_or_else(|| invalid("the port is missing".into()))?;
    parse_port(port).map_err(invalid)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    parse_host(host).map_err(invalid)?;
    Ok(())
}

fn split_host_port(authority: &str) -> std::result::Result<(&str, u16), String> {
    if authority.is_empty() {
        return Err("the host is empty".into());
    }

    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or("an IPv6 address opened with '[' needs a closing ']'")?;
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err("brackets are only for an IPv6 address, as in [::1]:8443".into());
        }
        return match after {
            "" => Ok((host, HTTPS_PORT)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((host, parse_port(port)?)),
                None => Err(format!("unexpected text {after:?} after the IPv6 address")),
            },
        };
    }

    // More than one colon without brackets can only be a bare IPv6 address.
    if authority.matches(':').count() > 1 {
        return Ok((authority, HTTPS_PORT));
    }

    match authority.split_once(':') {
        Some((host, port)) => Ok((host, parse_port(port)?)),
        None => Ok((authority, HTTPS_PORT)),
    }
}

fn parse_port(text: &str) -> std::result::Result<u16, String> {
    match text.parse::<u16>() {
        Ok(0) => Err("port 0 is not a valid TCP port".into()),
        Ok(port) => Ok(port),
        Err(_) => Err(format!("port {text:?} is not a number from 1 to 65535")),
    }
}

fn parse_host(text: &str) -> std::result::Result<Host, String> {
    if text.is_empty() {
        return Err("the host is empty".into());
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(Host::Ip(ip));
    }

    // Internationalised names become their A-label (punycode) form, the form certificates use.
    crate::names::DnsReference::parse(text)
        .map(|name| Host::Dns(name.as_str().to_string()))
        .map_err(|err| err.to_string())
}

/// Shortens a value for an error message, so a huge argument is not echoed whole.
fn shorten(value: &str) -> String {
    const SHOWN: usize = 100;
    let escaped = crate::cert::escape_control(value);
    match escaped.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!(
            "{}... ({} characters)",
            &escaped[..cut],
            value.chars().count()
        ),
        None => escaped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_forms() {
        let cases = [
            ("owa.example.com", "owa.example.com", 443, None),
            ("OWA.Example.com.", "owa.example.com", 443, None),
            ("owa.example.com:8443", "owa.example.com", 8443, None),
            (
                "https://owa.example.com/owa/",
                "owa.example.com",
                443,
                Some("/owa/"),
            ),
            ("https://owa.example.com:444", "owa.example.com", 444, None),
            ("[::1]:8443", "::1", 8443, None),
            ("https://[::1]/ews", "::1", 443, Some("/ews")),
            ("::1", "::1", 443, None),
            ("127.0.0.1:9", "127.0.0.1", 9, None),
        ];
        for (input, host, port, path) in cases {
            let target = Target::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(target.host.to_string(), host, "{input}");
            assert_eq!(target.port, port, "{input}");
            assert_eq!(target.path.as_deref(), path, "{input}");
        }
    }

    #[test]
    fn target_rejects_bad_input() {
        for input in [
            "",
            "http://owa.example.com/",
            "owa.example.com:0",
            "owa.example.com:99999",
            "owa.example.com:x",
            "[::1",
            "owa..example.com",
            "owa example.com",
            "user@owa.example.com",
            "owa.example.com/owa",
        ] {
            assert!(Target::parse(input).is_err(), "{input:?} was accepted");
        }
    }
}
