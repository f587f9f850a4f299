//! Checks of the workspace's structure that read the source and lock files rather than compile them.
//!
//! `module_imports_form_a_dag` keeps the modules of every crate layered: the child modules of any
//! one module may use each other in one direction only. When `a` uses `b` and `b` uses `a`, neither
//! can be read, tested or moved without the other, and such loops only grow. The test finds each
//! crate's modules by following the `mod` declarations from its root file, leaving out test-only
//! modules (`#[cfg(test)]`), because the rule is about production code. It splits the code into
//! tokens, dropping comments and literals, then collects every path a module uses: its `use` trees,
//! and the paths in its code and attributes (where macros such as utoipa's name types). Each path
//! is followed, much as rustc does, through child modules, imports and re-exports to the module
//! that defines the item. A path from somewhere in `a` to something in its sibling `b` makes the
//! edge `a -> b` among the children of their nearest common ancestor; loops among such siblings
//! are reported with, for each import, the file and line where it happens.
//!
//! `domain_has_no_io_in_its_dependency_tree` keeps the domain crate free of I/O: it walks
//! `Cargo.lock` from the domain's dependencies and fails if a network, database, mail, image or
//! async-runtime crate is among them, showing the chain that pulls it in.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write;
use std::fs;
use std::path::{Path, PathBuf};

mod deps;
mod tokens;

use tokens::{closing, is_ident, item_end, tokenize, Tok};

/// The crates whose modules are checked: name and root file, relative to the root package.
const CRATES: [(&str, &str); 8] = [
    ("roster-domain", "crates/domain/src/lib.rs"),
    ("roster-http", "crates/http/src/lib.rs"),
    ("roster-images", "crates/images/src/lib.rs"),
    ("roster-postgres", "crates/postgres/src/lib.rs"),
    ("roster-smtp", "crates/smtp/src/lib.rs"),
    ("roster-storage", "crates/storage/src/lib.rs"),
    ("roster-testkit", "crates/testkit/src/lib.rs"),
    ("roster", "src/lib.rs"),
];

/// Keywords after which, at a module's top level, comes the name of an item it defines.
const ITEM_KEYWORDS: [&str; 8] = ["struct", "enum", "trait", "fn", "const", "static", "type", "union"];

/// Lookups already made while resolving one path (module, name), which stops import loops.
type Seen = HashSet<(usize, String)>;

#[test]
fn module_imports_form_a_dag() {
    let mut report = String::new();
    for (name, root) in CRATES {
        let tree = Tree::load(Path::new(env!("CARGO_MANIFEST_DIR")), root);
        let edges = tree.sibling_edges();
        let cycles = cycles(&edges);
        eprintln!("{name}: {} modules, {} edges, {} cycles", tree.modules.len(), edges.len(), cycles.len());
        for cycle in &cycles {
            report += &tree.describe(name, cycle, &edges);
        }
    }
    assert!(
        report.is_empty(),
        "Modules import in one direction: the child modules of a module must not use each other in a loop, \
         so that each can be read, tested and moved on its own (test-only modules are not counted). \
         Move the imports listed below, or what they import, to break these loops:\n{report}"
    );
}

/// A module of the crate being read.
#[derive(Default)]
struct Module {
    /// Path from the crate root, such as `service::auth`; `crate` for the root itself.
    name: String,
    parent: Option<usize>,
    children: BTreeMap<String, usize>,
    /// The file holding the module's code, relative to the root package.
    file: String,
    /// Names of the items defined at the module's top level.
    defs: HashSet<String>,
    /// Names brought in by `use` (any visibility, so re-exports too), with the path each stands for.
    imports: HashMap<String, Vec<String>>,
    /// The paths of `use path::*`.
    globs: Vec<Vec<String>>,
    /// Every path the module uses (`use` trees and code), with its line; a glob ends in `*`.
    refs: Vec<(Vec<String>, usize)>,
}

/// Where the code being scanned comes from.
struct Source<'a> {
    file: &'a Path,
    /// The file's text, which the tokens point into.
    text: &'a str,
    /// The directory that holds the files of the scanned module's `mod name;` children.
    dir: PathBuf,
}

/// The modules of one crate; the root is module 0.
struct Tree {
    base: PathBuf,
    modules: Vec<Module>,
}

