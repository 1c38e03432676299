//! `KeySet`: a tessera key set (spec §3.4), held behind an `Arc` that mint and verify share.

use std::sync::Arc;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use tessera_protocol::{Algorithm, Kid};

use crate::dat::PyJson;
use crate::errors::to_py;

/// A key set: signing keys (HS256, EdDSA) and sealing keys (A256GCM) by kid, with the active
/// ones named. Its `repr` shows kids and algorithms, never key material.
#[pyclass(module = "tessera._native")]
pub(crate) struct KeySet {
    pub(crate) inner: Arc<tessera_protocol::KeySet>,
}

fn wrap(set: tessera_protocol::KeySet) -> KeySet {
    KeySet {
        inner: Arc::new(set),
    }
}

/// A secret to derive keys from: bytes, or a text (its UTF-8 bytes, spec §3.7).
#[derive(FromPyObject)]
pub(crate) enum Secret {
    Bytes(Vec<u8>),
    Text(String),
}

impl Secret {
    fn octets(&self) -> &[u8] {
        match self {
            Secret::Bytes(bytes) => bytes,
            Secret::Text(text) => text.as_bytes(),
        }
    }
}

fn algorithm(name: &str) -> PyResult<Algorithm> {
    Algorithm::from_name(name)
        .ok_or_else(|| PyValueError::new_err("the algorithm is one of HS256, EdDSA, A256GCM"))
}

fn parse_kid(name: &str) -> PyResult<Kid> {
    Kid::new(name).map_err(|e| to_py(&e))
}

/// Python's repr of an optional kid or name (kids hold no quote or backslash; other strings
/// are escaped as Rust does, which agrees with Python for printable ASCII).
pub(crate) fn py_repr(value: Option<&str>) -> String {
    match value {
        Some(s)
            if !s.contains(['\'', '\\']) && s.chars().all(|c| c.is_ascii_graphic() || c == ' ') =>
        {
            format!("'{s}'")
        }
        Some(s) => format!("{s:?}"),
        None => "None".to_owned(),
    }
}

impl KeySet {
    /// The set, for a change: shared with no minter or verifier (they live for one call).
    fn set_mut(&mut self) -> PyResult<&mut tessera_protocol::KeySet> {
        Arc::get_mut(&mut self.inner)
            .ok_or_else(|| PyRuntimeError::new_err("the key set is in use and cannot change"))
    }
}

#[pymethods]
impl KeySet {
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<KeySet> {
        tessera_protocol::KeySet::from_json(text)
            .map(wrap)
            .map_err(|e| to_py(&e))
    }

    #[staticmethod]
    fn from_file(path: std::path::PathBuf) -> PyResult<KeySet> {
        tessera_protocol::KeySet::from_file(path)
            .map(wrap)
            .map_err(|e| to_py(&e))
    }

    #[staticmethod]
    #[pyo3(signature = (var = tessera_protocol::KEYS_ENV), text_signature = "(var='TESSERA_KEYS')")]
    fn from_env(var: &str) -> PyResult<KeySet> {
        tessera_protocol::KeySet::from_env(var)
            .map(wrap)
            .map_err(|e| to_py(&e))
    }

    #[staticmethod]
    fn from_public_jwks(text: &str) -> PyResult<KeySet> {
        tessera_protocol::KeySet::from_public_jwks(text)
            .map(wrap)
            .map_err(|e| to_py(&e))
    }

    #[staticmethod]
    fn generate(alg: &str) -> PyResult<KeySet> {
        tessera_protocol::KeySet::generate(algorithm(alg)?)
            .map(wrap)
            .map_err(|e| to_py(&e))
    }

    #[staticmethod]
    #[pyo3(signature = (secret, label, fallbacks = Vec::new()),
           text_signature = "(secret, label, fallbacks=())")]
    fn derive(secret: Secret, label: &str, fallbacks: Vec<Secret>) -> PyResult<KeySet> {
        let fallbacks: Vec<&[u8]> = fallbacks.iter().map(Secret::octets).collect();
        tessera_protocol::KeySet::derive(secret.octets(), label, &fallbacks)
            .map(wrap)
            .map_err(|e| to_py(&e))
    }

    fn rotate(&mut self, alg: &str) -> PyResult<String> {
        let alg = algorithm(alg)?;
        let kid = self.set_mut()?.rotate(alg).map_err(|e| to_py(&e))?;
        Ok(kid.as_str().to_owned())
    }

    fn add(&mut self, alg: &str) -> PyResult<String> {
        let alg = algorithm(alg)?;
        let kid = self.set_mut()?.add(alg).map_err(|e| to_py(&e))?;
        Ok(kid.as_str().to_owned())
    }

    fn activate(&mut self, kid: &str) -> PyResult<()> {
        let kid = parse_kid(kid)?;
        let set = self.set_mut()?;
        let sealing = set
            .get(kid.as_str())
            .is_some_and(|k| k.algorithm() == Algorithm::A256Gcm);
        if sealing {
            set.set_active_sealing(&kid)
        } else {
            set.set_active(&kid)
        }
        .map_err(|e| to_py(&e))
    }

    fn retire(&mut self, kid: &str) -> PyResult<()> {
        let kid = parse_kid(kid)?;
        self.set_mut()?.retire(&kid).map_err(|e| to_py(&e))
    }

    #[getter]
    fn active(&self) -> Option<String> {
        self.inner.active().map(|k| k.kid().as_str().to_owned())
    }

    #[getter]
    fn active_sealing(&self) -> Option<String> {
        self.inner
            .active_sealing()
            .map(|k| k.kid().as_str().to_owned())
    }

    #[getter]
    fn algorithms<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(py);
        for key in self.inner.keys() {
            out.set_item(key.kid().as_str(), key.algorithm().as_str())?;
        }
        Ok(out)
    }

    fn public_jwks(&self) -> PyResult<Py<PyAny>> {
        let text = self.inner.public_jwks().to_string();
        serde_json::from_str::<PyJson>(&text)
            .map(|v| v.0)
            .map_err(|_| PyRuntimeError::new_err("the public key set did not convert"))
    }

    fn to_json(&self) -> String {
        self.inner.to_private_json()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __repr__(&self) -> String {
        let keys: Vec<String> = self
            .inner
            .keys()
            .map(|k| format!("{}:{}", k.kid(), k.algorithm()))
            .collect();
        format!(
            "KeySet(keys=[{}], active={}, active_sealing={})",
            keys.join(", "),
            py_repr(self.active().as_deref()),
            py_repr(self.active_sealing().as_deref())
        )
    }
}
