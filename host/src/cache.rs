//! The on-disk compile cache, and the precompiled-artifact format it shares
//! with [`precompile`].
//!
//! Compiling a component with Cranelift takes far longer than loading the
//! machine code wasmtime produced for it, so compiled components are kept on
//! disk and loaded again by later processes.
//!
//! # Artifact format
//!
//! Cache entries and the files written from [`precompile`] have the same
//! layout, all integers little-endian:
//!
//! | bytes | content |
//! |-------|---------|
//! | 8     | magic `WSBXCOMP` |
//! | 4     | format version (`u32`) |
//! | 32    | engine fingerprint: SHA-256 of this crate's version, the format version and wasmtime's [`precompile_compatibility_hash`](wasmtime::Engine::precompile_compatibility_hash) (which includes wasmtime's own version) |
//! | 32    | source hash: SHA-256 of the component binary the payload was compiled from |
//! | 8     | payload length (`u64`) |
//! | 32    | SHA-256 of the payload |
//! | n     | payload: wasmtime's serialized component |
//!
//! [`load_artifact`] checks all of this before it hands the payload to
//! wasmtime, so that a damaged file, a file from another engine
//! configuration or something that is not an artifact at all is reported as
//! such and never deserialized. The cache also compares the source hash with
//! the component being loaded, so an entry copied or renamed under another
//! component's name is never loaded as that component; a precompiled
//! artifact given by path has no source to compare with.
//!
//! # Trust
//!
//! Deserializing a component is `unsafe` in wasmtime because the payload is
//! machine code that will be run as is: the checks above catch accidents
//! (truncation, bit rot, an engine with other settings, a stray file), not
//! an attacker, who can write a well-formed header and checksum around
//! anything. Loading an artifact or a cache entry is therefore only sound if
//! nobody malicious could have written the file: keep the cache directory
//! private to the user running the host (it is created with mode `0700` on
//! Unix, and a directory that others can write to is never read), and only
//! load precompiled artifacts from where you would load the host's own
//! binaries.
//!
//! # Cache entries
//!
//! An entry is named `<SHA-256 of the wasm>-<first 16 hex digits of the
//! engine fingerprint>.cwasm`, so engines with different settings use
//! different entries. It is written to a temporary file in the same
//! directory and renamed into place, so concurrent processes compiling the
//! same plugin each leave a complete, valid entry (the last rename wins). A
//! hit refreshes the entry's modification time, and after each store the
//! least recently used entries are removed while the directory holds more
//! than its size bound.

use std::ffi::OsString;
use std::fs::{self, File};
use std::hash::{Hash, Hasher};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use crate::read::InputLimits;
use crate::read::{Follow, ReadError, read_bounded};

/// The first bytes of every artifact.
const MAGIC: &[u8; 8] = b"WSBXCOMP";

/// The version of the layout described in the module documentation. Bump it
/// whenever the layout or the meaning of a field changes.
const FORMAT_VERSION: u32 = 2;

/// Offsets of the header fields.
const VERSION_AT: usize = MAGIC.len();
const FINGERPRINT_AT: usize = VERSION_AT + 4;
const SOURCE_AT: usize = FINGERPRINT_AT + 32;
const LENGTH_AT: usize = SOURCE_AT + 32;
const CHECKSUM_AT: usize = LENGTH_AT + 8;
/// The length of the header; the payload starts here.
const HEADER_LEN: usize = CHECKSUM_AT + 32;

/// The file extension of cache entries.
const ENTRY_EXTENSION: &str = "cwasm";

/// Temporary files left behind by a crashed writer are removed once they
/// are this old (a live writer finishes within seconds).
const STALE_TEMP_AGE: Duration = Duration::from_secs(60 * 60);

/// The advice every [`ArtifactError`] ends with.
const RECOMPILE: &str = "recompile it with `wasm_sandbox::precompile` using the same wasm-sandbox version and engine settings";

/// An on-disk cache of compiled components.
///
/// Cloning is cheap; clones use the same directory.
#[derive(Clone, Debug)]
pub(crate) struct CompileCache {
    dir: PathBuf,
    max_bytes: u64,
    max_entry_bytes: u64,
}

/// What a cache lookup did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CacheOutcome {
    /// A valid entry was loaded; nothing was compiled.
    Hit,
    /// No entry: the component was compiled and stored.
    Miss,
    /// An entry existed but was unusable (corrupt, truncated, made by an
    /// incompatible engine, or wasmtime refused it); it was replaced by a
    /// fresh compilation.
    Replaced {
        /// Why the entry could not be used, in words.
        reason: String,
    },
    /// Storing failed (read-only directory, disk full): the component was
    /// compiled and is used, just not cached.
    NotStored {
        /// Why the entry could not be stored, in words.
        reason: String,
    },
}

impl CompileCache {
    /// Default size bound: 512 MiB.
    pub(crate) const DEFAULT_MAX_BYTES: u64 = 512 * 1024 * 1024;

