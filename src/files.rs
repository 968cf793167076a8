//! Writing output files so that a failure never leaves a half-written one behind.

use std::fs;
use std::io::Write;
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

/// Reads a whole file, naming it in the error.
pub fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|source| Error::ReadFile {
        path: path.to_path_buf(),
        source,
    })
}
