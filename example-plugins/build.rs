//! Builds the guest plugins in `guests/` for `wasm32-wasip2` with a nested
//! cargo, into a target directory of their own, and writes `plugins.rs` with
//! the path of each component.
//!
//! A missing `wasm32-wasip2` standard library is added with rustup (rustup
//! does not do it by itself for an installed toolchain, even though
//! `rust-toolchain.toml` lists the target).

use std::env;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";

/// Crate name in `guests/`, and the constant that holds its path.
const PLUGINS: &[(&str, &str)] = &[
    ("greeter", "GREETER"),
    ("calculator", "CALCULATOR"),
    ("text-filter", "TEXT_FILTER"),
    ("type-probe", "TYPE_PROBE"),
    ("intruder", "INTRUDER"),
    ("hog", "HOG"),
    ("bench", "BENCH"),
    ("file-reader", "FILE_READER"),
    ("fetcher", "FETCHER"),
    ("greeter-v2", "GREETER_V2"),
    ("greeter-nosy", "GREETER_NOSY"),
    ("burglar", "BURGLAR"),
    ("raw-fetcher", "RAW_FETCHER"),
    ("resolver", "RESOLVER"),
    ("painter", "PAINTER"),
    ("swatch", "SWATCH"),
    ("greeter-next", "GREETER_NEXT"),
    ("tally", "TALLY"),
    ("reviewer", "REVIEWER"),
    ("hello", "HELLO"),
    ("adder", "ADDER"),
];

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    let root = manifest_dir
        .parent()
        .expect("example-plugins is inside the workspace");
    let guests = manifest_dir.join("guests");

    for watched in [
        guests.clone(),
        root.join("wit"),
        root.join("guest-sdk"),
        root.join("macros"),
    ] {
        println!("cargo:rerun-if-changed={}", watched.display());
    }

    ensure_target_installed();

    let target_dir = out_dir.join("guests-target");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.arg("build")
        .arg("--release")
        .arg("--target")
        .arg(TARGET)
        .arg("--manifest-path")
        .arg(guests.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir);
    // The outer build's settings are for the host target (or for clippy),
    // not for the guests.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_TARGET_DIR",
        "CARGO_LLVM_COV",
        "LLVM_PROFILE_FILE",
    ] {
        cmd.env_remove(var);
    }
    let started = std::time::Instant::now();
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("could not run cargo to build the guest plugins: {e}"));
    if !status.success() {
        panic!(
            "building the guest plugins in {} failed ({status}); the errors are above",
            guests.display()
        );
    }

    // Cargo shows `example-plugins(build)` while this runs, and a build
    // script's own output only on failure; a warning is what reaches the
    // terminal, so the first build (minutes) says what it was doing.
    let names: Vec<&str> = PLUGINS.iter().map(|(krate, _)| *krate).collect();
    println!(
        "cargo:warning=built the {} example plugins for {TARGET} in {:.0} s ({}) into {}; \
         they are rebuilt only when example-plugins/guests, wit/, guest-sdk/ or macros/ change",
        names.len(),
        started.elapsed().as_secs_f64(),
        names.join(", "),
        target_dir.display()
    );
    let release = target_dir.join(TARGET).join("release");
    let mut code = String::new();
    for (krate, constant) in PLUGINS {
        let path = release.join(format!("{}.wasm", krate.replace('-', "_")));
        assert!(
            path.exists(),
            "the guest build finished but {} is missing",
            path.display()
        );
        writeln!(
            code,
            "/// Path of the `{krate}` example plugin component (built from `example-plugins/guests/{krate}`).\n\
             pub const {constant}: &str = {:?};",
            path.display().to_string()
        )
        .unwrap();
    }
    writeln!(code, "/// Every example plugin: (crate name, path).").unwrap();
    writeln!(code, "pub const ALL: &[(&str, &str)] = &[").unwrap();
    for (krate, constant) in PLUGINS {
        writeln!(code, "    ({krate:?}, {constant}),").unwrap();
    }
    writeln!(code, "];").unwrap();
    std::fs::write(out_dir.join("plugins.rs"), code).expect("write plugins.rs");
}

/// Makes sure the standard library for `wasm32-wasip2` is installed, adding
/// it with rustup when it is missing.
fn ensure_target_installed() {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if sysroot.as_deref().is_some_and(target_lib_present) {
        return;
    }
    let toolchain = env::var("RUSTUP_TOOLCHAIN").ok();
    let mut add = Command::new("rustup");
    add.args(["target", "add", TARGET]);
    if let Some(toolchain) = &toolchain {
        add.args(["--toolchain", toolchain]);
    }
    println!(
        "cargo:warning=the {TARGET} target is not installed; running `rustup target add {TARGET}` to build the example plugins"
    );
    match add.status() {
        Ok(status) if status.success() => {}
        Ok(status) => panic!(
            "`rustup target add {TARGET}` failed ({status}); run it by hand, then build again"
        ),
        Err(_) => panic!(
            "the {TARGET} standard library is missing and rustup is not available; \
             install the target for this toolchain (with rustup: `rustup target add {TARGET}`), then build again"
        ),
    }
    if let Some(sysroot) = &sysroot {
        assert!(
            target_lib_present(sysroot),
            "`rustup target add {TARGET}` succeeded but {} still has no {TARGET} library; \
             run `rustup target add {TARGET}` for the toolchain in rust-toolchain.toml",
            sysroot.display()
        );
    }
}

fn target_lib_present(sysroot: &Path) -> bool {
    sysroot
        .join("lib")
        .join("rustlib")
        .join(TARGET)
        .join("lib")
        .is_dir()
}
