//! Sprig's key and certificate functions: `genPrivateKey`, `genCA`,
//! `genSelfSignedCert`, `genSignedCert` (each also `...WithKey`),
//! `buildCustomCert`. Certificates come back as `.Cert` and `.Key` PEMs.

mod certs;
mod der;
mod ec;
mod keys;

use std::sync::Arc;

use base64::Engine as _;
use gotmpl::{TemplateError, Value};

use super::{R, Reg, err, s, type_of};
use crate::coalesce::Table;
use certs::Request;
use keys::Key;

fn pair(cert: String, key: &Key) -> R {
    Ok(certificate(cert, key.to_pem().map_err(err)?))
}

/// Sprig's `certificate` struct: `.Cert` and `.Key`, printing as Go prints
/// the struct (`{CERT KEY}`), which also marks it as one.
fn certificate(cert: String, key: String) -> Value {
    let mut t = Table::new();
    t.insert(
        crate::gofmt::STRING_KEY.into(),
        s(format!("{{{cert} {key}}}")),
    );
    t.insert("Cert".into(), s(cert));
    t.insert("Key".into(), s(key));
    Value::Map(Arc::new(t))
}

/// Go's check of a call's argument count.
fn arity(name: &str, args: &[Value], want: usize) -> Result<(), TemplateError> {
    if args.len() == want {
        Ok(())
    } else {
        Err(err(format!(
            "wrong number of args for {name}: want {want} got {}",
            args.len()
        )))
    }
}

fn wrong_type(expected: &str, v: &Value) -> TemplateError {
    err(format!(
        "wrong type for value; expected {expected}; got {}",
        type_of(v)
    ))
}

fn string(v: &Value) -> Result<String, TemplateError> {
    match v {
        Value::String(t) => Ok(t.to_string()),
        other => Err(wrong_type("string", other)),
    }
}

fn int(v: &Value) -> Result<i64, TemplateError> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Uint(u) => i64::try_from(*u).map_err(|_| wrong_type("int", v)),
        other => Err(wrong_type("int", other)),
    }
}

fn list(v: &Value) -> Result<Vec<Value>, TemplateError> {
    match v {
        Value::Nil => Ok(Vec::new()),
        Value::List(l) => Ok(l.to_vec()),
        other => Err(wrong_type("[]interface {}", other)),
    }
}

/// Sprig's `getNetIPs` and `getAlternateDNSStrs`, with their messages.
fn request(
    cn: &Value,
    ips: &Value,
    dns: &Value,
    days: &Value,
    is_ca: bool,
) -> Result<Request, TemplateError> {
    let mut ip_bytes = Vec::new();
    for ip in list(ips)? {
        let Value::String(text) = &ip else {
            return Err(err(format!(
                "error parsing ip: {} is not a string",
                crate::gofmt::sprint(&ip)
            )));
        };
        ip_bytes
            .push(certs::parse_ip(text).ok_or_else(|| err(format!("error parsing ip: {text}")))?);
    }
    let mut dns_names = Vec::new();
    for name in list(dns)? {
        let Value::String(text) = &name else {
            return Err(err(format!(
                "error processing alternate dns name: {} is not a string",
                crate::gofmt::sprint(&name)
            )));
        };
        dns_names.push(text.to_string());
    }
    Ok(Request {
        common_name: string(cn)?,
        ips: ip_bytes,
        dns_names,
        days_valid: int(days)?,
        is_ca,
    })
}

/// Whether `v` is a certificate from `genCA`, `buildCustomCert`, ...
pub fn is_certificate(v: &Value) -> bool {
    certificate_parts(v).is_some()
}

/// A certificate's `Cert` and `Key`; Go's functions take no other map, a
/// dict of the same fields included.
fn certificate_parts(v: &Value) -> Option<(String, String)> {
    let Value::Map(m) = v else { return None };
    let (Some(Value::String(cert)), Some(Value::String(key))) = (m.get("Cert"), m.get("Key"))
    else {
        return None;
    };
    let printed = m.get(crate::gofmt::STRING_KEY).map(super::strval)?;
    (printed == format!("{{{cert} {key}}}")).then(|| (cert.to_string(), key.to_string()))
}

