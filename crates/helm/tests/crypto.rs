//! Sprig's key, certificate and AES functions against the reference helm.
//! Their output is random (keys, serials, IVs, times), so instead of bytes
//! these tests compare what the output holds: PEM types and DER shapes of
//! keys; the subject, issuer, extensions, validity length and algorithms of
//! certificates; that signed certificates verify against their CA (with
//! `openssl verify`); and that each side decrypts the other's AES output.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest as _, Sha256};
use x509_cert::der::{Decode as _, DecodePem as _, Encode as _};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/random-fixtures/pki")
}

type Data = BTreeMap<String, String>;

/// The fixture as helm and as skiff render it, once for all tests (RSA and
/// DSA key generation take seconds).
fn rendered() -> &'static (Data, Data) {
    static RENDERED: std::sync::OnceLock<(Data, Data)> = std::sync::OnceLock::new();
    RENDERED.get_or_init(|| {
        let started = std::time::Instant::now();
        let skiff = data(&skiff_render(&fixture()));
        eprintln!("skiff rendered the pki fixture in {:?}", started.elapsed());
        let started = std::time::Instant::now();
        let helm = data(&helm_render(&fixture()));
        eprintln!("helm rendered the pki fixture in {:?}", started.elapsed());
        (helm, skiff)
    })
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("skiff-helm-crypto-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn chart(name: &str, values: &str, template: &str) -> PathBuf {
    let dir = scratch(name).join(name);
    std::fs::create_dir_all(dir.join("templates")).expect("chart dir");
    std::fs::write(
        dir.join("Chart.yaml"),
        format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\n"),
    )
    .expect("write Chart.yaml");
    std::fs::write(dir.join("values.yaml"), values).expect("write values");
    std::fs::write(dir.join("templates/cm.yaml"), template).expect("write template");
    dir
}

