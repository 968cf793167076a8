//! Service identity: does a certificate name the host that a presence gateway
//! is configured with?
//!
//! Cisco IM and Presence reads users' Exchange calendars over HTTPS, so the
//! configured gateway host (the *reference identifier*) must match a name in
//! the Exchange server's certificate (a *presented identifier*). This module
//! is the one place where gwtrust compares the two. It is pure: no I/O, no
//! DNS look-ups.
//!
//! The rules follow RFC 6125 §6.4 (matching the DNS domain name portion),
//! with the wildcard rules made mandatory as in RFC 9525 §6.3, which
//! obsoletes RFC 6125. Every presented name that does not match is reported
//! with a [`RejectReason`], so an administrator can see why, not only that,
//! a host failed.
//!
//! # Reference identifiers
//!
//! [`ReferenceName::parse`] turns the configured host into either a DNS name
//! or an IP address:
//!
//! | Input                    | Parsed as                   | Why |
//! |--------------------------|-----------------------------|-----|
//! | `Mail.Example.COM.`      | DNS `mail.example.com`      | DNS names compare as case-insensitive ASCII, and one trailing dot is the same name |
//! | `bücher.example`         | DNS `xn--bcher-kva.example` | U-labels are converted to A-labels (UTS #46, `idna` crate) and compared in that form (RFC 6125 §6.4.2) |
//! | `10.0.0.1`               | IPv4 address                | |
//! | `0:0:0:0:0:0:0:1`, `[::1]` | IPv6 address `::1`        | any textual form, and brackets are stripped |
//! | `exchange.example.com:443` | error                     | a host has no port |
//! | `010.0.0.1`, `10.1`      | error                       | an all-numeric last label is an IPv4 address in a non-standard form, never a DNS name |
//! | `a..example.com`, `-a.example.com`, `a_b.example.com` | error | empty label, hyphen at a label edge, character outside letters, digits and hyphen |
//!
//! A DNS name longer than 253 characters or with a label longer than 63
//! (counted after A-label conversion) is an error too.
//!
//! # Matching a DNS host
//!
//! A DNS host is compared with the dNSName entries of the subjectAltName
//! extension (SAN), and in some cases with the subject CN (see below).
//!
//! | Presented dNSName        | Host                        | Result |
//! |--------------------------|-----------------------------|--------|
//! | `MAIL.example.com.`      | `mail.example.com`          | match, [`MatchRule::ExactDns`]: one trailing dot is ignored on either side |
//! | `xn--bcher-kva.example`  | `bücher.example`            | match, [`MatchRule::ExactDns`] |
//! | `bücher.example`         | `bücher.example`            | no match: a U-label in a certificate is malformed, because certificates carry A-labels |
//! | `*.example.com`          | `a.example.com`             | match, [`MatchRule::Wildcard`] |
//! | `*.example.com`          | `example.com`               | no match: the `*` stands for exactly one label |
//! | `*.example.com`          | `a.b.example.com`           | no match: the `*` stands for exactly one label |
//! | `f*.example.com`, `*oo.example.com`, `b*z.example.com` | `foo.example.com` | no match: partial wildcard |
//! | `a.*.example.com`        | `a.b.example.com`           | no match: `*` outside the leftmost label |
//! | `*.com`, `*.`            | `example.com`               | no match: fewer than two labels follow the `*` |
//! | `*.example.com`          | `bücher.example.com`        | match: a whole-label `*` may stand for an A-label |
//! | `xn--*.example.com`      | `xn--bcher-kva.example.com` | no match: partial wildcard |
//! | `owa.example.com\0.evil` | `owa.example.com`           | no match: control characters make a name malformed, and the result warns |
//!
//! Partial wildcards never match. RFC 6125 §6.4.3 allowed a client to match
//! them, and RFC 9525 forbids it.
//!
//! RFC 6125 §6.4.3 and §7.2 discourage a wildcard *embedded in* an A-label
//! (`xn--*`). Such a label is a partial wildcard here and never matches. A
//! wildcard that is the whole leftmost label may stand for an A-label
//! (`*.example.com` matches `xn--bcher-kva.example.com`), because RFC 6125
//! §7.2 allows a wildcard that occupies the entire leftmost label. The
//! matcher in rustls-webpki 0.103 accepts it too.
//!
//! NOTE: there is no public suffix list here, so `*.co.uk` is accepted as a
//! wildcard for `example.co.uk`. Only wildcards followed by fewer than two
//! labels are rejected.
//!
//! # Matching an IP address host
//!
//! An IP address host matches only an iPAddress SAN entry with the same
//! address, never a dNSName entry or the CN, even when they contain the same
//! text.
//!
//! | Presented                         | Host              | Result |
//! |-----------------------------------|-------------------|--------|
//! | iPAddress `10.0.0.1`              | `10.0.0.1`        | match, [`MatchRule::IpAddress`] |
//! | iPAddress `::1`                   | `[0:0:0:0:0:0:0:1]` | match |
//! | dNSName `10.0.0.1`, CN `10.0.0.1` | `10.0.0.1`        | no match: not an iPAddress SAN |
//! | iPAddress `10.0.0.1`              | `::ffff:10.0.0.1` | no match: an IPv4-mapped IPv6 address is a different address |
//!
//! # The subject CN and the three profiles
//!
//! RFC 6125 §6.4.4 lets a client fall back to the CN only when the
//! certificate has no DNS-ID, and RFC 9525 drops the CN fallback. Presence
//! servers differ, so [`Profile`] selects the rules:
//!
//! | Certificate                                        | `rfc6125` (default) | `legacy` | `exact-san` |
//! |----------------------------------------------------|---------------------|----------|-------------|
//! | no dNSName SAN, CN = host                          | match, [`MatchRule::CommonNameFallback`], warning | same as `rfc6125` | no match: CN not allowed |
//! | dNSName SANs without the host, CN = host           | no match: CN ignored because SANs are present | match, [`MatchRule::LegacyCommonName`], warning | no match |
//! | dNSName `*.example.com`, host `a.example.com`      | match | match | no match: wildcard not allowed |
//! | dNSName `a.example.com` and `b.example.com`, host `a.example.com` | match | match | match, and a note that there is more than one dNSName SAN |
//!
//! A CN is compared with the same rules as a dNSName, wildcards included,
//! and [`MatchedName::wildcard`] says when a wildcard CN matched. Only
//! dNSName entries count as "SANs present": a certificate whose SAN has only
//! iPAddress entries still gets the CN fallback for a DNS host. A
//! subjectAltName extension that cannot be parsed counts as present, so a
//! broken SAN never turns on the CN fallback.
//!
//! The `exact-san` profile is for Cisco IM and Presence 12.5 and later,
//! which compare the host with one dNSName SAN exactly. More than one
//! dNSName SAN is a note in [`NameMatch::notes`], not a failure, because the
//! host still matches exactly.
//! NOTE: the exactly-one-SAN expectation comes from the project's
//! requirements and has not been checked against Cisco documentation.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

