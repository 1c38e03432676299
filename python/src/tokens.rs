//! `mint` and `verify`, and the verified `Claims`.

use std::sync::Arc;
use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use serde_json::value::RawValue;
use tessera_protocol::{Accept, Clock, Expected, FixedClock, Minter, SystemClock, Verifier};

use crate::dat::PyJson;
use crate::errors::{raise, to_py};
use crate::keys::{KeySet, py_repr};

/// The claims of a verified token; `dat` as plain Python values.
#[pyclass(module = "tessera._native", frozen, get_all)]
pub(crate) struct Claims {
    iss: String,
    aud: String,
    sub: Option<String>,
    iat: u64,
    nbf: u64,
    exp: u64,
    jti: String,
    fpr: Option<String>,
    dat: Py<PyAny>,
}

#[pymethods]
impl Claims {
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(py);
        out.set_item("iss", &self.iss)?;
        out.set_item("aud", &self.aud)?;
        out.set_item("sub", &self.sub)?;
        out.set_item("iat", self.iat)?;
        out.set_item("nbf", self.nbf)?;
        out.set_item("exp", self.exp)?;
        out.set_item("jti", &self.jti)?;
        out.set_item("fpr", &self.fpr)?;
        out.set_item("dat", self.dat.bind(py))?;
        Ok(out)
    }

    fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        match other.cast::<Claims>() {
            Ok(other) => self.to_dict(py)?.eq(other.get().to_dict(py)?),
            Err(_) => Ok(false),
        }
    }

    /// No payload and no token id: a repr may end up in a log.
    fn __repr__(&self) -> String {
        format!(
            "Claims(iss={}, aud={}, sub={}, iat={}, nbf={}, exp={})",
            py_repr(Some(&self.iss)),
            py_repr(Some(&self.aud)),
            py_repr(self.sub.as_deref()),
            self.iat,
            self.nbf,
            self.exp
        )
    }
}

/// `value`, or 0 for a negative one (which the protocol then refuses as it refuses 0).
fn at_least_zero(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn invalid_config(message: &str) -> PyErr {
    raise("invalid_config", message)
}

fn clock(now: Option<u64>) -> Arc<dyn Clock> {
    match now {
        Some(now) => Arc::new(FixedClock(now)),
        None => Arc::new(SystemClock),
    }
}

/// Mints a signed token (or, with `sealed`, a sealed one). `dat_json` is the payload as
/// compact JSON text, which the package's `mint` writes.
#[pyfunction]
#[pyo3(signature = (keys, dat_json, *, iss, aud, sub = None, ttl = 300, nbf = None, fpr = None,
                    sealed = false, now = None, max_lifetime = 86400, max_len = 8192, jti = None))]