    /// A cache in `dir` that keeps at most about `max_bytes` of entries.
    ///
    /// Nothing is touched on disk until the first lookup; the directory is
    /// created then.
    pub(crate) fn new(dir: PathBuf, max_bytes: u64) -> CompileCache {
        CompileCache {
            dir,
            max_bytes,
            max_entry_bytes: InputLimits::DEFAULT_ARTIFACT_BYTES,
        }
    }

    /// Sets the largest entry that is read (by default the artifact limit,
    /// 1 GiB); a larger one is replaced by a fresh compilation.
    pub(crate) fn max_entry_bytes(mut self, bytes: u64) -> CompileCache {
        self.max_entry_bytes = bytes;
        self
    }

    /// The default directory: `$WASM_SANDBOX_CACHE_DIR` if set; else
    /// `$XDG_CACHE_HOME/wasm-sandbox`; else `$HOME/.cache/wasm-sandbox`;
    /// else (no `HOME`) `wasm-sandbox-cache` in [`std::env::temp_dir`].
    ///
    /// Empty variables count as unset, and so does a relative
    /// `XDG_CACHE_HOME` (as the XDG base directory specification says).
    pub(crate) fn default_dir() -> PathBuf {
        dir_from_env(|name| std::env::var_os(name))
    }

    /// Returns the compiled component for `wasm`, the binary of a component
    /// that the loader has already checked: loaded from a valid entry when
    /// there is one, else compiled with [`Component::from_binary`] and
    /// stored.
    ///
    /// Problems with the cache itself never fail the call; they show in the
    /// returned [`CacheOutcome`].
    ///
    /// # Errors
    ///
    /// wasmtime's error when the component does not validate or compile.
    pub(crate) fn get_or_compile(
        &self,
        engine: &wasmtime::Engine,
        wasm: &[u8],
    ) -> Result<(Component, CacheOutcome), wasmtime::Error> {
        let fingerprint = engine_fingerprint(engine);
        let source: [u8; 32] = Sha256::digest(wasm).into();
        let path = self.entry_path(&source, &fingerprint);

        if let Err(reason) = self.prepare_dir() {
            let component = Component::from_binary(engine, wasm)?;
            return Ok((component, CacheOutcome::NotStored { reason }));
        }

        // An entry is only ever written by `store`, as a regular file: a
        // symlink, FIFO, device or directory in its place is unusable and
        // never followed, blocked on or read.
        let unusable = match read_bounded(&path, self.max_entry_bytes, Follow::NoSymlinks) {
            Ok(bytes) => match load_checked(engine, &fingerprint, Some(&source), &bytes) {
                Ok(component) => {
                    touch(&path);
                    return Ok((component, CacheOutcome::Hit));
                }
                Err(e) => Some(format!(
                    "cache entry `{}` was unusable: {}",
                    path.display(),
                    e.cause()
                )),
            },
            Err(ReadError::Io(e)) if e.kind() == io::ErrorKind::NotFound => None,
            Err(ReadError::Io(e)) => Some(format!(
                "cache entry `{}` could not be read: {e}",
                path.display()
            )),
            Err(ReadError::NotRegular(kind)) => Some(format!(
                "cache entry `{}` was unusable: it is {kind}, not a regular file",
                path.display()
            )),
            Err(ReadError::TooLarge { size }) => Some(format!(
                "cache entry `{}` was unusable: it is {size} bytes, over the limit of {} bytes \
                 for precompiled artifacts",
                path.display(),
                self.max_entry_bytes
            )),
        };
        if unusable.is_some() {
            clear_entry(&path);
        }

        let component = Component::from_binary(engine, wasm)?;
        let stored = component
            .serialize()
            .map_err(|e| format!("wasmtime could not serialize the component: {e:#}"))
            .and_then(|payload| self.store(&path, &encode(&fingerprint, &source, &payload)));
        let outcome = match (stored, unusable) {
            (Err(reason), _) => CacheOutcome::NotStored { reason },
            (Ok(()), Some(reason)) => CacheOutcome::Replaced { reason },
            (Ok(()), None) => CacheOutcome::Miss,
        };
        if !matches!(outcome, CacheOutcome::NotStored { .. }) {
            self.evict(&path);
        }
        Ok((component, outcome))
    }

    /// Where the entry for `wasm` compiled by an engine with `fingerprint`
    /// lives.
    fn entry_path(&self, source: &[u8; 32], fingerprint: &[u8; 32]) -> PathBuf {
        let wasm_hash = hex(source);
        let engine_hash = hex(&fingerprint[..8]);
        self.dir
            .join(format!("{wasm_hash}-{engine_hash}.{ENTRY_EXTENSION}"))
    }

