//! Sprig's `encryptAES` and `decryptAES`: AES-256-CBC with the password's
//! bytes as the key (zero-padded or cut to 32), a random IV in front of the
//! ciphertext, PKCS#7 padding, standard base64. Interoperable with helm both
//! ways; like Sprig, decryption checks neither padding nor integrity.

use aes::Aes256;
use base64::Engine as _;
use cbc::cipher::block_padding::{NoPadding, Pkcs7};
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};

use super::{Reg, err, s, sarg};

const BLOCK: usize = 16;

fn key(password: &str) -> [u8; 32] {
    let mut key = [0u8; 32];
    let bytes = password.as_bytes();
    let n = bytes.len().min(32);
    key[..n].copy_from_slice(&bytes[..n]);
    key
}

pub fn encrypt(password: &str, plaintext: &str) -> Result<String, String> {
    if plaintext.is_empty() {
        return Ok(String::new());
    }
    let mut iv = [0u8; BLOCK];
    getrandom::fill(&mut iv).map_err(|e| format!("reading random IV: {e}"))?;
    let sealed = cbc::Encryptor::<Aes256>::new(&key(password).into(), &iv.into())
        .encrypt_padded_vec::<Pkcs7>(plaintext.as_bytes());
    let mut out = iv.to_vec();
    out.extend(sealed);
    Ok(base64::engine::general_purpose::STANDARD.encode(out))
}

/// Where Go panics (short or ragged input, a pad count past the start)
/// this is an error; bytes that are not UTF-8 are replaced.
pub fn decrypt(password: &str, encoded: &str) -> Result<String, String> {
    if encoded.is_empty() {
        return Ok(String::new());
    }
    let data = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| format!("illegal base64 data: {e}"))?;
    if data.len() < 2 * BLOCK || data.len() % BLOCK != 0 {
        return Err(format!(
            "ciphertext of {} bytes is not an IV and whole AES blocks",
            data.len()
        ));
    }
    let (iv, body) = data.split_at(BLOCK);
    let iv: [u8; BLOCK] = iv.try_into().map_err(|_| "short IV".to_string())?;
    let plain = cbc::Decryptor::<Aes256>::new(&key(password).into(), &iv.into())
        .decrypt_padded_vec::<NoPadding>(body)
        .map_err(|e| format!("decrypting: {e}"))?;
    let pad = usize::from(*plain.last().unwrap_or(&0));
    let keep = plain.len().checked_sub(pad).ok_or_else(|| {
        format!(
            "padding count {pad} exceeds the {} decrypted bytes",
            plain.len()
        )
    })?;
    Ok(String::from_utf8_lossy(&plain[..keep]).into_owned())
}

pub fn register(r: &mut Reg) {
    r.f("encryptAES", |a| {
        encrypt(&sarg(a, 0), &sarg(a, 1)).map(s).map_err(err)
    });
    r.f("decryptAES", |a| {
        decrypt(&sarg(a, 0), &sarg(a, 1)).map(s).map_err(err)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_ragged_input() {
        let sealed = encrypt("secretkey", "plaintext").unwrap();
        // IV plus one padded block, base64.
        assert_eq!(sealed.len(), 44);
        assert_eq!(decrypt("secretkey", &sealed).unwrap(), "plaintext");
        let long_key = "k".repeat(40);
        let sealed = encrypt(&long_key, "x").unwrap();
        assert_eq!(decrypt(&long_key[..32], &sealed).unwrap(), "x");
        assert_eq!(encrypt("k", "").unwrap(), "");
        assert_eq!(decrypt("k", "").unwrap(), "");
        assert!(decrypt("k", "AAAA").is_err());
        assert!(decrypt("k", "not base64!").is_err());
    }
}
