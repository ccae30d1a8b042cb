//! The security chapter's function-by-function table of
//! `wasi:filesystem/types` is complete and names tests that exist: every
//! function the `burglar` plugin imports (it calls every one) has a row, and
//! every test a row names is in `fs_attacks.rs`.

use wasm_sandbox::ComponentInfo;

const CHAPTER: &str = include_str!("../../book/src/security-model.md");
const ATTACKS: &str = include_str!("fs_attacks.rs");

/// The rows of the table: (functions, tests).
fn rows() -> Vec<(Vec<String>, Vec<String>)> {
    let start = CHAPTER
        .find("| function | check | audit event | test")
        .expect("the security chapter has the filesystem table");
    CHAPTER[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').collect();
            let names = |cell: &str| -> Vec<String> {
                cell.split('`')
                    .skip(1)
                    .step_by(2)
                    .map(str::to_string)
                    .collect()
            };
            (names(cells[0]), names(cells[cells.len() - 1]))
        })
        .collect()
}

#[test]
fn every_filesystem_function_has_a_row_and_every_row_a_test() {
    let info = ComponentInfo::from_file(example_plugins::BURGLAR).unwrap();
    let types = info
        .imports()
        .iter()
        .find(|i| i.name.starts_with("wasi:filesystem/types@"))
        .expect("burglar imports wasi:filesystem/types");
    let rows = rows();
    let in_table: Vec<String> = rows
        .iter()
        .flat_map(|(f, _)| f.iter())
        .map(|f| f.rsplit(' ').next().unwrap_or(f).to_string())
        .collect();
    let mut checked = 0;
    for function in &types.functions {
        if function.starts_with("[resource-drop]") || function == "filesystem-error-code" {
            continue;
        }
        let short = function.rsplit('.').next().unwrap_or(function);
        let short = short.trim_start_matches("[method]");
        assert!(
            in_table.iter().any(|t| t == short),
            "`{function}` has no row in the security chapter's filesystem table"
        );
        checked += 1;
    }
    // Every function of wasi:filesystem/types@0.2 but the error conversion.
    assert!(checked >= 28, "burglar imports only {checked} functions");
    for (functions, tests) in &rows {
        assert!(!tests.is_empty(), "the row for {functions:?} names no test");
        for test in tests {
            assert!(
                ATTACKS.contains(&format!("fn {test}(")),
                "the row for {functions:?} names `{test}`, which is not in fs_attacks.rs"
            );
        }
    }
}
