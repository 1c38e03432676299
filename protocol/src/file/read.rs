//! Reading a small file: a regular file only, bounded, and for a key file only one no one
//! else could have written.

use std::fs::{File, Metadata, OpenOptions};
use std::io::Read as _;
use std::path::Path;

use super::FileError;

/// The rules a small text file is read by: at most `limit` bytes of UTF-8, from a regular file
/// (a directory, device, socket or, unless [`ReadRules::or_fifo`], FIFO is refused before
/// anything is read from it), and with [`ReadRules::trusted`] only from a file no other user
/// could have written (a key file's rules: `ReadRules::new(MAX_KEY_SET_BYTES).trusted()`, with
/// [`MAX_KEY_SET_BYTES`](crate::MAX_KEY_SET_BYTES)). A symbolic link is followed; the rules
/// apply to its target.
///
/// The file is examined before it is opened (a device is never opened) and again through the
/// open file (what was read is what was checked, even if the path was swapped in between); a
/// regular file is opened without blocking, so a FIFO swapped in is refused, not waited on.
///
/// ```
/// use tessera_protocol::file::{FileError, ReadRules};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("payload.json");
/// std::fs::write(&path, "{\"qty\": 5}")?;
/// assert_eq!(ReadRules::new(64).read(&path)?, "{\"qty\": 5}");
/// assert!(matches!(ReadRules::new(4).read(&path), Err(FileError::TooLarge { limit: 4, .. })));
/// assert!(matches!(ReadRules::new(64).read("/dev/null"), Err(FileError::NotRegular { .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadRules {
    limit: usize,
    trusted: bool,
    fifo: bool,
}

impl ReadRules {
    /// A regular file of at most `limit` bytes of UTF-8 text, whoever owns it.
    ///
    /// ```
    /// use tessera_protocol::file::ReadRules;
    /// assert_eq!(ReadRules::new(100).limit(), 100);
    /// assert!(!ReadRules::new(100).is_trusted());
    /// ```
    pub const fn new(limit: usize) -> ReadRules {
        ReadRules {
            limit,
            trusted: false,
            fifo: false,
        }
    }

    /// Also refuse a file someone else could have chosen the content of (its keys would be
    /// theirs: with an HS256 key they could mint any token): one that users other than its
    /// owner may write to ([`FileError::OthersMayWrite`]), or one that belongs to a user
    /// other than this process's and root ([`FileError::OwnedByOther`]). A file only readable
    /// by others is read (keeping it private is the owner's business). Unix only: elsewhere
    /// this adds nothing.
    ///
    /// ```
    /// use std::os::unix::fs::PermissionsExt as _;
    /// use tessera_protocol::MAX_KEY_SET_BYTES;
    /// use tessera_protocol::file::{FileError, ReadRules};
    /// let key_file = ReadRules::new(MAX_KEY_SET_BYTES).trusted();
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("keys.json");
    /// std::fs::write(&path, "{}")?;
    /// std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666))?;
    /// let err = key_file.read(&path).unwrap_err();
    /// assert!(matches!(err, FileError::OthersMayWrite { mode: 0o666, .. }));
    /// assert!(err.to_string().contains("other users may write"));
    /// std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))?;
    /// assert_eq!(key_file.read(&path)?, "{}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn trusted(mut self) -> ReadRules {
        self.trusted = true;
        self
    }

    /// Also read a FIFO (named pipe), under the same trust rules: opening it waits for a
    /// writer, and the content is what the writer sends until it closes its end (at most the
    /// limit). For readers that are meant to be fed through a pipe, such as a host whose key
    /// file a secret manager writes into one.
    ///
    /// ```
    /// use tessera_protocol::file::ReadRules;
    /// let rules = ReadRules::new(1 << 20).trusted().or_fifo();
    /// assert!(rules.allows_fifo() && rules.is_trusted());
    /// ```
    pub const fn or_fifo(mut self) -> ReadRules {
        self.fifo = true;
        self
    }

    /// The size limit, in bytes.
    ///
    /// ```
    /// assert_eq!(tessera_protocol::file::ReadRules::new(7).limit(), 7);
    /// ```
    pub const fn limit(&self) -> usize {
        self.limit
    }

    /// Whether [`ReadRules::trusted`] applies.
    ///
    /// ```
    /// assert!(tessera_protocol::file::ReadRules::new(64).trusted().is_trusted());
    /// ```
    pub const fn is_trusted(&self) -> bool {
        self.trusted
    }

    /// Whether [`ReadRules::or_fifo`] applies.
    ///
    /// ```
    /// assert!(!tessera_protocol::file::ReadRules::new(64).allows_fifo());
    /// ```
    pub const fn allows_fifo(&self) -> bool {
        self.fifo
    }

    /// Reads the file at `path` by these rules.
    ///
    /// ```
    /// use tessera_protocol::file::{FileError, ReadRules};
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("x");
    /// std::fs::write(&path, b"\xff")?;
    /// assert!(matches!(ReadRules::new(8).read(&path), Err(FileError::NotUtf8 { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read(&self, path: impl AsRef<Path>) -> Result<String, FileError> {
        let path = path.as_ref();
        // Examined first: a device is never opened (opening some has effects of its own).
        let before = std::fs::metadata(path).map_err(|e| FileError::io("open", path, e))?;
        self.check(path, &before)?;
        let file = self.open(path, &before)?;
        // And again through the open file: what is read is what was checked.
        let meta = file
            .metadata()
            .map_err(|e| FileError::io("examine", path, e))?;
        self.check(path, &meta)?;
        let mut buf = Vec::new();
        // One byte more than the limit tells a file at the limit from a longer one.
        let cap = u64::try_from(self.limit).map_or(u64::MAX, |n| n.saturating_add(1));
        file.take(cap)
            .read_to_end(&mut buf)
            .map_err(|e| FileError::io("read", path, e))?;
        if buf.len() > self.limit {
            return Err(FileError::TooLarge {
                path: path.to_path_buf(),
                limit: self.limit,
            });
        }
        String::from_utf8(buf).map_err(|_| FileError::NotUtf8 {
            path: path.to_path_buf(),
        })
    }

    fn check(&self, path: &Path, meta: &Metadata) -> Result<(), FileError> {
        refuse_unless_regular(path, meta, self.fifo)?;
        if self.trusted {
            refuse_untrusted(path, meta)?;
        }
        Ok(())
    }

    /// Opens `path` for reading: without blocking unless it was found to be a FIFO this reader
    /// accepts (then opening waits for its writer).
    fn open(&self, path: &Path, before: &Metadata) -> Result<File, FileError> {
        let mut options = OpenOptions::new();
        options.read(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _};
            if !(self.fifo && before.file_type().is_fifo()) {
                options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
            }
        }
        #[cfg(not(unix))]
        let _ = before;
        options
            .open(path)
            .map_err(|e| FileError::io("open", path, e))
    }
}

