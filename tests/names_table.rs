//! Runs every case in testdata/names/cases.tsv through `gwtrust::names`.
//! The file's header describes the columns and escapes.

use std::net::IpAddr;

use gwtrust::names::{match_host, NameMatch, PresentedNames, Profile, ReferenceName};

const CASES_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/names/cases.tsv");

/// Fewer rows than this means the table was truncated or emptied.
const MIN_ROWS: usize = 60;

#[test]
fn name_matching_table() {
    let text = std::fs::read_to_string(CASES_PATH)
        .unwrap_or_else(|error| panic!("cannot read {CASES_PATH}: {error}"));

    let mut rows = 0;
    let mut failed_rows = 0;
    let mut failures = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        rows += 1;
        let line_number = index + 1;
        if let Err(problems) = check_row(line) {
            failed_rows += 1;
            for problem in problems {
                failures.push(format!("line {line_number}: {problem}\n    row: {line:?}"));
            }
        }
    }

    assert!(
        failures.is_empty(),
        "{failed_rows} of {rows} rows failed:\n{}",
        failures.join("\n")
    );
    assert!(
        rows >= MIN_ROWS,
        "{CASES_PATH} has {rows} cases; at least {MIN_ROWS} are expected"
    );
}

/// Checks one row and returns every mismatch found in it.
fn check_row(line: &str) -> Result<(), Vec<String>> {
    let columns: Vec<&str> = line.split('\t').collect();
    if !(4..=5).contains(&columns.len()) {
        return Err(vec![format!(
            "expected 4 or 5 TAB-separated columns, found {}",
            columns.len()
        )]);
    }
    let presented = parse_presented(columns[0]).map_err(|error| vec![error])?;
    let reference_text = unescape(columns[1]).map_err(|error| vec![error])?;
    let profile: Profile = columns[2]
        .parse()
        .map_err(|error| vec![format!("{error}")])?;
    let expected = columns[3];
    let checks: Vec<&str> = columns
        .get(4)
        .map(|column| column.split(' ').filter(|c| !c.is_empty()).collect())
        .unwrap_or_default();

    let reference = match (ReferenceName::parse(&reference_text), expected) {
        (Err(error), "invalid") => {
            let message = error.to_string();
            let quoted = format!("{reference_text:?}");
            if message.contains(&quoted) {
                return Ok(());
            }
            return Err(vec![format!(
                "error message {message:?} does not name the value {quoted}"
            )]);
        }
        (Err(error), _) => return Err(vec![format!("reference does not parse: {error}")]),
        (Ok(reference), "invalid") => {
            return Err(vec![format!(
                "reference parsed as {reference:?}, expected a parse error"
            )])
        }
        (Ok(reference), _) => reference,
    };

    let result = match_host(&reference, &presented, profile);
    let mut problems = Vec::new();
    check_expected(expected, &checks, &presented, &result, &mut problems);
    check_extras(&checks, &result, &mut problems);

    if problems.is_empty() {
        Ok(())
    } else {
        problems.push(format!("result: {result:?}"));
        Err(problems)
    }
}

fn check_expected(
    expected: &str,
    checks: &[&str],
    presented: &PresentedNames,
    result: &NameMatch,
    problems: &mut Vec<String>,
) {
    if expected == "nomatch" {
        if let Some(matched) = &result.matched {
            problems.push(format!("expected no match, got {matched:?}"));
        }
        let total = presented.dns_names.len()
            + presented.ip_addresses.len()
            + presented.invalid_ip_addresses.len()
            + presented.common_names.len();
        if result.rejected.len() != total {
            problems.push(format!(
                "{} of {total} presented names are listed as rejected",
                result.rejected.len()
            ));
        }
        return;
    }

    let Some((name_token, rule)) = expected
        .strip_prefix("match:")
        .and_then(|rest| rest.rsplit_once(':'))
    else {
        problems.push(format!("unknown expected result {expected:?}"));
        return;
    };
    let Some(matched) = &result.matched else {
        problems.push(format!(
            "expected a match on {name_token} by {rule}, got none"
        ));
        return;
    };

    match parse_name_token(name_token) {
        Ok((kind, value)) => {
            if code(&matched.kind) != kind || !same_name(kind, &matched.name, &value) {
                problems.push(format!(
                    "matched {} {:?}, expected {name_token}",
                    code(&matched.kind),
                    matched.name
                ));
            }
        }
        Err(error) => problems.push(error),
    }
    if code(&matched.rule) != rule {
        problems.push(format!("rule {}, expected {rule}", code(&matched.rule)));
    }
    let expect_wildcard = rule == "wildcard" || checks.contains(&"wildcard");
    if matched.wildcard != expect_wildcard {
        problems.push(format!(
            "matched.wildcard is {}, expected {expect_wildcard}",
            matched.wildcard
        ));
    }
}