fn helm_render(chart: &Path) -> String {
    let out = Command::new(skiff_testbed::bin("helm"))
        .args(["template", &chart.to_string_lossy()])
        .output()
        .expect("run helm");
    assert!(
        out.status.success(),
        "helm failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn skiff_render(chart: &Path) -> String {
    let loaded = skiff_helm::load(chart).expect("load chart");
    let caps = skiff_helm::Capabilities {
        kube_version: "v1.33.0".into(),
        api_versions: vec![],
    };
    skiff_helm::render(
        &loaded,
        &skiff_helm::strvals::empty(),
        &skiff_helm::ReleaseOptions::default(),
        &caps,
    )
    .expect("skiff renders")
    .to_helm_output(&skiff_helm::PrintOptions::default())
    .expect("print")
}

/// The `data` of the one ConfigMap a rendering holds.
fn data(rendered: &str) -> Data {
    #[derive(serde::Deserialize)]
    struct ConfigMap {
        data: BTreeMap<String, String>,
    }
    let doc = rendered
        .split("\n---")
        .find(|d| d.contains("kind: ConfigMap"))
        .expect("a ConfigMap");
    serde_saphyr::from_str::<ConfigMap>(doc.trim_start_matches("---"))
        .expect("ConfigMap YAML")
        .data
}

fn openssl(args: &[&str], input: &str) -> (bool, String) {
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl is installed");
    use std::io::Write as _;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write to openssl");
    let out = child.wait_with_output().expect("openssl runs");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// The tag tree of a DER structure, lengths and primitive values left out.
fn shape(der: &[u8]) -> String {
    let mut out = String::new();
    let mut rest = der;
    while let Some((&tag, after)) = rest.split_first() {
        let Some((&first, after)) = after.split_first() else {
            break;
        };
        let (len, body) = if first < 0x80 {
            (usize::from(first), after)
        } else {
            let n = usize::from(first & 0x7f);
            let len = after[..n]
                .iter()
                .fold(0usize, |a, b| (a << 8) | usize::from(*b));
            (len, &after[n..])
        };
        let (content, next) = body.split_at(len.min(body.len()));
        out.push_str(&format!("{tag:02x}"));
        if tag & 0x20 != 0 {
            out.push_str(&format!("[{}]", shape(content)));
        } else if tag == 0x06 || (tag == 0x02 && len == 1) {
            // OIDs and small integers (versions) are not random.
            out.push_str(&format!("={content:02x?}"));
        }
        out.push(' ');
        rest = next;
    }
    out
}

fn pem_body(pem: &str) -> (String, Vec<u8>) {
    use base64::Engine as _;
    let kind = pem
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("-----BEGIN "))
        .and_then(|l| l.strip_suffix("-----"))
        .unwrap_or_else(|| panic!("not a PEM: {pem:?}"))
        .to_string();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("PEM base64");
    (kind, der)
}

/// What a certificate says, minus what is random.
#[derive(Debug, PartialEq)]
struct Fields {
    subject: String,
    issuer: String,
    signature_algorithm: String,
    public_key: String,
    validity_days: i64,
    /// (oid, critical, value); key ids as `<key id>`.
    extensions: Vec<(String, bool, String)>,
}

struct Parsed {
    fields: Fields,
    validity_secs: i64,
    serial: Vec<u8>,
    subject_key_id: Option<Vec<u8>>,
    authority_key_id: Option<Vec<u8>>,
    public_key_bits: Vec<u8>,
}

fn parse_cert(pem: &str) -> Parsed {
    let cert = x509_cert::Certificate::from_pem(pem.as_bytes()).expect("certificate PEM");
    let tbs = cert.tbs_certificate();
    let validity = tbs.validity();
    let secs = |t: &x509_cert::time::Time| t.to_unix_duration().as_secs() as i64;
    let validity_secs = secs(&validity.not_after) - secs(&validity.not_before);
    let spki = tbs.subject_public_key_info();
    let public_key = format!(
        "{} {} ({} key bytes)",
        spki.algorithm.oid,
        spki.algorithm
            .parameters
            .as_ref()
            .map(|p| format!("{:02x?}", p.to_der().expect("params")))
            .unwrap_or_default(),
        spki.subject_public_key.raw_bytes().len()
    );
    let mut extensions = Vec::new();
    let (mut skid, mut akid) = (None, None);
    for e in tbs.extensions().into_iter().flatten() {
        let oid = e.extn_id.to_string();
        let value = e.extn_value.as_bytes();
        let shown = match oid.as_str() {
            "2.5.29.14" => {
                skid = Some(value[2..].to_vec());
                "<key id>".to_string()
            }
            "2.5.29.35" => {
                akid = Some(value[4..].to_vec());
                "<key id>".to_string()
            }
            _ => format!("{value:02x?}"),
        };
        extensions.push((oid, e.critical, shown));
    }
    Parsed {
        fields: Fields {
            subject: tbs.subject().to_string(),
            issuer: tbs.issuer().to_string(),
            signature_algorithm: cert.signature_algorithm().oid.to_string(),
            public_key,
            // Go reads the clock twice (NotBefore, NotAfter): allow a second.
            validity_days: (validity_secs + 1) / 86_400,
            extensions,
        },
        validity_secs,
        serial: tbs.serial_number().as_bytes().to_vec(),
        subject_key_id: skid,
        authority_key_id: akid,
        public_key_bits: spki.subject_public_key.raw_bytes().to_vec(),
    }
}

/// Which certificate in the fixture signed which.
const ISSUERS: &[(&str, &str)] = &[
    ("ca", "ca"),
    ("ecCA", "ecCA"),
    ("edCA", "edCA"),
    ("signed", "ca"),
    ("signedByEC", "ecCA"),
    ("signedByEd", "edCA"),
    ("p384CA", "p384CA"),
    ("signedByP384", "p384CA"),
    ("selfNoName", "selfNoName"),
    ("selfUnicode", "selfUnicode"),
    ("selfEC", "selfEC"),
    ("viaCustom", "ca"),
    ("sameNameAsCA", "ca"),
    ("farFuture", "farFuture"),
];

fn verify(dir: &Path, cert: &str, ca: &str) -> (bool, String) {
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca).expect("write CA");
    openssl(
        &[
            "verify",
            "-partial_chain",
            "-CAfile",
            &ca_file.to_string_lossy(),
        ],
        cert,
    )
}

