//! `PresentedNames::from_cert` on real certificates: generated with rcgen,
//! parsed with x509-parser, then matched with `match_host`.

use gwtrust::names::{
    match_host, Malformation, MatchRule, NameKind, NameMatch, PresentedNames, Profile,
    ReferenceName, RejectReason,
};
use rcgen::string::{BmpString, Ia5String, PrintableString};
use rcgen::{
    CertificateParams, CustomExtension, DistinguishedName, DnType, DnValue, KeyPair, SanType,
};

/// OID of the subjectAltName extension, 2.5.29.17.
const SUBJECT_ALT_NAME_OID: &[u64] = &[2, 5, 29, 17];

/// Builds parameters with the given SAN entries (IP address text becomes an
/// iPAddress entry, anything else a dNSName) and subject CN attributes. The
/// subject has no other attribute.
fn params(sans: &[&str], common_names: Vec<DnValue>) -> CertificateParams {
    let sans: Vec<String> = sans.iter().map(|san| san.to_string()).collect();
    let mut params = CertificateParams::new(sans).expect("valid SAN entries");
    let mut subject = DistinguishedName::new();
    for common_name in common_names {
        // DistinguishedName keeps one value per type, so a second CN
        // replaces the first; tests use at most one.
        subject.push(DnType::CommonName, common_name);
    }
    params.distinguished_name = subject;
    params
}

fn self_signed_der(params: &CertificateParams) -> Vec<u8> {
    let key = KeyPair::generate().expect("key generation");
    let cert = params.self_signed(&key).expect("self-signed certificate");
    cert.der().to_vec()
}

fn presented_names(der: &[u8]) -> PresentedNames {
    let (rest, cert) = x509_parser::parse_x509_certificate(der).expect("certificate parses");
    assert!(rest.is_empty(), "trailing bytes after the certificate");
    PresentedNames::from_cert(&cert)
}

fn host(text: &str) -> ReferenceName {
    ReferenceName::parse(text).expect("valid host")
}

fn matched_rule(result: &NameMatch) -> Option<MatchRule> {
    result.matched.as_ref().map(|matched| matched.rule)
}

fn rejection_reason(result: &NameMatch, kind: NameKind, name: &str) -> Option<RejectReason> {
    result
        .rejected
        .iter()
        .find(|rejected| rejected.kind == kind && rejected.name == name)
        .map(|rejected| rejected.reason)
}

#[test]
fn cn_only_certificate() {
    let der = self_signed_der(&params(&[], vec!["owa.example.com".into()]));
    let presented = presented_names(&der);
    assert!(presented.dns_names.is_empty());
    assert!(presented.ip_addresses.is_empty());
    assert_eq!(presented.common_names, ["owa.example.com"]);
    assert_eq!(presented.san_error, None);

    let reference = host("OWA.example.com");
    let rfc6125 = match_host(&reference, &presented, Profile::Rfc6125);
    assert_eq!(matched_rule(&rfc6125), Some(MatchRule::CommonNameFallback));
    assert!(rfc6125.is_common_name_match());
    assert_eq!(rfc6125.warnings.len(), 1, "{:?}", rfc6125.warnings);
    let warning = rfc6125.warnings[0].to_lowercase();
    assert!(warning.contains("matched on cn only"), "{warning}");
    assert!(warning.contains("current clients reject this"), "{warning}");

    let legacy = match_host(&reference, &presented, Profile::Legacy);
    assert_eq!(matched_rule(&legacy), Some(MatchRule::CommonNameFallback));

    let exact = match_host(&reference, &presented, Profile::ExactSan);
    assert!(!exact.is_match());
    assert_eq!(
        rejection_reason(&exact, NameKind::CommonName, "owa.example.com"),
        Some(RejectReason::CommonNameNotAllowed)
    );
}

