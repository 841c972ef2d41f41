//! The house rules ARCHITECTURE.md states, checked on the source tree:
//! `config` imports no component, the top-level modules import each other
//! without a circle, no source file is over 700 lines and no function outside
//! tests over 120, and every folder of `src/` is named in ARCHITECTURE.md's
//! code map.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module → the top-level modules its code names through `crate::`.
fn import_graph() -> BTreeMap<String, BTreeSet<String>> {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![source.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|extension| extension != "rs") {
                continue;
            }
            let relative = path.strip_prefix(&source).unwrap();
            let first = relative.components().next().unwrap().as_os_str();
            let module = first.to_string_lossy().trim_end_matches(".rs").to_owned();
            // `cmd/` is the binary's own (child modules of main.rs).
            if module == "main" || module == "lib" || module == "cmd" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let imports = graph.entry(module.clone()).or_default();
            for line in text.lines() {
                let code = line.split("//").next().unwrap_or("");
                for (index, _) in code.match_indices("crate::") {
                    let name: String = code[index + 7..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    // Root items of lib.rs (exit_code) are shared constants, not modules.
                    if !name.is_empty() && name != module && name != "exit_code" {
                        imports.insert(name);
                    }
                }
            }
        }
    }
    graph
}

#[test]
fn config_imports_no_component() {
    let graph = import_graph();
    assert_eq!(
        graph.get("config").cloned().unwrap_or_default(),
        BTreeSet::new(),
        "src/config/ must not know the components it configures"
    );
}

#[test]
fn top_level_modules_import_each_other_without_a_circle() {
    let graph = import_graph();
    // Depth-first search for a back edge.
    fn visit(
        module: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if done.contains(module) {
            return;
        }
        if let Some(start) = path.iter().position(|seen| seen == module) {
            let mut circle = path[start..].to_vec();
            circle.push(module.to_owned());
            panic!("import circle: {}", circle.join(" → "));
        }
        path.push(module.to_owned());
        for next in graph.get(module).into_iter().flatten() {
            visit(next, graph, path, done);
        }
        path.pop();
        done.insert(module.to_owned());
    }
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        visit(module, &graph, &mut Vec::new(), &mut done);
    }
    assert!(graph.contains_key("pipeline") && graph.contains_key("sink"));
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

const MAX_FILE_LINES: usize = 700;
const MAX_FUNCTION_LINES: usize = 120;

