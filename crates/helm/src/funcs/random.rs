//! Sprig's random functions. Their output differs on every run (in Helm too),
//! so tests mask it; the generator only needs to be unpredictable enough for
//! generated names and throwaway passwords.

use std::cell::Cell;
use std::hash::{BuildHasher, Hasher};

use super::{Reg, arg, s, to_i64};
use gotmpl::Value;

thread_local! {
    static STATE: Cell<u64> = Cell::new({
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(7));
        h.finish() | 1
    });
}

fn next() -> u64 {
    STATE.with(|st| {
        let mut x = st.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        st.set(x);
        x
    })
}

fn pick(alphabet: &[u8], n: i64) -> String {
    (0..n.clamp(0, 1 << 16))
        .map(|_| alphabet[(next() % alphabet.len() as u64) as usize] as char)
        .collect()
}

const ALPHA: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const NUM: &[u8] = b"0123456789";
const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

pub fn register(r: &mut Reg) {
    r.f("randAlphaNum", |a| Ok(s(pick(ALNUM, to_i64(&arg(a, 0))))));
    r.f("randAlpha", |a| Ok(s(pick(ALPHA, to_i64(&arg(a, 0))))));
    r.f("randNumeric", |a| Ok(s(pick(NUM, to_i64(&arg(a, 0))))));
    r.f("randAscii", |a| {
        let printable: Vec<u8> = (32u8..127).collect();
        Ok(s(pick(&printable, to_i64(&arg(a, 0)))))
    });
    r.f("randInt", |a| {
        let (lo, hi) = (to_i64(&arg(a, 0)), to_i64(&arg(a, 1)));
        if hi <= lo {
            return Ok(Value::Int(lo));
        }
        Ok(Value::Int(lo + (next() % (hi - lo) as u64) as i64))
    });
    r.f("shuffle", |a| {
        let mut c: Vec<char> = super::sarg(a, 0).chars().collect();
        for i in (1..c.len()).rev() {
            c.swap(i, (next() % (i as u64 + 1)) as usize);
        }
        Ok(s(c.into_iter().collect::<String>()))
    });
    r.f("uuidv4", |_| {
        let (a, b) = (next(), next());
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&a.to_be_bytes());
        bytes[8..].copy_from_slice(&b.to_be_bytes());
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let h: String = bytes.iter().map(|x| format!("{x:02x}")).collect();
        Ok(s(format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )))
    });
}
