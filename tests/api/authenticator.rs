//! A software WebAuthn authenticator and client, written from the spec
//! (WebAuthn Level 3 §6.1 authenticator data, §6.5 attestation, §8.7
//! "none"; RFC 8152 COSE keys; RFC 8949 CBOR), for the passkey tests.
//!
//! P-256 ECDSA keys (ring). It answers `parseCreationOptionsFromJSON` /
//! `parseRequestOptionsFromJSON` input with what a browser's `.toJSON()`
//! gives. Every knob an attack needs is a field: user verification, the
//! backup flags, the counter, and the rp_id, origin and challenge it signs.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
use serde_json::{json, Value};

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).expect("base64url")
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .to_vec()
}

/// A CBOR item head (RFC 8949 §3): major type and argument.
fn head(major: u8, n: u64) -> Vec<u8> {
    let m = major << 5;
    match n {
        0..=23 => vec![m | n as u8],
        24..=0xff => vec![m | 24, n as u8],
        0x100..=0xffff => {
            let mut v = vec![m | 25];
            v.extend_from_slice(&(n as u16).to_be_bytes());
            v
        }
        _ => {
            let mut v = vec![m | 26];
            v.extend_from_slice(&(n as u32).to_be_bytes());
            v
        }
    }
}

fn cbor_int(n: i64) -> Vec<u8> {
    if n >= 0 {
        head(0, n as u64)
    } else {
        head(1, (-1 - n) as u64)
    }
}

fn cbor_bytes(b: &[u8]) -> Vec<u8> {
    let mut v = head(2, b.len() as u64);
    v.extend_from_slice(b);
    v
}

fn cbor_text(s: &str) -> Vec<u8> {
    let mut v = head(3, s.len() as u64);
    v.extend_from_slice(s.as_bytes());
    v
}

/// A CBOR map of already-encoded keys and values.
fn cbor_map(entries: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut v = head(5, entries.len() as u64);
    for (k, val) in entries {
        v.extend_from_slice(k);
        v.extend_from_slice(val);
    }
    v
}

/// A credential's key: ES256 (P-256), or RS256 (RSA-2048, PKCS#1 v1.5).
enum Key {
    Es256(EcdsaKeyPair),
    Rs256(ring::rsa::KeyPair),
}

struct Credential {
    id: Vec<u8>,
    key: Key,
    user_handle: Vec<u8>,
}

/// A DER element: `tag`, its length, `content`.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    let len = content.len();
    if len < 128 {
        v.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        v.push(0x80 | bytes.len() as u8);
        v.extend_from_slice(&bytes);
    }
    v.extend_from_slice(content);
    v
}

impl Credential {
    fn algorithm(&self) -> i64 {
        match self.key {
            Key::Es256(_) => -7,
            Key::Rs256(_) => -257,
        }
    }

    fn sign(&self, rng: &SystemRandom, message: &[u8]) -> Vec<u8> {
        match &self.key {
            Key::Es256(key) => key.sign(rng, message).expect("signature").as_ref().to_vec(),
            Key::Rs256(key) => {
                let mut signature = vec![0; key.public().modulus_len()];
                key.sign(
                    &ring::signature::RSA_PKCS1_SHA256,
                    rng,
                    message,
                    &mut signature,
                )
                .expect("signature");
                signature
            }
        }
    }

    /// The COSE_Key of the public key: EC2, ES256, P-256, x, y; or RSA,
    /// RS256, n, e (RFC 8230 §4).
    fn cose_key(&self) -> Vec<u8> {
        let key = match &self.key {
            Key::Es256(key) => key,
            Key::Rs256(key) => {
                let public: ring::rsa::PublicKeyComponents<Vec<u8>> = key.public().into();
                return cbor_map(&[
                    (cbor_int(1), cbor_int(3)),
                    (cbor_int(3), cbor_int(-257)),
                    (cbor_int(-1), cbor_bytes(&public.n)),
                    (cbor_int(-2), cbor_bytes(&public.e)),
                ]);
            }
        };
        let point = key.public_key().as_ref();
        cbor_map(&[
            (cbor_int(1), cbor_int(2)),
            (cbor_int(3), cbor_int(-7)),
            (cbor_int(-1), cbor_int(1)),
            (cbor_int(-2), cbor_bytes(&point[1..33])),
            (cbor_int(-3), cbor_bytes(&point[33..65])),
        ])
    }

    /// SubjectPublicKeyInfo (DER), as `getPublicKey()` gives it.
    fn spki(&self) -> Vec<u8> {
        let key = match &self.key {
            Key::Es256(key) => key,
            Key::Rs256(key) => {
                // SEQUENCE { SEQUENCE { rsaEncryption, NULL }, BIT STRING }
                let algorithm = [
                    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
                    0x05, 0x00,
                ];
                let mut bits = vec![0];
                bits.extend_from_slice(key.public().as_ref());
                let mut content = algorithm.to_vec();
                content.extend(der(0x03, &bits));
                return der(0x30, &content);
            }
        };
        let mut v = vec![
            0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
            0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
        ];
        v.extend_from_slice(key.public_key().as_ref());
        v
    }
}

pub struct Authenticator {
    /// The rp_id whose hash goes into authenticator data.
    pub rp_id: String,
    /// The origin the client puts in clientDataJSON.
    pub origin: String,
    /// User verification (UV flag).
    pub uv: bool,
    /// Backup eligible (BE) and backed up (BS) flags.
    pub be: bool,
    pub bs: bool,
    /// The signature counter of the next operation.
    pub counter: u32,
    /// Add 1 to the counter after each operation (a device-bound key);
    /// synced passkeys keep 0.
    pub counting: bool,
    /// Send the user handle with assertions.
    pub send_user_handle: bool,
    /// Sign this challenge instead of the one in the options.
    pub challenge: Option<Vec<u8>>,
    /// Make RS256 (RSA-2048) credentials instead of ES256 ones.
    pub rsa: bool,
    rng: SystemRandom,
    credentials: Vec<Credential>,
}

