//! The key-set file format: a JWK Set (RFC 7517) with two extra members, `active` (the key
//! that mints signed tokens) and `active_sealing` (the key that seals).
//!
//! ```json
//! {"keys": [{"kty":"oct","kid":"a1B2","use":"sig","alg":"HS256","k":"<base64url secret>"},
//!           {"kty":"OKP","crv":"Ed25519","kid":"c3D4","use":"sig","alg":"EdDSA","x":"…","d":"…"},
//!           {"kty":"oct","kid":"e5F6","use":"enc","alg":"A256GCM","k":"<base64url key>"}],
//!  "active": "a1B2", "active_sealing": "e5F6"}
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Deserializer, Serialize};
use zeroize::Zeroizing;

use crate::algorithm::Algorithm;
use crate::error::Error;
use crate::json::object_only::ObjectOnly;
use crate::key::Key;
use crate::key::Material;
use crate::kid::Kid;

/// An optional member: absent is `None`, and a member that is present must hold a value of
/// its type. `null` is refused rather than read as absent: `"d": null` would otherwise turn a
/// signing key into a verify-only one without a word, and `"use": null` is not `sig` or `enc`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct JwkSetIn {
    pub(crate) keys: Vec<ObjectOnly<JwkIn>>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) active: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) active_sealing: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct JwkIn {
    kty: String,
    kid: String,
    #[serde(default, deserialize_with = "present")]
    alg: Option<String>,
    #[serde(rename = "use", default, deserialize_with = "present")]
    use_: Option<String>,
    #[serde(default, deserialize_with = "present")]
    crv: Option<String>,
    #[serde(default, deserialize_with = "present")]
    k: Option<Zeroizing<String>>,
    #[serde(default, deserialize_with = "present")]
    x: Option<String>,
    #[serde(default, deserialize_with = "present")]
    d: Option<Zeroizing<String>>,
}

#[derive(Serialize)]
pub(crate) struct JwkSetOut<'a> {
    pub(crate) keys: Vec<JwkOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) active: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) active_sealing: Option<&'a str>,
}

#[derive(Serialize)]
pub(crate) struct JwkOut<'a> {
    kty: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    crv: Option<&'static str>,
    kid: &'a str,
    #[serde(rename = "use")]
    use_: &'static str,
    alg: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    k: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    d: Option<String>,
}

fn b64(kid: &str, member: &str, value: &str) -> Result<Zeroizing<Vec<u8>>, Error> {
    URL_SAFE_NO_PAD
        .decode(value)
        .map(Zeroizing::new)
        .map_err(|_| {
            Error::invalid_key(format!("key {kid}: \"{member}\" is not unpadded base64url"))
        })
}

impl JwkIn {
    pub(crate) fn into_key(self) -> Result<Key, Error> {
        let kid = Kid::new(self.kid.clone())?;
        let alg_name = self.alg.as_deref().ok_or_else(|| {
            Error::invalid_key(format!(
                "key {kid}: \"alg\" is required (a tessera key knows its algorithm)"
            ))
        })?;
        let alg = Algorithm::from_name(alg_name).ok_or_else(|| {
            Error::invalid_key(format!(
                "key {kid}: algorithm is not supported (HS256, EdDSA or A256GCM)"
            ))
        })?;
        let want_use = if alg.is_signature() { "sig" } else { "enc" };
        if let Some(use_) = self.use_.as_deref()
            && use_ != want_use
        {
            return Err(Error::invalid_key(format!(
                "key {kid}: \"use\" must be \"{want_use}\" for an {alg} key"
            )));
        }
        match (alg, self.kty.as_str()) {
            (Algorithm::Hs256 | Algorithm::A256Gcm, "oct") => {
                if self.crv.is_some() || self.x.is_some() || self.d.is_some() {
                    return Err(Error::invalid_key(format!(
                        "key {kid}: an oct key has only \"k\""
                    )));
                }
                let k = self.k.as_ref().ok_or_else(|| {
                    Error::invalid_key(format!("key {kid}: an oct key needs \"k\""))
                })?;
                let k = b64(kid.as_str(), "k", k)?;
                if alg == Algorithm::Hs256 {
                    Key::hs256(kid.clone(), &k)
                } else {
                    Key::a256gcm(kid.clone(), &k)
                }
            }
            (Algorithm::EdDsa, "OKP") => {
                if self.crv.as_deref() != Some("Ed25519") {
                    return Err(Error::invalid_key(format!(
                        "key {kid}: an OKP key must have \"crv\": \"Ed25519\""
                    )));
                }
                if self.k.is_some() {
                    return Err(Error::invalid_key(format!(
                        "key {kid}: an OKP key has no \"k\""
                    )));
                }
                let x = self.x.as_ref().ok_or_else(|| {
                    Error::invalid_key(format!("key {kid}: an OKP key needs \"x\""))
                })?;
                let x = b64(kid.as_str(), "x", x)?;
                match &self.d {
                    Some(d) => Key::ed25519(kid.clone(), &b64(kid.as_str(), "d", d)?, Some(&x)),
                    None => Key::ed25519_public(kid.clone(), &x),
                }
            }
            _ => Err(Error::invalid_key(format!(
                "key {kid}: \"kty\" does not fit \"alg\" (HS256 and A256GCM need oct, EdDSA needs OKP)"
            ))),
        }
    }
}

impl<'a> JwkOut<'a> {
    /// The full JWK, secrets included; `None` when `public_only` and the key has no public form.
    pub(crate) fn from_key(key: &'a Key, public_only: bool) -> Option<JwkOut<'a>> {
        let kid = key.kid().as_str();
        match key.material() {
            Material::Hs256 { secret, .. } => (!public_only).then(|| JwkOut {
                kty: "oct",
                crv: None,
                kid,
                use_: "sig",
                alg: Algorithm::Hs256.as_str(),
                k: Some(URL_SAFE_NO_PAD.encode(secret.as_slice())),
                x: None,
                d: None,
            }),
            Material::EdDsa {
                public, private, ..
            } => Some(JwkOut {
                kty: "OKP",
                crv: Some("Ed25519"),
                kid,
                use_: "sig",
                alg: Algorithm::EdDsa.as_str(),
                k: None,
                x: Some(URL_SAFE_NO_PAD.encode(public)),
                d: if public_only {
                    None
                } else {
                    private
                        .as_ref()
                        .map(|(seed, _)| URL_SAFE_NO_PAD.encode(seed.as_ref()))
                },
            }),
            Material::A256Gcm { secret, .. } => (!public_only).then(|| JwkOut {
                kty: "oct",
                crv: None,
                kid,
                use_: "enc",
                alg: Algorithm::A256Gcm.as_str(),
                k: Some(URL_SAFE_NO_PAD.encode(secret.as_ref())),
                x: None,
                d: None,
            }),
        }
    }
}