#[allow(clippy::too_many_arguments)] // the Python keyword arguments, each optional
pub(crate) fn mint(
    keys: PyRef<'_, KeySet>,
    dat_json: Option<&Bound<'_, PyString>>,
    iss: &str,
    aud: &str,
    sub: Option<&str>,
    ttl: i64,
    nbf: Option<i64>,
    fpr: Option<&str>,
    sealed: bool,
    now: Option<i64>,
    max_lifetime: i64,
    max_len: i64,
    jti: Option<&str>,
) -> PyResult<String> {
    // Out-of-range integers get the pure backend's answers: a negative time is a ValueError,
    // a negative option or not-before is refused as the spec refuses 0 (`invalid_config`).
    let now = now
        .map(|t| u64::try_from(t).map_err(|_| PyValueError::new_err("now is a non-negative time")))
        .transpose()?;
    let nbf = nbf
        .map(|t| u64::try_from(t).map_err(|_| invalid_config("nbf must lie between iat and exp")))
        .transpose()?;
    let (ttl, max_lifetime) = (at_least_zero(ttl), at_least_zero(max_lifetime));
    let max_len = usize::try_from(at_least_zero(max_len)).unwrap_or(usize::MAX);
    // A payload JSON cannot hold (None from the package, or text that is not JSON) is refused
    // at its own step (spec §4 step 6): the minter runs with `null` in its place, so that the
    // refusals of the steps before it come first, and its success becomes `bad_payload`.
    let given = dat_json
        .and_then(|text| text.to_cow().ok())
        .and_then(|text| RawValue::from_string(text.into_owned()).ok());
    let representable = given.is_some();
    let dat = match given {
        Some(raw) => raw,
        None => RawValue::from_string("null".to_owned()).map_err(|_| {
            raise(
                "bad_payload",
                "the payload does not serialize to strict JSON",
            )
        })?,
    };
    let minter = Minter::new(keys.inner.clone(), iss)
        .with_clock(clock(now))
        .with_max_lifetime(Duration::from_secs(max_lifetime))
        .and_then(|m| m.with_max_len(max_len))
        .map_err(|e| to_py(&e))?;
    let mut token = minter
        .token(aud)
        .payload(&*dat)
        .ttl(Duration::from_secs(ttl));
    if let Some(sub) = sub {
        token = token.subject(sub);
    }
    if let Some(nbf) = nbf {
        token = token.not_before(nbf);
    }
    if let Some(fpr) = fpr {
        token = token.fingerprint(fpr);
    }
    let minted = match (sealed, jti) {
        (false, None) => token.mint(),
        (false, Some(jti)) => token.mint_with_jti(jti),
        (true, None) => token.seal(),
        (true, Some(_)) => return Err(PyValueError::new_err("a sealed token's jti is random")),
    }
    .map_err(|e| to_py(&e))?;
    if representable {
        Ok(minted)
    } else {
        Err(raise(
            "bad_payload",
            "the payload does not serialize to strict JSON",
        ))
    }
}

/// Verifies `token` (spec §5) and returns its claims.
#[pyfunction]
#[pyo3(signature = (token, keys, *, iss, aud, sub = None, anonymous = false, accept = "signed",
                    leeway = 30, max_lifetime = 86400, max_len = 8192, now = None))]
#[allow(clippy::too_many_arguments)] // the Python keyword arguments, each optional
pub(crate) fn verify(
    py: Python<'_>,
    token: &str,
    keys: PyRef<'_, KeySet>,
    iss: &str,
    aud: &str,
    sub: Option<&str>,
    anonymous: bool,
    accept: &str,
    leeway: i64,
    max_lifetime: i64,
    max_len: i64,
    now: Option<i64>,
) -> PyResult<Py<Claims>> {
    let (Ok(leeway), Ok(now)) = (u64::try_from(leeway), now.map(u64::try_from).transpose()) else {
        return Err(invalid_config("now and leeway are non-negative"));
    };
    let max_lifetime = at_least_zero(max_lifetime);
    let max_len = usize::try_from(at_least_zero(max_len)).unwrap_or(usize::MAX);
    let accept = match accept {
        "signed" => Accept::Signed,
        "sealed" => Accept::Sealed,
        "either" => Accept::Either,
        _ => {
            return Err(raise(
                "invalid_config",
                "accept is signed, sealed or either",
            ));
        }
    };
    let mut verifier = Verifier::new(keys.inner.clone(), iss);
    if now.is_some() {
        verifier = verifier.with_clock(clock(now));
    }
    if leeway != 30 {
        verifier = verifier
            .with_leeway(Duration::from_secs(leeway))
            .map_err(|e| to_py(&e))?;
    }
    if max_lifetime != 86400 {
        verifier = verifier
            .with_max_lifetime(Duration::from_secs(max_lifetime))
            .map_err(|e| to_py(&e))?;
    }
    if max_len != 8192 {
        verifier = verifier.with_max_len(max_len).map_err(|e| to_py(&e))?;
    }
    let mut expected = Expected::audience(aud).accept(accept);
    if let Some(sub) = sub {
        expected = expected.subject(sub);
    } else if anonymous {
        expected = expected.anonymous();
    }
    let verified = verifier
        .verify::<PyJson>(token, &expected)
        .map_err(|e| to_py(&e))?;
    let c = verified.claims;
    Py::new(
        py,
        Claims {
            iss: c.iss,
            aud: c.aud,
            sub: c.sub,
            iat: c.iat,
            nbf: c.nbf,
            exp: c.exp,
            jti: c.jti,
            fpr: c.fpr,
            dat: c.dat.0,
        },
    )
}