/// Checks the `reject:`, `warnings=` and `notes=` tokens of column 5.
fn check_extras(checks: &[&str], result: &NameMatch, problems: &mut Vec<String>) {
    let mut expected_warnings = 0;
    let mut expected_notes = 0;

    for check in checks {
        if let Some(count) = check.strip_prefix("warnings=") {
            expected_warnings = count.parse().unwrap_or(usize::MAX);
        } else if let Some(count) = check.strip_prefix("notes=") {
            expected_notes = count.parse().unwrap_or(usize::MAX);
        } else if let Some(rejection) = check.strip_prefix("reject:") {
            check_rejection(rejection, result, problems);
        } else if *check != "wildcard" {
            problems.push(format!("unknown check {check:?}"));
        }
    }

    if result.warnings.len() != expected_warnings {
        problems.push(format!(
            "{} warnings, expected {expected_warnings}: {:?}",
            result.warnings.len(),
            result.warnings
        ));
    }
    if result.notes.len() != expected_notes {
        problems.push(format!(
            "{} notes, expected {expected_notes}: {:?}",
            result.notes.len(),
            result.notes
        ));
    }
}

fn check_rejection(rejection: &str, result: &NameMatch, problems: &mut Vec<String>) {
    let Some((name_token, reason)) = rejection.rsplit_once('=') else {
        problems.push(format!("check reject:{rejection} has no '='"));
        return;
    };
    let (kind, value) = match parse_name_token(name_token) {
        Ok(parsed) => parsed,
        Err(error) => {
            problems.push(error);
            return;
        }
    };

    let found = result
        .rejected
        .iter()
        .find(|r| code(&r.kind) == kind && same_name(kind, &r.name, &value));
    match found {
        None => problems.push(format!("{name_token} is not among the rejected names")),
        Some(r) if code(&r.reason) != reason => problems.push(format!(
            "{name_token} rejected as {}, expected {reason}",
            code(&r.reason)
        )),
        Some(_) => {}
    }
}

/// Parses column 1 into presented names.
fn parse_presented(column: &str) -> Result<PresentedNames, String> {
    let mut presented = PresentedNames::default();
    if column == "-" {
        return Ok(presented);
    }
    for token in column.split(' ') {
        if token == "san-error" {
            presented.san_error = Some("test: unreadable subjectAltName".to_owned());
            continue;
        }
        let (kind, value) = parse_name_token(token)?;
        match kind {
            "dns_san" => presented.dns_names.push(value),
            "common_name" => presented.common_names.push(value),
            "ip_san" if token.starts_with("ipraw:") => presented.invalid_ip_addresses.push(value),
            "ip_san" => presented.ip_addresses.push(
                value
                    .parse::<IpAddr>()
                    .map_err(|error| format!("{token:?}: {error}"))?,
            ),
            _ => unreachable!("parse_name_token returns only known kinds"),
        }
    }
    Ok(presented)
}

/// Splits `dns:VALUE`, `ip:VALUE`, `ipraw:VALUE` or `cn:VALUE` into the
/// serialized `NameKind` and the unescaped value.
fn parse_name_token(token: &str) -> Result<(&'static str, String), String> {
    let (prefix, raw) = token
        .split_once(':')
        .ok_or_else(|| format!("name {token:?} has no kind prefix"))?;
    let kind = match prefix {
        "dns" => "dns_san",
        "ip" | "ipraw" => "ip_san",
        "cn" => "common_name",
        _ => return Err(format!("name {token:?} has unknown kind {prefix:?}")),
    };
    Ok((kind, unescape(raw)?))
}

/// Compares names, reading iPAddress SAN text as addresses so that any
/// textual form of the same address is equal.
fn same_name(kind: &str, actual: &str, expected: &str) -> bool {
    if kind == "ip_san" {
        if let (Ok(a), Ok(b)) = (actual.parse::<IpAddr>(), expected.parse::<IpAddr>()) {
            return a == b;
        }
    }
    actual == expected
}

/// Returns the serde form of a result enum: `partial_wildcard`, or
/// `malformed:control_character` for a variant with a value.
fn code<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value).expect("result types serialize") {
        serde_json::Value::String(text) => text,
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(key, inner)| format!("{key}:{}", inner.as_str().unwrap_or("?")))
            .collect(),
        other => other.to_string(),
    }
}

/// Decodes `\xHH`, `\u{H..}` and `\\`.
fn unescape(text: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(ch) = chars.next() {
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        let decoded = match chars.next() {
            Some('\\') => Some('\\'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                u8::from_str_radix(&hex, 16)
                    .ok()
                    .filter(u8::is_ascii)
                    .map(char::from)
            }
            Some('u') => {
                let rest = chars.as_str();
                let close = rest.find('}');
                let code_point = close
                    .filter(|_| rest.starts_with('{'))
                    .and_then(|end| u32::from_str_radix(&rest[1..end], 16).ok())
                    .and_then(char::from_u32);
                if let Some(end) = close {
                    chars = rest[end + 1..].chars();
                }
                code_point
            }
            _ => None,
        };
        out.push(decoded.ok_or_else(|| format!("invalid escape in {text:?}"))?);
    }
    Ok(out)
}