    /// Creates the directory if needed and checks that it is private enough
    /// to trust what is in it.
    fn prepare_dir(&self) -> Result<(), String> {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&self.dir).map_err(|e| {
            format!(
                "could not create the cache directory `{}`: {e}; \
                 check its permissions or choose another directory",
                self.dir.display()
            )
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let metadata = fs::metadata(&self.dir).map_err(|e| {
                format!(
                    "could not inspect the cache directory `{}`: {e}",
                    self.dir.display()
                )
            })?;
            if metadata.permissions().mode() & 0o022 != 0 {
                return Err(format!(
                    "the cache directory `{}` is writable by other users, so its entries \
                     cannot be trusted and it is not used; make it private (`chmod 700`) \
                     or choose another directory",
                    self.dir.display()
                ));
            }
            // A directory someone else owns (say, planted in a shared temp
            // directory) could be changed by its owner at any time.
            #[cfg(target_os = "linux")]
            {
                use std::os::unix::fs::MetadataExt;
                if let Ok(me) = fs::metadata("/proc/self")
                    && metadata.uid() != me.uid()
                {
                    return Err(format!(
                        "the cache directory `{}` belongs to another user (uid {}), so its \
                         entries cannot be trusted and it is not used; choose another directory",
                        self.dir.display(),
                        metadata.uid()
                    ));
                }
            }
        }
        Ok(())
    }

    /// Writes `artifact` to `path` through a temporary file and a rename, so
    /// that readers never see a partial entry.
    fn store(&self, path: &Path, artifact: &[u8]) -> Result<(), String> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let temp = self.dir.join(format!(
            ".{name}.{}-{}-{nanos}.tmp",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        // No `sync_all`: a crash can at worst leave a damaged entry, which
        // the checksum catches and the next lookup replaces.
        let written = File::create_new(&temp)
            .and_then(|mut file| file.write_all(artifact))
            .and_then(|()| fs::rename(&temp, path));
        written.map_err(|e| {
            let _ = fs::remove_file(&temp);
            format!(
                "could not write cache entry `{}`: {e}; check that the cache directory is \
                 writable and the disk is not full, or choose another directory",
                path.display()
            )
        })
    }

    /// Removes the least recently used entries (never `keep`) while the
    /// entries take more than `max_bytes`, and temporary files that a
    /// crashed writer left behind.
    fn evict(&self, keep: &Path) {
        let Ok(listing) = fs::read_dir(&self.dir) else {
            return;
        };
        let now = SystemTime::now();
        let mut entries = Vec::new();
        let mut total: u64 = 0;
        for item in listing.flatten() {
            // Files may disappear at any moment (another process evicting):
            // skip whatever cannot be inspected.
            let Ok(metadata) = item.metadata() else {
                continue;
            };
            if !metadata.is_file() {
                continue;
            }
            let path = item.path();
            let modified = metadata.modified().unwrap_or(UNIX_EPOCH);
            if is_temp_file(&path) {
                let age = now.duration_since(modified).unwrap_or_default();
                if age > STALE_TEMP_AGE {
                    let _ = fs::remove_file(&path);
                }
                continue;
            }
            if path.extension().is_some_and(|e| e == ENTRY_EXTENSION) {
                total = total.saturating_add(metadata.len());
                entries.push((modified, path, metadata.len()));
            }
        }
        if total <= self.max_bytes {
            return;
        }
        entries.sort();
        for (_, path, len) in entries {
            if total <= self.max_bytes {
                break;
            }
            if path.file_name() == keep.file_name() {
                continue;
            }
            match fs::remove_file(&path) {
                Ok(()) => total = total.saturating_sub(len),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    total = total.saturating_sub(len);
                }
                Err(e) => tracing::debug!(
                    "could not evict compile cache entry `{}`: {e}",
                    path.display()
                ),
            }
        }
    }
}

/// Makes room for a new entry at `path` where an unusable one was. A rename
/// replaces a file, a symlink or a FIFO, but not a directory, which is
/// removed here (the cache directory is private, so it can only be a
/// leftover of this user's). Failures are left for `store` to report.
fn clear_entry(path: &Path) {
    if fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
        && let Err(e) = fs::remove_dir_all(path)
    {
        tracing::debug!(
            "could not remove the directory in place of cache entry `{}`: {e}",
            path.display()
        );
    }
}

/// Compiles `wasm` and returns a precompiled artifact in this crate's
/// format, which [`load_artifact`] loads again with an engine of the same
/// settings.
///
/// # Errors
///
/// wasmtime's error when the component does not validate or compile.
pub(crate) fn precompile(
    engine: &wasmtime::Engine,
    wasm: &[u8],
) -> Result<Vec<u8>, wasmtime::Error> {
    let payload = engine.precompile_component(wasm)?;
    Ok(encode(
        &engine_fingerprint(engine),
        &Sha256::digest(wasm).into(),
        &payload,
    ))
}

/// Loads an artifact made by [`precompile`] (or a cache entry) from `bytes`,
/// after checking its header, length, engine fingerprint and checksum.
///
/// Only sound for bytes nobody malicious could have written: see the module
/// documentation.
///
/// # Errors
///
/// An [`ArtifactError`] saying which check failed, or that wasmtime refused
/// the payload.
pub(crate) fn load_artifact(
    engine: &wasmtime::Engine,
    bytes: &[u8],
) -> Result<Component, ArtifactError> {
    load_checked(engine, &engine_fingerprint(engine), None, bytes)
}

