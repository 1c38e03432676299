//! `tessera sign`: mint a token.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tessera_protocol::Minter;

use crate::failure::{Failure, print};
use crate::{input, json, keyfile, time};

/// The largest payload file read, in bytes (a token is at most 8 KiB anyway).
const MAX_PAYLOAD_FILE: usize = 64 * 1024;

/// Mint a token with the key file's active signing key (or, with --seal, its active sealing
/// key) and print it on stdout.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The key file (a JWK Set with an active key).
    #[arg(long, value_name = "FILE")]
    keys: PathBuf,
    /// The issuer (`iss`): the app or plugin that mints.
    #[arg(long)]
    iss: String,
    /// The audience (`aud`): the action id the token may invoke.
    #[arg(long)]
    aud: String,
    /// The subject (`sub`): the principal the token is for.
    #[arg(long)]
    sub: Option<String>,
    /// Time to live: seconds, or with units (90s, 5m, 1h30m, 1d); at most 1d.
    #[arg(long, default_value = "5m", value_parser = time::parse_duration)]
    ttl: Duration,
    /// The payload (`dat`): JSON text, or @FILE to read it from a file. Default: null.
    #[arg(long, value_name = "JSON|@FILE")]
    payload: Option<String>,
    /// A fingerprint of the state the token is minted from (`fpr`, 1 to 128 bytes).
    #[arg(long)]
    fpr: Option<String>,
    /// Mint as of this instant (seconds since the epoch) instead of now.
    #[arg(long, value_name = "UNIX_SECONDS")]
    now: Option<u64>,
    /// Seal the token with the active sealing (a256gcm) key: its claims are encrypted, not
    /// only signed. Verify it with `tessera verify --accept sealed`.
    #[arg(long)]
    seal: bool,
}

pub(crate) fn run(args: &Args) -> Result<(), Failure> {
    let payload = match args.payload.as_deref() {
        None => Value::Null,
        Some(text) => {
            let (text, origin) = match text.strip_prefix('@') {
                Some(path) => (
                    input::small_file(Path::new(path), "payload", MAX_PAYLOAD_FILE, "too_large")?,
                    format!("the payload file {path}"),
                ),
                None => (text.to_owned(), "the --payload value".to_owned()),
            };
            json::parse_given(&text, &origin, "bad_payload")?
        }
    };
    let keys = keyfile::load(&args.keys)?;
    let minter = Minter::new(Arc::new(keys), args.iss.as_str());
    let mut builder = minter.token(&args.aud).payload(&payload).ttl(args.ttl);
    if let Some(sub) = &args.sub {
        builder = builder.subject(sub);
    }
    if let Some(fpr) = &args.fpr {
        builder = builder.fingerprint(fpr);
    }
    if let Some(now) = args.now {
        builder = builder.issued_at(now);
    }
    let token = if args.seal {
        builder.seal()?
    } else {
        builder.mint()?
    };
    print(&token)
}
