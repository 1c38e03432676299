//! `tessera derive`: a key file derived from a secret the host already has (spec §3.7).

use std::path::PathBuf;

use tessera_protocol::KeySet;

use crate::failure::{Failure, print};
use crate::keyfile;

/// Derive a key file from a host secret (HKDF-SHA256, spec §3.7): an active HS256 key and an
/// active A256GCM sealing key, plus verify-only keys of earlier secrets. The secrets are read
/// from environment variables, never from the command line (which other users can see).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The environment variable holding the secret (its UTF-8 bytes; at least 32), e.g. the
    /// variable a Django app reads its SECRET_KEY from.
    #[arg(long, value_name = "VAR")]
    secret_env: String,
    /// The label naming the use of the keys (1 to 255 bytes), typically the issuer.
    #[arg(long)]
    label: String,
    /// An environment variable holding an earlier secret, whose keys only verify (repeatable,
    /// in order: Django's SECRET_KEY_FALLBACKS).
    #[arg(long, value_name = "VAR")]
    fallback_env: Vec<String>,
    /// Where to write the key file (mode 0600); the active kid is printed.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Overwrite FILE if it exists.
    #[arg(long)]
    force: bool,
}

/// The secret in environment variable `var`, never quoted in an error.
fn secret(var: &str) -> Result<Vec<u8>, Failure> {
    std::env::var(var).map(String::into_bytes).map_err(|_| {
        Failure::new(
            "invalid_key",
            format!("environment variable {var} is not set or not UTF-8"),
        )
    })
}

pub(crate) fn run(args: &Args) -> Result<(), Failure> {
    let current = secret(&args.secret_env)?;
    let fallbacks = args
        .fallback_env
        .iter()
        .map(|var| secret(var))
        .collect::<Result<Vec<_>, _>>()?;
    let fallbacks: Vec<&[u8]> = fallbacks.iter().map(Vec::as_slice).collect();
    let set = KeySet::derive(&current, &args.label, &fallbacks)?;
    let _lock = if args.force {
        Some(keyfile::lock(&args.out, true)?)
    } else {
        None
    };
    keyfile::store(&args.out, &set, args.force)?;
    // A derived set always has an active signing key.
    print(set.active().map_or("", |k| k.kid().as_str()))
}
