//! Reading the audit's inputs: PEM bundles, DER files, directories of them, and store lists.
//!
//! Every file is read once into its own buffer. PEM bodies are base64-decoded in place, into
//! the start of their own block, so the DER of every certificate borrows from the file's
//! buffer and memory stays near the total file size however many certificates there are.
//! Every problem becomes a finding with its file and byte offset; nothing here fails the audit.

use std::collections::HashSet;
use std::ops::Range;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use rayon::prelude::*;

use super::findings::{Finding, Kind, Location};

/// Base64 as OpenSSL writes and reads it in PEM: padding optional, trailing bits ignored.
const PEM_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// PEM labels that hold one X.509 certificate. OpenSSL's `TRUSTED CERTIFICATE` appends its
/// trust settings after the certificate.
const CERTIFICATE_LABELS: &[&[u8]] = &[b"CERTIFICATE", b"X509 CERTIFICATE", b"TRUSTED CERTIFICATE"];

/// One file's bytes, or one store entry's DER.
pub struct Buffer {
    /// Index of the input (list or PATH argument) the buffer belongs to.
    pub source: usize,
    /// The file read, for path inputs.
    pub file: Option<String>,
    pub bytes: Vec<u8>,
}

/// One certificate candidate: where it sits in its file and where its DER is in the buffer.
pub struct Entry {
    pub buffer: usize,
    /// Byte offset of the PEM block or DER element in the file as read.
    pub offset: usize,
    pub der: Range<usize>,
    /// Bytes may follow the certificate (`TRUSTED CERTIFICATE` trust settings).
    pub trailing_allowed: bool,
}

/// A PEM certificate block found in a buffer, before decoding.
struct Block {
    buffer: usize,
    /// The `-----BEGIN` line.
    start: usize,
    body: Range<usize>,
    /// Just past the `-----END ...-----` marker.
    end: usize,
    trailing_allowed: bool,
}

/// Everything read for an audit.
#[derive(Default)]
pub struct Inputs {
    /// Names of the inputs: list names and PATH arguments as given.
    pub sources: Vec<String>,
    /// Files read per input (0 for lists).
    pub files: Vec<usize>,
    pub buffers: Vec<Buffer>,
    pub entries: Vec<Entry>,
    pub findings: Vec<Finding>,
}

impl Inputs {
    /// Returns where an entry sits, for findings.
    pub fn location(&self, entry: &Entry) -> Location {
        let buffer = &self.buffers[entry.buffer];
        Location {
            source: self.sources[buffer.source].clone(),
            file: buffer.file.clone(),
            offset: buffer.file.as_ref().map(|_| entry.offset as u64),
        }
    }

    /// Returns an entry's DER.
    pub fn der(&self, entry: &Entry) -> &[u8] {
        &self.buffers[entry.buffer].bytes[entry.der.clone()]
    }

    /// Adds a store list's certificates as one input.
    pub fn add_list(&mut self, name: &str, ders: impl IntoIterator<Item = Vec<u8>>) {
        let source = self.push_source(name);
        for der in ders {
            self.entries.push(Entry {
                buffer: self.buffers.len(),
                offset: 0,
                der: 0..der.len(),
                trailing_allowed: false,
            });
            self.buffers.push(Buffer {
                source,
                file: None,
                bytes: der,
            });
        }
    }

    /// Adds a file or a directory (read recursively, following symbolic links, each file once)
    /// as one input. Certificates are found later, by [`Inputs::decode`].
    pub fn add_path(&mut self, path: &Path) {
        let source = self.push_source(&path.display().to_string());
        let mut files = Vec::new();
        let mut seen = HashSet::new();
        self.collect_files(source, path, &mut files, &mut seen);

        self.files[source] = files.len();
        for file in files {
            match std::fs::read(&file) {
                Ok(bytes) => self.buffers.push(Buffer {
                    source,
                    file: Some(file.display().to_string()),
                    bytes,
                }),
                Err(err) => self.unreadable(source, &file, &err),
            }
        }
    }

    fn push_source(&mut self, name: &str) -> usize {
        self.sources.push(name.to_string());
        self.files.push(0);
        self.sources.len() - 1
    }

    fn unreadable(&mut self, source: usize, path: &Path, err: &std::io::Error) {
        let location = Location {
            source: self.sources[source].clone(),
            file: Some(path.display().to_string()),
            offset: None,
        };
        self.findings.push(Finding::new(
            Kind::Unreadable,
            location,
            format!("cannot read {}: {err}", path.display()),
        ));
    }

    fn collect_files(
        &mut self,
        source: usize,
        path: &Path,
        files: &mut Vec<PathBuf>,
        seen: &mut HashSet<PathBuf>,
    ) {
        // Canonical paths catch the hash links of OpenSSL CA directories and symlink loops.
        let canonical = match std::fs::canonicalize(path) {
            Ok(canonical) => canonical,
            Err(err) => return self.unreadable(source, path, &err),
        };
        if !seen.insert(canonical.clone()) {
            return;
        }
        if !canonical.is_dir() {
            files.push(path.to_path_buf());
            return;
        }

        let listing = match std::fs::read_dir(path) {
            Ok(listing) => listing,
            Err(err) => return self.unreadable(source, path, &err),
        };
        let mut children: Vec<PathBuf> = listing
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .collect();
        children.sort();
        for child in children {
            self.collect_files(source, &child, files, seen);
        }
    }

