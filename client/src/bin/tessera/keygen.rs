//! `tessera keygen`: a new key file with one active key.

use std::path::PathBuf;

use clap::ValueEnum;
use tessera_protocol::{Algorithm, Key, KeySet, Kid};

use crate::failure::{Failure, print};
use crate::keyfile;

/// A signing algorithm, as named on the command line.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum AlgArg {
    /// HMAC-SHA-256 with a 32-byte shared secret: every verifier can also mint.
    Hs256,
    /// Ed25519: verifiers need only the public key (`tessera keys public`).
    Eddsa,
    /// AES-256-GCM sealing key (`dir` + `A256GCM`): tokens whose claims are encrypted
    /// (`tessera sign --seal`).
    A256gcm,
}

impl From<AlgArg> for Algorithm {
    fn from(alg: AlgArg) -> Algorithm {
        match alg {
            AlgArg::Hs256 => Algorithm::Hs256,
            AlgArg::Eddsa => Algorithm::EdDsa,
            AlgArg::A256gcm => Algorithm::A256Gcm,
        }
    }
}

/// Generate a key file: a JWK Set with one active key (signing, or sealing for a256gcm),
/// written with mode 0600.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The key's algorithm.
    #[arg(long, value_enum)]
    alg: AlgArg,
    /// The key id (1 to 64 characters from A-Z a-z 0-9 . _ -). Default: 4 random characters.
    #[arg(long, allow_hyphen_values = true)]
    kid: Option<String>,
    /// Where to write the key file.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Overwrite FILE if it exists (the old keys are lost). Only a regular file is replaced:
    /// a directory, FIFO, device or socket is refused.
    #[arg(long)]
    force: bool,
}

pub(crate) fn run(args: &Args) -> Result<(), Failure> {
    let alg = Algorithm::from(args.alg);
    let mut set = KeySet::new();
    let kid = match &args.kid {
        Some(kid) => Kid::new(kid.as_str())?,
        None => Kid::random()?,
    };
    set.insert(Key::generate(alg, kid.clone())?)?;
    if alg.is_signature() {
        set.set_active(&kid)?;
    } else {
        set.set_active_sealing(&kid)?;
    }
    // Overwriting replaces the file under the same lock as `keys rotate`/`retire`; without
    // --force the no-clobber link is atomic on its own.
    let _lock = if args.force {
        Some(keyfile::lock(&args.out, true)?)
    } else {
        None
    };
    keyfile::store(&args.out, &set, args.force)?;
    print(kid.as_str())
}