/// The CA argument of `genSignedCert`.
fn ca_parts(v: &Value) -> Result<(String, String), TemplateError> {
    certificate_parts(v).ok_or_else(|| wrong_type("sprig.certificate", v))
}

fn rsa_2048() -> Result<Key, TemplateError> {
    keys::rsa(2048).map_err(|e| err(format!("error generating rsa key: {e}")))
}

fn with_key(pem: &Value) -> Result<Key, TemplateError> {
    keys::parse_pem(&string(pem)?).map_err(|e| err(format!("parsing private key: {e}")))
}

fn ca(cn: &Value, days: &Value, key: Key) -> R {
    let req = request(cn, &Value::Nil, &Value::Nil, days, true)?;
    let cert = certs::create(&req, &key, None)
        .map_err(|e| err(format!("error creating certificate: {e}")))?;
    pair(cert, &key)
}

fn self_signed(a: &[Value], key: Key) -> R {
    let req = request(&a[0], &a[1], &a[2], &a[3], false)?;
    let cert = certs::create(&req, &key, None)
        .map_err(|e| err(format!("error creating certificate: {e}")))?;
    pair(cert, &key)
}

fn signed(a: &[Value], key: Key) -> R {
    let (ca_cert, ca_key) = ca_parts(&a[4])?;
    let issuer = certs::issuer(&ca_cert).map_err(err)?;
    let signer =
        keys::parse_pem(&ca_key).map_err(|e| err(format!("error parsing private key: {e}")))?;
    let req = request(&a[0], &a[1], &a[2], &a[3], false)?;
    let cert = certs::create(&req, &key, Some((&issuer, &signer)))
        .map_err(|e| err(format!("error creating certificate: {e}")))?;
    pair(cert, &key)
}

/// Sprig's `buildCustomCertificate`: base64 PEMs in, checked, given back.
fn build_custom(a: &[Value]) -> R {
    let b64 = base64::engine::general_purpose::STANDARD;
    let cert = b64
        .decode(string(&a[0])?)
        .map_err(|_| err("unable to decode base64 certificate"))?;
    let key = b64
        .decode(string(&a[1])?)
        .map_err(|_| err("unable to decode base64 private key"))?;
    let cert = String::from_utf8_lossy(&cert).into_owned();
    let key = String::from_utf8_lossy(&key).into_owned();
    let (_, der_bytes) =
        der::pem_decode(&cert).ok_or_else(|| err("unable to decode certificate"))?;
    certs::check_certificate(&der_bytes)
        .map_err(|e| err(format!("error parsing certificate: decodedCert.Bytes: {e}")))?;
    keys::parse_pem(&key).map_err(|e| err(format!("error parsing private key: {e}")))?;
    Ok(certificate(cert, key))
}

pub fn register(r: &mut Reg) {
    r.f("genPrivateKey", |a| {
        arity("genPrivateKey", a, 1)?;
        keys::generate(&string(&a[0])?).map(s).map_err(err)
    });
    r.f("genCA", |a| {
        arity("genCA", a, 2)?;
        ca(&a[0], &a[1], rsa_2048()?)
    });
    r.f("genCAWithKey", |a| {
        arity("genCAWithKey", a, 3)?;
        ca(&a[0], &a[1], with_key(&a[2])?)
    });
    r.f("genSelfSignedCert", |a| {
        arity("genSelfSignedCert", a, 4)?;
        self_signed(a, rsa_2048()?)
    });
    r.f("genSelfSignedCertWithKey", |a| {
        arity("genSelfSignedCertWithKey", a, 5)?;
        self_signed(a, with_key(&a[4])?)
    });
    r.f("genSignedCert", |a| {
        arity("genSignedCert", a, 5)?;
        signed(a, rsa_2048()?)
    });
    r.f("genSignedCertWithKey", |a| {
        arity("genSignedCertWithKey", a, 6)?;
        signed(a, with_key(&a[5])?)
    });
    r.f("buildCustomCert", |a| {
        arity("buildCustomCert", a, 2)?;
        build_custom(a)
    });
}