impl Authenticator {
    /// A device-bound authenticator with user verification, for `rp_id`
    /// at `origin`.
    pub fn new(rp_id: &str, origin: &str) -> Authenticator {
        Authenticator {
            rp_id: rp_id.to_owned(),
            origin: origin.to_owned(),
            uv: true,
            be: false,
            bs: false,
            counter: 1,
            counting: true,
            send_user_handle: true,
            challenge: None,
            rsa: false,
            rng: SystemRandom::new(),
            credentials: Vec::new(),
        }
    }

    /// For the relying party `config` describes (a running app's
    /// `app.state.config`).
    pub fn for_config(config: &toktok::Config) -> Authenticator {
        let rp_id = config.webauthn.rp_id(config);
        let origin = config.webauthn.origins(config).remove(0);
        Authenticator::new(&rp_id, &origin)
    }

    /// A synced passkey provider: BE and BS set, counter always 0.
    pub fn synced(mut self) -> Authenticator {
        self.be = true;
        self.bs = true;
        self.counter = 0;
        self.counting = false;
        self
    }

    fn flags(&self, attested: bool) -> u8 {
        let mut f = 0x01; // UP
        if self.uv {
            f |= 0x04;
        }
        if self.be {
            f |= 0x08;
        }
        if self.bs {
            f |= 0x10;
        }
        if attested {
            f |= 0x40;
        }
        f
    }

    fn auth_data(&mut self, attested: Option<&Credential>) -> Vec<u8> {
        let mut data = sha256(self.rp_id.as_bytes());
        data.push(self.flags(attested.is_some()));
        data.extend_from_slice(&self.counter.to_be_bytes());
        if let Some(cred) = attested {
            data.extend_from_slice(&[0u8; 16]); // aaguid
            data.extend_from_slice(&(cred.id.len() as u16).to_be_bytes());
            data.extend_from_slice(&cred.id);
            data.extend_from_slice(&cred.cose_key());
        }
        if self.counting {
            self.counter += 1;
        }
        data
    }

    fn client_data(&self, kind: &str, options: &Value) -> Vec<u8> {
        let challenge = match &self.challenge {
            Some(c) => b64(c),
            None => options["challenge"].as_str().expect("challenge").to_owned(),
        };
        json!({ "type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": false })
            .to_string()
            .into_bytes()
    }

    /// `navigator.credentials.create()` then `.toJSON()`: a new key pair.
    pub fn create(&mut self, options: &Value) -> Value {
        let key = if self.rsa {
            // ring cannot make RSA keys: aws-lc-rs makes it, ring signs.
            use aws_lc_rs::encoding::AsDer;
            let made = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                .expect("RSA key");
            let pkcs8 = made.as_der().expect("PKCS#8");
            Key::Rs256(ring::rsa::KeyPair::from_pkcs8(pkcs8.as_ref()).expect("RSA key"))
        } else {
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &self.rng)
                .expect("key pair");
            let alg = &ECDSA_P256_SHA256_ASN1_SIGNING;
            Key::Es256(EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &self.rng).expect("key pair"))
        };
        let mut id = vec![0u8; 32];
        ring::rand::SecureRandom::fill(&self.rng, &mut id).expect("random");
        let cred = Credential {
            id,
            key,
            user_handle: unb64(options["user"]["id"].as_str().expect("user.id")),
        };
        let client_data = self.client_data("webauthn.create", options);
        let auth_data = self.auth_data(Some(&cred));
        let attestation = cbor_map(&[
            (cbor_text("fmt"), cbor_text("none")),
            (cbor_text("attStmt"), cbor_map(&[])),
            (cbor_text("authData"), cbor_bytes(&auth_data)),
        ]);
        let answer = json!({
            "id": b64(&cred.id),
            "rawId": b64(&cred.id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64(&client_data),
                "attestationObject": b64(&attestation),
                "authenticatorData": b64(&auth_data),
                "transports": ["internal"],
                "publicKey": b64(&cred.spki()),
                "publicKeyAlgorithm": cred.algorithm(),
            },
        });
        self.credentials.push(cred);
        answer
    }

    /// `navigator.credentials.get()` then `.toJSON()`: signs with the first
    /// of its credentials the options allow (any, when none are listed).
    pub fn get(&mut self, options: &Value) -> Value {
        let allowed: Vec<Vec<u8>> = options["allowCredentials"]
            .as_array()
            .map(|a| a.iter().map(|c| unb64(c["id"].as_str().unwrap())).collect())
            .unwrap_or_default();
        let index = self
            .credentials
            .iter()
            .position(|c| allowed.is_empty() || allowed.contains(&c.id))
            .expect("a credential the options allow");
        self.get_with(index, options)
    }

    /// [`Authenticator::get`] with the credential made `index`th.
    pub fn get_with(&mut self, index: usize, options: &Value) -> Value {
        let client_data = self.client_data("webauthn.get", options);
        let auth_data = self.auth_data(None);
        let cred = &self.credentials[index];
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&sha256(&client_data));
        let signature = cred.sign(&self.rng, &signed);
        let user_handle = if self.send_user_handle {
            Value::from(b64(&cred.user_handle))
        } else {
            Value::Null
        };
        json!({
            "id": b64(&cred.id),
            "rawId": b64(&cred.id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64(&client_data),
                "authenticatorData": b64(&auth_data),
                "signature": b64(signature.as_ref()),
                "userHandle": user_handle,
            },
        })
    }
}
