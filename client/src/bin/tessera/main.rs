//! `tessera`: keys, signing, verification and inspection of tessera action tokens, and clicks
//! against a running plugin host.
//!
//! Exit codes: 0 success; 1 a verification or operation failure, reported on stderr as
//! `error: <code>: <message>`; 2 a usage error (clap's own code).
#![forbid(unsafe_code)]

mod derive;
mod failure;
mod input;
mod inspect;
mod json;
mod keyfile;
mod keygen;
mod keys;
mod remote;
mod safe;
mod sign;
mod time;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Signed, expiring action tokens: keys, sign, verify, inspect, and a plugin-host client.
#[derive(Debug, Parser)]
#[command(name = "tessera", version, propagate_version = true)]
#[command(after_help = "Exit codes: 0 ok, 1 verification or operation failure \
    (`error: <code>: <message>` on stderr), 2 usage error.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate a key file: a JWK Set with one active key, signing or (a256gcm) sealing (mode 0600).
    Keygen(keygen::Args),
    /// Manage a key file: list, export public keys, rotate, activate, retire.
    #[command(subcommand)]
    Keys(keys::Command),
    /// Mint a token with the key file's active key and print it.
    Sign(sign::Args),
    /// Verify a token; print its payload (exit 0) or the reason it is refused (exit 1).
    Verify(verify::Args),
    /// Decode a token WITHOUT verifying it, to look at its header, claims and times.
    Inspect(inspect::Args),
    /// Derive a key file from a host secret (HKDF-SHA256, spec §3.7), e.g. Django's SECRET_KEY.
    Derive(derive::Args),
    /// List a plugin's panels and buttons from a running host.
    Panels(remote::PanelsArgs),
    /// Click a plugin's button on a running host and print the action's result.
    Click(remote::ClickArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Keygen(args) => keygen::run(&args),
        Command::Keys(command) => keys::run(command),
        Command::Sign(args) => sign::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Inspect(args) => inspect::run(&args),
        Command::Derive(args) => derive::run(&args),
        Command::Panels(args) => remote::panels(&args),
        Command::Click(args) => remote::click(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            failure.report();
            ExitCode::from(1)
        }
    }
}
