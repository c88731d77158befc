//! Private keys as Sprig makes, prints and reads them: RSA (PKCS#1), ECDSA
//! (SEC 1), Ed25519 (PKCS#8) and DSA (OpenSSL's sequence). DSA keys
//! can be generated and read, but, as in Go, cannot sign or be certified.

use getrandom::SysRng;
use rsa::pkcs1::{DecodeRsaPrivateKey as _, EncodeRsaPrivateKey as _, EncodeRsaPublicKey as _};
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::signature::{SignatureEncoding as _, Signer as _};

use super::der::{self, seq};
use super::ec::EcKey;

pub enum Key {
    Rsa(Box<rsa::PrivateKey>),
    Ecdsa(EcKey),
    Ed25519(ed25519_dalek::SigningKey),
    /// The key's DER (version, p, q, g, y, x), kept as read or made.
    Dsa(Vec<u8>),
}

const RSA_ENCRYPTION: &[u64] = &[1, 2, 840, 113549, 1, 1, 1];
const SHA256_WITH_RSA: &[u64] = &[1, 2, 840, 113549, 1, 1, 11];
const EC_PUBLIC_KEY: &[u64] = &[1, 2, 840, 10045, 2, 1];
const ED25519: &[u64] = &[1, 3, 101, 112];

fn random_bytes<const N: usize>() -> Result<[u8; N], String> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| format!("reading random bytes: {e}"))?;
    Ok(b)
}

pub fn rsa(bits: usize) -> Result<Key, String> {
    rsa::PrivateKey::new(&mut SysRng, bits)
        .map(|k| Key::Rsa(Box::new(k)))
        .map_err(|e| e.to_string())
}

fn ecdsa() -> Result<Key, String> {
    EcKey::generate_p256().map(Key::Ecdsa)
}

fn ed25519() -> Result<Key, String> {
    Ok(Key::Ed25519(ed25519_dalek::SigningKey::from_bytes(
        &random_bytes::<32>()?,
    )))
}

/// DSA with L=2048, N=256 parameters, as Sprig asks Go for.
fn dsa() -> Result<Key, String> {
    let components = dsa::Components::try_generate_from_rng_with_key_size(
        &mut SysRng,
        dsa::KeySize::DSA_2048_256,
    )
    .map_err(|e| format!("failed to generate dsa params: {e}"))?;
    let key = dsa::SigningKey::try_generate_from_rng_with_components(&mut SysRng, components)
        .map_err(|e| e.to_string())?;
    let public = key.verifying_key();
    let c = public.components();
    let der = seq(&[
        &der::uint(&[0]),
        &der::uint(&c.p().to_be_bytes()),
        &der::uint(&c.q().to_be_bytes()),
        &der::uint(&c.g().to_be_bytes()),
        &der::uint(&public.y().to_be_bytes()),
        &der::uint(&key.x().to_be_bytes()),
    ]);
    Ok(Key::Dsa(der))
}

/// Sprig's `genPrivateKey`: the PEM, or its message for an unknown type
/// (returned as the result, as Sprig does).
pub fn generate(kind: &str) -> Result<String, String> {
    let key = match kind {
        "" | "rsa" => rsa(4096),
        "dsa" => dsa(),
        "ecdsa" => ecdsa(),
        "ed25519" => ed25519(),
        other => return Ok(format!("Unknown type {other}")),
    };
    match key {
        Ok(k) => k.to_pem(),
        Err(e) => Ok(format!("failed to generate private key: {e}")),
    }
}

impl Key {
    /// Sprig's `pemBlockForKey`.
    pub fn to_pem(&self) -> Result<String, String> {
        Ok(match self {
            Key::Rsa(k) => {
                let der = k.to_pkcs1_der().map_err(|e| e.to_string())?;
                der::pem("RSA PRIVATE KEY", der.as_bytes())
            }
            Key::Ecdsa(k) => der::pem("EC PRIVATE KEY", &k.sec1_der()),
            Key::Ed25519(k) => {
                // PKCS#8 v1 without the public key, as Go writes it.
                let inner = der::tlv(der::OCTET_STRING, k.as_bytes());
                let info = seq(&[
                    &der::uint(&[0]),
                    &seq(&[&der::oid(ED25519)]),
                    &der::tlv(der::OCTET_STRING, &inner),
                ]);
                der::pem("PRIVATE KEY", &info)
            }
            Key::Dsa(der) => der::pem("DSA PRIVATE KEY", der),
        })
    }

    /// The subjectPublicKey bits (what the key id hashes) and the whole
    /// SubjectPublicKeyInfo.
    pub fn public_key_info(&self) -> Result<(Vec<u8>, Vec<u8>), String> {
        let (algorithm, bits) = match self {
            Key::Rsa(k) => {
                let public = k
                    .to_public_key()
                    .to_pkcs1_der()
                    .map_err(|e| e.to_string())?;
                (
                    seq(&[&der::oid(RSA_ENCRYPTION), &der::tlv(der::NULL, &[])]),
                    public.as_bytes().to_vec(),
                )
            }
            Key::Ecdsa(k) => (k.public_key_algorithm(), k.public_point()),
            Key::Ed25519(k) => (
                seq(&[&der::oid(ED25519)]),
                k.verifying_key().as_bytes().to_vec(),
            ),
            Key::Dsa(_) => {
                return Err("x509: only RSA, ECDSA, Ed25519, and X25519 keys supported".into());
            }
        };
        let info = seq(&[&algorithm, &der::bits(&bits)]);
        Ok((bits, info))
    }

