//! Files written whole and key files read only when they can be trusted.
//!
//! Two halves, one rule each:
//!
//! - **Writing** ([`create_whole`], [`replace_whole`]): the content goes to a temporary file
//!   (mode 0600) in the same folder, named by [`temporary_name`], is synced as the
//!   [`Durability`] asks, and then gets its real name in one step: a hard link that never
//!   replaces an existing file (`create_whole`), or a rename over the old file
//!   (`replace_whole`). A reader never sees a half-written file, and a crash leaves at most a
//!   stray temporary file ([`is_temporary`] tells one apart), never a truncated one.
//! - **Reading** ([`ReadRules`]): a small UTF-8 file, read only if it is a regular file (a
//!   FIFO, device, socket or directory is refused before anything is read from it, so a
//!   reader never hangs on a pipe nobody writes) and, for a key file, only if no one else
//!   could have chosen its content ([`ReadRules::trusted`]: refused when other users may
//!   write to it or another user than this process's or root owns it).
//!
//! Every failure is a [`FileError`] naming the path, never the content.
//!
//! ```
//! use tessera_protocol::MAX_KEY_SET_BYTES;
//! use tessera_protocol::file::{Durability, ReadRules, create_whole, replace_whole};
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("keys.json");
//! assert!(create_whole(&path, b"{\"keys\":[]}\n", Durability::Content)?);
//! assert!(!create_whole(&path, b"other\n", Durability::Content)?); // the first one stays
//! replace_whole(&path, b"{\"keys\":[1]}\n", Durability::Content)?;
//! let key_file = ReadRules::new(MAX_KEY_SET_BYTES).trusted();
//! assert_eq!(key_file.read(&path)?, "{\"keys\":[1]}\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod read;
mod write;

pub use error::FileError;
pub use read::{ReadRules, check_trusted};
pub use write::{
    Durability, check_replaceable, create_whole, is_temporary, replace_whole, temporary_name,
};
