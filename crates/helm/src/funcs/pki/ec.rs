//! ECDSA keys on the NIST curves Go reads and signs with (P-256, P-384,
//! P-521; Sprig generates P-256), written as Go's `MarshalECPrivateKey`
//! writes them and signing with the hash Go pairs with each curve.

use rsa::pkcs8::DecodePrivateKey as _;
use rsa::signature::Signer as _;

use super::der::{self, seq};

pub enum EcKey {
    P256(p256::SecretKey),
    P384(p384::SecretKey),
    P521(p521::SecretKey),
}

const PRIME256V1: &[u64] = &[1, 2, 840, 10045, 3, 1, 7];
const SECP384R1: &[u64] = &[1, 3, 132, 0, 34];
const SECP521R1: &[u64] = &[1, 3, 132, 0, 35];
const ECDSA_WITH_SHA256: &[u64] = &[1, 2, 840, 10045, 4, 3, 2];
const ECDSA_WITH_SHA384: &[u64] = &[1, 2, 840, 10045, 4, 3, 3];
const ECDSA_WITH_SHA512: &[u64] = &[1, 2, 840, 10045, 4, 3, 4];

/// Curve keys read back: the curves the crates support, in turn.
fn first_of<T>(tries: [Option<T>; 3], what: &str) -> Result<T, String> {
    tries
        .into_iter()
        .flatten()
        .next()
        .ok_or_else(|| format!("{what} (skiff reads keys on P-256, P-384 and P-521)"))
}

impl EcKey {
    /// A fresh P-256 key, as Sprig's `genPrivateKey "ecdsa"` makes.
    pub fn generate_p256() -> Result<EcKey, String> {
        // A random scalar is a valid key unless it is zero or not below the
        // group order, which a fresh draw all but never hits.
        for _ in 0..16 {
            let mut b = [0u8; 32];
            getrandom::fill(&mut b).map_err(|e| format!("reading random bytes: {e}"))?;
            if let Ok(k) = p256::SecretKey::from_slice(&b) {
                return Ok(EcKey::P256(k));
            }
        }
        Err("no valid P-256 scalar drawn".into())
    }

    pub fn from_sec1_der(bytes: &[u8]) -> Result<EcKey, String> {
        first_of(
            [
                p256::SecretKey::from_sec1_der(bytes).ok().map(EcKey::P256),
                p384::SecretKey::from_sec1_der(bytes).ok().map(EcKey::P384),
                p521::SecretKey::from_sec1_der(bytes).ok().map(EcKey::P521),
            ],
            "x509: failed to parse EC private key",
        )
    }

    pub fn from_pkcs8_der(bytes: &[u8]) -> Result<EcKey, String> {
        first_of(
            [
                p256::SecretKey::from_pkcs8_der(bytes).ok().map(EcKey::P256),
                p384::SecretKey::from_pkcs8_der(bytes).ok().map(EcKey::P384),
                p521::SecretKey::from_pkcs8_der(bytes).ok().map(EcKey::P521),
            ],
            "x509: failed to parse EC private key embedded in PKCS#8",
        )
    }

    fn curve(&self) -> &'static [u64] {
        match self {
            EcKey::P256(_) => PRIME256V1,
            EcKey::P384(_) => SECP384R1,
            EcKey::P521(_) => SECP521R1,
        }
    }

    /// The uncompressed public point.
    pub fn public_point(&self) -> Vec<u8> {
        match self {
            EcKey::P256(k) => k.public_key().to_sec1_bytes().to_vec(),
            EcKey::P384(k) => k.public_key().to_sec1_bytes().to_vec(),
            EcKey::P521(k) => k.public_key().to_sec1_bytes().to_vec(),
        }
    }

    fn scalar(&self) -> Vec<u8> {
        match self {
            EcKey::P256(k) => k.to_bytes().to_vec(),
            EcKey::P384(k) => k.to_bytes().to_vec(),
            EcKey::P521(k) => k.to_bytes().to_vec(),
        }
    }

    /// Go's `MarshalECPrivateKey`: version 1, the scalar padded to the
    /// curve's size, the curve, the public point.
    pub fn sec1_der(&self) -> Vec<u8> {
        seq(&[
            &der::uint(&[1]),
            &der::tlv(der::OCTET_STRING, &self.scalar()),
            &der::tlv(0xa0, &der::oid(self.curve())),
            &der::tlv(0xa1, &der::bits(&self.public_point())),
        ])
    }

    /// The SubjectPublicKeyInfo algorithm: id-ecPublicKey and the curve.
    pub fn public_key_algorithm(&self) -> Vec<u8> {
        seq(&[
            &der::oid(&[1, 2, 840, 10045, 2, 1]),
            &der::oid(self.curve()),
        ])
    }

    /// The signature algorithm Go picks for the curve.
    pub fn signature_algorithm(&self) -> Vec<u8> {
        let oid = match self {
            EcKey::P256(_) => ECDSA_WITH_SHA256,
            EcKey::P384(_) => ECDSA_WITH_SHA384,
            EcKey::P521(_) => ECDSA_WITH_SHA512,
        };
        seq(&[&der::oid(oid)])
    }

    /// A DER-encoded ECDSA signature over `message`.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        let e = |e: rsa::signature::Error| e.to_string();
        Ok(match self {
            EcKey::P256(k) => {
                let sig: p256::ecdsa::Signature = p256::ecdsa::SigningKey::from(k)
                    .try_sign(message)
                    .map_err(e)?;
                sig.to_der().as_bytes().to_vec()
            }
            EcKey::P384(k) => {
                let sig: p384::ecdsa::Signature = p384::ecdsa::SigningKey::from(k)
                    .try_sign(message)
                    .map_err(e)?;
                sig.to_der().as_bytes().to_vec()
            }
            EcKey::P521(k) => {
                let signer = p521::ecdsa::SigningKey::from_slice(&k.to_bytes()).map_err(e)?;
                let sig: p521::ecdsa::Signature = signer.try_sign(message).map_err(e)?;
                sig.to_der().as_bytes().to_vec()
            }
        })
    }
}
