//! The `file-reader` example plugin: reads a file with `std::fs`, which goes
//! through WASI and so through the host's file policy. The Python,
//! JavaScript and C versions in `example-plugins/` do the same.

use example_interfaces::FileReader;

#[derive(Default)]
struct Reader;

impl FileReader for Reader {
    fn read_file(&self, path: String) -> Result<String, String> {
        std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))
    }
}

wasm_sandbox_guest::export!(Reader: example_interfaces::FileReader);
