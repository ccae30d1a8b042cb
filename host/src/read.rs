//! Reading untrusted files (plugin sources, precompiled artifacts, cache
//! entries) with a size bound.
//!
//! A path can name anything: `/dev/zero` never ends, a FIFO blocks the
//! open until a writer appears, a sparse file announces gigabytes it does
//! not hold. [`read_bounded`] opens without blocking, looks at what it
//! opened (not at the path, which may change in between), refuses anything
//! but a regular file, refuses a file over the limit before reading a byte,
//! and then reads at most one byte more than the limit, so that a file that
//! grows meanwhile is caught too.

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::Path;

/// Why a file was not read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The operating system refused to open or read it.
    Io(io::Error),
    /// It is not a regular file; the string says what it is ("a directory",
    /// "a FIFO (named pipe)", ...).
    NotRegular(&'static str),
    /// It holds more than the limit; `size` is what `fstat` said, or, for a
    /// file that grew while it was read, the bytes read (one over the
    /// limit).
    TooLarge {
        /// The size seen, in bytes.
        size: u64,
    },
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "it could not be read: {e}"),
            ReadError::NotRegular(kind) => write!(f, "it is {kind}, not a regular file"),
            ReadError::TooLarge { size } => write!(f, "it is too large ({size} bytes)"),
        }
    }
}

/// How a file is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Follow {
    /// Symlinks are followed (a plugin path given by the user).
    Symlinks,
    /// A symlink is refused (a cache entry, which this crate only ever
    /// writes as a regular file).
    NoSymlinks,
}

/// Reads the regular file at `path` if it holds at most `limit` bytes.
///
/// Never blocks on a FIFO, never reads more than `limit + 1` bytes, and
/// never allocates more than the file's announced size (at most `limit`)
/// plus one byte.
///
/// # Errors
///
/// [`ReadError::NotRegular`] for a directory, device, FIFO or socket (and,
/// with [`Follow::NoSymlinks`], a symlink); [`ReadError::TooLarge`] for more
/// than `limit` bytes; [`ReadError::Io`] when opening or reading fails.
pub(crate) fn read_bounded(path: &Path, limit: u64, follow: Follow) -> Result<Vec<u8>, ReadError> {
    let file = open(path, follow)?;
    let metadata = file.metadata().map_err(ReadError::Io)?;
    if !metadata.is_file() {
        return Err(ReadError::NotRegular(kind(&metadata)));
    }
    let size = metadata.len();
    if size > limit {
        return Err(ReadError::TooLarge { size });
    }
    // The size is at most `limit`, itself at most what the caller is willing
    // to hold; `take` stops a file that grows meanwhile one byte over.
    let capacity = usize::try_from(size)
        .unwrap_or(usize::MAX)
        .saturating_add(1);
    let mut bytes = Vec::with_capacity(capacity);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            size: bytes.len() as u64,
        });
    }
    Ok(bytes)
}

#[cfg(unix)]
fn open(path: &Path, follow: Follow) -> Result<File, ReadError> {
    use rustix::fs::OFlags;
    use std::os::unix::fs::OpenOptionsExt;
    // `O_NONBLOCK` makes opening a FIFO return at once (it would otherwise
    // wait for a writer); on a regular file it changes nothing. A symlink
    // refused by `O_NOFOLLOW` fails with `ELOOP`, reported as what it is.
    let mut flags = OFlags::NONBLOCK | OFlags::NOCTTY;
    if follow == Follow::NoSymlinks {
        flags |= OFlags::NOFOLLOW;
    }
    let opened = File::options()
        .read(true)
        .custom_flags(flags.bits() as i32)
        .open(path);
    match opened {
        Ok(file) => Ok(file),
        Err(e)
            if follow == Follow::NoSymlinks
                && std::fs::symlink_metadata(path).is_ok_and(|m| m.is_symlink()) =>
        {
            drop(e);
            Err(ReadError::NotRegular("a symbolic link"))
        }
        Err(e) => Err(ReadError::Io(e)),
    }
}

#[cfg(not(unix))]
fn open(path: &Path, _follow: Follow) -> Result<File, ReadError> {
    File::open(path).map_err(ReadError::Io)
}

/// What a file that is not a regular file is, in words.
fn kind(metadata: &Metadata) -> &'static str {
    let file_type = metadata.file_type();
    if file_type.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// How many bytes the loader reads from files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InputLimits {
    /// The largest plugin file (`.wasm` or `.wat`) read.
    pub(crate) plugin_bytes: u64,
    /// The largest precompiled artifact or cache entry read.
    pub(crate) artifact_bytes: u64,
}

impl InputLimits {
    /// The default limit for plugin files: 256 MiB.
    pub(crate) const DEFAULT_PLUGIN_BYTES: u64 = 256 * 1024 * 1024;
    /// The default limit for precompiled artifacts and cache entries: 1 GiB.
    pub(crate) const DEFAULT_ARTIFACT_BYTES: u64 = 1024 * 1024 * 1024;
}

impl Default for InputLimits {
    fn default() -> Self {
        InputLimits {
            plugin_bytes: Self::DEFAULT_PLUGIN_BYTES,
            artifact_bytes: Self::DEFAULT_ARTIFACT_BYTES,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_regular_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"hello").unwrap();
        assert_eq!(
            read_bounded(&path, 5, Follow::Symlinks).unwrap(),
            b"hello".to_vec()
        );
        assert!(matches!(
            read_bounded(&path, 4, Follow::Symlinks),
            Err(ReadError::TooLarge { size: 5 })
        ));
    }

    #[test]
    fn devices_and_directories_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            read_bounded(dir.path(), 1 << 20, Follow::Symlinks),
            Err(ReadError::NotRegular("a directory"))
        ));
        assert!(matches!(
            read_bounded(Path::new("/dev/zero"), 1 << 20, Follow::Symlinks),
            Err(ReadError::NotRegular("a character device"))
        ));
    }

    #[test]
    fn fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        assert!(matches!(
            read_bounded(&fifo, 1 << 20, Follow::Symlinks),
            Err(ReadError::NotRegular("a FIFO (named pipe)"))
        ));
    }

    #[test]
    fn sparse_file_over_the_limit_is_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sparse");
        File::create(&path).unwrap().set_len(4 << 30).unwrap();
        assert!(matches!(
            read_bounded(&path, 1 << 20, Follow::Symlinks),
            Err(ReadError::TooLarge { size }) if size == 4 << 30
        ));
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_refused_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, b"x").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert_eq!(read_bounded(&link, 10, Follow::Symlinks).unwrap(), b"x");
        assert!(matches!(
            read_bounded(&link, 10, Follow::NoSymlinks),
            Err(ReadError::NotRegular("a symbolic link"))
        ));
    }
}
