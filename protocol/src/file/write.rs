//! Writing a file whole: a temporary file beside it, synced, then linked or renamed into place.

use std::ffi::{OsStr, OsString};
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::FileError;

/// Tells this process's temporary files apart (with the process id, among live processes).
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// How many temporary names are tried when earlier ones exist (leftovers of a dead process
/// that had the same process id).
const NAME_ATTEMPTS: usize = 16;

/// The longest part of the target's name kept in a temporary name (file names are at most
/// 255 bytes on common file systems; the suffix needs the rest).
const MAX_NAME_IN_TEMPORARY: usize = 200;

/// How much of a whole-file write is on disk when [`create_whole`] or [`replace_whole`]
/// returns. Whatever is chosen, a reader never sees part of the content under the name.
///
/// ```
/// use tessera_protocol::file::{Durability, create_whole};
/// let dir = tempfile::tempdir()?;
/// for (i, durability) in [Durability::None, Durability::Content,
///     Durability::ContentAndFolderIfPossible, Durability::ContentAndFolder].into_iter().enumerate() {
///     assert!(create_whole(&dir.path().join(format!("f{i}")), b"x\n", durability)?);
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Durability {
    /// Nothing is synced: the file survives the crash of a process, not of the machine,
    /// which may lose it or leave its name on empty content. The cheapest (a replay guard's
    /// records when first uses need not outlive the machine).
    None,
    /// The content is synced before the file gets its name, so the name never stands for
    /// partial content; the name itself may be lost in a machine crash (a ledger version,
    /// which a lost name only rolls back).
    Content,
    /// The content, and after the name is made the folder's entry, which is best effort: a
    /// folder that cannot be synced is not an error, the content being on disk already (key
    /// files and other files made once).
    ContentAndFolderIfPossible,
    /// The content and the folder's entry; a folder that cannot be synced is an error, and a
    /// file [`create_whole`] made is removed again (it is not known to be durable: a replay
    /// guard's record that must outlive the machine).
    ContentAndFolder,
}

impl Durability {
    fn syncs_content(self) -> bool {
        self != Durability::None
    }
}

/// The temporary name a whole-file write of `path` uses: in the same folder (a link or
/// rename never crosses file systems), hidden, naming its target, this process and a counter:
/// `.<name>.tmp-<pid>-<n>`. Each call gives a new name.
///
/// ```
/// use std::path::Path;
/// use tessera_protocol::file::{is_temporary, temporary_name};
/// let tmp = temporary_name(Path::new("/data/keys.json"));
/// assert_eq!(tmp.parent(), Some(Path::new("/data")));
/// let name = tmp.file_name().unwrap();
/// assert!(name.to_str().unwrap().starts_with(".keys.json.tmp-"));
/// assert!(is_temporary(name));
/// assert_ne!(temporary_name(Path::new("/data/keys.json")), tmp);
/// ```
pub fn temporary_name(path: &Path) -> PathBuf {
    let target = path.file_name().unwrap_or_default();
    let mut name = OsString::from(".");
    if target.len() <= MAX_NAME_IN_TEMPORARY {
        name.push(target);
    } else {
        let lossy = target.to_string_lossy();
        let mut end = MAX_NAME_IN_TEMPORARY;
        while !lossy.is_char_boundary(end) {
            end -= 1;
        }
        name.push(&lossy[..end]);
    }
    name.push(format!(
        ".tmp-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    folder_of(path).join(name)
}

/// Whether a file name is one [`temporary_name`] makes (a leftover of a crash, once no live
/// process writes it): hidden and holding `.tmp-`. Names that do not start with a dot never are.
///
/// ```
/// use std::ffi::OsStr;
/// use tessera_protocol::file::is_temporary;
/// assert!(is_temporary(OsStr::new(".v7.json.tmp-41-3")));
/// assert!(is_temporary(OsStr::new(".tmp-41-3")));
/// assert!(!is_temporary(OsStr::new("v7.json")));
/// assert!(!is_temporary(OsStr::new("notes.tmp-1")));
/// ```
pub fn is_temporary(name: &OsStr) -> bool {
    let bytes = name.as_encoded_bytes();
    bytes.starts_with(b".") && memchr::memmem::find(bytes, b".tmp-").is_some()
}

/// Creates `path` holding exactly `content`, in one step: written (mode 0600) and synced as
/// `durability` asks under a [`temporary_name`], then hard-linked to `path`, which never
/// replaces an existing file. Returns whether this call created `path`: `false` when a file
/// (or anything else) of that name already existed, which is left as it was. Concurrent
/// creators of one path: exactly one gets `true`, and every reader sees its whole content.
///
/// ```
/// use tessera_protocol::file::{Durability, create_whole};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("id");
/// assert!(create_whole(&path, b"first\n", Durability::ContentAndFolderIfPossible)?);
/// assert!(!create_whole(&path, b"second\n", Durability::ContentAndFolderIfPossible)?);
/// assert_eq!(std::fs::read(&path)?, b"first\n");
/// assert_eq!(std::fs::read_dir(dir.path())?.count(), 1); // no temporary file left
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn create_whole(
    path: &Path,
    content: &[u8],
    durability: Durability,
) -> Result<bool, FileError> {
    let tmp = write_temporary(path, content, durability)?;
    let linked = std::fs::hard_link(&tmp, path);
    // The temporary name goes either way; only `path` is kept.
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(FileError::io("create", path, e)),
    }
    if let Err(e) = sync_folder(path, durability) {
        // Not known to be durable: undone, so that nothing counts on it.
        let _ = std::fs::remove_file(path);
        return Err(e);
    }
    Ok(true)
}

/// Replaces `path` (or creates it) with exactly `content`, in one step: written (mode 0600)
/// and synced as `durability` asks under a [`temporary_name`], then renamed over `path`. A
/// reader sees the old content or the new, never a mix. Only a regular file is replaced
/// ([`check_replaceable`]): a directory, device, FIFO, socket or symbolic link at `path` is
/// refused and left as it is (resolve a link first to replace its target).
///
/// ```
/// use tessera_protocol::file::{Durability, FileError, replace_whole};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("keys.json");
/// replace_whole(&path, b"old\n", Durability::ContentAndFolderIfPossible)?;
/// replace_whole(&path, b"new\n", Durability::ContentAndFolderIfPossible)?;
/// assert_eq!(std::fs::read(&path)?, b"new\n");
/// let err = replace_whole(dir.path(), b"x", Durability::Content).unwrap_err();
/// assert!(matches!(err, FileError::IsDirectory { .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn replace_whole(path: &Path, content: &[u8], durability: Durability) -> Result<(), FileError> {
    check_replaceable(path)?;
    let tmp = write_temporary(path, content, durability)?;
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(FileError::io("replace", path, e));
    }
    sync_folder(path, durability)
}

