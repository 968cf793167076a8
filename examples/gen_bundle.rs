//! Writes a PEM bundle of distinct self-signed roots, for benchmarking `gwtrust audit`.
//!
//! Usage: cargo run --release --example gen_bundle -- OUT [COUNT] [rsa|ec]
//! (COUNT defaults to 100000, the key type to rsa: RSA-2048 roots sharing 32 keys).

#[path = "../benches/support/bundle.rs"]
mod bundle;

use std::process::ExitCode;

/// Keys shared by the generated roots: enough that consecutive roots differ.
const KEY_POOL: usize = 32;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.first() else {
        eprintln!("usage: gen_bundle OUT [COUNT] [rsa|ec]");
        return ExitCode::from(2);
    };
    let count = match args.get(1).map(|n| n.parse::<usize>()) {
        None => 100_000,
        Some(Ok(count)) => count,
        Some(Err(err)) => {
            eprintln!("gen_bundle: invalid COUNT {:?}: {err}", args[1]);
            return ExitCode::from(2);
        }
    };
    let key_type = match args.get(2).map(String::as_str) {
        None | Some("rsa") => bundle::KeyType::Rsa2048,
        Some("ec") => bundle::KeyType::EcP256,
        Some(other) => {
            eprintln!("gen_bundle: invalid key type {other:?}; expected rsa or ec");
            return ExitCode::from(2);
        }
    };

    let pem = bundle::generate(count, KEY_POOL, key_type);

    // Write next to the target and rename, so an interrupted run leaves no partial bundle.
    let temporary = format!("{out}.partial");
    if let Err(err) =
        std::fs::write(&temporary, pem).and_then(|()| std::fs::rename(&temporary, out))
    {
        eprintln!("gen_bundle: cannot write {out}: {err}");
        return ExitCode::from(1);
    }
    eprintln!("gen_bundle: wrote {count} roots to {out}");
    ExitCode::SUCCESS
}
