//! `WASM_SANDBOX_MACROS_DEBUG=1`: writes each expansion to
//! `target/wasm-sandbox-macros/<name>.rs` for reading.

use proc_macro2::TokenStream;

/// With `WASM_SANDBOX_MACROS_DEBUG=1`, writes an expansion to a file.
pub(crate) fn dump(name: &str, tokens: &TokenStream) {
    if std::env::var_os("WASM_SANDBOX_MACROS_DEBUG").is_none() {
        return;
    }
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("CARGO_MANIFEST_DIR")
                .map(|d| std::path::PathBuf::from(d).join("target"))
        })
        .unwrap_or_else(|| std::path::PathBuf::from("target"))
        .join("wasm-sandbox-macros");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join(format!("{name}.rs")), tokens.to_string());
}
