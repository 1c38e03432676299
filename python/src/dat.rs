//! A token's payload (`dat`) as plain Python values, built while the verifier types it.
//!
//! The verifier deserializes `dat` as [`PyJson`], whose visitor builds `dict`, `list`, `str`,
//! `int`, `float`, `bool` and `None` directly (no intermediate `serde_json::Value`), in the
//! order of the token's members. Numbers follow spec §2.4 as serde_json reads them: an integer
//! within `-2^63..=2^64-1` is an `int`; `-0`, a larger integer and any number with a fraction
//! or an exponent are a `float` (the same values as the pure-Python backend).

use std::fmt;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// A JSON value as a Python object.
pub(crate) struct PyJson(pub(crate) Py<PyAny>);

impl<'de> de::Deserialize<'de> for PyJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<PyJson, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

/// Any JSON value.
struct ValueVisitor;

/// A Python error while building a value, as a serde error (never the value itself).
fn py_failed<E: de::Error>(_: PyErr) -> E {
    E::custom("a Python object could not be built")
}

/// A value from `f`, converted with the GIL held (it is: the verifier runs under it).
fn build<E: de::Error>(
    f: impl for<'py> FnOnce(Python<'py>) -> PyResult<Bound<'py, PyAny>>,
) -> Result<PyJson, E> {
    Python::attach(|py| f(py).map(|v| PyJson(v.unbind())).map_err(py_failed))
}

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = PyJson;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<PyJson, E> {
        build(|py| Ok(v.into_pyobject(py)?.to_owned().into_any()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<PyJson, E> {
        build(|py| Ok(v.into_pyobject(py)?.into_any()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<PyJson, E> {
        build(|py| Ok(v.into_pyobject(py)?.into_any()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<PyJson, E> {
        build(|py| Ok(v.into_pyobject(py)?.into_any()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<PyJson, E> {
        build(|py| Ok(PyString::new(py, v).into_any()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<PyJson, E> {
        build(|py| Ok(py.None().into_bound(py)))
    }

    fn visit_none<E: de::Error>(self) -> Result<PyJson, E> {
        self.visit_unit()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PyJson, A::Error> {
        let list = build::<A::Error>(|py| Ok(PyList::empty(py).into_any()))?;
        while let Some(item) = seq.next_element::<PyJson>()? {
            Python::attach(|py| list.0.bind(py).cast::<PyList>()?.append(item.0))
                .map_err(py_failed::<A::Error>)?;
        }
        Ok(list)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PyJson, A::Error> {
        let dict = build::<A::Error>(|py| Ok(PyDict::new(py).into_any()))?;
        while let Some(name) = map.next_key_seed(NameSeed)? {
            let value = map.next_value::<PyJson>()?;
            Python::attach(|py| dict.0.bind(py).cast::<PyDict>()?.set_item(name.0, value.0))
                .map_err(py_failed::<A::Error>)?;
        }
        Ok(dict)
    }
}

/// A member name, read as a string.
struct NameSeed;

impl<'de> DeserializeSeed<'de> for NameSeed {
    type Value = PyJson;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<PyJson, D::Error> {
        d.deserialize_str(NameVisitor)
    }
}

/// The visitor of a member name.
struct NameVisitor;

impl<'de> Visitor<'de> for NameVisitor {
    type Value = PyJson;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<PyJson, E> {
        build(|py| Ok(PyString::new(py, v).into_any()))
    }
}