use serde::{Deserialize, Serialize, Serializer};
use x509_parser::asn1_rs::Tag;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::x509::AttributeTypeAndValue;

/// Maximum length of a DNS name in dotted text form without the trailing
/// dot. The wire form adds two octets and is limited to 255.
const MAX_NAME_LEN: usize = 253;

/// Maximum length of one DNS label, in octets.
const MAX_LABEL_LEN: usize = 63;

/// Prefix of an A-label, the ASCII form of an internationalised label.
const ACE_PREFIX: &str = "xn--";

// ---------------------------------------------------------------------------
// Reference identifiers
// ---------------------------------------------------------------------------

/// The host to look for in a certificate, as the administrator configured
/// it: a DNS name or an IP address.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferenceName {
    Dns(DnsReference),
    Ip(IpAddr),
}

impl ReferenceName {
    /// Parses a configured host: an IPv4 or IPv6 address in any form that
    /// `std::net` accepts (IPv6 optionally in brackets), or else a DNS name
    /// (see [`DnsReference::parse`]).
    pub fn parse(value: &str) -> Result<Self, ReferenceNameError> {
        let error = |kind| ReferenceNameError {
            value: value.to_owned(),
            kind,
        };

        if let Some(bracketed) = value.strip_prefix('[') {
            if bracketed
                .rsplit_once("]:")
                .is_some_and(|(_, port)| is_port(port))
            {
                return Err(error(ReferenceNameErrorKind::HasPort));
            }
            let inner = bracketed
                .strip_suffix(']')
                .ok_or(error(ReferenceNameErrorKind::InvalidIpv6))?;
            let address = inner
                .parse::<Ipv6Addr>()
                .map_err(|_| error(ReferenceNameErrorKind::InvalidIpv6))?;
            return Ok(ReferenceName::Ip(IpAddr::V6(address)));
        }

        if let Ok(address) = value.parse::<IpAddr>() {
            return Ok(ReferenceName::Ip(address));
        }

        if value.contains(':') {
            let kind = match value.split_once(':') {
                Some((host, port)) if !host.is_empty() && is_port(port) => {
                    ReferenceNameErrorKind::HasPort
                }
                _ => ReferenceNameErrorKind::InvalidIpv6,
            };
            return Err(error(kind));
        }

        DnsReference::parse(value).map(ReferenceName::Dns)
    }

    /// Returns the DNS name, or `None` for an IP address.
    pub fn as_dns(&self) -> Option<&DnsReference> {
        match self {
            ReferenceName::Dns(dns) => Some(dns),
            ReferenceName::Ip(_) => None,
        }
    }
}

impl FromStr for ReferenceName {
    type Err = ReferenceNameError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::parse(value)
    }
}

impl fmt::Display for ReferenceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReferenceName::Dns(dns) => dns.fmt(f),
            ReferenceName::Ip(address) => address.fmt(f),
        }
    }
}

fn is_port(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// A syntactically valid DNS host name in A-label form: lower-case ASCII
/// letters, digits and hyphens, without a trailing dot, at most 253
/// characters, each label 1 to 63 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DnsReference {
    ascii: String,
}

impl DnsReference {
    /// Parses a DNS host name. One trailing dot is removed, U-labels are
    /// converted to A-labels with UTS #46 processing, and the result must be
    /// a valid LDH host name whose last label is not all digits.
    pub fn parse(value: &str) -> Result<Self, ReferenceNameError> {
        let error = |kind| ReferenceNameError {
            value: value.to_owned(),
            kind,
        };

        // Checked before IDNA processing, which would reject non-ASCII
        // control characters with no detail.
        if let Some(ch) = value.chars().find(|c| c.is_control()) {
            return Err(error(ReferenceNameErrorKind::InvalidCharacter { ch }));
        }

        let ascii = to_a_labels(value).map_err(error)?;
        let name = ascii.strip_suffix('.').unwrap_or(&ascii);
        check_host_syntax(name).map_err(error)?;

        Ok(DnsReference {
            ascii: name.to_owned(),
        })
    }

    /// Returns the name in lower-case A-label form, without a trailing dot.
    pub fn as_str(&self) -> &str {
        &self.ascii
    }

    /// Returns the labels from left to right.
    pub fn labels(&self) -> impl Iterator<Item = &str> {
        self.ascii.split('.')
    }

    /// Returns the number of labels.
    pub fn label_count(&self) -> usize {
        self.labels().count()
    }

    /// Returns whether any label is an A-label (an internationalised label).
    pub fn is_idn(&self) -> bool {
        self.labels().any(|label| label.starts_with(ACE_PREFIX))
    }
}

impl FromStr for DnsReference {
    type Err = ReferenceNameError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::parse(value)
    }
}

impl fmt::Display for DnsReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.ascii)
    }
}

impl Serialize for DnsReference {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.ascii)
    }
}

/// Converts a host name to lower-case A-label form with UTS #46 processing
/// (nontransitional, as `idna` 1.x does by default). ASCII characters pass
/// through unchanged apart from case, so [`check_host_syntax`] can name a bad
/// character precisely.
fn to_a_labels(value: &str) -> Result<String, ReferenceNameErrorKind> {
    let uts46 = idna::uts46::Uts46::new();
    let convert = |text: &str| {
        uts46
            .to_ascii(
                text.as_bytes(),
                idna::uts46::AsciiDenyList::EMPTY,
                idna::uts46::Hyphens::Allow,
                idna::uts46::DnsLength::Ignore,
            )
            .map(|ascii| ascii.into_owned())
    };

    convert(value).map_err(|_| {
        // idna reports no detail, so convert label by label to find the
        // first one it rejects. UTS #46 maps these four characters to '.'.
        let label = value
            .split(['.', '\u{3002}', '\u{FF0E}', '\u{FF61}'])
            .find(|label| convert(label).is_err())
            .map(str::to_owned);
        ReferenceNameErrorKind::InvalidIdn { label }
    })
}