/// Functions longer than the limit, outside tests, as `(file, fn, lines)`.
/// Relies on rustfmt's layout: a body ends at the first `}` line at the
/// indentation of its `fn` line. A file's `#[cfg(test)]` module and files
/// named `tests.rs` are tests.
fn long_functions(path: &Path, text: &str) -> Vec<(String, usize)> {
    let in_tests = path
        .components()
        .any(|part| part.as_os_str() == "tests" || part.as_os_str() == "tests.rs");
    if in_tests {
        return Vec::new();
    }
    let lines: Vec<&str> = text.lines().collect();
    let end_of_code = lines
        .windows(2)
        .position(|pair| pair[0].trim() == "#[cfg(test)]" && pair[1].starts_with("mod tests"))
        .unwrap_or(lines.len());
    let mut long = Vec::new();
    for (index, line) in lines[..end_of_code].iter().enumerate() {
        let code = line.trim_start();
        let indent = line.len() - code.len();
        let signature = code
            .trim_start_matches("pub(crate) ")
            .trim_start_matches("pub(super) ")
            .trim_start_matches("pub ")
            .trim_start_matches("const ")
            .trim_start_matches("async ");
        let Some(rest) = signature.strip_prefix("fn ") else {
            continue;
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let closing = format!("{}}}", " ".repeat(indent));
        // A declaration without a body (`fn f();`) ends before any brace.
        let Some(length) = lines[index..end_of_code].iter().position(|line| {
            line.trim_end() == closing
                || line.trim_end().ends_with(';')
                    && !line.contains('{')
                    && line.trim_start().starts_with("fn ")
        }) else {
            continue;
        };
        if length + 1 > MAX_FUNCTION_LINES {
            long.push((name, length + 1));
        }
    }
    long
}

/// Files and functions over the limits that stay, each with why. Empty is
/// the goal; every entry here is named in the closing note of its change.
const SIZE_EXCEPTIONS: &[(&str, &str)] = &[];

#[test]
fn no_file_over_700_lines_and_no_function_over_120_outside_tests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut problems = Vec::new();
    let mut over = Vec::new();
    for path in rust_files(&root.join("src")) {
        let text = std::fs::read_to_string(&path).unwrap();
        let relative = path.strip_prefix(root).unwrap().display().to_string();
        let count = text.lines().count();
        if count > MAX_FILE_LINES {
            over.push((
                relative.clone(),
                format!("{count} lines (at most {MAX_FILE_LINES})"),
            ));
        }
        for (name, length) in long_functions(&path, &text) {
            over.push((
                format!("{relative}::{name}"),
                format!("{length} lines (at most {MAX_FUNCTION_LINES})"),
            ));
        }
    }
    for (what, size) in &over {
        if !SIZE_EXCEPTIONS.iter().any(|(name, _)| name == what) {
            problems.push(format!("{what}: {size}"));
        }
    }
    for (name, _) in SIZE_EXCEPTIONS {
        if !over.iter().any(|(what, _)| what == name) {
            problems.push(format!(
                "{name}: within the limits now; remove its exception"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "over the size limits:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_size_check_sees_a_long_function_and_skips_tests() {
    let body = "    let x = 1;\n".repeat(130);
    let text = format!("fn long() {{\n{body}}}\n\nfn short() {{\n}}\n\n#[cfg(test)]\nmod tests {{\n    fn also_long() {{\n{body}    }}\n}}\n");
    let found = long_functions(Path::new("src/x.rs"), &text);
    assert_eq!(found, vec![("long".to_owned(), 132)]);
    assert!(long_functions(Path::new("src/x/tests.rs"), &text).is_empty());
}

#[test]
fn every_src_folder_is_named_in_the_code_map() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let map = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let mut missing = Vec::new();
    let mut stack = vec![root.join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                let relative = path
                    .strip_prefix(root.join("src"))
                    .unwrap()
                    .display()
                    .to_string();
                // A folder that holds only a module's unit tests is not part of the map.
                let tests_only = path.file_name().is_some_and(|name| name == "tests")
                    || std::fs::read_dir(&path)
                        .unwrap()
                        .all(|entry| entry.unwrap().file_name() == "tests.rs");
                if !tests_only && !map.contains(&format!("{relative}/")) {
                    missing.push(relative);
                }
                stack.push(path);
            }
        }
    }
    missing.sort();
    assert!(
        missing.is_empty(),
        "src/ folders ARCHITECTURE.md does not name (as `name/`): {missing:?}"
    );
}

/// What opens or reads a file, as code spells it.
const FILE_READS: &[&str] = &[
    "fs::read(",
    "fs::read_to_string(",
    "read_to_string(",
    "File::open(",
    ".read(true)",
    "pem_file_iter(",
    "from_pem_file(",
];

/// Reads downstream of the run plan that stay, each with why: none of them
/// reads a file that configuration names as input to the build (a secret,
/// a CA, a certificate, a key), which the plan read once at load.
const FILE_READS_ALLOWED: &[(&str, &str, &str)] = &[
    (
        "sink/file/mod.rs",
        ".read(true)",
        "the file sink's own output, opened to cut a torn last line before appending",
    ),
    (
        "pipeline/sink_task.rs",
        "read_to_string(",
        "a kept batch unpacked from gzip in memory: no file",
    ),
];

/// Non-test code of the modules built from the plan (the sinks, the
/// sources, the app, the pipeline) never reads a file: what configuration
/// names (secrets, TLS material) was read once at load, so a file changed or
/// removed after start-up changes nothing and a bad one is exit 78 at load.
#[test]
fn nothing_built_from_the_plan_reads_a_file() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for part in ["sink", "source", "app", "pipeline"] {
        files.extend(rust_files(&source.join(part)));
    }
    files.push(source.join("app.rs"));
    files.push(source.join("plan.rs"));
    let mut found = Vec::new();
    let mut allowed_seen = BTreeSet::new();
    for path in files {
        let relative = path
            .strip_prefix(&source)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if path
            .components()
            .any(|part| part.as_os_str() == "tests" || part.as_os_str() == "tests.rs")
        {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (number, line) in non_test_code(&text) {
            let code = line.split("//").next().unwrap_or("");
            for pattern in FILE_READS.iter().filter(|pattern| code.contains(**pattern)) {
                // `fs::read_to_string(` also holds `read_to_string(`: one finding.
                if *pattern == "read_to_string(" && code.contains("fs::read_to_string(") {
                    continue;
                }
                let allowed = FILE_READS_ALLOWED
                    .iter()
                    .find(|(file, what, _)| *file == relative && what == pattern);
                match allowed {
                    Some(entry) => {
                        allowed_seen.insert(*entry);
                    }
                    None => found.push(format!("src/{relative}:{number}: {}", line.trim())),
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "code built from the run plan reads a file; read it once at load (config::load_files) and keep what it holds:\n{}",
        found.join("\n")
    );
    let stale: Vec<_> = FILE_READS_ALLOWED
        .iter()
        .filter(|entry| !allowed_seen.contains(*entry))
        .collect();
    assert!(
        stale.is_empty(),
        "allowed reads no longer in the code: {stale:?}"
    );
}

/// Lines (numbered from 1) before a file's `#[cfg(test)] mod tests`.
fn non_test_code(text: &str) -> Vec<(usize, &str)> {
    let lines: Vec<&str> = text.lines().collect();
    let end = lines
        .windows(2)
        .position(|pair| {
            pair[0].trim() == "#[cfg(test)]" && pair[1].trim_start().starts_with("mod tests")
        })
        .unwrap_or(lines.len());
    lines[..end]
        .iter()
        .enumerate()
        .map(|(index, line)| (index + 1, *line))
        .collect()
}

#[test]
fn the_file_read_check_sees_a_read_and_skips_tests() {
    let text = "fn build() {\n    let pem = std::fs::read(&config.tls_ca_file);\n}\n#[cfg(test)]\nmod tests {\n    fn t() { std::fs::read(\"x\"); }\n}\n";
    let lines: Vec<usize> = non_test_code(text)
        .into_iter()
        .filter(|(_, line)| FILE_READS.iter().any(|pattern| line.contains(pattern)))
        .map(|(number, _)| number)
        .collect();
    assert_eq!(lines, [2]);
}
