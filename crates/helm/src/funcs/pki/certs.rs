//! Sprig's certificate functions over Go's `x509.CreateCertificate`: the same
//! fields, extensions (and their order), encodings and key ids, so charts see
//! the certificates helm would make (save the random key, serial and time).

use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest as _, Sha256};
use x509_cert::der::{Decode as _, Encode as _};

use super::der::{self, seq};
use super::keys::Key;

const COMMON_NAME: &[u64] = &[2, 5, 4, 3];
const KEY_USAGE: &[u64] = &[2, 5, 29, 15];
const EXT_KEY_USAGE: &[u64] = &[2, 5, 29, 37];
const BASIC_CONSTRAINTS: &[u64] = &[2, 5, 29, 19];
const SUBJECT_KEY_ID: &[u64] = &[2, 5, 29, 14];
const AUTHORITY_KEY_ID: &[u64] = &[2, 5, 29, 35];
const SUBJECT_ALT_NAME: &[u64] = &[2, 5, 29, 17];
const SERVER_AUTH: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 3, 1];
const CLIENT_AUTH: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 3, 2];

/// What Sprig's `getBaseCertTemplate` fills in (plus the CA switch).
pub struct Request {
    pub common_name: String,
    /// Addresses as Go stores them: 4 bytes for IPv4 (and IPv4-mapped), else 16.
    pub ips: Vec<Vec<u8>>,
    pub dns_names: Vec<String>,
    pub days_valid: i64,
    pub is_ca: bool,
}

/// The issuing certificate, as read from its PEM.
pub struct Issuer {
    subject: Vec<u8>,
    public_key_info: Vec<u8>,
    key_id: Option<Vec<u8>>,
}

/// Go's `net.ParseIP`, stored the way the certificate carries it.
pub fn parse_ip(text: &str) -> Option<Vec<u8>> {
    match text.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(v4) => Some(v4.octets().to_vec()),
        std::net::IpAddr::V6(v6) => Some(match v6.to_ipv4_mapped() {
            Some(v4) => v4.octets().to_vec(),
            None => v6.octets().to_vec(),
        }),
    }
}

/// A name holding just a common name (or nothing), its string typed as Go's
/// asn1 picks: PrintableString when it can, else UTF8String.
fn name(common_name: &str) -> Vec<u8> {
    if common_name.is_empty() {
        return seq(&[]);
    }
    let printable = common_name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b));
    let tag = if printable {
        der::PRINTABLE_STRING
    } else {
        der::UTF8_STRING
    };
    let attribute = seq(&[
        &der::oid(COMMON_NAME),
        &der::tlv(tag, common_name.as_bytes()),
    ]);
    seq(&[&der::tlv(der::SET, &attribute)])
}

/// UTCTime from 1950 to 2049, GeneralizedTime outside, as Go encodes them.
fn time(unix_secs: i64) -> Vec<u8> {
    let nanos = i128::from(unix_secs) * 1_000_000_000;
    let year: i64 = crate::funcs::dates::format("2006", nanos)
        .parse()
        .unwrap_or(0);
    if (1950..2050).contains(&year) {
        der::tlv(
            der::UTC_TIME,
            crate::funcs::dates::format("060102150405Z", nanos).as_bytes(),
        )
    } else {
        der::tlv(
            der::GENERALIZED_TIME,
            crate::funcs::dates::format("20060102150405Z", nanos).as_bytes(),
        )
    }
}