/// Checks a lower-case ASCII host name without a trailing dot.
fn check_host_syntax(name: &str) -> Result<(), ReferenceNameErrorKind> {
    if name.is_empty() {
        return Err(ReferenceNameErrorKind::Empty);
    }
    if name.len() > MAX_NAME_LEN {
        return Err(ReferenceNameErrorKind::NameTooLong { len: name.len() });
    }

    for label in name.split('.') {
        if label.is_empty() {
            return Err(ReferenceNameErrorKind::EmptyLabel);
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(ReferenceNameErrorKind::LabelTooLong {
                label: label.to_owned(),
            });
        }
        if let Some(ch) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return Err(ReferenceNameErrorKind::InvalidCharacter { ch });
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(ReferenceNameErrorKind::HyphenAtLabelEdge {
                label: label.to_owned(),
            });
        }
    }

    let last = name.rsplit('.').next().unwrap_or(name);
    if is_numeric_label(last) {
        return Err(ReferenceNameErrorKind::NumericLastLabel);
    }
    Ok(())
}

/// Returns whether a label is a number as URL parsers read IPv4 address
/// parts: decimal digits, or `0x` followed by hexadecimal digits.
fn is_numeric_label(label: &str) -> bool {
    let hex = label
        .strip_prefix("0x")
        .or_else(|| label.strip_prefix("0X"));
    match hex {
        Some(digits) => digits.bytes().all(|b| b.is_ascii_hexdigit()),
        None => label.bytes().all(|b| b.is_ascii_digit()),
    }
}

/// A configured host that is neither a valid DNS name nor an IP address.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid host name {value:?}: {kind}")]
pub struct ReferenceNameError {
    /// The value as given.
    pub value: String,
    pub kind: ReferenceNameErrorKind,
}

/// Reason a configured host is invalid.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceNameErrorKind {
    #[error("the name is empty")]
    Empty,
    #[error("the name has an empty label (two dots in a row, or a leading dot)")]
    EmptyLabel,
    #[error("label {label:?} is longer than 63 characters")]
    LabelTooLong { label: String },
    #[error("the name is {len} characters long, and the maximum is 253")]
    NameTooLong { len: usize },
    #[error(
        "character {ch:?} is not allowed, because a host name contains only letters, digits, \
         '-' and '.'"
    )]
    InvalidCharacter { ch: char },
    #[error("label {label:?} starts or ends with '-'")]
    HyphenAtLabelEdge { label: String },
    #[error(
        "the last label is numeric, so this is an IPv4 address in a non-standard form. \
         Write it as four decimal numbers without leading zeros, such as 10.0.0.1"
    )]
    NumericLastLabel,
    #[error("{}", invalid_idn_message(label.as_deref()))]
    InvalidIdn { label: Option<String> },
    #[error(
        "not a valid IPv6 address. Brackets may enclose only an IPv6 address, \
         and zone identifiers such as %eth0 are not allowed"
    )]
    InvalidIpv6,
    #[error("the value contains a port, so configure the host name alone")]
    HasPort,
}

fn invalid_idn_message(label: Option<&str>) -> String {
    match label {
        Some(label) => format!(
            "label {label:?} is not a valid internationalised label (UTS #46 processing rejected it)"
        ),
        None => "not a valid internationalised domain name (UTS #46 processing rejected it)"
            .to_owned(),
    }
}

// ---------------------------------------------------------------------------
// Presence gateway host
// ---------------------------------------------------------------------------

/// Checks that a presence gateway host is a fully qualified domain name: a
/// valid DNS name with at least two labels, not an IP address.
pub fn is_fqdn(host: &str) -> Result<(), FqdnError> {
    match ReferenceName::parse(host) {
        Err(error) => Err(FqdnError::Invalid(error)),
        Ok(ReferenceName::Ip(_)) => Err(FqdnError::IpAddress {
            host: host.to_owned(),
        }),
        Ok(ReferenceName::Dns(dns)) if dns.label_count() < 2 => Err(FqdnError::SingleLabel {
            host: host.to_owned(),
        }),
        Ok(ReferenceName::Dns(_)) => Ok(()),
    }
}

/// Reason a presence gateway host is not a fully qualified domain name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FqdnError {
    #[error(
        "presence gateway host {host:?} is a single label, not a fully qualified domain name: \
         the Exchange certificate names FQDNs and the presence server compares the configured \
         host with them, so configure the full name, such as exchange.corp.example.com"
    )]
    SingleLabel { host: String },
    #[error(
        "presence gateway host {host:?} is an IP address, not a fully qualified domain name: \
         the Exchange certificate names FQDNs and the presence server compares the configured \
         host with them, so configure the server's FQDN"
    )]
    IpAddress { host: String },
    #[error("presence gateway host is not a fully qualified domain name: {0}")]
    Invalid(#[from] ReferenceNameError),
}

// ---------------------------------------------------------------------------
// Presented identifiers
// ---------------------------------------------------------------------------

/// The names a certificate presents, as stored in it. Malformed values are
/// kept (non-ASCII text, control characters, undecodable bytes as U+FFFD) so
/// that [`match_host`] can report them, and they never match.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PresentedNames {
    /// dNSName entries of the subjectAltName extension, in certificate order.
    pub dns_names: Vec<String>,
    /// iPAddress entries of the subjectAltName extension, in certificate order.
    pub ip_addresses: Vec<IpAddr>,
    /// iPAddress entries that are neither 4 nor 16 octets long, as hex octets
    /// separated by ':'.
    pub invalid_ip_addresses: Vec<String>,
    /// Common name (CN) attributes of the subject, in certificate order.
    pub common_names: Vec<String>,
    /// Parse error of a subjectAltName extension that is present but
    /// unreadable (or present twice). Its names are missing from the lists
    /// above, and the CN fallback stays off.
    pub san_error: Option<String>,
}

impl PresentedNames {
    /// Builds presented names from plain values, as a certificate would
    /// hold them.
    pub fn new(
        dns_names: impl IntoIterator<Item = impl Into<String>>,
        ip_addresses: impl IntoIterator<Item = IpAddr>,
        common_names: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        PresentedNames {
            dns_names: dns_names.into_iter().map(Into::into).collect(),
            ip_addresses: ip_addresses.into_iter().collect(),
            invalid_ip_addresses: Vec::new(),
            common_names: common_names.into_iter().map(Into::into).collect(),
            san_error: None,
        }
    }

