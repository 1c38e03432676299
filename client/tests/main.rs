//! Integration tests of tessera-client, one binary. Each module proves one family of behaviour.

mod host;
mod util;

// The `tessera` CLI's key commands: keygen, keys list/public/rotate/retire, 0600, --force.
mod cli_keys;
// Which files the CLI reads and replaces: regular files only, key files only when trusted.
mod cli_key_files;
// `tessera sign`, `verify` and `inspect`: success, every failure path, stdin, exit codes.
mod cli_tokens;
// Hostile input: a 1 MiB (and an endless) token on stdin is refused with too_large.
mod cli_hostile;
// `tessera verify` over the spec's verification vectors.
mod cli_vectors;
// A hostile host: its text is printed with control characters escaped.
mod cli_hostile_host;
// The library alone: Debug output, answers no tessera host gives (from a fake host).
mod library;
// The library against the demo host (its app in process): panels, click, typed errors, retry.
mod remote;
// `tessera panels` and `tessera click` against the demo host (its app in process).
mod cli_remote;
// One wire vocabulary: every server code and the panel document read back by the client.
mod wire;
