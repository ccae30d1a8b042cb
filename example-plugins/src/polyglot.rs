//! Example plugins written in Python, JavaScript and C, built on demand by
//! the build script of each language (`example-plugins/<lang>/build.sh`).
//!
//! Unlike the Rust plugins, which this crate's build script always builds,
//! these need a language toolchain that a machine may not have. [`require`]
//! builds a language's plugins the first time it is asked (the scripts skip
//! work that is up to date) and, when the toolchain is missing, says which
//! command installs it:
//!
//! - outside CI it prints that on the terminal and returns `None`, so
//!   `cargo test` still passes on a machine without, say, Node.js;
//! - with `CI=true` in the environment a missing toolchain is a failure.
//!
//! `.ci/run` runs every language's `setup.sh`, so CI runs every test.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// A plugin language other than Rust.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Language {
    /// Python, with `componentize-py` (PyPI).
    Python,
    /// JavaScript, with `jco` and `componentize-js` (npm).
    JavaScript,
    /// C, with clang and wasi-libc (Debian) and `wit-bindgen-c` and
    /// `wit-component` (crates.io).
    C,
}

impl Language {
    /// Every language, in the order the book lists them.
    pub const ALL: [Language; 3] = [Language::Python, Language::JavaScript, Language::C];

    /// The folder under `example-plugins/` that holds the language's plugins.
    pub fn dir_name(self) -> &'static str {
        match self {
            Language::Python => "python",
            Language::JavaScript => "js",
            Language::C => "c",
        }
    }

    /// The plugins the language's build script produces, by file stem
    /// (`text-filter` is `text-filter.wasm`). Each is named after its WIT
    /// world; they implement different interfaces (`tallies`, Python only,
    /// exports plugin objects), so code that calls one interface picks its
    /// plugin by name rather than iterating over this list.
    pub fn plugins(self) -> &'static [&'static str] {
        match self {
            Language::Python => &["text-filter", "file-reader", "tallies"],
            Language::JavaScript => &["text-filter", "file-reader", "fetcher"],
            Language::C => &["text-filter", "file-reader"],
        }
    }

    /// The command that installs the language's toolchain, relative to the
    /// workspace root.
    pub fn setup_command(self) -> String {
        format!("example-plugins/{}/setup.sh", self.dir_name())
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Language::Python => "Python",
            Language::JavaScript => "JavaScript",
            Language::C => "C",
        })
    }
}

/// A language's plugins, built.
#[derive(Clone, Debug)]
pub struct Built {
    language: Language,
    dir: PathBuf,
}

impl Built {
    /// The language.
    pub fn language(&self) -> Language {
        self.language
    }

    /// The component file of `plugin` (one of [`Language::plugins`]).
    ///
    /// # Panics
    ///
    /// If the language has no such plugin.
    pub fn path(&self, plugin: &str) -> PathBuf {
        assert!(
            self.language.plugins().contains(&plugin),
            "{} has no `{plugin}` example plugin; it has {:?}",
            self.language,
            self.language.plugins()
        );
        self.dir.join(format!("{plugin}.wasm"))
    }
}

/// Why a language's plugins are not available.
#[derive(Clone, Debug)]
pub enum Unavailable {
    /// The toolchain is not installed.
    MissingToolchain {
        /// The language.
        language: Language,
        /// What the build script found missing.
        missing: String,
    },
    /// The toolchain is there but the build failed.
    BuildFailed {
        /// The language.
        language: Language,
        /// The build script's exit status and error output.
        detail: String,
    },
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unavailable::MissingToolchain { language, missing } => write!(
                f,
                "the {language} plugin tests did not run: {missing}; run `{}` to enable them",
                language.setup_command()
            ),
            Unavailable::BuildFailed { language, detail } => write!(
                f,
                "building the {language} example plugins failed: {detail}"
            ),
        }
    }
}

impl std::error::Error for Unavailable {}

/// The workspace root (this crate's parent folder).
fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("example-plugins sits inside the workspace")
}

/// Where the built components go: `target/polyglot/<lang>`.
pub fn out_dir(language: Language) -> PathBuf {
    workspace_root()
        .join("target/polyglot")
        .join(language.dir_name())
}

/// Runs `example-plugins/<lang>/build.sh` (once per process), which builds
/// what is out of date.
pub fn build(language: Language) -> Result<Built, Unavailable> {
    static BUILT: [OnceLock<Result<Built, Unavailable>>; 3] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    BUILT[language.index()]
        .get_or_init(|| run_build_script(language))
        .clone()
}

fn run_build_script(language: Language) -> Result<Built, Unavailable> {
    let script = workspace_root()
        .join("example-plugins")
        .join(language.dir_name())
        .join("build.sh");
    let dir = out_dir(language);
    let failed = |detail: String| Unavailable::BuildFailed { language, detail };
    std::fs::create_dir_all(&dir)
        .map_err(|e| failed(format!("cannot create {}: {e}", dir.display())))?;
    let output = Command::new("bash")
        .arg(&script)
        .arg(&dir)
        .output()
        .map_err(|e| failed(format!("cannot run {}: {e}", script.display())))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    match output.status.code() {
        Some(0) => {}
        // The scripts' "toolchain missing" status.
        Some(3) => {
            return Err(Unavailable::MissingToolchain {
                language,
                missing: stderr.trim().to_string(),
            });
        }
        _ => {
            return Err(failed(format!(
                "{} exited with {}:\n{}{}",
                script.display(),
                output.status,
                String::from_utf8_lossy(&output.stdout),
                stderr
            )));
        }
    }
    let built = Built { language, dir };
    for plugin in language.plugins() {
        let path = built.path(plugin);
        if !path.is_file() {
            return Err(failed(format!(
                "{} succeeded but did not produce {}",
                script.display(),
                path.display()
            )));
        }
    }
    Ok(built)
}

/// Whether this is a CI run (`CI` set to anything but `false` or `0`), where
/// every language must be available.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// The built plugins of `language`, or `None` (after saying so on the
/// terminal, once per language) when its toolchain is missing outside CI.
///
/// # Panics
///
/// When the build fails, or when the toolchain is missing and [`in_ci`].
pub fn require(language: Language) -> Option<Built> {
    static TOLD: [OnceLock<()>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    match build(language) {
        Ok(built) => Some(built),
        Err(e @ Unavailable::MissingToolchain { .. }) if !in_ci() => {
            TOLD[language.index()].get_or_init(|| {
                // Straight to the terminal: the test harness captures
                // `eprintln!` of passing tests, and this must be seen.
                let _ = writeln!(std::io::stderr().lock(), "\nnote: {e}");
            });
            None
        }
        Err(e) => panic!("{e}"),
    }
}