/// Why a precompiled artifact cannot be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ArtifactError {
    /// The bytes do not start with this crate's artifact header.
    #[error("{}; load the plugin's `.wasm` as a source instead, or {RECOMPILE}", self.cause())]
    NotAnArtifact,
    /// The bytes end before the header or the payload it announces.
    #[error("{}; {RECOMPILE}", self.cause())]
    Truncated,
    /// The payload's checksum does not match (or bytes follow the payload).
    #[error("{}; {RECOMPILE}", self.cause())]
    Corrupt,
    /// Made by another version of this crate or its artifact format, or by an
    /// engine whose settings produce incompatible code.
    #[error("{}; {RECOMPILE}", self.cause())]
    Incompatible,
    /// A cache entry compiled from another component than the one being
    /// loaded (its source hash differs): copied or renamed.
    #[error("{}; {RECOMPILE}", self.cause())]
    OtherSource,
    /// The checks passed but wasmtime refused the payload; the string is
    /// wasmtime's explanation.
    #[error("{}; {RECOMPILE}", self.cause())]
    Rejected(String),
}

impl ArtifactError {
    /// What happened, without the advice on what to do.
    pub(crate) fn cause(&self) -> String {
        match self {
            ArtifactError::NotAnArtifact => {
                "the bytes are not a wasm-sandbox precompiled artifact (they do not start with `WSBXCOMP`)"
                    .to_string()
            }
            ArtifactError::Truncated => {
                "the precompiled artifact is truncated (it is shorter than its header says)".to_string()
            }
            ArtifactError::Corrupt => {
                "the precompiled artifact is corrupt (its checksum does not match its contents)".to_string()
            }
            ArtifactError::Incompatible => "the precompiled artifact was made by another wasm-sandbox version \
                 or artifact format, or by an engine with different settings"
                .to_string(),
            ArtifactError::OtherSource => "the precompiled artifact was compiled from another \
                 component (its source hash does not match the component being loaded)"
                .to_string(),
            ArtifactError::Rejected(detail) => {
                format!("wasmtime rejected the precompiled artifact: {detail}")
            }
        }
    }
}

/// Checks `bytes` against the artifact format, `fingerprint` and (for a
/// cache entry) the SHA-256 of the component it must have been compiled
/// from, then deserializes the payload.
fn load_checked(
    engine: &wasmtime::Engine,
    fingerprint: &[u8; 32],
    source: Option<&[u8; 32]>,
    bytes: &[u8],
) -> Result<Component, ArtifactError> {
    if bytes.len() < MAGIC.len() {
        // An empty file, or the start of the magic, is a cut-off artifact.
        return Err(if MAGIC.starts_with(bytes) {
            ArtifactError::Truncated
        } else {
            ArtifactError::NotAnArtifact
        });
    }
    if !bytes.starts_with(MAGIC) {
        return Err(ArtifactError::NotAnArtifact);
    }
    // The version comes first so that a later format may change the rest of
    // the header and still be reported as incompatible.
    let version = bytes
        .get(VERSION_AT..FINGERPRINT_AT)
        .ok_or(ArtifactError::Truncated)?;
    if u32::from_le_bytes(array(version)) != FORMAT_VERSION {
        return Err(ArtifactError::Incompatible);
    }
    let header = bytes.get(..HEADER_LEN).ok_or(ArtifactError::Truncated)?;
    if header[FINGERPRINT_AT..SOURCE_AT] != fingerprint[..] {
        return Err(ArtifactError::Incompatible);
    }
    if let Some(source) = source
        && header[SOURCE_AT..LENGTH_AT] != source[..]
    {
        return Err(ArtifactError::OtherSource);
    }
    let length = u64::from_le_bytes(array(&header[LENGTH_AT..CHECKSUM_AT]));
    let payload = &bytes[HEADER_LEN..];
    match (payload.len() as u64).cmp(&length) {
        std::cmp::Ordering::Less => return Err(ArtifactError::Truncated),
        std::cmp::Ordering::Greater => return Err(ArtifactError::Corrupt),
        std::cmp::Ordering::Equal => {}
    }
    if Sha256::digest(payload)[..] != header[CHECKSUM_AT..HEADER_LEN] {
        return Err(ArtifactError::Corrupt);
    }
    deserialize(engine, payload)
}

/// Hands a checked payload to wasmtime.
#[allow(
    unsafe_code,
    reason = "loading precompiled code is the point of the cache; see the SAFETY comment"
)]
fn deserialize(engine: &wasmtime::Engine, payload: &[u8]) -> Result<Component, ArtifactError> {
    // SAFETY: `Component::deserialize` requires bytes that wasmtime itself
    // serialized, for an engine compatible with `engine`. `load_checked`
    // only gets here for bytes in this crate's artifact format whose
    // checksum matches, so short of deliberate tampering they are the
    // unaltered payload written by `precompile` or by the cache's store
    // (both wasmtime serializations); their fingerprint matches this
    // engine's compatibility hash, so they were made by a compatible
    // engine; and wasmtime checks its own header (version, target,
    // settings) again. Tampering is what no check here can exclude: the
    // module documentation makes "nobody malicious could write the file"
    // the caller's requirement, and the cache refuses directories that
    // other users can write to.
    let component = unsafe { Component::deserialize(engine, payload) };
    component.map_err(|e| ArtifactError::Rejected(format!("{e:#}")))
}

