//! Sprig's `derivePassword`: the Master Password algorithm (v3) as Sprig
//! implements it. scrypt(password, seed + len(user) + user; N=32768, r=8,
//! p=2, 64 bytes) keys an HMAC-SHA256 over seed + len(site) + site +
//! counter; the digest picks a template and then each character.

use hmac::{KeyInit as _, Mac as _};
use sha2::Sha256;

use super::{Reg, err, s, sarg, to_i64};
use gotmpl::Value;

const SEED: &[u8] = b"com.lyndir.masterpassword";

fn templates(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "maximum" => &["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
        "long" => &[
            "CvcvnoCvcvCvcv",
            "CvcvCvcvnoCvcv",
            "CvcvCvcvCvcvno",
            "CvccnoCvcvCvcv",
            "CvccCvcvnoCvcv",
            "CvccCvcvCvcvno",
            "CvcvnoCvccCvcv",
            "CvcvCvccnoCvcv",
            "CvcvCvccCvcvno",
            "CvcvnoCvcvCvcc",
            "CvcvCvcvnoCvcc",
            "CvcvCvcvCvccno",
            "CvccnoCvccCvcv",
            "CvccCvccnoCvcv",
            "CvccCvccCvcvno",
            "CvcvnoCvccCvcc",
            "CvcvCvccnoCvcc",
            "CvcvCvccCvccno",
            "CvccnoCvcvCvcc",
            "CvccCvcvnoCvcc",
            "CvccCvcvCvccno",
        ],
        "medium" => &["CvcnoCvc", "CvcCvcno"],
        "short" => &["Cvcn"],
        "basic" => &["aaanaaan", "aannaaan", "aaannaaa"],
        "pin" => &["nnnn"],
        _ => return None,
    })
}

fn characters(class: u8) -> &'static [u8] {
    match class {
        b'V' => b"AEIOU",
        b'C' => b"BCDFGHJKLMNPQRSTVWXYZ",
        b'v' => b"aeiou",
        b'c' => b"bcdfghjklmnpqrstvwxyz",
        b'A' => b"AEIOUBCDFGHJKLMNPQRSTVWXYZ",
        b'a' => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
        b'n' => b"0123456789",
        b'o' => b"@&%?,=[]_:-+*$#!'^~;()/.",
        _ => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
    }
}

fn scoped(name: &str) -> Vec<u8> {
    let mut out = SEED.to_vec();
    out.extend((name.len() as u32).to_be_bytes());
    out.extend(name.as_bytes());
    out
}

/// The password, or Sprig's message (returned as the result, not an error)
/// for an unknown template.
pub fn derive(counter: u32, kind: &str, password: &str, user: &str, site: &str) -> String {
    let Some(templates) = templates(kind) else {
        return format!("cannot find password template {kind}");
    };
    let mut key = [0u8; 64];
    let derived = scrypt::Params::new(15, 8, 2)
        .map_err(|e| e.to_string())
        .and_then(|p| {
            scrypt::scrypt(password.as_bytes(), &scoped(user), &p, &mut key)
                .map_err(|e| e.to_string())
        });
    if let Err(e) = derived {
        return format!("failed to derive password: {e}");
    }
    let Ok(mut mac) = hmac::Hmac::<Sha256>::new_from_slice(&key) else {
        return "failed to derive password: bad HMAC key".into();
    };
    let mut message = scoped(site);
    message.extend(counter.to_be_bytes());
    mac.update(&message);
    let seed = mac.finalize().into_bytes();
    let template = templates[usize::from(seed[0]) % templates.len()].as_bytes();
    template
        .iter()
        .enumerate()
        .map(|(i, class)| {
            let chars = characters(*class);
            char::from(chars[usize::from(seed[i + 1]) % chars.len()])
        })
        .collect()
}

pub fn register(r: &mut Reg) {
    // Go converts the counter to uint32: template ints fit or fail, floats
    // (numbers from values) are the wrong type.
    r.f("derivePassword", |a| {
        let counter = match a.first() {
            Some(v @ (Value::Int(_) | Value::Uint(_))) => {
                u32::try_from(to_i64(v)).map_err(|_| {
                    err(format!(
                        "derivePassword counter {} does not fit uint32",
                        to_i64(v)
                    ))
                })?
            }
            Some(other) => {
                return Err(err(format!(
                    "wrong type for value; expected uint32; got {}",
                    super::type_of(other)
                )));
            }
            None => return Err(err("derivePassword needs a counter")),
        };
        Ok(s(derive(
            counter,
            &sarg(a, 1),
            &sarg(a, 2),
            &sarg(a, 3),
            &sarg(a, 4),
        )))
    });
}
