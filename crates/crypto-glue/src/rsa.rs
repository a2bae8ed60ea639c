//! RSA for toktok's copy of crypto-glue: verification only, by aws-lc-rs.
//!
//! Upstream, this module re-exports the `rsa` crate, which RUSTSEC-2023-0071
//! (the Marvin attack: its private-key operations are not constant-time)
//! flags with no fixed version. webauthn-rs uses RSA only to verify
//! RS256 passkey signatures and RSA-signed attestation certificates, with
//! public keys, so this module keeps exactly those names —
//! `RS256PublicKey`, `RS256Signature`, `RS256VerifyingKey`,
//! `RS384VerifyingKey`, `BigUint` — over aws-lc-rs, and drops key
//! generation, signing and OAEP, which nothing here used. The signature
//! check is aws-lc-rs's RSASSA-PKCS1-v1_5 (RFC 8017 §8.2) for moduli of
//! 2048 to 8192 bits; a key outside that is refused when it is made, as
//! the `rsa` crate refused keys over 4096 bits.

use crate::spki::SubjectPublicKeyInfoRef;
use aws_lc_rs::signature::{
    RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_2048_8192_SHA384, RsaParameters,
    RsaPublicKeyComponents,
};
use core::marker::PhantomData;
use der::{Decode, asn1::UintRef};
use sha2::{Sha256, Sha384};

/// Smallest and largest modulus accepted, in bits.
pub const MIN_BITS: usize = 2048;
pub const MAX_BITS: usize = 8192;

/// Why a key or signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// Modulus or exponent out of range, or not the RSA key DER.
    InvalidKey,
    /// Not the length of the modulus.
    InvalidSignature,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Error::InvalidKey => "invalid RSA public key",
            Error::InvalidSignature => "invalid RSA signature",
        })
    }
}

impl core::error::Error for Error {}

/// A big-endian unsigned integer, without leading zero bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BigUint(Vec<u8>);

impl BigUint {
    /// `bytes` as an integer (the name is the `rsa` crate's; nothing here
    /// is secret, so variable time is right).
    pub fn from_be_slice_vartime(bytes: &[u8]) -> BigUint {
        let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
        BigUint(bytes[start..].to_vec())
    }

    fn bits(&self) -> usize {
        match self.0.first() {
            None => 0,
            Some(top) => self.0.len() * 8 - top.leading_zeros() as usize,
        }
    }

    pub fn to_be_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// An RSA public key (n, e).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RS256PublicKey {
    n: BigUint,
    e: BigUint,
}

impl RS256PublicKey {
    /// A key of 2048 to 8192 bits with an odd exponent from 3 to 2^33 - 1
    /// (aws-lc-rs's bounds, checked here so a bad key fails when made).
    pub fn new(n: BigUint, e: BigUint) -> Result<RS256PublicKey, Error> {
        let n_bits = n.bits();
        let e_odd = e.0.last().is_some_and(|b| b & 1 == 1);
        let e_ok = e_odd && e.0 != [1] && e.bits() <= 33;
        if !(MIN_BITS..=MAX_BITS).contains(&n_bits) || !e_ok {
            return Err(Error::InvalidKey);
        }
        Ok(RS256PublicKey { n, e })
    }

    pub fn n(&self) -> &BigUint {
        &self.n
    }

    pub fn e(&self) -> &BigUint {
        &self.e
    }

    fn verify(&self, alg: &'static RsaParameters, msg: &[u8], sig: &[u8]) -> bool {
        let key = RsaPublicKeyComponents {
            n: self.n.0.as_slice(),
            e: self.e.0.as_slice(),
        };
        key.verify(alg, msg, sig).is_ok()
    }
}

/// The `rsaEncryption` key of a certificate (RFC 3279 §2.3.1).
impl TryFrom<SubjectPublicKeyInfoRef<'_>> for RS256PublicKey {
    type Error = Error;

    fn try_from(spki: SubjectPublicKeyInfoRef<'_>) -> Result<Self, Error> {
        if spki.algorithm.oid != const_oid::db::rfc5912::RSA_ENCRYPTION {
            return Err(Error::InvalidKey);
        }
        let der = spki.subject_public_key.as_bytes().ok_or(Error::InvalidKey)?;
        let key = pkcs1::RsaPublicKey::<UintRef<'_>>::from_der(der).map_err(|_| Error::InvalidKey)?;
        RS256PublicKey::new(
            BigUint::from_be_slice_vartime(key.modulus.as_bytes()),
            BigUint::from_be_slice_vartime(key.public_exponent.as_bytes()),
        )
    }
}

/// The bytes of an RSASSA-PKCS1-v1_5 signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RS256Signature(Vec<u8>);

impl TryFrom<&[u8]> for RS256Signature {
    type Error = Error;

    fn try_from(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.is_empty() || bytes.len() > MAX_BITS / 8 {
            return Err(Error::InvalidSignature);
        }
        Ok(RS256Signature(bytes.to_vec()))
    }
}

impl signature::SignatureEncoding for RS256Signature {
    type Repr = Vec<u8>;
}

impl From<RS256Signature> for Vec<u8> {
    fn from(s: RS256Signature) -> Vec<u8> {
        s.0
    }
}

impl TryFrom<Vec<u8>> for RS256Signature {
    type Error = Error;

    fn try_from(bytes: Vec<u8>) -> Result<Self, Error> {
        RS256Signature::try_from(bytes.as_slice())
    }
}

/// A verifying key for RSASSA-PKCS1-v1_5 with the digest `D`.
#[derive(Debug, Clone)]
pub struct VerifyingKey<D> {
    key: RS256PublicKey,
    digest: PhantomData<D>,
}

impl<D> VerifyingKey<D> {
    pub fn new(key: RS256PublicKey) -> Self {
        VerifyingKey {
            key,
            digest: PhantomData,
        }
    }
}

pub type RS256VerifyingKey = VerifyingKey<Sha256>;
pub type RS384VerifyingKey = VerifyingKey<Sha384>;
pub type RS256Digest = Sha256;
pub type RS384Digest = Sha384;

impl signature::Verifier<RS256Signature> for VerifyingKey<Sha256> {
    fn verify(&self, msg: &[u8], sig: &RS256Signature) -> Result<(), signature::Error> {
        match self.key.verify(&RSA_PKCS1_2048_8192_SHA256, msg, &sig.0) {
            true => Ok(()),
            false => Err(signature::Error::new()),
        }
    }
}

impl signature::Verifier<RS256Signature> for VerifyingKey<Sha384> {
    fn verify(&self, msg: &[u8], sig: &RS256Signature) -> Result<(), signature::Error> {
        match self.key.verify(&RSA_PKCS1_2048_8192_SHA384, msg, &sig.0) {
            true => Ok(()),
            false => Err(signature::Error::new()),
        }
    }
}
