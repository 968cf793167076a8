//! The trust store's location, and the lists every store starts with.

use std::path::{Path, PathBuf};

use gwtrust_store::{Policy, Store};

use crate::chain::{Candidate, RootSource};
use crate::error::{Error, Result};

/// The environment variable that names the store directory when `--store` is not given.
pub const STORE_ENV: &str = "GWTRUST_STORE";

/// The list `pin` writes to by default: the presence server's trust, which keeps roots only.
pub const PRESENCE_LIST: &str = "presence";

/// Lists created in every store, with their policies.
pub const BUILTIN_LISTS: &[(&str, Policy)] = &[
    (PRESENCE_LIST, Policy::RootOnly),
    (TOMCAT_LIST, Policy::Ordered),
];

/// The list of Tomcat's trust, which needs the root before the intermediate before the leaf.
pub const TOMCAT_LIST: &str = "tomcat";

/// Returns the store directory: `--store`, else `$GWTRUST_STORE`, else
/// `$XDG_DATA_HOME/gwtrust`, else `~/.local/share/gwtrust`.
pub fn store_dir(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(dir) = explicit {
        return Ok(dir.to_path_buf());
    }
    let from_env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };

    if let Some(dir) = from_env(STORE_ENV) {
        return Ok(dir);
    }
    if let Some(data) = from_env("XDG_DATA_HOME") {
        return Ok(data.join("gwtrust"));
    }
    if let Some(home) = from_env("HOME") {
        return Ok(home.join(".local/share/gwtrust"));
    }
    Err(Error::NoStoreDirectory)
}

/// Opens the store, creating the built-in lists if they are missing.
pub fn open(dir: &Path) -> Result<Store> {
    let store = Store::open(dir)?;
    let created = now_rfc3339();
    for (name, policy) in BUILTIN_LISTS {
        store.ensure_list(name, *policy, &created)?;
    }
    Ok(store)
}

/// Returns every stored certificate as a root candidate, the entries of `list` first, so the
/// list's own copy is reported when a root is in several lists.
pub fn root_candidates(store: &Store, list: &str) -> Result<Vec<Candidate>> {
    let mut entries = store.entries(list)?;
    entries.extend(store.all_entries()?.into_iter().filter(|e| e.list != list));
    Ok(entries
        .into_iter()
        .map(|entry| Candidate {
            der: entry.der.into(),
            source: RootSource::Store { list: entry.list },
        })
        .collect())
}

/// Returns the current time as RFC 3339 UTC, to the second.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("zero nanoseconds is valid");
    now.format(&time::format_description::well_known::Rfc3339)
        .expect("a UTC time formats as RFC 3339")
}
