//! Rewrites `spec/vectors/*.json` from the deterministic cases in `cases.rs`.
//!
//! Run with `cargo run -p tessera-protocol --example gen_vectors`. The protocol test suite checks
//! that the checked-in files equal what this generator produces (drift test), and runs the Rust
//! verifier over every case.

mod cases;

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/vectors");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("error: cannot create {}: {e}", dir.display());
        std::process::exit(1);
    }
    for (name, text) in cases::files() {
        let path = dir.join(name);
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("error: cannot write {}: {e}", path.display());
            std::process::exit(1);
        }
        println!("wrote {}", path.display());
    }
}
