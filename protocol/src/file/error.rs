//! Why a file was not read or written.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Why a file was not read or written: each variant names the path, never the content.
///
/// Key-set loading turns every one into `invalid_key`
/// ([`KeySet::from_file`](crate::KeySet::from_file)); the `tessera` CLI reports them with
/// its own codes (`io`, `is_a_directory`, `not_a_file`, `invalid_key`, `too_large`).
///
/// ```
/// use tessera_protocol::file::{FileError, ReadRules};
/// let err = ReadRules::new(64).read("/no/such/file").unwrap_err();
/// assert!(matches!(err, FileError::Io { .. }));
/// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
/// assert!(err.to_string().contains("/no/such/file"));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum FileError {
    /// The operating system refused a step (`open`, `read`, `write`, `sync`, `link`,
    /// `rename`…): a missing file, a missing permission, a full disk.
    Io {
        /// The step that failed, as a verb ("open", "write", "sync the folder of", …).
        step: &'static str,
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// The path names a directory where a file was expected.
    IsDirectory {
        /// The path.
        path: PathBuf,
    },
    /// The path names something other than a regular file or directory: a FIFO, a device, a
    /// socket (or, where no link is followed, a symbolic link).
    NotRegular {
        /// The path.
        path: PathBuf,
        /// What it is, as words: "a FIFO (named pipe)", "a character device", ….
        found: &'static str,
    },
    /// Users other than the owner may write to the file (group or others write permission):
    /// they could have chosen its content.
    OthersMayWrite {
        /// The file.
        path: PathBuf,
        /// Its permission bits (e.g. `0o666`).
        mode: u32,
    },
    /// The file belongs to a user other than this process's and root: that user could have
    /// chosen its content.
    OwnedByOther {
        /// The file.
        path: PathBuf,
        /// Its owner's user id.
        uid: u32,
    },
    /// The file is longer than the reader's limit (nothing past the limit was read).
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit, in bytes.
        limit: usize,
    },
    /// The file is not UTF-8 text.
    NotUtf8 {
        /// The file.
        path: PathBuf,
    },
}

impl FileError {
    /// The path the error is about.
    ///
    /// ```
    /// use tessera_protocol::file::ReadRules;
    /// let err = ReadRules::new(64).read("/no/such/file").unwrap_err();
    /// assert_eq!(err.path(), std::path::Path::new("/no/such/file"));
    /// ```
    pub fn path(&self) -> &Path {
        match self {
            FileError::Io { path, .. }
            | FileError::IsDirectory { path }
            | FileError::NotRegular { path, .. }
            | FileError::OthersMayWrite { path, .. }
            | FileError::OwnedByOther { path, .. }
            | FileError::TooLarge { path, .. }
            | FileError::NotUtf8 { path } => path,
        }
    }

    /// The closest [`io::ErrorKind`]: the operating system's own for [`FileError::Io`],
    /// `IsADirectory`, `InvalidInput` (not a regular file), `PermissionDenied` (not trusted),
    /// `FileTooLarge` or `InvalidData` (not UTF-8) for the others.
    ///
    /// ```
    /// use tessera_protocol::file::ReadRules;
    /// let dir = tempfile::tempdir()?;
    /// let err = ReadRules::new(64).read(dir.path()).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::IsADirectory);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn kind(&self) -> io::ErrorKind {
        match self {
            FileError::Io { source, .. } => source.kind(),
            FileError::IsDirectory { .. } => io::ErrorKind::IsADirectory,
            FileError::NotRegular { .. } => io::ErrorKind::InvalidInput,
            FileError::OthersMayWrite { .. } | FileError::OwnedByOther { .. } => {
                io::ErrorKind::PermissionDenied
            }
            FileError::TooLarge { .. } => io::ErrorKind::FileTooLarge,
            FileError::NotUtf8 { .. } => io::ErrorKind::InvalidData,
        }
    }

    pub(super) fn io(step: &'static str, path: &Path, source: io::Error) -> FileError {
        FileError::Io {
            step,
            path: path.to_path_buf(),
            source,
        }
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileError::Io { step, path, source } => {
                write!(f, "cannot {step} {}: {source}", path.display())
            }
            FileError::IsDirectory { path } => write!(
                f,
                "{} is a directory; give the path of a file",
                path.display()
            ),
            FileError::NotRegular { path, found } => write!(
                f,
                "{} is {found}, not a regular file; give the path of a regular file",
                path.display()
            ),
            FileError::OthersMayWrite { path, mode } => write!(
                f,
                "{}: other users may write to it (mode {mode:o}); chmod go-w it (600 for a key \
                 file)",
                path.display()
            ),
            FileError::OwnedByOther { path, uid } => write!(
                f,
                "{}: it belongs to another user (uid {uid}), who could have chosen its \
                 content; use a file of your own",
                path.display()
            ),
            FileError::TooLarge { path, limit } => {
                write!(f, "{} is larger than {limit} bytes", path.display())
            }
            FileError::NotUtf8 { path } => write!(f, "{} is not UTF-8 text", path.display()),
        }
    }
}

impl std::error::Error for FileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FileError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
