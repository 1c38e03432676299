//! `tessera._native`: the Python package's compiled backend, a thin layer over
//! `tessera-protocol`. It converts types and maps errors; every protocol rule lives in the
//! protocol crate (one verifier for the axum extractor, the CLI and Python).
//!
//! The Python-facing API and its documentation are in `python/tessera/_native.pyi`.
#![forbid(unsafe_code)]

mod dat;
mod errors;
mod keys;
mod tokens;

use pyo3::prelude::*;

/// The compiled module `tessera._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<keys::KeySet>()?;
    m.add_class::<tokens::Claims>()?;
    m.add_function(wrap_pyfunction!(tokens::mint, m)?)?;
    m.add_function(wrap_pyfunction!(tokens::verify, m)?)?;
    Ok(())
}