    /// Finds the certificates in every file buffer and decodes PEM bodies in place, in
    /// parallel. Store-list buffers are DER already.
    pub fn decode(&mut self) {
        let mut blocks = Vec::new();
        for index in 0..self.buffers.len() {
            if self.buffers[index].file.is_some() {
                self.scan(index, &mut blocks);
            }
        }

        let results = decode_blocks(&mut self.buffers, &blocks);

        for (block, result) in blocks.iter().zip(results) {
            match result {
                Ok(len) => self.entries.push(Entry {
                    buffer: block.buffer,
                    offset: block.start,
                    der: block.start..block.start + len,
                    trailing_allowed: block.trailing_allowed,
                }),
                Err(reason) => {
                    let location = self.file_location(block.buffer, block.start);
                    self.findings.push(Finding::new(
                        Kind::Unparseable,
                        location,
                        format!("PEM block has invalid base64: {reason}"),
                    ));
                }
            }
        }

        // Keep file order: entries from the scan (DER) and from decoding (PEM) interleave.
        self.entries
            .sort_by_key(|entry| (entry.buffer, entry.offset));
    }

    fn file_location(&self, buffer: usize, offset: usize) -> Location {
        let buffer = &self.buffers[buffer];
        Location {
            source: self.sources[buffer.source].clone(),
            file: buffer.file.clone(),
            offset: Some(offset as u64),
        }
    }

