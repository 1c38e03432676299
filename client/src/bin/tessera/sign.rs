//! `tessera sign`: mint a token.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::value::RawValue;
use tessera_protocol::file::ReadRules;
use tessera_protocol::{ErrorCode, Minter};

use crate::failure::{Failure, print};
use crate::{json, keyfile, time};

/// The largest payload file read, in bytes (a token is at most 8 KiB anyway).
const MAX_PAYLOAD_FILE: usize = 64 * 1024;

/// Mint a token with the key file's active signing key (or, with --seal, its active sealing
/// key) and print it on stdout.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The key file (a JWK Set with an active key): a regular file that no other user may
    /// write to or owns.
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
    /// The payload (`dat`): JSON text, or @FILE to read it from a (regular) file. Default: null.
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
    let given = match args.payload.as_deref() {
        None => None,
        Some(text) => Some(match text.strip_prefix('@') {
            Some(path) => (
                ReadRules::new(MAX_PAYLOAD_FILE)
                    .read(path)
                    .map_err(|e| Failure::file("payload file", &e))?,
                format!("the payload file {path}"),
            ),
            None => (text.to_owned(), "the --payload value".to_owned()),
        }),
    };
    let keys = keyfile::load(&args.keys)?;
    // The payload goes to the minter as the text given (a RawValue), so that the minter checks
    // it where spec §4 puts it: after the active key, iss, aud, sub, ttl, nbf and fpr. Text that
    // is not JSON at all has no value to mint and is refused at once.
    let payload: Box<RawValue> = match &given {
        None => RawValue::from_string("null".to_owned()).map_err(|_| not_json("null"))?,
        Some((text, origin)) => serde_json::from_str(text)
            .map_err(|_| explain_payload(text, origin, not_json(origin)))?,
    };
    let minter = Minter::new(Arc::new(keys), args.iss.as_str());
    let mut builder = minter.token(&args.aud).payload(&*payload).ttl(args.ttl);
    if let Some(sub) = &args.sub {
        builder = builder.subject(sub);
    }
    if let Some(fpr) = &args.fpr {
        builder = builder.fingerprint(fpr);
    }
    if let Some(now) = args.now {
        builder = builder.issued_at(now);
    }
    let minted = if args.seal {
        builder.seal()
    } else {
        builder.mint()
    };
    let token = minted.map_err(|e| match &given {
        // The minter says what is wrong; the CLI's own reading names where (the repeated
        // member, the integer literal beyond 64 bits).
        Some((text, origin)) if e.code() == ErrorCode::BadPayload => {
            explain_payload(text, origin, Failure::from(e))
        }
        _ => Failure::from(e),
    })?;
    print(&token)
}

/// The refusal of payload text that does not parse.
fn not_json(origin: &str) -> Failure {
    Failure::new("bad_payload", format!("{origin} is not valid JSON"))
}

/// The CLI's reading of a refused payload text, which names the fault's place, else `fallback`.
fn explain_payload(text: &str, origin: &str, fallback: Failure) -> Failure {
    json::parse_given(text, origin, "bad_payload")
        .err()
        .unwrap_or(fallback)
}