/// Lays out an artifact around `payload`.
fn encode(fingerprint: &[u8; 32], source: &[u8; 32], payload: &[u8]) -> Vec<u8> {
    let mut artifact = Vec::with_capacity(HEADER_LEN + payload.len());
    artifact.extend_from_slice(MAGIC);
    artifact.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    artifact.extend_from_slice(fingerprint);
    artifact.extend_from_slice(source);
    artifact.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    artifact.extend_from_slice(&Sha256::digest(payload));
    artifact.extend_from_slice(payload);
    artifact
}

/// The engine fingerprint: which engines can load each other's artifacts.
///
/// Stable across processes, unlike a `DefaultHasher`, which is randomly
/// keyed.
fn engine_fingerprint(engine: &wasmtime::Engine) -> [u8; 32] {
    let mut hasher = Sha256Hasher(Sha256::new());
    hasher.write(b"wasm-sandbox engine fingerprint\0");
    hasher.write(env!("CARGO_PKG_VERSION").as_bytes());
    hasher.write_u32(FORMAT_VERSION);
    // Covers the target, the compiler settings, the tunables, the wasm
    // features and (by default) wasmtime's version.
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hasher.0.finalize().into()
}

/// A [`Hasher`] that feeds everything into a SHA-256, integers in
/// little-endian so that the result does not depend on the host's byte
/// order.
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        u64::from_le_bytes(array(&self.0.clone().finalize()[..8]))
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn write_u8(&mut self, i: u8) {
        self.0.update([i]);
    }

    fn write_u16(&mut self, i: u16) {
        self.0.update(i.to_le_bytes());
    }

    fn write_u32(&mut self, i: u32) {
        self.0.update(i.to_le_bytes());
    }

    fn write_u64(&mut self, i: u64) {
        self.0.update(i.to_le_bytes());
    }

    fn write_u128(&mut self, i: u128) {
        self.0.update(i.to_le_bytes());
    }

    fn write_usize(&mut self, i: usize) {
        self.0.update((i as u64).to_le_bytes());
    }
}

/// The default cache directory, reading environment variables with `var`.
fn dir_from_env(var: impl Fn(&str) -> Option<OsString>) -> PathBuf {
    let set = |name: &str| var(name).filter(|value| !value.is_empty());
    if let Some(dir) = set("WASM_SANDBOX_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(xdg) = set("XDG_CACHE_HOME").map(PathBuf::from)
        && xdg.is_absolute()
    {
        return xdg.join("wasm-sandbox");
    }
    if let Some(home) = set("HOME") {
        return PathBuf::from(home).join(".cache").join("wasm-sandbox");
    }
    std::env::temp_dir().join("wasm-sandbox-cache")
}

/// Marks the entry at `path` as just used, for least-recently-used eviction.
/// Failing is harmless (the entry is evicted a little early), so errors are
/// ignored.
fn touch(path: &Path) {
    let touched = File::options()
        .write(true)
        .open(path)
        .and_then(|file| file.set_modified(SystemTime::now()));
    if let Err(e) = touched {
        tracing::debug!(
            "could not refresh the time of compile cache entry `{}`: {e}",
            path.display()
        );
    }
}

/// Whether `path` is a temporary file written by [`CompileCache::store`].
fn is_temp_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| {
            name.starts_with('.') && name.ends_with(".tmp") && name.contains(".cwasm.")
        })
}

/// Lowercase hexadecimal.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

