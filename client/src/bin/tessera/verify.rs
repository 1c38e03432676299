//! `tessera verify`: the library's verifier, on the command line.

use std::path::PathBuf;
use std::sync::Arc;

use clap::ValueEnum;
use serde_json::{Value, json};
use tessera_protocol::{Accept, Expected, FixedClock, SEALED_ALG, TYP, Verifier};

use crate::failure::{Failure, print};
use crate::{input, keyfile, safe};

/// Verify a token. On success print its payload (or, with --json, its header and claims) and
/// exit 0; on failure print `error: <code>: <message>` on stderr (--json: a JSON object with
/// code and message on stdout) and exit 1.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("key_source").required(true).args(["keys", "jwks"])))]
pub(crate) struct Args {
    /// The key file (a JWK Set; verify-only sets are fine): a regular file that no other
    /// user may write to or owns.
    #[arg(long, value_name = "FILE")]
    keys: Option<PathBuf>,
    /// Instead of --keys: a key set the issuer published (the body of its
    /// `/.well-known/jwks.json`). Only Ed25519 public keys are accepted from it: a document
    /// holding an HMAC or sealing secret or a private key is refused (spec §8.4). Fetch it
    /// over an authenticated channel (HTTPS): whoever can change the document can add a key.
    /// Like a key file, it must be a regular file that no other user may write to or owns.
    #[arg(long, value_name = "FILE")]
    jwks: Option<PathBuf>,
    /// The expected issuer (`iss`).
    #[arg(long)]
    iss: String,
    /// The expected audience (`aud`): the action id.
    #[arg(long)]
    aud: String,
    /// The expected subject (`sub`), if the token must be for one principal.
    #[arg(long)]
    sub: Option<String>,
    /// Verify as of this instant (seconds since the epoch) instead of now.
    #[arg(long, value_name = "UNIX_SECONDS")]
    now: Option<u64>,
    /// Which kinds of token to accept: a route expecting signed tokens refuses sealed ones
    /// (as malformed), and the reverse.
    #[arg(long, value_enum, default_value_t = AcceptArg::Signed)]
    accept: AcceptArg,
    /// Machine-readable output on stdout, for success and failure alike. `nbf` appears only
    /// when the token carries one.
    #[arg(long)]
    json: bool,
    /// The token, or `-` (or nothing) to read it from stdin. Surrounding whitespace is ignored.
    #[arg(value_name = "TOKEN|-")]
    token: Option<String>,
}

/// The kinds of token `verify` accepts.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum AcceptArg {
    /// Signed tokens (JWS) only.
    Signed,
    /// Sealed tokens (JWE dir + A256GCM) only.
    Sealed,
    /// Either kind.
    Either,
}

pub(crate) fn run(args: &Args) -> Result<(), Failure> {
    let outcome = verify(args);
    if args.json {
        outcome.map_err(Failure::into_json)
    } else {
        outcome
    }
}

fn verify(args: &Args) -> Result<(), Failure> {
    let keys = match (&args.keys, &args.jwks) {
        (Some(path), None) => keyfile::load(path)?,
        (None, Some(path)) => keyfile::load_published(path)?,
        // clap's group "key_source" already requires exactly one of the two.
        _ => {
            return Err(Failure::new(
                "usage",
                "give exactly one of --keys and --jwks",
            ));
        }
    };
    let token = input::token(args.token.as_deref())?;
    let mut verifier = Verifier::new(Arc::new(keys), args.iss.as_str());
    if let Some(now) = args.now {
        verifier = verifier.with_clock(Arc::new(FixedClock(now)));
    }
    let accept = match args.accept {
        AcceptArg::Signed => Accept::Signed,
        AcceptArg::Sealed => Accept::Sealed,
        AcceptArg::Either => Accept::Either,
    };
    let mut expected = Expected::audience(args.aud.as_str()).accept(accept);
    if let Some(sub) = &args.sub {
        expected = expected.subject(sub.as_str());
    }
    let verified = verifier.verify::<Value>(&token, &expected)?;
    if args.json {
        let h = &verified.header;
        let c = &verified.claims;
        let mut claims = json!({
            "iss": c.iss, "aud": c.aud, "iat": c.iat, "exp": c.exp, "jti": c.jti,
        });
        if carries_nbf(&token, c.iat, c.nbf) {
            claims["nbf"] = json!(c.nbf);
        }
        if let Some(sub) = &c.sub {
            claims["sub"] = json!(sub);
        }
        if let Some(fpr) = &c.fpr {
            claims["fpr"] = json!(fpr);
        }
        claims["dat"] = c.dat.clone();
        let header = if h.alg.is_signature() {
            json!({"alg": h.alg.as_str(), "typ": TYP, "kid": h.kid.as_str()})
        } else {
            json!({"alg": SEALED_ALG, "enc": h.alg.as_str(), "typ": TYP, "kid": h.kid.as_str()})
        };
        let doc = json!({"header": header, "claims": claims});
        print(&safe::json(&doc))
    } else {
        print(&safe::json(&verified.claims.dat))
    }
}

/// Whether the (already verified) token carries an `nbf` claim: the library reports `iat` for
/// a token without one. A signed token's claims are read again as JSON to tell; a sealed
/// token's claims cannot be read apart from verification, so its `nbf` counts as carried only
/// when it differs from `iat` (tessera's minter never writes an `nbf` equal to `iat`).
fn carries_nbf(token: &str, iat: u64, nbf: u64) -> bool {
    match tessera_protocol::dangerous::decode_unverified(token) {
        Ok(tessera_protocol::dangerous::Unverified {
            claims: Some(claims),
            ..
        }) => claims.get("nbf").is_some(),
        _ => nbf != iat,
    }
}
