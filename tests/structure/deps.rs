//! The domain crate's dependency tree, read from `Cargo.lock`: no I/O crate in it.

use std::collections::{hash_map::Entry, HashMap, VecDeque};
use std::fs;
use std::path::Path;

/// Crates that do I/O, which the domain must not depend on (tokio only as a dev-dependency).
const IO_CRATES: &str = "actix-web actix-http actix-rt actix-server diesel diesel-async diesel_migrations deadpool \
    tokio-postgres postgres-protocol lettre object_store image fast_image_resize minijinja hyper reqwest mio tokio";

#[test]
fn domain_has_no_io_in_its_dependency_tree() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |path: &str| fs::read_to_string(base.join(path)).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let lock = lock_packages(&read("Cargo.lock"));
    // Each package reached, with the package whose dependency it is (`None`: the domain's own).
    let mut pulled_by: HashMap<usize, Option<usize>> = HashMap::new();
    let mut queue = VecDeque::new();
    for name in dependency_names(&read("crates/domain/Cargo.toml")) {
        let package = find_package(&lock, &name).unwrap_or_else(|| panic!("{name} is not in Cargo.lock"));
        if pulled_by.insert(package, None).is_none() {
            queue.push_back(package);
        }
    }
    while let Some(package) = queue.pop_front() {
        for dep in lock[package].deps.iter().filter_map(|entry| find_package(&lock, entry)) {
            if let Entry::Vacant(slot) = pulled_by.entry(dep) {
                slot.insert(Some(package));
                queue.push_back(dep);
            }
        }
    }
    let chain = |p: usize| {
        let mut chain: Vec<&str> =
            std::iter::successors(Some(p), |q| pulled_by[q]).map(|q| lock[q].name.as_str()).collect();
        chain.reverse();
        chain.join(" -> ")
    };
    let mut offenders: Vec<String> = pulled_by
        .keys()
        .copied()
        .filter(|&p| IO_CRATES.split_whitespace().any(|io| io == lock[p].name))
        .map(|p| format!("  {}: roster-domain -> {}", lock[p].name, chain(p)))
        .collect();
    offenders.sort();
    assert!(
        offenders.is_empty(),
        "roster-domain does no I/O, so its dependencies (crates/domain/Cargo.toml [dependencies]) must not pull in \
         network, database, mail, image or async-runtime crates; tokio belongs in [dev-dependencies]. Found:\n{}",
        offenders.join("\n")
    );
}

/// A `[[package]]` of `Cargo.lock`; its dependencies as written there: `name`, `name version` or
/// `name version (source)`.
struct Package {
    name: String,
    version: String,
    deps: Vec<String>,
}

fn lock_packages(lock: &str) -> Vec<Package> {
    let field = |block: &str, key: &str| {
        let value = block.lines().find_map(|line| line.split_once('=').filter(|(k, _)| k.trim() == key));
        value.map_or(String::new(), |(_, v)| v.trim().trim_matches('"').to_string())
    };
    let deps = |block: &str| -> Vec<String> {
        let Some((_, list)) = block.split_once("dependencies = [") else { return Vec::new() };
        let list = list.split(']').next().unwrap_or("");
        list.split(',').map(|d| d.trim().trim_matches('"').to_string()).filter(|d| !d.is_empty()).collect()
    };
    lock.split("[[package]]")
        .skip(1)
        .map(|block| Package { name: field(block, "name"), version: field(block, "version"), deps: deps(block) })
        .collect()
}

/// The package a lock dependency entry names: the one of that version, if the entry gives one.
fn find_package(lock: &[Package], entry: &str) -> Option<usize> {
    let mut words = entry.split_whitespace();
    let (name, version) = (words.next()?, words.next());
    lock.iter().position(|p| p.name == name && version.is_none_or(|v| p.version == v))
}

/// The package names in the `[dependencies]` of a manifest (optional ones included; a renaming
/// `package = "..."` is followed). `[dev-dependencies]` and `[build-dependencies]` are not read.
fn dependency_names(manifest: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_dependencies = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]";
            if let Some(name) = line.strip_prefix("[dependencies.").and_then(|l| l.strip_suffix(']')) {
                names.push(name.trim_matches('"').to_string());
            }
        } else if let Some((key, value)) = line.split_once('=').filter(|_| in_dependencies && !line.starts_with('#')) {
            let renamed = value.split_once("package").and_then(|(_, rest)| rest.split('"').nth(1));
            let name = key.split('.').next().unwrap_or(key).trim().trim_matches('"');
            names.push(renamed.unwrap_or(name).to_string());
        }
    }
    names
}
