//! The layering of `docs/architecture.md`, checked on the source: every `crate::…` a module
//! of `src/` names (in `use` lines and in paths) must be one its layer may import. A new edge
//! against the table fails here, with the file that made it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What each top-level module may import, bottom-up. `lib.rs` and `main.rs` wire everything
/// and are not listed.
const ALLOWED: &[(&str, &[&str])] = &[
    ("i18n", &[]),
    ("paths", &[]),
    ("entities", &[]),
    ("malloc", &[]),
    ("metrics", &[]),
    ("config", &["paths"]),
    ("db", &["config"]),
    (
        "accounts",
        &[
            "config", "db", "entities", "i18n", "malloc", "metrics", "paths",
        ],
    ),
    ("error", &["accounts"]),
    ("state", &["accounts", "config"]),
    (
        "auth",
        &[
            "accounts", "config", "entities", "error", "metrics", "state",
        ],
    ),
    ("views", &["i18n", "paths"]),
    (
        "web",
        &[
            "accounts", "auth", "config", "entities", "error", "i18n", "metrics", "paths", "state",
            "views",
        ],
    ),
    (
        "api",
        &[
            "accounts", "auth", "config", "entities", "error", "metrics", "paths", "state",
        ],
    ),
    ("oauth", &["accounts", "auth", "config", "paths", "state"]),
    (
        "cli",
        &[
            "accounts", "auth", "config", "db", "entities", "error", "i18n", "paths", "state",
        ],
    ),
    (
        "forward_auth",
        &[
            "accounts", "auth", "config", "error", "i18n", "metrics", "paths", "state", "views",
        ],
    ),
    (
        "server",
        &[
            "accounts",
            "api",
            "auth",
            "config",
            "db",
            "error",
            "forward_auth",
            "malloc",
            "metrics",
            "oauth",
            "paths",
            "state",
            "web",
        ],
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its comments (line and doc comments; block comments are not
/// used in this codebase).
fn code_of(text: &str) -> String {
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .map(|line| match line.find(" // ") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules a piece of code names through `crate::`, e.g. `crate::paths::X`
/// and each entry of `use crate::{a::b, c}`.
fn imports_of(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        let preceded = rest[..at]
            .chars()
            .last()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        if !preceded {
            if let Some(group) = after.strip_prefix('{') {
                let mut depth = 0;
                let mut entry_start = true;
                for (i, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => entry_start = true,
                        c if entry_start && (c.is_alphanumeric() || c == '_') => {
                            let name: String = group[i..]
                                .chars()
                                .take_while(|c| c.is_alphanumeric() || *c == '_')
                                .collect();
                            found.insert(name);
                            entry_start = false;
                        }
                        _ => {}
                    }
                }
            } else {
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.insert(name);
                }
            }
        }
        rest = after;
    }
    found.remove("self");
    found
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Each top-level module with the files that make it.
fn modules() -> BTreeMap<String, Vec<PathBuf>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut modules: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(src()).expect("under src");
        let first = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .expect("a name");
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" || module == "main" {
            continue;
        }
        modules.entry(module).or_default().push(file);
    }
    modules
}

#[test]
fn every_module_imports_only_what_its_layer_allows() {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut wrong = Vec::new();
    for (module, files) in modules() {
        let Some(may) = allowed.get(module.as_str()) else {
            wrong.push(format!(
                "src/{module}: a top-level module missing from the table (add its layer to ALLOWED and docs/architecture.md)"
            ));
            continue;
        };
        for file in files {
            let text = std::fs::read_to_string(&file).expect("read");
            for import in imports_of(&code_of(&text)) {
                if import != module && !may.contains(&import.as_str()) {
                    wrong.push(format!(
                        "{} imports crate::{import}, which {module} may not",
                        file.strip_prefix(src()).expect("under src").display()
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layering:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_table_itself_has_no_cycle_and_nobody_imports_the_server() {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    // Each module may import only modules listed before it: a topological order, so no cycle.
    for (index, (module, may)) in ALLOWED.iter().enumerate() {
        for import in *may {
            let position = ALLOWED.iter().position(|(m, _)| m == import);
            assert!(
                position.is_some_and(|p| p < index),
                "{module} may import {import}, which is not below it"
            );
        }
    }
    for (module, may) in &allowed {
        assert!(!may.contains(&"server"), "{module} may import server");
    }
    assert_eq!(allowed["views"], &["i18n", "paths"][..], "views stay pure");
}

#[test]
fn the_domain_speaks_no_http() {
    let mut files = Vec::new();
    rust_files(&src().join("accounts"), &mut files);
    for file in files {
        let code = code_of(&std::fs::read_to_string(&file).expect("read"));
        for word in ["axum", "StatusCode", "IntoResponse", "tower"] {
            assert!(
                !code.contains(word),
                "{} names {word}: the domain returns accounts::Error, the API and the web map it",
                file.display()
            );
        }
    }
}

#[test]
fn the_import_reader_sees_paths_groups_and_not_comments() {
    let code = code_of(
        "use crate::a::b;\nuse crate::{c::{d, e}, f};\n// crate::g\nlet x = crate::h::i();\nlet y = my_crate::j;",
    );
    let found: Vec<String> = imports_of(&code).into_iter().collect();
    assert_eq!(found, ["a", "c", "f", "h"]);
}