#[test]
fn san_with_cn_certificate() {
    let der = self_signed_der(&params(
        &["owa.example.com", "autodiscover.example.com"],
        vec!["legacy.example.com".into()],
    ));
    let presented = presented_names(&der);
    assert_eq!(
        presented.dns_names,
        ["owa.example.com", "autodiscover.example.com"]
    );
    assert_eq!(presented.common_names, ["legacy.example.com"]);

    let on_san = match_host(&host("owa.example.com"), &presented, Profile::Rfc6125);
    assert_eq!(matched_rule(&on_san), Some(MatchRule::ExactDns));
    assert!(on_san.warnings.is_empty(), "{:?}", on_san.warnings);

    let on_cn = host("legacy.example.com");
    let rfc6125 = match_host(&on_cn, &presented, Profile::Rfc6125);
    assert!(!rfc6125.is_match());
    assert_eq!(
        rejection_reason(&rfc6125, NameKind::CommonName, "legacy.example.com"),
        Some(RejectReason::CommonNameIgnored)
    );

    let legacy = match_host(&on_cn, &presented, Profile::Legacy);
    assert_eq!(matched_rule(&legacy), Some(MatchRule::LegacyCommonName));
    assert_eq!(legacy.warnings.len(), 1, "{:?}", legacy.warnings);

    let exact = match_host(&host("owa.example.com"), &presented, Profile::ExactSan);
    assert_eq!(matched_rule(&exact), Some(MatchRule::ExactDns));
    assert_eq!(exact.notes.len(), 1, "two dNSName SANs: {:?}", exact.notes);
}

#[test]
fn wildcard_san_certificate() {
    let der = self_signed_der(&params(&["*.example.com"], vec![]));
    let presented = presented_names(&der);
    assert_eq!(presented.dns_names, ["*.example.com"]);
    assert!(presented.common_names.is_empty());

    let reference = host("owa.example.com");
    let rfc6125 = match_host(&reference, &presented, Profile::Rfc6125);
    assert_eq!(matched_rule(&rfc6125), Some(MatchRule::Wildcard));

    let exact = match_host(&reference, &presented, Profile::ExactSan);
    assert_eq!(
        rejection_reason(&exact, NameKind::DnsSan, "*.example.com"),
        Some(RejectReason::WildcardNotAllowed)
    );
}

#[test]
fn ip_san_certificate() {
    let der = self_signed_der(&params(
        &["10.0.0.1", "2001:db8::1", "owa.example.com"],
        vec!["10.0.0.2".into()],
    ));
    let presented = presented_names(&der);
    let addresses: Vec<String> = presented
        .ip_addresses
        .iter()
        .map(|address| address.to_string())
        .collect();
    assert_eq!(addresses, ["10.0.0.1", "2001:db8::1"]);
    assert_eq!(presented.dns_names, ["owa.example.com"]);

    for text in ["10.0.0.1", "[2001:DB8:0:0:0:0:0:1]", "2001:db8::1"] {
        let result = match_host(&host(text), &presented, Profile::Rfc6125);
        assert_eq!(matched_rule(&result), Some(MatchRule::IpAddress), "{text}");
    }

    // The CN contains this address as text, and an IP host never matches a CN.
    let on_cn = match_host(&host("10.0.0.2"), &presented, Profile::Legacy);
    assert!(!on_cn.is_match());
    assert_eq!(
        rejection_reason(&on_cn, NameKind::CommonName, "10.0.0.2"),
        Some(RejectReason::NotIpSan)
    );

    let mapped = match_host(&host("::ffff:10.0.0.1"), &presented, Profile::Rfc6125);
    assert!(!mapped.is_match());
}

#[test]
fn nul_in_cn_utf8_string() {
    let spoofed = "owa.example.com\0.evil.example";
    let der = self_signed_der(&params(&[], vec![DnValue::Utf8String(spoofed.to_owned())]));
    let presented = presented_names(&der);
    assert_eq!(presented.common_names, [spoofed]);

    for profile in Profile::ALL {
        let result = match_host(&host("owa.example.com"), &presented, profile);
        assert!(!result.is_match(), "{profile}");
        assert_eq!(
            rejection_reason(&result, NameKind::CommonName, spoofed),
            Some(RejectReason::Malformed(Malformation::ControlCharacter)),
            "{profile}"
        );
        assert_eq!(result.warnings.len(), 1, "{profile}: {:?}", result.warnings);
        assert!(
            result.warnings[0].contains("\\0"),
            "the warning shows the NUL escaped: {:?}",
            result.warnings
        );
    }
}

#[test]
fn nul_in_cn_ia5_string() {
    // rcgen refuses NUL in a PrintableString, and accepts it in an IA5String.
    assert!(PrintableString::try_from("owa.example.com\0").is_err());
    let spoofed = "owa.example.com\0";
    let value = Ia5String::try_from(spoofed).expect("IA5String allows NUL");
    let der = self_signed_der(&params(&[], vec![DnValue::Ia5String(value)]));
    let presented = presented_names(&der);
    assert_eq!(presented.common_names, [spoofed]);

    let result = match_host(&host("owa.example.com"), &presented, Profile::Rfc6125);
    assert!(!result.is_match());
    assert_eq!(
        rejection_reason(&result, NameKind::CommonName, spoofed),
        Some(RejectReason::Malformed(Malformation::ControlCharacter))
    );
}

