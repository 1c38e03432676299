//! `tessera-demo`: the demo plugin host (see the library's docs, and `tessera-demo --help`).
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    tessera_demo::run()
}