/// Whether [`replace_whole`] may replace `path`: yes when nothing is there or a regular file
/// is (a symbolic link is not followed); else [`FileError::IsDirectory`] or
/// [`FileError::NotRegular`], saying what is there.
///
/// ```
/// use tessera_protocol::file::{FileError, check_replaceable};
/// let dir = tempfile::tempdir()?;
/// check_replaceable(&dir.path().join("new.json"))?;
/// assert!(matches!(check_replaceable(dir.path()), Err(FileError::IsDirectory { .. })));
/// let err = check_replaceable(std::path::Path::new("/dev/null")).unwrap_err();
/// assert!(matches!(err, FileError::NotRegular { found: "a character device", .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check_replaceable(path: &Path) -> Result<(), FileError> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) => super::read::refuse_unless_regular(path, &meta, false),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(FileError::io("examine", path, e)),
    }
}

/// The folder `path` is in ("." for a bare name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Writes `content` to a new temporary file beside `path` (mode 0600), synced if asked.
fn write_temporary(
    path: &Path,
    content: &[u8],
    durability: Durability,
) -> Result<PathBuf, FileError> {
    for _ in 0..NAME_ATTEMPTS {
        let tmp = temporary_name(path);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = match options.open(&tmp) {
            Ok(file) => file,
            // A leftover of an earlier process with the same pid: try the next name.
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(FileError::io("create a temporary file beside", path, e)),
        };
        let written = file.write_all(content).and_then(|()| {
            if durability.syncs_content() {
                file.sync_all()
            } else {
                Ok(())
            }
        });
        if let Err(e) = written {
            drop(file);
            let _ = std::fs::remove_file(&tmp);
            return Err(FileError::io("write", path, e));
        }
        return Ok(tmp);
    }
    Err(FileError::io(
        "create a temporary file beside",
        path,
        std::io::Error::new(ErrorKind::AlreadyExists, "no free temporary name"),
    ))
}

/// Syncs the folder entry of `path` as `durability` asks.
fn sync_folder(path: &Path, durability: Durability) -> Result<(), FileError> {
    let synced = || File::open(folder_of(path)).and_then(|folder| folder.sync_all());
    match durability {
        Durability::None | Durability::Content => Ok(()),
        Durability::ContentAndFolderIfPossible => {
            let _ = synced();
            Ok(())
        }
        Durability::ContentAndFolder => {
            synced().map_err(|e| FileError::io("sync the folder of", path, e))
        }
    }
}