    /// Extracts the dNSName and iPAddress SAN entries and the subject CN
    /// attributes of a certificate. Other SAN types (URI, email, otherName)
    /// are ignored.
    ///
    /// Text that is not valid in its ASN.1 string type is decoded lossily:
    /// bytes that are not valid UTF-8 (or UTF-16 / UTF-32 for BMPString and
    /// UniversalString) become U+FFFD, so the value is non-ASCII and reported
    /// as malformed.
    pub fn from_cert(cert: &X509Certificate<'_>) -> PresentedNames {
        let mut names = PresentedNames::default();

        match cert.subject_alternative_name() {
            Ok(Some(san)) => {
                for general_name in &san.value.general_names {
                    names.push_general_name(general_name);
                }
            }
            Ok(None) => {}
            Err(error) => names.san_error = Some(error.to_string()),
        }

        names.common_names = cert
            .subject()
            .iter_common_name()
            .map(decode_directory_string)
            .collect();
        names
    }

    fn push_general_name(&mut self, general_name: &GeneralName<'_>) {
        match general_name {
            GeneralName::DNSName(name) => self.dns_names.push((*name).to_owned()),
            GeneralName::IPAddress(octets) => match ip_from_octets(octets) {
                Some(address) => self.ip_addresses.push(address),
                None => self.invalid_ip_addresses.push(hex_octets(octets)),
            },
            // x509-parser returns Invalid for a dNSName (tag 2) that is not
            // valid UTF-8.
            GeneralName::Invalid(tag, bytes) if tag.0 == 2 => {
                self.dns_names
                    .push(String::from_utf8_lossy(bytes).into_owned());
            }
            _ => {}
        }
    }

    /// Returns whether the certificate counts as having dNSName SANs, which
    /// turns off the CN fallback: it has a dNSName entry, or its
    /// subjectAltName extension could not be parsed.
    pub fn has_dns_sans(&self) -> bool {
        !self.dns_names.is_empty() || self.san_error.is_some()
    }

    /// Returns whether the certificate presents no name at all.
    pub fn is_empty(&self) -> bool {
        self.dns_names.is_empty()
            && self.ip_addresses.is_empty()
            && self.invalid_ip_addresses.is_empty()
            && self.common_names.is_empty()
    }
}

fn ip_from_octets(octets: &[u8]) -> Option<IpAddr> {
    if let Ok(v4) = <[u8; 4]>::try_from(octets) {
        return Some(IpAddr::from(v4));
    }
    if let Ok(v6) = <[u8; 16]>::try_from(octets) {
        return Some(IpAddr::from(v6));
    }
    None
}

fn hex_octets(octets: &[u8]) -> String {
    octets
        .iter()
        .map(|octet| format!("{octet:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Decodes a CN attribute value (UTF8String, PrintableString, BMPString and
/// the other DirectoryString types) without failing.
fn decode_directory_string(attribute: &AttributeTypeAndValue<'_>) -> String {
    let value = attribute.attr_value();
    let bytes = value.data;
    match value.tag() {
        Tag::BmpString => {
            let units = bytes.chunks(2).map(|pair| match pair {
                [high, low] => u16::from_be_bytes([*high, *low]),
                _ => 0xFFFD,
            });
            char::decode_utf16(units)
                .map(|unit| unit.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect()
        }
        Tag::UniversalString => bytes
            .chunks(4)
            .map(|chunk| {
                <[u8; 4]>::try_from(chunk)
                    .ok()
                    .and_then(|quad| char::from_u32(u32::from_be_bytes(quad)))
                    .unwrap_or(char::REPLACEMENT_CHARACTER)
            })
            .collect(),
        // UTF8String, PrintableString, IA5String and the rest: ASCII is
        // the same in all of them, and anything else is malformed anyway.
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

// ---------------------------------------------------------------------------
// Profiles and results
// ---------------------------------------------------------------------------

/// Set of name-matching rules, described in the module documentation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// RFC 6125 with RFC 9525 wildcard rules, and the CN only when there is
    /// no dNSName SAN.
    #[default]
    Rfc6125,
    /// As `rfc6125`, and the CN may also match when dNSName SANs are
    /// present, as old presence servers allow.
    Legacy,
    /// The host must equal one dNSName SAN exactly: no wildcard, no CN
    /// (Cisco IM and Presence 12.5 and later).
    ExactSan,
}

impl Profile {
    /// All profiles, in the order they are documented.
    pub const ALL: [Profile; 3] = [Profile::Rfc6125, Profile::Legacy, Profile::ExactSan];

    /// Returns the name used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Rfc6125 => "rfc6125",
            Profile::Legacy => "legacy",
            Profile::ExactSan => "exact-san",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses `rfc6125`, `legacy` or `exact-san`, ignoring ASCII case.
impl FromStr for Profile {
    type Err = ProfileParseError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Profile::ALL
            .into_iter()
            .find(|profile| profile.as_str().eq_ignore_ascii_case(value))
            .ok_or_else(|| ProfileParseError {
                value: value.to_owned(),
            })
    }
}

/// An unknown profile name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown name-matching profile {value:?}: expected rfc6125, legacy or exact-san")]
pub struct ProfileParseError {
    pub value: String,
}

/// Certificate field a presented name comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NameKind {
    DnsSan,
    IpSan,
    CommonName,
}

impl fmt::Display for NameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameKind::DnsSan => "dNSName SAN",
            NameKind::IpSan => "iPAddress SAN",
            NameKind::CommonName => "subject CN",
        })
    }
}

/// The rule by which a presented name matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchRule {
    /// A dNSName equal to the host.
    ExactDns,
    /// A dNSName whose leftmost label `*` stands for the host's first label.
    Wildcard,
    /// An iPAddress SAN with the host's address.
    IpAddress,
    /// The subject CN, used because the certificate has no dNSName SAN.
    CommonNameFallback,
    /// The subject CN, although the certificate has dNSName SANs (`legacy`
    /// profile only).
    LegacyCommonName,
}

impl fmt::Display for MatchRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MatchRule::ExactDns => "exact DNS name",
            MatchRule::Wildcard => "wildcard",
            MatchRule::IpAddress => "IP address",
            MatchRule::CommonNameFallback => "CN fallback (the certificate has no dNSName SAN)",
            MatchRule::LegacyCommonName => "legacy CN rule (despite the dNSName SANs)",
        })
    }
}

/// The presented name that matched the host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MatchedName {
    /// The name as the certificate presents it.
    pub name: String,
    pub kind: NameKind,
    pub rule: MatchRule,
    /// Whether the name is a wildcard. Always true for
    /// [`MatchRule::Wildcard`], and true for a CN rule when the CN was a
    /// wildcard.
    pub wildcard: bool,
}

