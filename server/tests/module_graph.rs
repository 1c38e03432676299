//! The workspace's module graphs have no cycles: following the `crate::` paths of a crate's
//! code (doc comments aside), from each top-level module to the ones it uses, never leads back.
//! A path through the crate root's re-exports (`crate::TesseraState`) would hide an edge, so
//! code names the module that defines what it uses.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each crate's `src` folder, from this package's folder.
const CRATES: [&str; 5] = [
    "../protocol/src",
    "src",
    "../client/src",
    "../demo/src",
    "../examples/src",
];

/// The top-level module a source file belongs to (`wire/code.rs` → `wire`), or `None` for the
/// crate root and binaries.
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?.to_owned();
    if first == "bin" || first == "lib.rs" || first == "main.rs" {
        return None;
    }
    Some(first.trim_end_matches(".rs").to_owned())
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The names that follow `crate::` in `line` (a `use crate::{a, b}` group gives each).
fn crate_paths(line: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    names.push(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            names.push(name);
        }
    }
    names
}

/// The module graph of one crate: module → modules its code names through `crate::`. Also
/// returns the places that name a root re-export instead of a module.
fn graph(src: &Path) -> (BTreeMap<String, BTreeSet<String>>, Vec<String>) {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| top_module(src, f)).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut through_root = Vec::new();
    for file in &files {
        let Some(from) = top_module(src, file) else {
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        // A `use crate::{…}` group over several lines is read as one line.
        let mut pending = String::new();
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            if !pending.is_empty() || (code.contains("crate::{") && !code.contains('}')) {
                pending.push_str(code);
                if !code.contains('}') {
                    continue;
                }
            }
            let code = if pending.is_empty() {
                code.to_owned()
            } else {
                std::mem::take(&mut pending)
            };
            for name in crate_paths(&code) {
                if modules.contains(&name) {
                    if name != from {
                        edges.entry(from.clone()).or_default().insert(name);
                    }
                } else {
                    through_root.push(format!("{}:{}: crate::{name}", file.display(), n + 1));
                }
            }
        }
    }
    (edges, through_root)
}

/// A cycle in `edges`, if there is one, as the modules along it.
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|node| visit(node, edges, &mut Vec::new(), &mut done))
}

#[test]
fn no_crate_has_a_module_cycle_or_a_path_through_its_root() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    for krate in CRATES.map(|c| here.join(c)) {
        let (edges, through_root) = graph(&krate);
        assert!(
            through_root.is_empty(),
            "name the defining module, not the crate root:\n{}",
            through_root.join("\n")
        );
        if let Some(cycle) = find_cycle(&edges) {
            panic!("{}: module cycle {}", krate.display(), cycle.join(" -> "));
        }
    }
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let edges = BTreeMap::from([
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::from(["c".to_owned()])),
        ("c".to_owned(), BTreeSet::from(["a".to_owned()])),
    ]);
    assert_eq!(find_cycle(&edges).unwrap(), ["a", "b", "c", "a"]);
    let acyclic = BTreeMap::from([("a".to_owned(), BTreeSet::from(["b".to_owned()]))]);
    assert_eq!(find_cycle(&acyclic), None);
    assert_eq!(
        crate_paths("use crate::{body::x, state};"),
        ["body", "state"]
    );
}