fn verify_rsa_signature(cert: &str, ca: &str) {
    use rsa::pkcs8::DecodePublicKey as _;
    use rsa::signature::Verifier as _;
    let cert = x509_cert::Certificate::from_pem(cert.as_bytes()).expect("certificate");
    let ca = x509_cert::Certificate::from_pem(ca.as_bytes()).expect("CA");
    let ca_key = ca
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .expect("CA key DER");
    let key = rsa::pkcs1v15::VerifyingKey::<Sha256>::new(
        rsa::PublicKey::from_public_key_der(&ca_key).expect("RSA CA key"),
    );
    let signature =
        rsa::pkcs1v15::Signature::try_from(cert.signature().raw_bytes()).expect("RSA signature");
    let tbs = cert.tbs_certificate().to_der().expect("TBS DER");
    key.verify(&tbs, &signature)
        .expect("signed by the CA's key");
}

#[test]
fn certificates_hold_what_helms_hold_and_verify() {
    let (helm, skiff) = rendered();
    let dir = scratch("verify");
    let mut failures = Vec::new();
    for (name, issuer) in ISSUERS {
        let cert_key = format!("{name}.crt");
        let h = parse_cert(&helm[&cert_key]);
        let s = parse_cert(&skiff[&cert_key]);
        if h.fields != s.fields {
            failures.push(format!(
                "{name}:\n  helm:  {:?}\n  skiff: {:?}",
                h.fields, s.fields
            ));
        }
        // Random 128-bit positive serial, as Sprig draws it.
        assert!(
            s.serial.len() <= 17 && s.serial[0] & 0x80 == 0,
            "{name} serial"
        );
        for (side, p) in [("helm", &h), ("skiff", &s)] {
            let days = p.fields.validity_days * 86_400;
            assert!(
                (p.validity_secs - days).abs() <= 1,
                "{side} {name}: validity {}s",
                p.validity_secs
            );
        }
        // Go's key id: the first 20 bytes of SHA-256 over the public key bits.
        if let Some(id) = &s.subject_key_id {
            assert_eq!(
                id[..],
                Sha256::digest(&s.public_key_bits)[..20],
                "{name} key id"
            );
        }
        for (side, out) in [("helm", helm), ("skiff", skiff)] {
            let ca = &out[&format!("{issuer}.crt")];
            if *name == "sameNameAsCA" {
                // openssl takes a certificate naming itself as issuer for
                // self-signed; check its signature by the CA's key directly.
                verify_rsa_signature(&out[&cert_key], ca);
            } else {
                let (ok, text) = verify(&dir, &out[&cert_key], ca);
                assert!(
                    ok,
                    "{side}: {name} does not verify against {issuer}: {text}"
                );
            }
            if issuer != name {
                let ca_id = parse_cert(ca).subject_key_id;
                let leaf = parse_cert(&out[&cert_key]);
                if *name == "sameNameAsCA" {
                    // Go names no authority key when issuer and subject match.
                    assert_eq!(leaf.authority_key_id, None, "{side} {name}");
                } else {
                    assert_eq!(
                        leaf.authority_key_id, ca_id,
                        "{side} {name}: authority key id"
                    );
                }
            }
        }
        // The key that comes with the certificate is the certified one.
        let key = &skiff[&format!("{name}.key")];
        let (ok, key_public) = openssl(&["pkey", "-pubout"], key);
        assert!(ok, "{name}.key: {key_public}");
        let (ok, cert_public) = openssl(&["x509", "-noout", "-pubkey"], &skiff[&cert_key]);
        assert!(ok, "{name}.crt: {cert_public}");
        assert_eq!(
            key_public, cert_public,
            "{name}: key and certificate differ"
        );
    }
    assert!(
        failures.is_empty(),
        "certificates differ from helm's:\n{}",
        failures.join("\n")
    );
    assert_eq!(skiff["customSame"], "true");
    assert_eq!(helm["customSame"], skiff["customSame"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn private_keys_have_sprigs_formats() {
    let (helm, skiff) = rendered();
    let mut names: Vec<&String> = helm.keys().filter(|k| k.ends_with(".key")).collect();
    names.sort();
    for name in names {
        let (h_kind, h_der) = pem_body(&helm[name]);
        let (s_kind, s_der) = pem_body(&skiff[name]);
        assert_eq!(s_kind, h_kind, "{name}: PEM type");
        assert_eq!(shape(&s_der), shape(&h_der), "{name}: DER structure");
        // openssl's summary line: algorithm and size (4096-bit RSA, P-256, ...).
        let summary = |pem: &str| {
            let (ok, text) = openssl(&["pkey", "-noout", "-text"], pem);
            assert!(ok, "{name}: {text}");
            text.lines()
                .filter(|l| l.contains("Private-Key") || l.contains("ASN1 OID"))
                .collect::<Vec<_>>()
                .join(" / ")
        };
        assert_eq!(summary(&skiff[name]), summary(&helm[name]), "{name}");
    }
    assert!(summary_mentions(&skiff["rsa.key"], "4096 bit"));
    assert!(summary_mentions(&skiff["default.key"], "4096 bit"));
    assert!(summary_mentions(&skiff["ecdsa.key"], "prime256v1"));
    assert!(summary_mentions(&skiff["dsa.key"], "2048 bit"));
    assert_eq!(skiff["unknown"], helm["unknown"]);
    assert_eq!(skiff["unknown"], "Unknown type x25519");
}

fn summary_mentions(pem: &str, what: &str) -> bool {
    openssl(&["pkey", "-noout", "-text"], pem).1.contains(what)
}

#[test]
fn aes_ciphertexts_decrypt_on_the_other_side() {
    let text = "secret ✓ across implementations";
    let encrypt = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aes\ndata:\n  sealed: {{{{ encryptAES \"pässword\" {text:?} | quote }}}}\n"
    );
    let decrypt = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aes\ndata:\n  opened: {{ decryptAES \"pässword\" .Values.sealed | quote }}\n";
    let sealed_by_skiff = data(&skiff_render(&chart("aes-enc", "", &encrypt)))["sealed"].clone();
    let sealed_by_helm = data(&helm_render(&chart("aes-enc", "", &encrypt)))["sealed"].clone();
    let opened_by_helm = data(&helm_render(&chart(
        "aes-dec",
        &format!("sealed: {sealed_by_skiff:?}\n"),
        decrypt,
    )))["opened"]
        .clone();
    let opened_by_skiff = data(&skiff_render(&chart(
        "aes-dec",
        &format!("sealed: {sealed_by_helm:?}\n"),
        decrypt,
    )))["opened"]
        .clone();
    assert_eq!(
        opened_by_helm, text,
        "helm decrypting skiff's {sealed_by_skiff}"
    );
    assert_eq!(
        opened_by_skiff, text,
        "skiff decrypting helm's {sealed_by_helm}"
    );
    assert_ne!(sealed_by_skiff, sealed_by_helm, "random IVs");
}

/// The parsed-field comparison notices a difference (it is not vacuous).
#[test]
fn field_comparison_tells_certificates_apart() {
    let (_, skiff) = rendered();
    let a = parse_cert(&skiff["signed.crt"]).fields;
    let b = parse_cert(&skiff["viaCustom.crt"]).fields;
    assert_ne!(a, b);
    assert!(x509_cert::Certificate::from_der(&pem_body(&skiff["ca.crt"]).1).is_ok());
}