impl Tree {
    /// Reads the crate whose root file is `root`, relative to `base`.
    fn load(base: &Path, root: &str) -> Tree {
        let mut tree = Tree { base: base.to_path_buf(), modules: Vec::new() };
        let file = base.join(root);
        let id = tree.add(None, "crate", &file);
        tree.load_file(id, &file, file.parent().unwrap_or(base).to_path_buf());
        tree
    }

    /// Adds module `name` under `parent`, its code in `file`.
    fn add(&mut self, parent: Option<usize>, name: &str, file: &Path) -> usize {
        let id = self.modules.len();
        let full = match parent {
            Some(p) if p != 0 => format!("{}::{name}", self.modules[p].name),
            _ => name.to_string(),
        };
        let file = file.strip_prefix(&self.base).unwrap_or(file).display().to_string();
        self.modules.push(Module { name: full, parent, file, ..Module::default() });
        if let Some(p) = parent {
            self.modules[p].children.insert(name.to_string(), id);
        }
        id
    }

    /// Scans `file`, the code of module `id`, whose `mod name;` children are in `dir`.
    fn load_file(&mut self, id: usize, file: &Path, dir: PathBuf) {
        let text = fs::read_to_string(file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
        self.scan(id, &tokenize(&text), &Source { file, text: &text, dir });
    }

    /// Reads module `id` from its tokens: child modules, definitions, `use` trees and paths in code.
    /// Items marked `#[cfg(test)]` are skipped whole.
    fn scan(&mut self, id: usize, toks: &[Tok], src: &Source) {
        let (mut i, mut depth, mut path_attr) = (0, 0usize, None);
        let text = |k: usize| toks.get(k).map_or("", |t| t.text);
        while i < toks.len() {
            match text(i) {
                "#" if matches!(text(i + 1), "[" | "!") => {
                    let end = closing(toks, i + 1 + usize::from(text(i + 1) == "!"));
                    let attr: Vec<&str> = toks[i..end].iter().map(|t| t.text).collect();
                    if attr.windows(4).any(|w| w == ["cfg", "(", "test", ")"]) {
                        // `#![cfg(test)]` makes the rest of the module test-only; `#[cfg(test)]` the next item.
                        i = if attr[1] == "!" { toks.len() } else { item_end(toks, end) };
                        continue;
                    }
                    if attr.get(2) == Some(&"path") {
                        // The string itself is not a token: read it from the text.
                        path_attr = src.text[toks[i].pos..toks[end - 1].pos].split('"').nth(1).map(str::to_string);
                    }
                }
                "{" => depth += 1,
                "}" => depth = depth.saturating_sub(1),
                ";" => path_attr = None,
                "use" => {
                    i = self.read_use(id, toks, i + 1);
                    continue;
                }
                "mod" if is_ident(text(i + 1)) && matches!(text(i + 2), ";" | "{") => {
                    i = self.read_mod(id, toks, i + 1, src, path_attr.take());
                    continue;
                }
                "macro_rules" if text(i + 1) == "!" => {
                    self.modules[id].defs.insert(text(i + 2).to_string());
                }
                kw if depth == 0 && ITEM_KEYWORDS.contains(&kw) && is_ident(text(i + 1)) && text(i + 1) != "fn" => {
                    self.modules[id].defs.insert(text(i + 1).to_string());
                }
                word if is_ident(word)
                    && text(i + 1) == "::"
                    && !matches!(i.checked_sub(1).map_or("", text), "::" | ".") =>
                {
                    i = self.read_path(id, toks, i);
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
    }

    /// Reads the module declared by `mod name;` or `mod name { ... }` (`toks[i]` is the name) and
    /// returns the index after the declaration. A `#[path]` is relative to the declaring file.
    fn read_mod(&mut self, id: usize, toks: &[Tok], i: usize, src: &Source, path_attr: Option<String>) -> usize {
        let name = toks[i].text;
        if toks[i + 1].text == "{" {
            let end = closing(toks, i + 1);
            let child = self.add(Some(id), name, src.file);
            let inline = Source { file: src.file, text: src.text, dir: src.dir.join(name) };
            self.scan(child, &toks[i + 2..end - 1], &inline);
            return end;
        }
        // A file named by `#[path]` keeps its children next to it, like a `mod.rs`.
        let (file, dir) = if let Some(path) = path_attr {
            let file = src.file.parent().unwrap_or(&src.dir).join(path);
            let dir = file.parent().unwrap_or(&src.dir).to_path_buf();
            (file, dir)
        } else {
            let flat = src.dir.join(format!("{name}.rs"));
            (if flat.exists() { flat } else { src.dir.join(name).join("mod.rs") }, src.dir.join(name))
        };
        let child = self.add(Some(id), name, &file);
        self.load_file(child, &file, dir);
        i + 2
    }

    /// Reads the `use` tree starting at `toks[i]` into module `id`; returns the index after its `;`.
    fn read_use(&mut self, id: usize, toks: &[Tok], i: usize) -> usize {
        let mut leaves = Vec::new();
        let mut end = use_tree(toks, i, Vec::new(), &mut leaves);
        while toks.get(end).is_some_and(|t| t.text != ";") {
            end += 1;
        }
        let module = &mut self.modules[id];
        for (segs, alias, line) in leaves {
            if let Some(("*", path)) = segs.split_last().map(|(last, path)| (last.as_str(), path)) {
                module.globs.push(path.to_vec());
            } else if let Some(name) = alias.or_else(|| segs.last().cloned()).filter(|n| n != "_") {
                module.imports.insert(name, segs.clone());
            }
            module.refs.push((segs, line));
        }
        end + 1
    }

    /// Reads the path `a::b::c` starting at `toks[i]` in code; returns the index after it.
    fn read_path(&mut self, id: usize, toks: &[Tok], i: usize) -> usize {
        let mut segs = vec![toks[i].text.to_string()];
        let mut j = i + 1;
        while toks.get(j).is_some_and(|t| t.text == "::") && toks.get(j + 1).is_some_and(|t| is_ident(t.text)) {
            segs.push(toks[j + 1].text.to_string());
            j += 2;
        }
        self.modules[id].refs.push((segs, toks[i].line));
        j
    }

    /// The module holding what `segs`, used in module `from`, names: the deepest module the path
    /// reaches, through imports and re-exports. `None` for paths outside the crate.
    fn resolve(&self, from: usize, segs: &[String], seen: &mut Seen) -> Option<usize> {
        let (first, rest) = segs.split_first()?;
        match first.as_str() {
            "crate" => Some(self.walk(0, rest, seen)),
            "self" | "super" => Some(self.walk(from, segs, seen)),
            _ => self.lookup(from, first, rest, seen),
        }
    }

    /// Follows `segs` down from module `m` (leading `self` and `super` included).
    fn walk(&self, m: usize, segs: &[String], seen: &mut Seen) -> usize {
        let Some((first, rest)) = segs.split_first() else { return m };
        match (first.as_str(), self.modules[m].parent) {
            ("self", _) => self.walk(m, rest, seen),
            ("super", Some(parent)) => self.walk(parent, rest, seen),
            _ => self.lookup(m, first, rest, seen).unwrap_or(m),
        }
    }

    /// Looks `name` up in module `m` (its children, own items, imports, then glob imports) and
    /// follows `rest` from there; `None` when `m` has no such name.
    fn lookup(&self, m: usize, name: &str, rest: &[String], seen: &mut Seen) -> Option<usize> {
        let module = &self.modules[m];
        if let Some(&child) = module.children.get(name) {
            return Some(self.walk(child, rest, seen));
        }
        if module.defs.contains(name) {
            return Some(m);
        }
        if !seen.insert((m, name.to_string())) {
            return None;
        }
        if let Some(target) = module.imports.get(name) {
            let path: Vec<String> = target.iter().chain(rest).cloned().collect();
            return Some(self.resolve(m, &path, seen).unwrap_or(m));
        }
        let sources: Vec<usize> = module.globs.iter().filter_map(|glob| self.resolve(m, glob, seen)).collect();
        sources.into_iter().filter(|&g| g != m).find_map(|g| self.lookup(g, name, rest, seen))
    }

    /// Every use of one module by another that does not contain it, as an edge between the two
    /// children of their lowest common ancestor that hold them, with the first place it happens.
    fn sibling_edges(&self) -> BTreeMap<(usize, usize), String> {
        let mut edges = BTreeMap::new();
        for (id, module) in self.modules.iter().enumerate() {
            for (segs, line) in &module.refs {
                let Some(target) = self.resolve(id, segs, &mut Seen::new()) else { continue };
                if let Some(edge) = self.siblings(id, target) {
                    edges.entry(edge).or_insert_with(|| format!("{}:{line}: {}", module.file, segs.join("::")));
                }
            }
        }
        edges
    }

    /// The children of the lowest common ancestor of `a` and `b` that hold them; `None` when one
    /// of the two contains the other (or they are the same).
    fn siblings(&self, a: usize, b: usize) -> Option<(usize, usize)> {
        let ancestry =
            |m: usize| -> Vec<usize> { std::iter::successors(Some(m), |&x| self.modules[x].parent).collect() };
        let (up_a, up_b) = (ancestry(a), ancestry(b));
        if up_a.contains(&b) || up_b.contains(&a) {
            return None;
        }
        let below_common = |up: &[usize], other: &[usize]| up.iter().position(|x| other.contains(x)).map(|k| up[k - 1]);
        Some((below_common(&up_a, &up_b)?, below_common(&up_b, &up_a)?))
    }

    /// The report of one loop: its modules, then every edge between them with where it happens.
    fn describe(&self, krate: &str, cycle: &[usize], edges: &BTreeMap<(usize, usize), String>) -> String {
        let names: Vec<String> = cycle.iter().map(|&m| format!("`{}`", self.modules[m].name)).collect();
        let mut out = format!("\n{krate}: {} import each other:\n", names.join(", "));
        for (&(a, b), evidence) in edges.iter().filter(|((a, b), _)| cycle.contains(a) && cycle.contains(b)) {
            let _ = writeln!(out, "  {} -> {}: {evidence}", self.modules[a].name, self.modules[b].name);
        }
        out
    }
}

/// The loops of a graph: its strongly connected components with more than one module. A module
/// is on a loop when it reaches itself; its loop is every module it reaches that reaches it back.
/// (The graphs have a few dozen modules, so one search per module is plenty fast.)
fn cycles(edges: &BTreeMap<(usize, usize), String>) -> Vec<Vec<usize>> {
    let reach = |from: usize| {
        let (mut seen, mut stack) = (BTreeSet::new(), vec![from]);
        while let Some(m) = stack.pop() {
            for &(_, to) in edges.range((m, 0)..=(m, usize::MAX)).map(|(edge, _)| edge) {
                if seen.insert(to) {
                    stack.push(to);
                }
            }
        }
        seen
    };
    let reached: BTreeMap<usize, BTreeSet<usize>> = edges.keys().map(|&(from, _)| (from, reach(from))).collect();
    let (mut placed, mut cycles) = (BTreeSet::new(), Vec::new());
    for (&m, from_m) in &reached {
        if from_m.contains(&m) && !placed.contains(&m) {
            let cycle: Vec<usize> =
                from_m.iter().copied().filter(|o| reached.get(o).is_some_and(|r| r.contains(&m))).collect();
            placed.extend(cycle.iter().copied());
            cycles.push(cycle);
        }
    }
    cycles
}

/// Flattens the `use` tree at `toks[i]`, under the path `segs`, into `out` as (path, alias, line):
/// `a::{b, c::{self, d as e}, f::*}` gives `a::b`, `a::c`, `a::c::d` as `e` and `a::f::*`.
/// Returns the index after the tree.
fn use_tree(toks: &[Tok], mut i: usize, mut segs: Vec<String>, out: &mut Vec<UseLeaf>) -> usize {
    while let Some(tok) = toks.get(i) {
        match tok.text {
            // `::std::x` names an external crate; the marker keeps it from resolving.
            "::" if segs.is_empty() => segs.push("::".to_string()),
            "::" => {}
            "{" => {
                i += 1;
                while toks.get(i).is_some_and(|t| t.text != "}") {
                    let next = use_tree(toks, i, segs.clone(), out);
                    i = if next == i || toks.get(next).is_some_and(|t| t.text == ",") { next + 1 } else { next };
                }
                return i + 1;
            }
            word if word == "*" || is_ident(word) => {
                segs.push(word.to_string());
                if toks.get(i + 1).is_some_and(|t| t.text == "::") {
                    i += 2;
                    continue;
                }
                let alias = toks.get(i + 1).filter(|t| t.text == "as").and(toks.get(i + 2));
                if segs.last().is_some_and(|s| s == "self") {
                    segs.pop();
                }
                out.push((segs, alias.map(|t| t.text.to_string()), tok.line));
                return i + if alias.is_some() { 3 } else { 1 };
            }
            _ => return i,
        }
        i += 1;
    }
    i
}

/// A path of a `use` tree, its `as` name and its line.
type UseLeaf = (Vec<String>, Option<String>, usize);