impl fmt::Display for MatchedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:?}, matched by {}", self.kind, self.name, self.rule)?;
        if self.wildcard && self.rule != MatchRule::Wildcard {
            f.write_str(" with a wildcard")?;
        }
        Ok(())
    }
}

/// A presented name that did not match the host, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rejected {
    /// The name as the certificate presents it. Print it with `{:?}` or
    /// through this type's `Display` so that control characters stay visible.
    pub name: String,
    pub kind: NameKind,
    pub reason: RejectReason,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:?}: {}", self.kind, self.name, self.reason)
    }
}

/// Reason a presented name did not match.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// A well-formed name for another host.
    DifferentName,
    /// An iPAddress SAN with another address.
    DifferentAddress,
    /// `*` is only part of the leftmost label (`f*.example.com`).
    PartialWildcard,
    /// `*` appears in a label other than the leftmost (`a.*.example.com`).
    WildcardNotLeftmost,
    /// Fewer than two labels follow the `*` (`*.com`, `*.`).
    WildcardOverSingleLabel,
    /// The `*` would have to stand for more than one label.
    WildcardSpansMultipleLabels,
    /// The `*` would have to stand for no label (`*.example.com` against
    /// `example.com`).
    WildcardMatchesNoLabel,
    /// The `exact-san` profile allows no wildcard.
    WildcardNotAllowed,
    /// The host is an IP address, and this is not an iPAddress SAN.
    NotIpSan,
    /// The host is a DNS name, and this is an iPAddress SAN.
    NotDnsName,
    /// A CN is not consulted because the certificate has dNSName SANs.
    CommonNameIgnored,
    /// The `exact-san` profile never consults the CN.
    CommonNameNotAllowed,
    /// The name is not a valid DNS name or address.
    Malformed(Malformation),
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RejectReason::DifferentName => f.write_str("different name"),
            RejectReason::DifferentAddress => f.write_str("different IP address"),
            RejectReason::PartialWildcard => {
                f.write_str("partial wildcard: '*' must be the whole leftmost label")
            }
            RejectReason::WildcardNotLeftmost => f.write_str("wildcard not in the leftmost label"),
            RejectReason::WildcardOverSingleLabel => f.write_str(
                "wildcard over a public-suffix-like name: fewer than two labels follow the '*'",
            ),
            RejectReason::WildcardSpansMultipleLabels => f.write_str(
                "the wildcard stands for one label, and the host has more than one in its place",
            ),
            RejectReason::WildcardMatchesNoLabel => {
                f.write_str("the wildcard stands for one label, and the host has none in its place")
            }
            RejectReason::WildcardNotAllowed => {
                f.write_str("wildcard not allowed by the exact-san profile")
            }
            RejectReason::NotIpSan => f.write_str(
                "not an iPAddress SAN, and an IP address host matches only iPAddress SAN entries",
            ),
            RejectReason::NotDnsName => {
                f.write_str("an iPAddress SAN cannot match a DNS host name")
            }
            RejectReason::CommonNameIgnored => {
                f.write_str("CN ignored because the certificate has dNSName SANs")
            }
            RejectReason::CommonNameNotAllowed => {
                f.write_str("CN not used by the exact-san profile")
            }
            RejectReason::Malformed(malformation) => write!(f, "malformed: {malformation}"),
        }
    }
}

/// Defect that makes a presented name malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Malformation {
    /// A NUL byte or another control character: a known way to make one
    /// certificate name look like another to software that stops at NUL.
    ControlCharacter,
    /// Non-ASCII text: a U-label, or bytes that were not valid in the
    /// string type (decoded as U+FFFD).
    NotAscii,
    Empty,
    EmptyLabel,
    LabelTooLong,
    NameTooLong,
    /// A character other than letters, digits, `-` and `*`.
    InvalidCharacter,
    HyphenAtLabelEdge,
    /// An iPAddress SAN that is neither 4 nor 16 octets long.
    InvalidIpLength,
}

impl fmt::Display for Malformation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Malformation::ControlCharacter => "contains a control character",
            Malformation::NotAscii => {
                "not ASCII (a U-label or undecodable bytes), but certificates must carry A-labels"
            }
            Malformation::Empty => "empty name",
            Malformation::EmptyLabel => "empty label",
            Malformation::LabelTooLong => "label longer than 63 characters",
            Malformation::NameTooLong => "name longer than 253 characters",
            Malformation::InvalidCharacter => "character other than letters, digits, '-' and '*'",
            Malformation::HyphenAtLabelEdge => "label starts or ends with '-'",
            Malformation::InvalidIpLength => "address is neither 4 nor 16 octets long",
        })
    }
}

/// The outcome of [`match_host`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NameMatch {
    /// The host, in the form it was compared in (A-labels, canonical IP text).
    pub reference: String,
    pub profile: Profile,
    /// The matching name, or `None` when the certificate does not name the
    /// host. When several names match, this is the first exact dNSName or
    /// iPAddress match, else the first wildcard, else the first CN.
    pub matched: Option<MatchedName>,
    /// Problems an administrator should fix even if the host matched.
    pub warnings: Vec<String>,
    /// Information that does not affect the result.
    pub notes: Vec<String>,
    /// Every presented name that did not match, in the order dNSName,
    /// iPAddress, unreadable iPAddress, CN. Names that also matched are not
    /// listed.
    pub rejected: Vec<Rejected>,
    /// Parse error of the host, set only by [`NameMatch::invalid_reference`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_error: Option<String>,
}

impl NameMatch {
    /// Builds the result for a host that did not parse, so that callers can
    /// report it like a mismatch. `profile` is the default, because no rule
    /// was applied.
    pub fn invalid_reference(host: &str, error: &str) -> NameMatch {
        NameMatch {
            reference: host.to_owned(),
            profile: Profile::default(),
            matched: None,
            warnings: Vec::new(),
            notes: Vec::new(),
            rejected: Vec::new(),
            reference_error: Some(error.to_owned()),
        }
    }

