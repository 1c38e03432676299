//! `tessera keys`: list, public, rotate, retire.

use std::path::PathBuf;

use clap::Subcommand;
use tessera_protocol::{Algorithm, KeySet, Kid};

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
        /// The key file, rewritten atomically (mode 0600) under an exclusive lock on the
        /// sidecar FILE.lock; a symbolic link is followed and its target rewritten.
        file: PathBuf,
        /// The new key's algorithm. Default: the algorithm of the active signing key (else of
        /// the active sealing key, else of the newest key, e.g. of a set of public keys, else
        /// hs256).
        #[arg(long, value_enum)]
        alg: Option<AlgArg>,
    },
    /// Remove a key that is no longer active; its tokens then fail with unknown_key.
    Retire {
        /// The key file, rewritten atomically (mode 0600) under an exclusive lock on the
        /// sidecar FILE.lock; a symbolic link is followed and its target rewritten.
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
                        "key file {} has no Ed25519 key, so there is no public key to export: {}",
                        file.display(),
                        why_no_public_key(&set)
                    ),
                ));
            }
            print(&format!("{jwks:#}"))
        }
        Command::Rotate { file, alg } => {
            // Read, change and write under the lock: parallel rotations never lose a key.
            let _lock = keyfile::lock(&file, false)?;
            let mut set = keyfile::load(&file)?;
            let alg = match alg {
                Some(alg) => Algorithm::from(alg),
                None => set
                    .active()
                    .or(set.active_sealing())
                    .or(set.keys().last())
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
            let _lock = keyfile::lock(&file, false)?;
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

/// Why a key set without Ed25519 keys has no public form, naming the kinds of key it holds.
fn why_no_public_key(set: &KeySet) -> String {
    let hmac = set.keys().any(|k| k.algorithm() == Algorithm::Hs256);
    let sealing = set.keys().any(|k| k.algorithm() == Algorithm::A256Gcm);
    let hmac_text = "HMAC (HS256) keys are shared secrets";
    let sealing_text = "A256GCM sealing keys are secret symmetric keys";
    match (hmac, sealing) {
        (true, true) => {
            format!("its {hmac_text} and its {sealing_text}; neither has a public form")
        }
        (true, false) => format!("its {hmac_text} and have no public form"),
        (false, true) => format!("its {sealing_text} and have no public form"),
        (false, false) => "it holds no key that has a public form".to_owned(),
    }
}