fn extension(id: &[u64], critical: bool, value: &[u8]) -> Vec<u8> {
    let flag = der::tlv(der::BOOLEAN, &[0xff]);
    let octets = der::tlv(der::OCTET_STRING, value);
    if critical {
        seq(&[&der::oid(id), &flag, &octets])
    } else {
        seq(&[&der::oid(id), &octets])
    }
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Reads the issuing certificate: Sprig's checks and messages.
pub fn issuer(cert_pem: &str) -> Result<Issuer, String> {
    let (_, bytes) = der::pem_decode(cert_pem).ok_or("unable to decode certificate")?;
    let cert = x509_cert::Certificate::from_der(&bytes).map_err(|e| {
        format!(
            "error parsing certificate: decodedSignerCert.Bytes: x509: malformed certificate: {e}"
        )
    })?;
    let tbs = cert.tbs_certificate();
    let encode = |r: x509_cert::der::Result<Vec<u8>>| {
        r.map_err(|e| format!("error parsing certificate: decodedSignerCert.Bytes: {e}"))
    };
    let key_id = tbs.extensions().and_then(|exts| {
        exts.iter()
            .find(|e| e.extn_id.to_string() == "2.5.29.14")
            .and_then(|e| {
                der::read(e.extn_value.as_bytes())
                    .filter(|(tag, _, _)| *tag == der::OCTET_STRING)
                    .map(|(_, id, _)| id.to_vec())
            })
    });
    Ok(Issuer {
        subject: encode(tbs.subject().to_der())?,
        public_key_info: encode(tbs.subject_public_key_info().to_der())?,
        key_id: key_id.filter(|k| !k.is_empty()),
    })
}

/// Whether a certificate PEM parses (for `buildCustomCert`).
pub fn check_certificate(der_bytes: &[u8]) -> Result<(), String> {
    x509_cert::Certificate::from_der(der_bytes)
        .map(|_| ())
        .map_err(|e| format!("x509: malformed certificate: {e}"))
}

/// Go's `CreateCertificate` for Sprig's template: the certificate's PEM.
/// `issuer` is `None` for a self-signed certificate (signed by `subject_key`).
pub fn create(
    req: &Request,
    subject_key: &Key,
    issuer: Option<(&Issuer, &Key)>,
) -> Result<String, String> {
    let signer = issuer.map_or(subject_key, |(_, k)| k);
    let algorithm = signer.signature_algorithm()?;
    let (public_bits, public_key_info) = subject_key.public_key_info()?;
    let subject = name(&req.common_name);
    let issuer_name = issuer.map_or(subject.clone(), |(i, _)| i.subject.clone());
    let authority_key_id = match issuer {
        Some((i, _)) if issuer_name != subject => i.key_id.clone(),
        _ => None,
    };
    if let Some((i, k)) = issuer
        && k.public_key_info()?.1 != i.public_key_info
    {
        return Err("x509: provided PrivateKey doesn't match parent's PublicKey".into());
    }

    let mut extensions = Vec::new();
    // digitalSignature | keyEncipherment (| keyCertSign), Go's minimal bits.
    let key_usage: &[u8] = if req.is_ca {
        &[0x03, 0x02, 0x02, 0xa4]
    } else {
        &[0x03, 0x02, 0x05, 0xa0]
    };
    extensions.push(extension(KEY_USAGE, true, key_usage));
    extensions.push(extension(
        EXT_KEY_USAGE,
        false,
        &seq(&[&der::oid(SERVER_AUTH), &der::oid(CLIENT_AUTH)]),
    ));
    let basic = if req.is_ca {
        seq(&[&der::tlv(der::BOOLEAN, &[0xff])])
    } else {
        seq(&[])
    };
    extensions.push(extension(BASIC_CONSTRAINTS, true, &basic));
    if req.is_ca {
        // RFC 7093 method 1, Go's default since 1.25.
        let id = &Sha256::digest(&public_bits)[..20];
        extensions.push(extension(
            SUBJECT_KEY_ID,
            false,
            &der::tlv(der::OCTET_STRING, id),
        ));
    }
    if let Some(id) = &authority_key_id {
        extensions.push(extension(
            AUTHORITY_KEY_ID,
            false,
            &seq(&[&der::tlv(0x80, id)]),
        ));
    }
    if !req.dns_names.is_empty() || !req.ips.is_empty() {
        let mut names = Vec::new();
        for dns in &req.dns_names {
            if !dns.is_ascii() {
                return Err(format!("x509: {dns:?} cannot be encoded as an IA5String"));
            }
            names.push(der::tlv(0x82, dns.as_bytes()));
        }
        for ip in &req.ips {
            names.push(der::tlv(0x87, ip));
        }
        let refs: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
        // Critical when the subject is empty (RFC 5280), as Go marks it.
        extensions.push(extension(
            SUBJECT_ALT_NAME,
            req.common_name.is_empty(),
            &seq(&refs),
        ));
    }

    let serial: [u8; 16] = {
        let mut b = [0u8; 16];
        getrandom::fill(&mut b).map_err(|e| format!("reading random serial: {e}"))?;
        b
    };
    let not_before = now_secs();
    let not_after = not_before.saturating_add(req.days_valid.saturating_mul(86_400));
    let ext_refs: Vec<&[u8]> = extensions.iter().map(Vec::as_slice).collect();
    let tbs = seq(&[
        &der::tlv(0xa0, &der::uint(&[2])),
        &der::uint(&serial),
        &algorithm,
        &issuer_name,
        &seq(&[&time(not_before), &time(not_after)]),
        &subject,
        &public_key_info,
        &der::tlv(0xa3, &seq(&ext_refs)),
    ]);
    let signature = signer.sign(&tbs)?;
    let cert = seq(&[&tbs, &algorithm, &der::bits(&signature)]);
    Ok(der::pem("CERTIFICATE", &cert))
}
