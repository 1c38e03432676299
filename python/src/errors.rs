//! Protocol errors as the package's one exception type, `tessera.TesseraError`.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

/// `tessera._errors.TesseraError`, looked up once.
static TESSERA_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// The Python exception for a protocol error: its stable code and its message (which never
/// holds the token or key material: the protocol crate's messages do not).
pub(crate) fn to_py(err: &tessera_protocol::Error) -> PyErr {
    raise(err.code().as_str(), &err.to_string())
}

/// A `TesseraError(code, message)`.
pub(crate) fn raise(code: &str, message: &str) -> PyErr {
    Python::attach(
        |py| match TESSERA_ERROR.import(py, "tessera._errors", "TesseraError") {
            Ok(class) => PyErr::from_type(class.clone(), (code.to_owned(), message.to_owned())),
            Err(e) => e,
        },
    )
}
