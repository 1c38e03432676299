//! The one error type of the CLI: a stable machine code and a sentence a person can act on.

use std::borrow::Cow;
use std::io::Write as _;

use tessera_client::ClientError;
use tessera_protocol::ErrorCode;
use tessera_protocol::file::FileError;

use crate::safe;

/// A failed operation: printed as `error: <code>: <message>` on stderr (or as a JSON object on
/// stdout for `verify --json` and `panels --json`), exit code 1.
#[derive(Debug)]
pub(crate) struct Failure {
    code: Cow<'static, str>,
    message: String,
    json: bool,
}

impl Failure {
    pub(crate) fn new(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Failure {
        Failure {
            code: code.into(),
            message: message.into(),
            json: false,
        }
    }

    /// A file or stream could not be read or written.
    pub(crate) fn io(message: impl Into<String>) -> Failure {
        Failure::new("io", message)
    }

    /// A file (`what`: "key file", "payload file", …) that could not be read or written: `io`
    /// when the system refused (a missing file, no permission, a full disk) or the text is not
    /// UTF-8, `is_a_directory` for a directory, `not_a_file` for a FIFO, device or socket
    /// (never read, so never waited on), `invalid_key` for a key file others could have
    /// written (see [`ReadRules::trusted`](tessera_protocol::file::ReadRules::trusted)),
    /// `too_large` past the size limit.
    pub(crate) fn file(what: &str, e: &FileError) -> Failure {
        let code = match e {
            FileError::IsDirectory { .. } => "is_a_directory",
            FileError::NotRegular { .. } => "not_a_file",
            FileError::OthersMayWrite { .. } | FileError::OwnedByOther { .. } => {
                ErrorCode::InvalidKey.as_str()
            }
            FileError::TooLarge { .. } => "too_large",
            _ => "io",
        };
        Failure::new(code, format!("{what}: {e}"))
    }

    /// A key file (or published key set, `what`) that could not be read: as
    /// [`Failure::file`], except that a file over the size cap is `invalid_key` (spec §3.4).
    pub(crate) fn key_file(what: &str, e: &FileError) -> Failure {
        match e {
            FileError::TooLarge { .. } => {
                Failure::new(ErrorCode::InvalidKey.as_str(), format!("{what}: {e}"))
            }
            _ => Failure::file(what, e),
        }
    }

    /// Report as a JSON object `{"code", "message"}` on stdout instead of a line on stderr.
    pub(crate) fn into_json(mut self) -> Failure {
        self.json = true;
        self
    }

    pub(crate) fn report(&self) {
        if self.json {
            let doc = serde_json::json!({"code": self.code, "message": self.message});
            let mut out = std::io::stdout().lock();
            // Nothing more can be done if stdout is gone; the exit code still tells.
            let _ = writeln!(out, "{}", safe::json(&doc));
        } else {
            // Codes and messages may carry a host's text (a problem's `code` and `detail`).
            let mut err = std::io::stderr().lock();
            let _ = writeln!(
                err,
                "error: {}: {}",
                safe::text(&self.code),
                safe::text(&self.message)
            );
        }
    }
}

impl From<tessera_protocol::Error> for Failure {
    fn from(e: tessera_protocol::Error) -> Failure {
        Failure::new(e.code().as_str(), e.to_string())
    }
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Failure {
        Failure::new(e.machine_code().to_owned(), e.to_string())
    }
}

/// Prints `text` and a newline on stdout. A closed pipe (`tessera … | head`) is not an error.
pub(crate) fn print(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    let written = out
        .write_all(text.as_bytes())
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    match written {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|e| Failure::io(format!("cannot write to standard output: {e}"))),
    }
}

/// Prints a note on stderr (never fails).
pub(crate) fn note(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}
