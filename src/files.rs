//! Writing output files so that a failure never leaves a half-written one behind.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// File mode for private keys and PKCS#12 files.
pub const PRIVATE_MODE: u32 = 0o600;
/// File mode for certificates and other public files.
pub const PUBLIC_MODE: u32 = 0o644;

/// Writes `data` to `path` atomically: a temporary file in the same directory, created with
/// `mode`, is renamed over the target, so readers see either the old file or the new one.
pub fn write_atomic(path: &Path, data: &[u8], mode: u32) -> Result<()> {
    let write_error = |source| Error::WriteFile {
        path: path.to_path_buf(),
        source,
    };

    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let temporary = directory.join(format!(".{file_name}.gwtrust-{}.tmp", std::process::id()));

    // Renaming over a device or a directory would replace it: refuse anything but a file.
    if let Ok(existing) = fs::symlink_metadata(path) {
        if !existing.is_file() {
            return Err(Error::InvalidInput {
                path: path.to_path_buf(),
                reason: "exists and is not a regular file; choose another output path".into(),
            });
        }
    }

    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temporary)?;
        file.write_all(data)?;
        file.sync_all()?;

        // The mode given to open() is reduced by the umask, so set it explicitly.
        fs::set_permissions(&temporary, fs::Permissions::from_mode(mode))?;
        fs::rename(&temporary, path)
    })();

    if let Err(source) = result {
        let _ = fs::remove_file(&temporary);
        return Err(write_error(source));
    }
    Ok(())
}

/// Creates `dir` and its parents if missing.
pub fn create_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|source| Error::WriteFile {
        path: dir.to_path_buf(),
        source,
    })
}

/// Maximum size of an input file: far above any trust bundle an admin has (the Mozilla bundle
/// is about 200 KiB), and low enough that a wrong path such as a disk image fails at once.
pub const MAX_INPUT_BYTES: u64 = 512 * 1024 * 1024;

/// Reads a whole regular file of at most [`MAX_INPUT_BYTES`], naming it in the error.
///
/// Devices, FIFOs and sockets are rejected, because reading `/dev/zero` or a FIFO never ends.
pub fn read(path: &Path) -> Result<Vec<u8>> {
    let invalid = |reason: String| Error::InvalidInput {
        path: path.to_path_buf(),
        reason,
    };
    let read_error = |source| Error::ReadFile {
        path: path.to_path_buf(),
        source,
    };

    let metadata = fs::metadata(path).map_err(read_error)?;
    if metadata.is_dir() {
        return Err(invalid(
            "is a directory; name a certificate or key file".into(),
        ));
    }
    if !metadata.is_file() {
        return Err(invalid(
            "is not a regular file (a device, FIFO or socket); name a certificate or key file"
                .into(),
        ));
    }
    if metadata.len() > MAX_INPUT_BYTES {
        return Err(invalid(format!(
            "is {} bytes, more than the {} MiB gwtrust reads; check the path",
            metadata.len(),
            MAX_INPUT_BYTES / (1024 * 1024)
        )));
    }

    let file = fs::File::open(path).map_err(read_error)?;
    let mut data = Vec::with_capacity(metadata.len() as usize);
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut data)
        .map_err(read_error)?;
    if data.len() as u64 > MAX_INPUT_BYTES {
        return Err(invalid("grew past the size limit while it was read".into()));
    }
    Ok(data)
}
