//! `tessera keys`: list, public, rotate, activate, retire.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use tessera_protocol::{Algorithm, ErrorCode, Key, KeySet, Kid};

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
    /// open tokens already issued. Prints the new kid. For a running host with several
    /// workers: rotate --inactive, reload, activate, reload.
    ///
    /// A worker that has not reloaded yet does not know a new key, so a key made active at
    /// once would mint tokens the others refuse with unknown_key; with --inactive every worker
    /// learns the key first, and `tessera keys activate FILE KID` then switches to it.
    Rotate {
        /// The key file, rewritten atomically (mode 0600) under an exclusive lock on the
        /// sidecar FILE.lock; a symbolic link is followed and its target rewritten.
        file: PathBuf,
        /// The new key's algorithm. Default: the algorithm of the active signing key (else of
        /// the active sealing key, else of the newest key, e.g. of a set of public keys, else
        /// hs256).
        #[arg(long, value_enum)]
        alg: Option<AlgArg>,
        /// Add the key without making it active: the active key stays as it is, and the new
        /// key only verifies (or opens) until `tessera keys activate FILE KID`.
        #[arg(long)]
        inactive: bool,
    },
    /// Make a key of the file the active one: a signing key (hs256, or eddsa with its private
    /// part) becomes the active signing key, an a256gcm key the active sealing key. The key
    /// that was active stays in the file to verify (or open) tokens already issued.
    ///
    /// The second step of a staged rotation (rotate --inactive, reload, activate, reload):
    /// activate only once every worker has loaded the file that holds the key.
    Activate {
        /// The key file, rewritten atomically (mode 0600) under an exclusive lock on the
        /// sidecar FILE.lock; a symbolic link is followed and its target rewritten.
        file: PathBuf,
        /// The kid of the key to make active (may start with `-`, as generated kids can).
        #[arg(allow_hyphen_values = true)]
        kid: String,
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
        Command::Rotate {
            file,
            alg,
            inactive,
        } => {
            // Read, change and write under the lock: parallel rotations never lose a key.
            let _lock = keyfile::lock(&file, false)?;
            let mut set = keyfile::load(&file)?;
            let alg = match alg {
                Some(alg) => Algorithm::from(alg),
                None => set
                    .active()
                    .or(set.active_sealing())
                    .or(set.keys().last())
                    .map_or(Algorithm::Hs256, Key::algorithm),
            };
            if !inactive {
                let kid = set.rotate(alg)?;
                keyfile::store(&file, &set, true)?;
                note(&format!(
                    "rotated: {kid} ({alg}) is now active; {} keys in {}",
                    set.len(),
                    file.display()
                ));
                return print(kid.as_str());
            }
            let kid = set.add(alg)?;
            keyfile::store(&file, &set, true)?;
            let (role, current) = if alg.is_signature() {
                ("signing", set.active())
            } else {
                ("sealing", set.active_sealing())
            };
            let current = current.map_or_else(
                || format!("the file has no active {role} key"),
                |k| format!("the active {role} key is still {}", k.kid()),
            );
            note(&format!(
                "added: {kid} ({alg}), NOT active yet ({current}); {} keys in {}\n\
                 reload every worker so that all of them know {kid}, then make it active with:\n  \
                 tessera keys activate {} {}",
                set.len(),
                file.display(),
                shell_word(&file.to_string_lossy()),
                shell_word(kid.as_str()),
            ));
            print(kid.as_str())
        }
        Command::Activate { file, kid } => {
            let _lock = keyfile::lock(&file, false)?;
            let mut set = keyfile::load(&file)?;
            activate(&mut set, &file, &kid)
        }
        Command::Retire { file, kid } => {
            let _lock = keyfile::lock(&file, false)?;
            let mut set = keyfile::load(&file)?;
            set.retire(&Kid::new(kid)?)?;
            keyfile::store(&file, &set, true)?;
            let left = match set.len() {
                1 => "1 key".to_owned(),
                n => format!("{n} keys"),
            };
            note(&format!("retired; {left} left in {}", file.display()));
            Ok(())
        }
    }
}

/// `keys activate`: makes the key `kid` the active signing (or sealing) key and rewrites the
/// file, which the caller has locked. A kid that is not in the file, or a key that can neither
/// sign nor seal (an Ed25519 public key alone), is refused with `invalid_key` and the file is
/// left as it is. Activating the key that is already active succeeds and writes nothing.
fn activate(set: &mut KeySet, file: &Path, kid: &str) -> Result<(), Failure> {
    let shown = file.display();
    let refuse = |why: String| Failure::new(ErrorCode::InvalidKey.as_str(), why);
    let kid = Kid::new(kid)?;
    let Some(key) = set.get(kid.as_str()) else {
        return Err(refuse(format!(
            "key {kid} is not in the key file {shown}; `tessera keys list` shows its keys"
        )));
    };
    let alg = key.algorithm();
    let sealing = key.can_seal();
    if !sealing && !key.can_sign() {
        return Err(refuse(format!(
            "key {kid} in {shown} is an Ed25519 public key without its private part (\"d\"): \
             it verifies tokens but cannot sign them, so it cannot be the active key"
        )));
    }
    let role = if sealing { "sealing" } else { "signing" };
    let before = if sealing {
        set.active_sealing()
    } else {
        set.active()
    }
    .map(|k| (k.kid().clone(), k.algorithm()));
    if before.as_ref().is_some_and(|(old, _)| *old == kid) {
        note(&format!(
            "unchanged: {kid} ({alg}) is already the active {role} key of {shown}"
        ));
        return Ok(());
    }
    if sealing {
        set.set_active_sealing(&kid)?;
    } else {
        set.set_active(&kid)?;
    }
    keyfile::store(file, set, true)?;
    let before = before.map_or_else(
        || format!("there was no active {role} key before"),
        |(old, old_alg)| {
            let stays = if sealing { "open" } else { "verify" };
            format!("before: {old} ({old_alg}), which stays to {stays} tokens already issued")
        },
    );
    note(&format!(
        "activated: {kid} ({alg}) is now the active {role} key of {shown}; {before}"
    ));
    Ok(())
}

/// `word` as one shell word: as is when it holds only characters no shell treats specially,
/// else in single quotes.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:@%+=,".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
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