    /// Finds PEM certificate blocks, or DER certificates, in one file buffer.
    fn scan(&mut self, index: usize, blocks: &mut Vec<Block>) {
        if self.scan_container(index) {
            return;
        }
        let bytes = &self.buffers[index].bytes;
        let begin_marker = memchr::memmem::Finder::new(b"-----BEGIN ");
        let mut findings = Vec::new();
        let mut found = 0usize;

        if bytes.first() == Some(&0x30) && begin_marker.find(bytes).is_none() {
            found += self.scan_der(index, &mut findings);
        } else {
            // The END line is looked for only before the next BEGIN line, so a truncated
            // block costs only itself.
            let mut end_finder: Option<(Vec<u8>, memchr::memmem::Finder<'static>)> = None;
            let mut next = begin_marker.find(bytes);
            while let Some(start) = next {
                let label_start = start + b"-----BEGIN ".len();
                let line_end = memchr::memchr(b'\n', &bytes[label_start..])
                    .map_or(bytes.len(), |n| label_start + n);
                let body_start = (line_end + 1).min(bytes.len());
                let following = begin_marker
                    .find(&bytes[body_start..])
                    .map(|n| body_start + n);
                next = following;

                let Some(label_len) = memchr::memmem::find(&bytes[label_start..line_end], b"-----")
                else {
                    findings.push((
                        start,
                        Kind::Unparseable,
                        "PEM BEGIN line has no closing -----".to_string(),
                    ));
                    continue;
                };
                let label = &bytes[label_start..label_start + label_len];

                if end_finder
                    .as_ref()
                    .is_none_or(|(cached, _)| cached != label)
                {
                    let marker = [b"-----END ", label, b"-----"].concat();
                    let finder = memchr::memmem::Finder::new(&marker).into_owned();
                    end_finder = Some((label.to_vec(), finder));
                }
                let (_, finder) = end_finder.as_ref().expect("set above");
                let limit = following.unwrap_or(bytes.len());
                let Some(body_len) = finder.find(&bytes[body_start..limit]) else {
                    findings.push((
                        start,
                        Kind::Unparseable,
                        format!(
                            "PEM block {} has no END line before the next block or the end of the file; it is truncated",
                            String::from_utf8_lossy(label)
                        ),
                    ));
                    continue;
                };
                let end = body_start + body_len + finder.needle().len();

                if CERTIFICATE_LABELS.contains(&label) {
                    found += 1;
                    blocks.push(Block {
                        buffer: index,
                        start,
                        body: body_start..body_start + body_len,
                        end,
                        trailing_allowed: label == b"TRUSTED CERTIFICATE",
                    });
                } else {
                    findings.push((
                        start,
                        Kind::NotACertificate,
                        format!(
                            "PEM block of type {} is not a certificate",
                            String::from_utf8_lossy(label)
                        ),
                    ));
                }
            }
        }

        if found == 0 && findings.is_empty() {
            findings.push((
                0,
                Kind::NoCertificate,
                "no certificate found: expected PEM CERTIFICATE blocks or DER".to_string(),
            ));
        }
        for (offset, kind, message) in findings {
            let mut location = self.file_location(index, offset);
            if kind == Kind::NoCertificate {
                location.offset = None;
            }
            self.findings.push(Finding::new(kind, location, message));
        }
    }

    /// Reads a file in one of the other formats gwtrust imports (PKCS#7, base64 DER without
    /// armor, PKCS#12) with the shared decoder. Returns false for PEM certificate bundles and
    /// DER certificates, which the fast path reads, so a large bundle is never decoded twice.
    fn scan_container(&mut self, index: usize) -> bool {
        let bytes = &self.buffers[index].bytes;
        let pem_certificates = CERTIFICATE_LABELS.iter().any(|label| {
            memchr::memmem::find(bytes, &[b"-----BEGIN ", *label, b"-----"].concat()).is_some()
        });
        let der_certificate =
            bytes.first() == Some(&0x30) && x509_parser::parse_x509_certificate(bytes).is_ok();
        if pem_certificates || der_certificate {
            return false;
        }

        let mut no_password = || -> crate::error::Result<String> {
            Err(crate::error::Error::CheckFailed("no password".into()))
        };
        match crate::formats::decode(bytes, &mut no_password) {
            Ok(Ok(crate::formats::Content::Certificates(decoded))) => {
                // The certificates are copied into the buffer, one after the other; their
                // offsets are then positions in that copy, so findings name the format instead.
                let mut joined = Vec::new();
                for der in &decoded.certificates {
                    let start = joined.len();
                    joined.extend_from_slice(der);
                    self.entries.push(Entry {
                        buffer: index,
                        offset: start,
                        der: start..joined.len(),
                        trailing_allowed: false,
                    });
                }
                self.buffers[index].bytes = joined;
                if let Some(file) = &mut self.buffers[index].file {
                    file.push_str(&format!(" ({})", decoded.format));
                }
                true
            }
            Ok(Err(crate::formats::Pkcs12Failure::Password(_))) => {
                let mut location = self.file_location(index, 0);
                location.offset = None;
                self.findings.push(Finding::new(
                    Kind::NeedsPassword,
                    location,
                    "a PKCS#12 file: its certificates are encrypted, and the audit asks for no passwords".to_string(),
                ));
                true
            }
            _ => false,
        }
    }

    /// Splits a DER file into its top-level elements, one certificate each. Returns how many.
    fn scan_der(&mut self, index: usize, findings: &mut Vec<(usize, Kind, String)>) -> usize {
        use x509_parser::asn1_rs::{Any, FromDer};

        let bytes = &self.buffers[index].bytes;
        let mut position = 0;
        let mut found = 0;
        while position < bytes.len() {
            match Any::from_der(&bytes[position..]) {
                Ok((rest, _)) => {
                    let len = bytes.len() - position - rest.len();
                    self.entries.push(Entry {
                        buffer: index,
                        offset: position,
                        der: position..position + len,
                        trailing_allowed: false,
                    });
                    found += 1;
                    position += len;
                }
                Err(err) => {
                    findings.push((position, Kind::Unparseable, format!("invalid DER: {err}")));
                    break;
                }
            }
        }
        found
    }
}

/// Decodes every block's base64 body into the start of the block itself, in parallel, and
/// returns the DER length of each. The DER is always shorter than the block, and blocks never
/// overlap, so each decode writes only into its own block.
fn decode_blocks(buffers: &mut [Buffer], blocks: &[Block]) -> Vec<Result<usize, String>> {
    let mut slices: Vec<(&mut [u8], Range<usize>)> = Vec::with_capacity(blocks.len());
    let mut blocks_iter = blocks.iter().peekable();
    for (index, buffer) in buffers.iter_mut().enumerate() {
        let mut rest: &mut [u8] = &mut buffer.bytes;
        let mut consumed = 0;
        while let Some(block) = blocks_iter.next_if(|block| block.buffer == index) {
            let (_, tail) = std::mem::take(&mut rest).split_at_mut(block.start - consumed);
            let (mine, tail) = tail.split_at_mut(block.end - block.start);
            consumed = block.end;
            rest = tail;
            let body = block.body.start - block.start..block.body.end - block.start;
            slices.push((mine, body));
        }
    }

    slices
        .into_par_iter()
        .map_init(Vec::new, |scratch: &mut Vec<u8>, (block, body)| {
            // Fast path: whitespace only at line ends, as every PEM writer produces.
            scratch.clear();
            let text = &block[body];
            let mut line_start = 0;
            for line_end in memchr::memchr_iter(b'\n', text).chain([text.len()]) {
                scratch.extend_from_slice(text[line_start..line_end].trim_ascii());
                line_start = (line_end + 1).min(text.len());
            }
            if let Ok(len) = PEM_BASE64.decode_slice(&scratch[..], &mut *block) {
                return Ok(len);
            }

            // Whitespace inside lines, or invalid base64. The failed decode may have written
            // over the body, so strip the rest of the whitespace from the copy.
            scratch.retain(|byte| !byte.is_ascii_whitespace());
            PEM_BASE64
                .decode_slice(&scratch[..], block)
                .map_err(|err| err.to_string())
        })
        .collect()
}
