//! SHA-256 certificate fingerprints as stored keys and as hex text.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// SHA-256 digest of a certificate's DER encoding.
///
/// The store never computes it: callers pass the digest with the DER and
/// guarantee that the two match. Text form is 64 lowercase hex digits, and
/// ordering is byte order, which is also the order of the hex text.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fingerprint(pub [u8; 32]);

/// Error from [`Fingerprint::from_hex`] for text that is not a SHA-256 fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid SHA-256 fingerprint {input:?}: {reason}. \
     Expected 64 hex digits, optionally separated by ':'"
)]
pub struct ParseFingerprintError {
    /// Text as the caller passed it.
    pub input: String,
    /// Description of the rule that the text breaks.
    pub reason: String,
}

impl Fingerprint {
    /// Formats the fingerprint as 64 lowercase hex digits without separators.
    pub fn to_hex(&self) -> String {
        hex_encode(&self.0)
    }

    /// Parses 64 hex digits in either case, ignoring any ':' separators,
    /// so both `ab12…` and `AB:12:…` are accepted.
    pub fn from_hex(text: &str) -> Result<Fingerprint, ParseFingerprintError> {
        let digits = normalize_hex(text).map_err(|reason| ParseFingerprintError {
            input: text.to_owned(),
            reason,
        })?;
        if digits.len() != 64 {
            return Err(ParseFingerprintError {
                input: text.to_owned(),
                reason: format!("it has {} hex digits", digits.len()),
            });
        }

        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(digits.as_bytes().chunks_exact(2)) {
            *byte = (hex_value(pair[0]) << 4) | hex_value(pair[1]);
        }
        Ok(Fingerprint(bytes))
    }

    /// Builds a fingerprint from a 32-byte slice, or returns `None` for any other length.
    pub fn from_slice(bytes: &[u8]) -> Option<Fingerprint> {
        bytes.try_into().ok().map(Fingerprint)
    }

    /// Returns the 32 digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Lowercases `text` and drops ':' separators, or returns the reason it is
/// not hex. Shared by fingerprint parsing and prefix search.
pub(crate) fn normalize_hex(text: &str) -> Result<String, String> {
    let mut digits = String::with_capacity(text.len());
    for c in text.chars().filter(|&c| c != ':') {
        if !c.is_ascii_hexdigit() {
            return Err(format!("{c:?} is not a hex digit"));
        }
        digits.push(c.to_ascii_lowercase());
    }
    Ok(digits)
}

pub(crate) fn hex_encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

/// Value of one ASCII hex digit that [`normalize_hex`] has already checked.
fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        b'A'..=b'F' => digit - b'A' + 10,
        _ => 0,
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.to_hex())
    }
}

impl FromStr for Fingerprint {
    type Err = ParseFingerprintError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Fingerprint::from_hex(text)
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Fingerprint {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Fingerprint::from_hex(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "00ff10a0b1c2d3e4f5061728394a5b6c7d8e9fa0b1c2d3e4f5061728394a5b6c";

    #[test]
    fn hex_round_trip() {
        let fingerprint = Fingerprint::from_hex(HEX).unwrap();
        assert_eq!(fingerprint.0[0], 0x00);
        assert_eq!(fingerprint.0[1], 0xff);
        assert_eq!(fingerprint.to_hex(), HEX);
        assert_eq!(fingerprint.to_string(), HEX);
    }

    #[test]
    fn from_hex_accepts_upper_case_and_colons() {
        let upper_with_colons = HEX
            .to_ascii_uppercase()
            .as_bytes()
            .chunks(2)
            .map(|pair| std::str::from_utf8(pair).unwrap())
            .collect::<Vec<_>>()
            .join(":");
        let fingerprint: Fingerprint = upper_with_colons.parse().unwrap();
        assert_eq!(fingerprint.to_hex(), HEX);
    }

    #[test]
    fn from_hex_rejects_bad_input() {
        for bad in [
            "",
            "abc",
            &HEX[..62],
            &format!("{HEX}00"),
            &HEX.replace('a', "g"),
        ] {
            let error = Fingerprint::from_hex(bad).unwrap_err();
            assert_eq!(error.input, bad);
        }
    }

    #[test]
    fn serde_uses_hex_string() {
        let fingerprint = Fingerprint::from_hex(HEX).unwrap();
        let json = serde_json::to_string(&fingerprint).unwrap();
        assert_eq!(json, format!("\"{HEX}\""));
        let back: Fingerprint = serde_json::from_str(&json).unwrap();
        assert_eq!(back, fingerprint);
        assert!(serde_json::from_str::<Fingerprint>("\"zz\"").is_err());
    }
}