#[test]
fn nul_in_dns_san() {
    let spoofed = "owa.example.com\0.evil.example";
    let mut params = params(&["mail.example.com"], vec!["owa.example.com".into()]);
    params.subject_alt_names.push(SanType::DnsName(
        Ia5String::try_from(spoofed).expect("ASCII"),
    ));
    let presented = presented_names(&self_signed_der(&params));
    assert_eq!(presented.dns_names, ["mail.example.com", spoofed]);

    let result = match_host(&host("owa.example.com"), &presented, Profile::Rfc6125);
    assert!(!result.is_match());
    assert_eq!(
        rejection_reason(&result, NameKind::DnsSan, spoofed),
        Some(RejectReason::Malformed(Malformation::ControlCharacter))
    );
    assert_eq!(
        rejection_reason(&result, NameKind::CommonName, "owa.example.com"),
        Some(RejectReason::CommonNameIgnored)
    );
}

#[test]
fn bmp_string_cn_is_decoded() {
    let value = BmpString::try_from("owa.example.com").expect("BMPString");
    let der = self_signed_der(&params(&[], vec![DnValue::BmpString(value)]));
    let presented = presented_names(&der);
    assert_eq!(presented.common_names, ["owa.example.com"]);

    let result = match_host(&host("owa.example.com"), &presented, Profile::Rfc6125);
    assert_eq!(matched_rule(&result), Some(MatchRule::CommonNameFallback));
}

#[test]
fn non_utf8_dns_san_is_malformed() {
    // rcgen writes only ASCII dNSNames, so the bytes are changed after
    // signing. x509-parser does not check the signature.
    let params = params(&["zz.example.com"], vec![]);
    let mut der = self_signed_der(&params);
    let needle = b"zz.example.com";
    let offsets: Vec<usize> = der
        .windows(needle.len())
        .enumerate()
        .filter(|(_, window)| window == needle)
        .map(|(offset, _)| offset)
        .collect();
    assert_eq!(offsets.len(), 1, "the dNSName occurs once in the DER");
    der[offsets[0]] = 0xff;
    der[offsets[0] + 1] = 0xfe;

    let presented = presented_names(&der);
    assert_eq!(presented.dns_names, ["\u{FFFD}\u{FFFD}.example.com"]);

    let result = match_host(&host("zz.example.com"), &presented, Profile::Rfc6125);
    assert!(!result.is_match());
    assert_eq!(
        result.rejected[0].reason,
        RejectReason::Malformed(Malformation::NotAscii)
    );
}

#[test]
fn unreadable_san_disables_cn_fallback() {
    // A subjectAltName extension whose content is an INTEGER, not a
    // SEQUENCE of GeneralName.
    let mut params = params(&[], vec!["owa.example.com".into()]);
    params
        .custom_extensions
        .push(CustomExtension::from_oid_content(
            SUBJECT_ALT_NAME_OID,
            vec![0x02, 0x01, 0x00],
        ));
    let presented = presented_names(&self_signed_der(&params));
    assert!(presented.san_error.is_some(), "{presented:?}");
    assert!(presented.has_dns_sans());

    let reference = host("owa.example.com");
    let rfc6125 = match_host(&reference, &presented, Profile::Rfc6125);
    assert!(!rfc6125.is_match());
    assert_eq!(
        rejection_reason(&rfc6125, NameKind::CommonName, "owa.example.com"),
        Some(RejectReason::CommonNameIgnored)
    );
    assert!(
        rfc6125
            .warnings
            .iter()
            .any(|w| w.contains("subjectAltName")),
        "{:?}",
        rfc6125.warnings
    );
}

#[test]
fn result_serializes_snake_case() {
    let der = self_signed_der(&params(
        &["mail.example.com"],
        vec!["owa.example.com".into()],
    ));
    let presented = presented_names(&der);
    let result = match_host(&host("owa.example.com"), &presented, Profile::Legacy);

    let json = serde_json::to_value(&result).expect("serializes");
    assert_eq!(json["profile"], "legacy");
    assert_eq!(json["matched"]["kind"], "common_name");
    assert_eq!(json["matched"]["rule"], "legacy_common_name");
    assert_eq!(json["rejected"][0]["kind"], "dns_san");
    assert_eq!(json["rejected"][0]["reason"], "different_name");
}