/// A fixed-size array from a slice of exactly that length.
fn array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0; N];
    out.copy_from_slice(bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use wasmtime::component::Linker;
    use wasmtime::{Config, Engine, Store};

    /// A component exporting `f: func() -> u32` that returns `value`.
    fn component_wasm(value: u32) -> Vec<u8> {
        wat::parse_str(format!(
            r#"(component
                 (core module $m (func (export "f") (result i32) i32.const {value}))
                 (core instance $i (instantiate $m))
                 (func (export "f") (result u32) (canon lift (core func $i "f"))))"#
        ))
        .expect("test component should assemble")
    }

    fn engine() -> Engine {
        let mut config = Config::new();
        config.concurrency_support(false);
        Engine::new(&config).expect("engine")
    }

    /// An engine whose compatibility hash differs from [`engine`]'s.
    fn fuel_engine() -> Engine {
        let mut config = Config::new();
        config.concurrency_support(false).consume_fuel(true);
        Engine::new(&config).expect("engine")
    }

    /// Instantiates `component` and returns what its `f` returns.
    fn call_f(engine: &Engine, component: &Component) -> u32 {
        let mut store = Store::new(engine, ());
        let instance = Linker::new(engine)
            .instantiate(&mut store, component)
            .expect("instantiate");
        let f = instance
            .get_typed_func::<(), (u32,)>(&mut store, "f")
            .expect("export f");
        f.call(&mut store, ()).expect("call f").0
    }

    /// The `.cwasm` files in `dir`.
    fn entries(dir: &Path) -> Vec<PathBuf> {
        let mut found: Vec<PathBuf> = fs::read_dir(dir)
            .expect("read cache dir")
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == ENTRY_EXTENSION))
            .collect();
        found.sort();
        found
    }

    fn only_entry(dir: &Path) -> PathBuf {
        let found = entries(dir);
        assert_eq!(found.len(), 1, "expected one entry, found {found:?}");
        found.into_iter().next().unwrap()
    }

    fn expect_replaced(outcome: CacheOutcome) -> String {
        match outcome {
            CacheOutcome::Replaced { reason } => reason,
            other => panic!("expected Replaced, got {other:?}"),
        }
    }

    #[test]
    fn miss_then_hit() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CompileCache::new(dir.path().join("cache"), CompileCache::DEFAULT_MAX_BYTES);
        let engine = engine();
        let wasm = component_wasm(7);

        let (component, outcome) = cache.get_or_compile(&engine, &wasm).unwrap();
        assert_eq!(outcome, CacheOutcome::Miss);
        assert_eq!(call_f(&engine, &component), 7);

        let (component, outcome) = cache.get_or_compile(&engine, &wasm).unwrap();
        assert_eq!(outcome, CacheOutcome::Hit);
        assert_eq!(call_f(&engine, &component), 7);

        let entry = only_entry(&cache.dir);
        let name = entry.file_name().unwrap().to_str().unwrap();
        let (wasm_hash, engine_hash) = name
            .strip_suffix(".cwasm")
            .unwrap()
            .split_once('-')
            .unwrap();
        assert_eq!(wasm_hash, hex(&Sha256::digest(&wasm)));
        assert_eq!(engine_hash.len(), 16);
    }

    #[test]
    fn corrupt_entry_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CompileCache::new(dir.path().to_path_buf(), CompileCache::DEFAULT_MAX_BYTES);
        let engine = engine();
        let wasm = component_wasm(7);
        cache.get_or_compile(&engine, &wasm).unwrap();

        let entry = only_entry(dir.path());
        let mut bytes = fs::read(&entry).unwrap();
        let middle = HEADER_LEN + (bytes.len() - HEADER_LEN) / 2;
        bytes[middle] ^= 0xff;
        fs::write(&entry, &bytes).unwrap();

        let (component, outcome) = cache.get_or_compile(&engine, &wasm).unwrap();
        let reason = expect_replaced(outcome);
        assert!(reason.contains("checksum"), "{reason}");
        assert_eq!(call_f(&engine, &component), 7);

        let (component, outcome) = cache.get_or_compile(&engine, &wasm).unwrap();
        assert_eq!(outcome, CacheOutcome::Hit);
        assert_eq!(call_f(&engine, &component), 7);
    }

    #[test]
    fn truncated_entry_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CompileCache::new(dir.path().to_path_buf(), CompileCache::DEFAULT_MAX_BYTES);
        let engine = engine();
        let wasm = component_wasm(7);
        cache.get_or_compile(&engine, &wasm).unwrap();

        let entry = only_entry(dir.path());
        let len = fs::metadata(&entry).unwrap().len();
        for cut in [len / 2, 20, 3, 0] {
            File::options()
                .write(true)
                .open(&entry)
                .unwrap()
                .set_len(cut)
                .unwrap();
            let (component, outcome) = cache.get_or_compile(&engine, &wasm).unwrap();
            let reason = expect_replaced(outcome);
            assert!(reason.contains("truncated"), "cut to {cut}: {reason}");
            assert_eq!(call_f(&engine, &component), 7);
        }
        assert_eq!(
            cache.get_or_compile(&engine, &wasm).unwrap().1,
            CacheOutcome::Hit
        );
    }

    #[test]
    fn engines_with_other_settings_use_other_entries() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CompileCache::new(dir.path().to_path_buf(), CompileCache::DEFAULT_MAX_BYTES);
        let (a, b) = (engine(), fuel_engine());
        let wasm = component_wasm(7);

        assert_eq!(
            cache.get_or_compile(&b, &wasm).unwrap().1,
            CacheOutcome::Miss
        );
        let (component, outcome) = cache.get_or_compile(&a, &wasm).unwrap();
        assert_eq!(outcome, CacheOutcome::Miss);
        assert_eq!(call_f(&a, &component), 7);
        assert_eq!(entries(dir.path()).len(), 2);
        assert_eq!(
            cache.get_or_compile(&a, &wasm).unwrap().1,
            CacheOutcome::Hit
        );
        assert_eq!(
            cache.get_or_compile(&b, &wasm).unwrap().1,
            CacheOutcome::Hit
        );
    }

    #[test]
    fn entry_from_another_engine_under_this_name_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CompileCache::new(dir.path().to_path_buf(), CompileCache::DEFAULT_MAX_BYTES);
        let (a, b) = (engine(), fuel_engine());
        let wasm = component_wasm(7);
        let path = cache.entry_path(&Sha256::digest(&wasm).into(), &engine_fingerprint(&a));
        fs::write(&path, precompile(&b, &wasm).unwrap()).unwrap();

        let (component, outcome) = cache.get_or_compile(&a, &wasm).unwrap();
        let reason = expect_replaced(outcome);
        assert!(reason.contains("different settings"), "{reason}");
        assert_eq!(call_f(&a, &component), 7);
        assert_eq!(
            cache.get_or_compile(&a, &wasm).unwrap().1,
            CacheOutcome::Hit
        );
    }

    #[test]
    fn entry_of_another_component_under_this_name_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CompileCache::new(dir.path().to_path_buf(), CompileCache::DEFAULT_MAX_BYTES);
        let engine = engine();
        let (seven, eight) = (component_wasm(7), component_wasm(8));
        cache.get_or_compile(&engine, &seven).unwrap();
        let seven_entry = only_entry(dir.path());
        let eight_entry =
            cache.entry_path(&Sha256::digest(&eight).into(), &engine_fingerprint(&engine));
        fs::copy(&seven_entry, &eight_entry).unwrap();

        let (component, outcome) = cache.get_or_compile(&engine, &eight).unwrap();
        let reason = expect_replaced(outcome);
        assert!(reason.contains("another component"), "{reason}");
        assert_eq!(call_f(&engine, &component), 8);
        let (component, outcome) = cache.get_or_compile(&engine, &eight).unwrap();
        assert_eq!(outcome, CacheOutcome::Hit);
        assert_eq!(call_f(&engine, &component), 8);
    }

    #[test]
    fn artifact_from_another_engine_is_incompatible() {
        let (a, b) = (engine(), fuel_engine());
        let artifact = precompile(&b, &component_wasm(7)).unwrap();
        let err = load_artifact(&a, &artifact).unwrap_err();
        assert!(matches!(err, ArtifactError::Incompatible), "{err:?}");
        assert!(
            err.to_string().contains("wasm_sandbox::precompile"),
            "{err}"
        );
        assert!(load_artifact(&b, &artifact).is_ok());
    }

    #[test]
    fn other_format_version_is_incompatible() {
        let engine = engine();
        let mut artifact = precompile(&engine, &component_wasm(7)).unwrap();
        artifact[VERSION_AT..FINGERPRINT_AT].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
        let err = load_artifact(&engine, &artifact).unwrap_err();
        assert!(matches!(err, ArtifactError::Incompatible), "{err:?}");
    }

    #[test]
    fn foreign_bytes_are_not_an_artifact() {
        let engine = engine();
        let wasm = component_wasm(7);
        let random: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let wasmtime_cwasm = engine.precompile_component(&wasm).unwrap();
        for (what, bytes) in [
            ("random bytes", &random[..]),
            ("a component binary", &wasm[..]),
            ("wasmtime's own serialization", &wasmtime_cwasm[..]),
            ("a short text", b"hello"),
        ] {
            let err = load_artifact(&engine, bytes).unwrap_err();
            assert!(
                matches!(err, ArtifactError::NotAnArtifact),
                "{what}: {err:?}"
            );
        }
    }

    #[test]
    fn checked_garbage_payload_is_rejected_by_wasmtime() {
        let engine = engine();
        let artifact = encode(
            &engine_fingerprint(&engine),
            &[0; 32],
            b"not machine code at all",
        );
        let err = load_artifact(&engine, &artifact).unwrap_err();
        assert!(matches!(err, ArtifactError::Rejected(_)), "{err:?}");
    }

    #[test]
    fn trailing_bytes_are_corrupt() {
        let engine = engine();
        let mut artifact = precompile(&engine, &component_wasm(7)).unwrap();
        artifact.push(0);
        let err = load_artifact(&engine, &artifact).unwrap_err();
        assert!(matches!(err, ArtifactError::Corrupt), "{err:?}");
    }

    #[test]
    fn precompile_round_trip() {
        let engine = engine();
        let artifact = precompile(&engine, &component_wasm(7)).unwrap();
        assert!(artifact.starts_with(MAGIC));
        let component = load_artifact(&engine, &artifact).unwrap();
        assert_eq!(call_f(&engine, &component), 7);

        // An artifact and a cache entry are interchangeable.
        let dir = tempfile::tempdir().unwrap();
        let cache = CompileCache::new(dir.path().to_path_buf(), CompileCache::DEFAULT_MAX_BYTES);
        let wasm = component_wasm(8);
        cache.get_or_compile(&engine, &wasm).unwrap();
        let entry = fs::read(only_entry(dir.path())).unwrap();
        assert_eq!(call_f(&engine, &load_artifact(&engine, &entry).unwrap()), 8);
    }

    #[test]
    fn fingerprint_is_stable_and_tracks_settings() {
        assert_eq!(engine_fingerprint(&engine()), engine_fingerprint(&engine()));
        assert_ne!(
            engine_fingerprint(&engine()),
            engine_fingerprint(&fuel_engine())
        );
    }

    #[test]
    fn least_recently_used_entry_is_evicted() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine();
        let (first, second) = (component_wasm(1), component_wasm(2));

        let unbounded = CompileCache::new(dir.path().to_path_buf(), u64::MAX);
        unbounded.get_or_compile(&engine, &first).unwrap();
        let first_entry = only_entry(dir.path());
        let size = fs::metadata(&first_entry).unwrap().len();

        let bounded = CompileCache::new(dir.path().to_path_buf(), size + size / 2);
        let (component, outcome) = bounded.get_or_compile(&engine, &second).unwrap();
        assert_eq!(outcome, CacheOutcome::Miss);
        assert_eq!(call_f(&engine, &component), 2);
        let second_entry = only_entry(dir.path());
        assert_ne!(first_entry, second_entry);
    }

    #[test]
    fn entry_just_written_is_kept_even_over_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CompileCache::new(dir.path().to_path_buf(), 0);
        let engine = engine();
        let wasm = component_wasm(7);
        assert_eq!(
            cache.get_or_compile(&engine, &wasm).unwrap().1,
            CacheOutcome::Miss
        );
        assert_eq!(entries(dir.path()).len(), 1);
        assert_eq!(
            cache.get_or_compile(&engine, &wasm).unwrap().1,
            CacheOutcome::Hit
        );
    }

    #[test]
    fn stale_temp_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let stale = dir.path().join(".abc-def.cwasm.1-2-3.tmp");
        let fresh = dir.path().join(".abc-def.cwasm.4-5-6.tmp");
        fs::write(&stale, b"partial").unwrap();
        fs::write(&fresh, b"partial").unwrap();
        File::options()
            .write(true)
            .open(&stale)
            .unwrap()
            .set_modified(SystemTime::now() - 2 * STALE_TEMP_AGE)
            .unwrap();

        let cache = CompileCache::new(dir.path().to_path_buf(), CompileCache::DEFAULT_MAX_BYTES);
        cache.get_or_compile(&engine(), &component_wasm(7)).unwrap();
        assert!(!stale.exists());
        assert!(fresh.exists());
    }

    #[test]
    fn unwritable_dir_is_not_stored() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        fs::write(&file, b"not a directory").unwrap();
        let cache = CompileCache::new(file.join("cache"), CompileCache::DEFAULT_MAX_BYTES);
        let engine = engine();

        let (component, outcome) = cache.get_or_compile(&engine, &component_wasm(7)).unwrap();
        match outcome {
            CacheOutcome::NotStored { reason } => {
                assert!(reason.contains("cache directory"), "{reason}")
            }
            other => panic!("expected NotStored, got {other:?}"),
        }
        assert_eq!(call_f(&engine, &component), 7);
    }

    #[cfg(unix)]
    #[test]
    fn dir_writable_by_others_is_not_used() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let engine = engine();
        let wasm = component_wasm(7);
        let cache = CompileCache::new(dir.path().to_path_buf(), CompileCache::DEFAULT_MAX_BYTES);
        cache.get_or_compile(&engine, &wasm).unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();

        let (component, outcome) = cache.get_or_compile(&engine, &wasm).unwrap();
        match outcome {
            CacheOutcome::NotStored { reason } => {
                assert!(reason.contains("other users"), "{reason}")
            }
            other => panic!("expected NotStored, got {other:?}"),
        }
        assert_eq!(call_f(&engine, &component), 7);
    }

    #[test]
    fn concurrent_lookups_all_succeed() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CompileCache::new(dir.path().to_path_buf(), CompileCache::DEFAULT_MAX_BYTES);
        let engine = engine();
        let wasm = component_wasm(7);
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| cache.get_or_compile(&engine, &wasm).unwrap()))
                .collect();
            for worker in workers {
                let (component, outcome) = worker.join().unwrap();
                assert!(
                    matches!(outcome, CacheOutcome::Hit | CacheOutcome::Miss),
                    "{outcome:?}"
                );
                assert_eq!(call_f(&engine, &component), 7);
            }
        });
        only_entry(dir.path());
        assert_eq!(
            cache.get_or_compile(&engine, &wasm).unwrap().1,
            CacheOutcome::Hit
        );
    }

    #[test]
    fn default_dir_follows_the_environment() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        assert_eq!(
            dir_from_env(env(&[
                ("WASM_SANDBOX_CACHE_DIR", "/explicit"),
                ("XDG_CACHE_HOME", "/xdg"),
                ("HOME", "/home/u"),
            ])),
            PathBuf::from("/explicit")
        );
        assert_eq!(
            dir_from_env(env(&[
                ("WASM_SANDBOX_CACHE_DIR", ""),
                ("XDG_CACHE_HOME", "/xdg"),
                ("HOME", "/home/u")
            ])),
            Path::new("/xdg").join("wasm-sandbox")
        );
        assert_eq!(
            dir_from_env(env(&[("XDG_CACHE_HOME", "relative"), ("HOME", "/home/u")])),
            Path::new("/home/u").join(".cache").join("wasm-sandbox")
        );
        assert_eq!(
            dir_from_env(env(&[])),
            std::env::temp_dir().join("wasm-sandbox-cache")
        );
    }
}