    /// The signature AlgorithmIdentifier Go picks for this key.
    pub fn signature_algorithm(&self) -> Result<Vec<u8>, String> {
        Ok(match self {
            Key::Rsa(_) => seq(&[&der::oid(SHA256_WITH_RSA), &der::tlv(der::NULL, &[])]),
            Key::Ecdsa(k) => k.signature_algorithm(),
            Key::Ed25519(_) => seq(&[&der::oid(ED25519)]),
            Key::Dsa(_) => {
                return Err(
                    "x509: certificate private key does not implement crypto.Signer".into(),
                );
            }
        })
    }

    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        Ok(match self {
            Key::Rsa(k) => {
                let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new((**k).clone());
                signer
                    .try_sign(message)
                    .map_err(|e| e.to_string())?
                    .to_vec()
            }
            Key::Ecdsa(k) => k.sign(message)?,
            Key::Ed25519(k) => k.sign(message).to_bytes().to_vec(),
            Key::Dsa(_) => {
                return Err(
                    "x509: certificate private key does not implement crypto.Signer".into(),
                );
            }
        })
    }
}

/// The algorithm OID (content bytes) inside a PKCS#8 PrivateKeyInfo.
fn pkcs8_algorithm(der_bytes: &[u8]) -> Option<Vec<u8>> {
    let (_, info, _) = der::read(der_bytes)?;
    let (_, _version, rest) = der::read(info)?;
    let (_, algorithm, _) = der::read(rest)?;
    let (tag, oid, _) = der::read(algorithm)?;
    (tag == der::OID).then(|| oid.to_vec())
}

/// An OBJECT IDENTIFIER's content as dotted arcs, as Go prints it.
fn dotted(content: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut value: u64 = 0;
    for b in content {
        value = (value << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (value / 40).min(2);
                arcs.push(first);
                arcs.push(value - first * 40);
            } else {
                arcs.push(value);
            }
            value = 0;
        }
    }
    arcs.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

fn oid_content(arcs: &[u64]) -> Vec<u8> {
    der::oid(arcs)[2..].to_vec()
}

/// Sprig's `parsePrivateKeyPEM`, with its messages.
pub fn parse_pem(text: &str) -> Result<Key, String> {
    let (kind, bytes) = der::pem_decode(text).ok_or("no PEM data in input")?;
    if kind == "PRIVATE KEY" {
        return parse_pkcs8(&bytes).map_err(|e| format!("decoding PEM as PKCS#8: {e}"));
    }
    let Some(algorithm) = kind.strip_suffix(" PRIVATE KEY") else {
        return Err(format!("no private key data in PEM block of type {kind}"));
    };
    match algorithm {
        "RSA" => rsa::PrivateKey::from_pkcs1_der(&bytes)
            .map(|k| Key::Rsa(Box::new(k)))
            .map_err(|e| format!("parsing RSA private key from PEM: {e}")),
        "EC" => EcKey::from_sec1_der(&bytes)
            .map(Key::Ecdsa)
            .map_err(|e| format!("parsing EC private key from PEM: {e}")),
        "DSA" => {
            let ok = der::read(&bytes).is_some_and(|(tag, body, _)| {
                let mut rest = body;
                let mut n = 0;
                while let Some((t, _, r)) = der::read(rest) {
                    if t != der::INTEGER {
                        return false;
                    }
                    n += 1;
                    rest = r;
                }
                tag == der::SEQUENCE && n == 6 && rest.is_empty()
            });
            if ok {
                Ok(Key::Dsa(bytes))
            } else {
                Err("parsing DSA private key from PEM: asn1: structure error".into())
            }
        }
        _ => Err(format!("invalid private key type {kind}")),
    }
}

fn parse_pkcs8(bytes: &[u8]) -> Result<Key, String> {
    let algorithm = pkcs8_algorithm(bytes).ok_or("x509: malformed PKCS#8 private key")?;
    if algorithm == oid_content(RSA_ENCRYPTION) {
        rsa::PrivateKey::from_pkcs8_der(bytes)
            .map(|k| Key::Rsa(Box::new(k)))
            .map_err(|e| format!("x509: failed to parse RSA private key embedded in PKCS#8: {e}"))
    } else if algorithm == oid_content(EC_PUBLIC_KEY) {
        EcKey::from_pkcs8_der(bytes).map(Key::Ecdsa)
    } else if algorithm == oid_content(ED25519) {
        let seed = der::read(bytes)
            .and_then(|(_, info, _)| der::read(info))
            .and_then(|(_, _, rest)| der::read(rest))
            .and_then(|(_, _, rest)| der::read(rest))
            .and_then(|(_, wrapped, _)| der::read(wrapped))
            .and_then(|(tag, seed, _)| (tag == der::OCTET_STRING).then_some(seed))
            .and_then(|seed| <[u8; 32]>::try_from(seed).ok())
            .ok_or("x509: invalid Ed25519 private key")?;
        Ok(Key::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed)))
    } else {
        Err(format!(
            "x509: PKCS#8 wrapping contained private key with unknown algorithm: {}",
            dotted(&algorithm)
        ))
    }
}