/// Refuses anything but a regular file (and, with `fifo`, a FIFO), saying what it is.
pub(super) fn refuse_unless_regular(
    path: &Path,
    meta: &Metadata,
    fifo: bool,
) -> Result<(), FileError> {
    let kind = meta.file_type();
    if kind.is_file() {
        return Ok(());
    }
    if kind.is_dir() {
        return Err(FileError::IsDirectory {
            path: path.to_path_buf(),
        });
    }
    #[cfg(unix)]
    if fifo && std::os::unix::fs::FileTypeExt::is_fifo(&kind) {
        return Ok(());
    }
    #[cfg(not(unix))]
    let _ = fifo;
    let found = describe(kind);
    Err(FileError::NotRegular {
        path: path.to_path_buf(),
        found,
    })
}

/// What a file that is neither a regular file nor a directory is, as words.
fn describe(kind: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        } else if kind.is_char_device() {
            return "a character device";
        } else if kind.is_block_device() {
            return "a block device";
        } else if kind.is_socket() {
            return "a socket";
        }
    }
    if kind.is_symlink() {
        "a symbolic link"
    } else {
        "neither a regular file nor a directory"
    }
}

/// Refuses a file or folder that someone else could have written: one that users other than
/// its owner may write to ([`FileError::OthersMayWrite`]), or one that belongs to a user other
/// than this process's and root ([`FileError::OwnedByOther`]) — [`ReadRules::trusted`]'s rule,
/// for what is not read as text (a data folder, the records in it). A symbolic link is
/// followed.
///
/// ```
/// use tessera_protocol::file::{FileError, check_trusted};
/// use std::os::unix::fs::PermissionsExt as _;
/// let dir = tempfile::tempdir()?;
/// std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))?;
/// assert!(check_trusted(dir.path()).is_ok());
/// std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))?;
/// assert!(matches!(check_trusted(dir.path()), Err(FileError::OthersMayWrite { .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`FileError::Io`] when it cannot be examined; the two refusals above.
pub fn check_trusted(path: impl AsRef<Path>) -> Result<(), FileError> {
    let path = path.as_ref();
    let meta = std::fs::metadata(path).map_err(|e| FileError::io("examine", path, e))?;
    refuse_untrusted(path, &meta)
}

/// Refuses a file that users other than its owner may write to, or that belongs to a user
/// other than this process's and root.
#[cfg(unix)]
fn refuse_untrusted(path: &Path, meta: &Metadata) -> Result<(), FileError> {
    use std::os::unix::fs::MetadataExt as _;
    if meta.mode() & 0o022 != 0 {
        return Err(FileError::OthersMayWrite {
            path: path.to_path_buf(),
            mode: meta.mode() & 0o777,
        });
    }
    // This process's user: the owner of its /proc entry (where /proc is mounted).
    if let Ok(me) = std::fs::metadata("/proc/self").map(|m| m.uid())
        && meta.uid() != me
        && meta.uid() != 0
    {
        return Err(FileError::OwnedByOther {
            path: path.to_path_buf(),
            uid: meta.uid(),
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn refuse_untrusted(_path: &Path, _meta: &Metadata) -> Result<(), FileError> {
    Ok(())
}
