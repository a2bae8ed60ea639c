//! The architecture, checked: the arrows between toktok's top-level modules
//! point one way (no import cycle), and no source file outgrows a head
//! (issue 17). `docs/architecture.md` draws the graph this test reads;
//! `cargo test --test api architecture -- --nocapture` prints it.
//!
//! The graph comes from `crate::` paths in non-test code (comments and
//! `#[cfg(test)]` modules skipped, `tests.rs` files skipped), which is how a
//! reader sees the dependencies, and is cheap enough to run on every
//! `cargo test`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The most lines of code a source file may hold: lines that are not
/// blank, not `//` comments (doc comments included) and not in tests.
const MAX_CODE_LINES: usize = 600;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

fn is_mod_open(line: &str) -> bool {
    let t = line.trim_start();
    let t = t
        .strip_prefix("pub(crate) ")
        .or_else(|| t.strip_prefix("pub "))
        .unwrap_or(t);
    t.starts_with("mod ") && t.trim_end().ends_with('{')
}

/// The file's lines without `#[cfg(test)]` items (a whole `mod … { }`
/// block, or the one item that follows) and without `//` comments.
fn code_lines(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim().starts_with("#[cfg(test)]") {
            let mut j = i + 1;
            while j < lines.len() && lines[j].trim().starts_with("#[") {
                j += 1;
            }
            if j < lines.len() && is_mod_open(lines[j]) {
                let at = indent(lines[j]);
                let mut k = j + 1;
                while k < lines.len()
                    && !(lines[k].trim_start().starts_with('}') && indent(lines[k]) == at)
                {
                    k += 1;
                }
                i = k + 1;
            } else {
                i = j + 1;
            }
            continue;
        }
        let line = match lines[i].find("//") {
            Some(at) => &lines[i][..at],
            None => lines[i],
        };
        out.push(line.to_owned());
        i += 1;
    }
    out
}

/// The first segment after every `crate::` (and each head of a
/// `crate::{a::x, b}` group).
fn heads(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let bytes = code.as_bytes();
    let mut from = 0;
    while let Some(at) = code[from..].find("crate::") {
        let mut p = from + at + "crate::".len();
        from = p;
        if bytes.get(p) == Some(&b'{') {
            let (mut depth, mut token, mut fresh) = (0, String::new(), true);
            while p < bytes.len() {
                let c = bytes[p] as char;
                match c {
                    '{' => {
                        depth += 1;
                        fresh = true;
                        token.clear();
                    }
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' => {
                        fresh = true;
                        token.clear();
                    }
                    _ if depth == 1 && fresh => {
                        if c.is_alphanumeric() || c == '_' {
                            token.push(c);
                        } else if !token.is_empty() {
                            found.insert(std::mem::take(&mut token));
                            fresh = false;
                        }
                    }
                    _ => {}
                }
                p += 1;
            }
        } else {
            let word: String = code[p..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.insert(word);
        }
    }
    found
}

struct Tree {
    /// Top-level module → the top-level modules it names.
    graph: BTreeMap<String, BTreeSet<String>>,
    /// (lines of code, file) for every source file.
    sizes: Vec<(usize, String)>,
}

fn read_tree() -> Tree {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut sizes = Vec::new();
    for path in &files {
        let rel = path.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_owned();
        let is_test_file = rel.file_name().is_some_and(|n| n == "tests.rs")
            || rel.components().any(|c| c.as_os_str() == "tests");
        if is_test_file {
            continue;
        }
        let code = code_lines(&fs::read_to_string(path).unwrap());
        let non_blank = code.iter().filter(|l| !l.trim().is_empty()).count();
        sizes.push((non_blank, rel.display().to_string()));
        if module == "lib" || module == "main" {
            continue;
        }
        let names = graph.entry(module.clone()).or_default();
        names.extend(heads(&code.join("\n")));
    }
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for (module, names) in graph.iter_mut() {
        names.retain(|n| modules.contains(n) && n != module);
    }
    Tree { graph, sizes }
}

/// Strongly connected components with more than one module (Tarjan).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        next: usize,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        for w in &s.graph[v] {
            if !s.index.contains_key(w.as_str()) {
                visit(s, w);
                let lw = s.low[w.as_str()];
                let lv = s.low[v];
                s.low.insert(v, lv.min(lw));
            } else if s.stack.contains(&w.as_str()) {
                let iw = s.index[w.as_str()];
                let lv = s.low[v];
                s.low.insert(v, lv.min(iw));
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                comp.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.found.push(comp);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.found
}

#[test]
fn top_level_modules_import_one_way() {
    let tree = read_tree();
    for (module, names) in &tree.graph {
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        println!("{module:10} -> {}", names.join(", "));
    }
    let found = cycles(&tree.graph);
    assert!(
        found.is_empty(),
        "import cycles between top-level modules (each group reaches itself): {found:?}"
    );
}

#[test]
fn no_source_file_outgrows_a_head() {
    let tree = read_tree();
    let big: Vec<_> = tree
        .sizes
        .iter()
        .filter(|(n, _)| *n > MAX_CODE_LINES)
        .collect();
    assert!(
        big.is_empty(),
        "files over {MAX_CODE_LINES} lines of code (comments, blank lines and tests \
         excluded): {big:?}; split them by concern (docs/architecture.md)"
    );
}

#[test]
fn the_graph_reader_sees_grouped_and_plain_paths() {
    let code = "use crate::{store::{A, B}, mail::Kind};\nlet x = crate::auth::f();";
    let found: Vec<String> = heads(code).into_iter().collect();
    assert_eq!(found, ["auth", "mail", "store"]);
    let text = "fn a() {}\n#[cfg(test)]\nmod tests {\n    use crate::http;\n}\n// crate::x\n";
    assert_eq!(code_lines(text).join("\n").matches("crate::").count(), 0);
}

/// Every secret comes from the OS CSPRNG (landscape review §5.5, lldap
/// ff81f08: refresh and reset tokens drawn from `SmallRng`): toktok draws
/// randomness through `ring::rand::SystemRandom` (or `OsRng`) only, so no
/// source file outside tests may name a seeded or thread-local generator.
#[test]
fn secrets_come_from_the_os_csprng_only() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let banned = [
        "thread_rng",
        "rand::rng(",
        "rand::random",
        "SmallRng",
        "StdRng",
        "ChaCha",
        "fastrand",
        "SeedableRng",
    ];
    let mut found = Vec::new();
    for path in &files {
        let rel = path.strip_prefix(&src).unwrap().display().to_string();
        if rel.ends_with("tests.rs") || rel.contains("/tests/") {
            continue;
        }
        for line in code_lines(&fs::read_to_string(path).unwrap()) {
            if let Some(name) = banned.iter().find(|b| line.contains(*b)) {
                found.push(format!("{rel}: {name}: {}", line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "non-CSPRNG randomness in src/ (use ring::rand::SystemRandom): {found:#?}"
    );
}
