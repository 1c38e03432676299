//! `tessera keys`: list, public, rotate, retire.

use std::path::PathBuf;

use clap::Subcommand;
use tessera_protocol::{Algorithm, Kid};

use crate::failure::{Failure, note, print};
use crate::keyfile;
use crate::keygen::AlgArg;

/// Manage a key file.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// List the keys of a key file: kid, algorithm, and which ones are active.
    List {
        /// The key file.
        file: PathBuf,
    },
    /// Print the public JWK Set (Ed25519 public keys only; HMAC secrets are never exported).
    Public {
        /// The key file.
        file: PathBuf,
    },
    /// Add a new active key (signing, or sealing for a256gcm); older keys stay to verify or
    /// open tokens already issued. Prints the new kid.
    Rotate {
        /// The key file, rewritten atomically (mode 0600).
        file: PathBuf,
        /// The new key's algorithm. Default: the algorithm of the active signing key (else of
        /// the active sealing key, else hs256).
        #[arg(long, value_enum)]
        alg: Option<AlgArg>,
    },
    /// Remove a key that is no longer active; its tokens then fail with unknown_key.
    Retire {
        /// The key file, rewritten atomically (mode 0600).
        file: PathBuf,
        /// The kid of the key to remove (may start with `-`, as generated kids can).
        #[arg(allow_hyphen_values = true)]
        kid: String,
    },
}

pub(crate) fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::List { file } => {
            let set = keyfile::load(&file)?;
            let active = set.active().map(|k| k.kid().clone());
            let sealing = set.active_sealing().map(|k| k.kid().clone());
            let mut lines = Vec::new();
            for key in set.keys() {
                let role = if Some(key.kid()) == active.as_ref() {
                    "active"
                } else if Some(key.kid()) == sealing.as_ref() {
                    "active (sealing)"
                } else if key.can_seal() {
                    "open (sealing)"
                } else if key.can_sign() {
                    "verify"
                } else {
                    "verify (public only)"
                };
                lines.push(format!("{}\t{}\t{role}", key.kid(), key.algorithm()));
            }
            print(&lines.join("\n"))
        }
        Command::Public { file } => {
            let set = keyfile::load(&file)?;
            let jwks = set.public_jwks();
            let empty = jwks["keys"].as_array().is_none_or(Vec::is_empty);
            if empty {
                return Err(Failure::new(
                    "no_public_keys",
                    format!(
                        "key file {} has no Ed25519 key; HMAC (HS256) keys are shared secrets and have no public form",
                        file.display()
                    ),
                ));
            }
            print(&format!("{jwks:#}"))
        }
        Command::Rotate { file, alg } => {
            let mut set = keyfile::load(&file)?;
            let alg = match alg {
                Some(alg) => Algorithm::from(alg),
                None => set
                    .active()
                    .or(set.active_sealing())
                    .map_or(Algorithm::Hs256, tessera_protocol::Key::algorithm),
            };
            let kid = set.rotate(alg)?;
            keyfile::store(&file, &set, true)?;
            note(&format!(
                "rotated: {kid} ({alg}) is now active; {} keys in {}",
                set.len(),
                file.display()
            ));
            print(kid.as_str())
        }
        Command::Retire { file, kid } => {
            let mut set = keyfile::load(&file)?;
            set.retire(&Kid::new(kid)?)?;
            keyfile::store(&file, &set, true)?;
            note(&format!(
                "retired; {} keys left in {}",
                set.len(),
                file.display()
            ));
            Ok(())
        }
    }
}