    /// Returns one line for a person: the matching name and rule, or else
    /// each rejected name with its reason, separated by "; ".
    pub fn summary(&self) -> String {
        if let Some(error) = &self.reference_error {
            return error.clone();
        }
        if let Some(matched) = &self.matched {
            return matched.to_string();
        }
        if self.rejected.is_empty() {
            return "the certificate presents no dNSName SAN, iPAddress SAN or subject CN"
                .to_owned();
        }
        self.rejected
            .iter()
            .map(Rejected::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Returns whether a presented name matched the host.
    pub fn is_match(&self) -> bool {
        self.matched.is_some()
    }

    /// Returns whether the host matched only through the subject CN, which
    /// current TLS clients reject.
    pub fn is_common_name_match(&self) -> bool {
        matches!(
            self.matched.as_ref().map(|m| m.rule),
            Some(MatchRule::CommonNameFallback | MatchRule::LegacyCommonName)
        )
    }
}

// ---------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------

/// Compares a host with every name a certificate presents, under `profile`,
/// and returns the best match, the reason for each name that did not match,
/// and warnings.
pub fn match_host(
    reference: &ReferenceName,
    presented: &PresentedNames,
    profile: Profile,
) -> NameMatch {
    let candidates = match reference {
        ReferenceName::Ip(address) => ip_candidates(*address, presented),
        ReferenceName::Dns(dns) => dns_candidates(dns, presented, profile),
    };

    let mut rejected = Vec::new();
    let mut matches = Vec::new();
    for candidate in candidates {
        match candidate {
            Ok(matched) => matches.push(matched),
            Err(rejection) => rejected.push(rejection),
        }
    }
    // A stable sort keeps certificate order among names of equal rank.
    matches.sort_by_key(|matched| rule_rank(matched.rule));
    let matched = matches.into_iter().next();

    let warnings = collect_warnings(matched.as_ref(), presented, &rejected);
    let mut notes = Vec::new();
    if profile == Profile::ExactSan && presented.dns_names.len() > 1 {
        notes.push(format!(
            "the certificate has {} dNSName SAN entries, and the exact-san profile \
             (Cisco IM and Presence 12.5 and later) expects exactly one",
            presented.dns_names.len()
        ));
    }

    NameMatch {
        reference: reference.to_string(),
        profile,
        matched,
        warnings,
        notes,
        rejected,
        reference_error: None,
    }
}

type Candidate = Result<MatchedName, Rejected>;

fn rule_rank(rule: MatchRule) -> u8 {
    match rule {
        MatchRule::ExactDns | MatchRule::IpAddress => 0,
        MatchRule::Wildcard => 1,
        MatchRule::CommonNameFallback => 2,
        MatchRule::LegacyCommonName => 3,
    }
}

fn rejected(name: &str, kind: NameKind, reason: RejectReason) -> Rejected {
    Rejected {
        name: name.to_owned(),
        kind,
        reason,
    }
}

/// Compares an IP address host with every presented name. Only iPAddress
/// SAN entries can match, because a dNSName or CN that spells an address is
/// text that no CA has checked as an address.
fn ip_candidates(address: IpAddr, presented: &PresentedNames) -> Vec<Candidate> {
    let mut candidates = Vec::new();

    for name in &presented.dns_names {
        let reason = check_dns_syntax(name)
            .err()
            .map_or(RejectReason::NotIpSan, RejectReason::Malformed);
        candidates.push(Err(rejected(name, NameKind::DnsSan, reason)));
    }

    for san in &presented.ip_addresses {
        let text = san.to_string();
        // IpAddr equality compares families too, so ::ffff:10.0.0.1 is not
        // 10.0.0.1.
        candidates.push(if *san == address {
            Ok(MatchedName {
                name: text,
                kind: NameKind::IpSan,
                rule: MatchRule::IpAddress,
                wildcard: false,
            })
        } else {
            Err(rejected(
                &text,
                NameKind::IpSan,
                RejectReason::DifferentAddress,
            ))
        });
    }

    candidates.extend(invalid_ip_rejections(presented));

    for name in &presented.common_names {
        let reason = check_dns_syntax(name)
            .err()
            .map_or(RejectReason::NotIpSan, RejectReason::Malformed);
        candidates.push(Err(rejected(name, NameKind::CommonName, reason)));
    }

    candidates
}

/// Compares a DNS host with every presented name under `profile`.
fn dns_candidates(
    reference: &DnsReference,
    presented: &PresentedNames,
    profile: Profile,
) -> Vec<Candidate> {
    let mut candidates = Vec::new();

    for name in &presented.dns_names {
        let outcome = match_dns_name(name, reference, profile == Profile::ExactSan);
        candidates.push(match outcome {
            Ok(pattern) => Ok(MatchedName {
                name: name.clone(),
                kind: NameKind::DnsSan,
                rule: if pattern.is_wildcard() {
                    MatchRule::Wildcard
                } else {
                    MatchRule::ExactDns
                },
                wildcard: pattern.is_wildcard(),
            }),
            Err(reason) => Err(rejected(name, NameKind::DnsSan, reason)),
        });
    }

    for san in &presented.ip_addresses {
        candidates.push(Err(rejected(
            &san.to_string(),
            NameKind::IpSan,
            RejectReason::NotDnsName,
        )));
    }

    candidates.extend(invalid_ip_rejections(presented));

    let has_dns_sans = presented.has_dns_sans();
    for name in &presented.common_names {
        candidates.push(match_common_name(name, reference, profile, has_dns_sans));
    }

    candidates
}

fn invalid_ip_rejections(presented: &PresentedNames) -> impl Iterator<Item = Candidate> + '_ {
    presented.invalid_ip_addresses.iter().map(|octets| {
        Err(rejected(
            octets,
            NameKind::IpSan,
            RejectReason::Malformed(Malformation::InvalidIpLength),
        ))
    })
}

/// Compares one CN with a DNS host. A malformed CN is reported as malformed
/// before any profile rule, so a NUL byte is never hidden behind "CN
/// ignored".
fn match_common_name(
    name: &str,
    reference: &DnsReference,
    profile: Profile,
    has_dns_sans: bool,
) -> Candidate {
    if let Err(malformation) = check_dns_syntax(name) {
        return Err(rejected(
            name,
            NameKind::CommonName,
            RejectReason::Malformed(malformation),
        ));
    }

    let rule = match (profile, has_dns_sans) {
        (Profile::ExactSan, _) => {
            return Err(rejected(
                name,
                NameKind::CommonName,
                RejectReason::CommonNameNotAllowed,
            ));
        }
        (Profile::Rfc6125, true) => {
            return Err(rejected(
                name,
                NameKind::CommonName,
                RejectReason::CommonNameIgnored,
            ));
        }
        (Profile::Legacy, true) => MatchRule::LegacyCommonName,
        (Profile::Rfc6125 | Profile::Legacy, false) => MatchRule::CommonNameFallback,
    };

    match match_dns_name(name, reference, false) {
        Ok(pattern) => Ok(MatchedName {
            name: name.to_owned(),
            kind: NameKind::CommonName,
            rule,
            wildcard: pattern.is_wildcard(),
        }),
        Err(reason) => Err(rejected(name, NameKind::CommonName, reason)),
    }
}

/// A well-formed presented DNS name, lower-case, without a trailing dot.
#[derive(Debug, PartialEq, Eq)]
enum DnsPattern {
    Exact(String),
    /// `*.<suffix>`, where the suffix has at least two labels.
    Wildcard {
        suffix: String,
    },
}

impl DnsPattern {
    fn is_wildcard(&self) -> bool {
        matches!(self, DnsPattern::Wildcard { .. })
    }
}

/// Checks one presented name and compares it with the host.
fn match_dns_name(
    name: &str,
    reference: &DnsReference,
    exact_only: bool,
) -> Result<DnsPattern, RejectReason> {
    check_dns_syntax(name).map_err(RejectReason::Malformed)?;
    if exact_only && name.contains('*') {
        return Err(RejectReason::WildcardNotAllowed);
    }

    let pattern = parse_dns_pattern(name)?;
    match &pattern {
        DnsPattern::Exact(exact) if exact == reference.as_str() => Ok(pattern),
        DnsPattern::Exact(_) => Err(RejectReason::DifferentName),
        DnsPattern::Wildcard { suffix } => {
            match_wildcard(suffix, reference.as_str())?;
            Ok(pattern)
        }
    }
}

/// Checks the syntax of a presented DNS name: printable ASCII letters,
/// digits, `-` and `*` in labels of 1 to 63 characters, at most 253
/// characters, one optional trailing dot. Wildcard placement is checked
/// later by [`parse_dns_pattern`].
fn check_dns_syntax(name: &str) -> Result<(), Malformation> {
    if name.chars().any(char::is_control) {
        return Err(Malformation::ControlCharacter);
    }
    if !name.is_ascii() {
        return Err(Malformation::NotAscii);
    }

    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() {
        return Err(Malformation::Empty);
    }
    if name.len() > MAX_NAME_LEN {
        return Err(Malformation::NameTooLong);
    }

    for label in name.split('.') {
        if label.is_empty() {
            return Err(Malformation::EmptyLabel);
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(Malformation::LabelTooLong);
        }
        let valid_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'*';
        if !label.bytes().all(valid_byte) {
            return Err(Malformation::InvalidCharacter);
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(Malformation::HyphenAtLabelEdge);
        }
    }
    Ok(())
}

/// Classifies a syntactically valid presented name as an exact name or a
/// whole-label wildcard, rejecting every other use of `*` (RFC 6125 §6.4.3
/// and §7.2, made mandatory by RFC 9525 §6.3).
fn parse_dns_pattern(name: &str) -> Result<DnsPattern, RejectReason> {
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    let (first, rest) = match name.split_once('.') {
        Some((first, rest)) => (first, Some(rest)),
        None => (name.as_str(), None),
    };

    if rest.is_some_and(|rest| rest.contains('*')) {
        return Err(RejectReason::WildcardNotLeftmost);
    }
    if !first.contains('*') {
        return Ok(DnsPattern::Exact(name));
    }
    if first != "*" {
        return Err(RejectReason::PartialWildcard);
    }

    match rest {
        Some(suffix) if suffix.contains('.') => Ok(DnsPattern::Wildcard {
            suffix: suffix.to_owned(),
        }),
        _ => Err(RejectReason::WildcardOverSingleLabel),
    }
}

/// Compares `*.<suffix>` with a host: the `*` must stand for exactly one
/// whole label, which may be an A-label.
fn match_wildcard(suffix: &str, host: &str) -> Result<(), RejectReason> {
    if host == suffix {
        return Err(RejectReason::WildcardMatchesNoLabel);
    }
    let Some(prefix) = host.strip_suffix(suffix).and_then(|p| p.strip_suffix('.')) else {
        return Err(RejectReason::DifferentName);
    };
    if prefix.contains('.') {
        return Err(RejectReason::WildcardSpansMultipleLabels);
    }
    Ok(())
}

fn collect_warnings(
    matched: Option<&MatchedName>,
    presented: &PresentedNames,
    rejected: &[Rejected],
) -> Vec<String> {
    let mut warnings = Vec::new();

    if let Some(error) = &presented.san_error {
        warnings.push(format!(
            "the subjectAltName extension could not be parsed ({error}), \
             so its names are not used and the CN fallback is off"
        ));
    }
    if presented.is_empty() {
        warnings.push(
            "the certificate has no dNSName SAN, iPAddress SAN or subject CN, \
             so no host can match it"
                .to_owned(),
        );
    }

    match matched.map(|m| m.rule) {
        Some(MatchRule::CommonNameFallback) => warnings.push(
            "matched on CN only, because the certificate has no dNSName SAN. \
             Current clients reject this, so reissue the certificate with the host \
             as a dNSName SAN"
                .to_owned(),
        ),
        Some(MatchRule::LegacyCommonName) => warnings.push(
            "matched on CN only, although the certificate has a subjectAltName extension \
             that does not name the host. Only the legacy profile (old presence servers) \
             accepts this, and current clients reject it, so add the host as a dNSName SAN"
                .to_owned(),
        ),
        _ => {}
    }

    for rejection in rejected {
        if rejection.reason == RejectReason::Malformed(Malformation::ControlCharacter) {
            warnings.push(format!(
                "{} {:?} contains a control character. Such a name can pass for another \
                 host (for example in software that stops at a NUL byte), so it never matches",
                rejection.kind, rejection.name
            ));
        }
    }

    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_label_forms() {
        assert!(is_numeric_label("1"));
        assert!(is_numeric_label("010"));
        assert!(is_numeric_label("0x0a"));
        assert!(is_numeric_label("0XFF"));
        assert!(!is_numeric_label("com"));
        assert!(!is_numeric_label("1a"));
        assert!(!is_numeric_label("xn--p1ai"));
    }

    #[test]
    fn pattern_classification() {
        assert_eq!(
            parse_dns_pattern("A.Example.COM."),
            Ok(DnsPattern::Exact("a.example.com".to_owned()))
        );
        assert_eq!(
            parse_dns_pattern("*.Example.com"),
            Ok(DnsPattern::Wildcard {
                suffix: "example.com".to_owned()
            })
        );
        assert_eq!(
            parse_dns_pattern("**.example.com"),
            Err(RejectReason::PartialWildcard)
        );
        assert_eq!(
            parse_dns_pattern("*.*.example.com"),
            Err(RejectReason::WildcardNotLeftmost)
        );
        assert_eq!(
            parse_dns_pattern("*"),
            Err(RejectReason::WildcardOverSingleLabel)
        );
    }

    #[test]
    fn wildcard_label_count() {
        assert_eq!(match_wildcard("example.com", "a.example.com"), Ok(()));
        assert_eq!(
            match_wildcard("example.com", "example.com"),
            Err(RejectReason::WildcardMatchesNoLabel)
        );
        assert_eq!(
            match_wildcard("example.com", "a.b.example.com"),
            Err(RejectReason::WildcardSpansMultipleLabels)
        );
        // A suffix match must fall on a label boundary.
        assert_eq!(
            match_wildcard("example.com", "aexample.com"),
            Err(RejectReason::DifferentName)
        );
    }

    #[test]
    fn dns_syntax_malformations() {
        assert_eq!(check_dns_syntax("a.example.com."), Ok(()));
        assert_eq!(check_dns_syntax("."), Err(Malformation::Empty));
        assert_eq!(
            check_dns_syntax("a\u{85}.example.com"),
            Err(Malformation::ControlCharacter)
        );
        assert_eq!(
            check_dns_syntax(&"a".repeat(64)),
            Err(Malformation::LabelTooLong)
        );
        let long_name = vec!["a".repeat(63); 4].join(".");
        assert_eq!(long_name.len(), 255);
        assert_eq!(check_dns_syntax(&long_name), Err(Malformation::NameTooLong));
    }

    #[test]
    fn reference_length_limits() {
        let label_63 = "a".repeat(63);
        assert!(DnsReference::parse(&format!("{label_63}.example.com")).is_ok());

        let label_64 = "a".repeat(64);
        let error = DnsReference::parse(&format!("{label_64}.example.com")).unwrap_err();
        assert!(matches!(
            error.kind,
            ReferenceNameErrorKind::LabelTooLong { .. }
        ));

        // 63 * 4 + 3 dots = 255 characters.
        let name_255 = vec![label_63.clone(); 4].join(".");
        let error = DnsReference::parse(&name_255).unwrap_err();
        assert_eq!(error.kind, ReferenceNameErrorKind::NameTooLong { len: 255 });
    }

    #[test]
    fn reference_error_names_value() {
        let error = ReferenceName::parse("exchange.example.com:443").unwrap_err();
        assert_eq!(error.kind, ReferenceNameErrorKind::HasPort);
        let message = error.to_string();
        assert!(
            message.contains("\"exchange.example.com:443\""),
            "{message}"
        );
        assert!(message.contains("port"), "{message}");
    }

    #[test]
    fn reference_port_rejected() {
        for value in ["owa.example.com:443", "[2001:db8::1]:8443", "10.0.0.1:443"] {
            let error = ReferenceName::parse(value).unwrap_err();
            assert_eq!(error.kind, ReferenceNameErrorKind::HasPort, "{value}");
        }
        let error = ReferenceName::parse("2001:db8::zz").unwrap_err();
        assert_eq!(error.kind, ReferenceNameErrorKind::InvalidIpv6);
    }

    #[test]
    fn reference_invalid_a_label() {
        let error = DnsReference::parse("xn--zz.example.com").unwrap_err();
        assert_eq!(
            error.kind,
            ReferenceNameErrorKind::InvalidIdn {
                label: Some("xn--zz".to_owned())
            }
        );
    }

    #[test]
    fn profile_round_trip() {
        for profile in Profile::ALL {
            assert_eq!(profile.as_str().parse::<Profile>(), Ok(profile));
            let json = serde_json::to_string(&profile).unwrap();
            assert_eq!(json, format!("\"{profile}\""));
        }
        assert!("strict".parse::<Profile>().is_err());
        assert_eq!(Profile::default(), Profile::Rfc6125);
    }

    #[test]
    fn summary_lists_matches_and_rejections() {
        let reference = ReferenceName::parse("owa.example.com").unwrap();

        let presented = PresentedNames::new(["*.example.com"], [], ["owa.example.com"]);
        let result = match_host(&reference, &presented, Profile::Rfc6125);
        assert_eq!(
            result.summary(),
            "dNSName SAN \"*.example.com\", matched by wildcard"
        );

        let presented = PresentedNames::new(Vec::<String>::new(), [], ["*.example.com"]);
        let result = match_host(&reference, &presented, Profile::Legacy);
        assert_eq!(
            result.summary(),
            "subject CN \"*.example.com\", matched by CN fallback \
             (the certificate has no dNSName SAN) with a wildcard"
        );

        let presented = PresentedNames::new(["mail.example.com"], [], ["owa.example.com\0"]);
        let result = match_host(&reference, &presented, Profile::Rfc6125);
        assert_eq!(
            result.summary(),
            "dNSName SAN \"mail.example.com\": different name; \
             subject CN \"owa.example.com\\0\": malformed: contains a control character"
        );

        let result = match_host(&reference, &PresentedNames::default(), Profile::Rfc6125);
        assert!(
            result.summary().contains("presents no"),
            "{}",
            result.summary()
        );
    }

    #[test]
    fn invalid_reference_result() {
        let error = ReferenceName::parse("owa..example.com").unwrap_err();
        let result = NameMatch::invalid_reference("owa..example.com", &error.to_string());
        assert!(!result.is_match());
        assert_eq!(result.summary(), error.to_string());

        let json = serde_json::to_value(&result).unwrap();
        assert_eq!(json["reference_error"], error.to_string());
        let matched = match_host(
            &ReferenceName::parse("owa.example.com").unwrap(),
            &PresentedNames::default(),
            Profile::Rfc6125,
        );
        let json = serde_json::to_value(&matched).unwrap();
        assert!(json.get("reference_error").is_none(), "{json}");
    }

    #[test]
    fn fqdn_errors() {
        assert_eq!(is_fqdn("exchange.example.com"), Ok(()));
        assert_eq!(is_fqdn("exchange.example.com."), Ok(()));
        assert!(matches!(
            is_fqdn("exchange"),
            Err(FqdnError::SingleLabel { .. })
        ));
        assert!(matches!(
            is_fqdn("exchange."),
            Err(FqdnError::SingleLabel { .. })
        ));
        assert!(matches!(
            is_fqdn("10.0.0.1"),
            Err(FqdnError::IpAddress { .. })
        ));
        assert!(matches!(is_fqdn("[::1]"), Err(FqdnError::IpAddress { .. })));
        assert!(matches!(is_fqdn("a..b"), Err(FqdnError::Invalid(_))));

        let message = is_fqdn("exchange").unwrap_err().to_string();
        assert!(message.contains("fully qualified"), "{message}");
        assert!(message.contains("certificate"), "{message}");
    }
}
