//! The WebAuthn relying party (passkeys), built once from `[webauthn]`.
//!
//! Ceremonies run on `webauthn-rs-core` (the engine under `webauthn-rs`):
//! the safe wrapper insists on user verification for every passkey, and
//! toktok asks for it as *preferred* — a passkey without user verification
//! signs in at `aal` 1, with it at `aal` 2 (docs/API.md "Assurance"). The
//! rest of the wrapper's policy is kept: attestation `none`, the secure
//! algorithms (ES256, EdDSA, RS256 — RSA only ever *verifies* here), no
//! change of backup eligibility after registration, and a counter that
//! must grow whenever it is used. One rule of the core's stays too: a
//! credential registered *with* user verification must always verify.
//!
//! The options toktok sends are the inner `publicKey` object of what
//! webauthn-rs serialises — exactly what `PublicKeyCredential.
//! parseCreationOptionsFromJSON()` / `parseRequestOptionsFromJSON()` take —
//! with `null` members dropped (WebIDL refuses `null` for a sequence) and
//! `residentKey: "preferred"`, which the core cannot express.

use std::time::Duration;

use anyhow::Context as _;
use serde_json::{json, Value};
use url::Url;
use webauthn_rs_core::error::WebauthnError;
use webauthn_rs_core::proto::{
    AuthenticationResult, AuthenticationState, COSEAlgorithm, Credential, CredentialID,
    PublicKeyCredential, RegisterPublicKeyCredential, RegistrationState, UserVerificationPolicy,
};
use webauthn_rs_core::WebauthnCore;

use crate::config::Config;

/// How long a ceremony may take, in the options and for the flow.
pub const CEREMONY_SECS: u64 = 300;

/// The relying party: `rp_id`, its name and the allowed origins.
#[derive(Debug, Clone)]
pub struct Webauthn {
    core: WebauthnCore,
    #[cfg_attr(not(any(test, feature = "testing")), allow(dead_code))]
    rp_id: String,
}

impl Webauthn {
    /// The relying party `config` describes, or `None` with `[webauthn]
    /// enabled = false`. An origin that is not `rp_id` or one of its
    /// subdomains stops start-up (no browser would run a ceremony there).
    /// Loopback works as any host: `http://127.0.0.1:8080` with the default
    /// `rp_id` (its host) passes; browsers accept `http://localhost`.
    pub fn from_config(config: &Config) -> anyhow::Result<Option<Webauthn>> {
        if !config.webauthn.enabled {
            return Ok(None);
        }
        let rp_id = config.webauthn.rp_id(config);
        let bare = |host: &str| {
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned()
        };
        let mut origins = Vec::new();
        for origin in config.webauthn.origins(config) {
            let url = Url::parse(&origin)
                .with_context(|| format!("webauthn.origins: \"{origin}\" is not a URL"))?;
            let host = bare(&url.host_str().unwrap_or_default().to_ascii_lowercase());
            let rp = bare(&rp_id);
            if host != rp && !host.ends_with(&format!(".{rp}")) {
                anyhow::bail!(
                    "webauthn.origins: \"{origin}\" is not on webauthn.rp_id \"{rp_id}\" \
                     (nor a subdomain of it); set webauthn.rp_id, or webauthn.origins"
                );
            }
            origins.push(url);
        }
        if origins.is_empty() {
            anyhow::bail!("webauthn.origins: no origin (set it, or server.public_url)");
        }
        let core = WebauthnCore::new_unsafe_experts_only(
            config.webauthn.rp_name(config),
            &rp_id,
            origins,
            Duration::from_secs(CEREMONY_SECS),
            Some(false),
            Some(false),
        );
        Ok(Some(Webauthn { core, rp_id }))
    }

    #[cfg(any(test, feature = "testing"))]
    pub fn rp_id(&self) -> &str {
        &self.rp_id
    }

    /// Options to register a passkey for `user_handle` (resident key and
    /// user verification preferred, attestation `none`, `exclude` listed).
    pub fn start_registration(
        &self,
        user_handle: &[u8],
        name: &str,
        display_name: &str,
        exclude: Vec<CredentialID>,
    ) -> Result<(Value, RegistrationState), WebauthnError> {
        let builder = self
            .core
            .new_challenge_register_builder(user_handle, name, display_name)?
            .attestation(webauthn_rs_core::proto::AttestationConveyancePreference::None)
            .credential_algorithms(COSEAlgorithm::secure_algs())
            .user_verification_policy(UserVerificationPolicy::Preferred)
            .require_resident_key(false)
            .reject_synchronised_authenticators(false)
            .exclude_credentials(Some(exclude))
            .extensions(None);
        let (ccr, state) = self.core.generate_challenge_register(builder)?;
        let mut options = serde_json::to_value(&ccr.public_key).unwrap_or(Value::Null);
        strip_nulls(&mut options);
        if let Some(object) = options.as_object_mut() {
            object.insert(
                "authenticatorSelection".to_owned(),
                json!({
                    "residentKey": "preferred",
                    "requireResidentKey": false,
                    "userVerification": "preferred",
                }),
            );
        }
        Ok((options, state))
    }

    /// Checks a registration response against its state: the new credential.
    pub fn finish_registration(
        &self,
        response: &RegisterPublicKeyCredential,
        state: &RegistrationState,
    ) -> Result<Credential, WebauthnError> {
        self.core.register_credential(response, state, None)
    }

    /// Options to assert one of `credentials` (none: a discoverable,
    /// usernameless sign-in), user verification preferred. The state does
    /// not keep the credentials: [`Webauthn::finish_authentication`] is
    /// given the one the answer names, read again from the store.
    pub fn start_authentication(
        &self,
        credentials: Vec<Credential>,
    ) -> Result<(Value, AuthenticationState), WebauthnError> {
        let builder = self
            .core
            .new_challenge_authenticate_builder(
                credentials,
                Some(UserVerificationPolicy::Preferred),
            )?
            .allow_backup_eligible_upgrade(false);
        let (rcr, mut state) = self.core.generate_challenge_authenticate(builder)?;
        state.set_allowed_credentials(Vec::new());
        let mut options = serde_json::to_value(&rcr.public_key).unwrap_or(Value::Null);
        strip_nulls(&mut options);
        Ok((options, state))
    }

    /// Checks an assertion by `credential` against its state: signature,
    /// challenge, origin, `rp_id` hash, user presence and verification
    /// rules, backup eligibility, and the counter (a counter that does not
    /// grow is `CredentialPossibleCompromise`).
    pub fn finish_authentication(
        &self,
        response: &PublicKeyCredential,
        state: &AuthenticationState,
        credential: &Credential,
    ) -> Result<AuthenticationResult, WebauthnError> {
        self.core
            .authenticate_single_credential(response, state, credential)
    }
}

/// Drops `null` members, recursively.
fn strip_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(toml: &str) -> Config {
        Config::from_sources(Some(toml), []).unwrap()
    }

    #[test]
    fn options_are_what_parse_from_json_takes() {
        let c = config("[server]\npublic_url = \"http://127.0.0.1:8080\"\n");
        let w = Webauthn::from_config(&c).unwrap().unwrap();
        assert_eq!(w.rp_id(), "127.0.0.1");
        let (options, _) = w
            .start_registration(&[1; 16], "ada@example.com", "Ada", vec![vec![7; 16]])
            .unwrap();
        assert!(options.get("publicKey").is_none(), "{options}");
        assert_eq!(options["rp"]["id"], "127.0.0.1");
        assert_eq!(options["user"]["id"], "AQEBAQEBAQEBAQEBAQEBAQ");
        assert_eq!(options["user"]["displayName"], "Ada");
        assert_eq!(options["attestation"], "none");
        assert_eq!(
            options["authenticatorSelection"]["residentKey"],
            "preferred"
        );
        assert_eq!(
            options["authenticatorSelection"]["userVerification"],
            "preferred"
        );
        assert_eq!(
            options["excludeCredentials"][0]["id"],
            "BwcHBwcHBwcHBwcHBwcHBw"
        );
        assert_eq!(options["excludeCredentials"][0]["type"], "public-key");
        assert!(options["challenge"].as_str().unwrap().len() >= 43);
        assert!(!options.to_string().contains("null"), "{options}");
        let (options, state) = w.start_authentication(Vec::new()).unwrap();
        assert_eq!(options["rpId"], "127.0.0.1");
        assert_eq!(options["userVerification"], "preferred");
        assert_eq!(options["allowCredentials"], json!([]));
        assert!(!options.to_string().contains("null"), "{options}");
        assert!(serde_json::to_string(&state).is_ok());
    }

    #[test]
    fn an_origin_off_the_rp_id_stops_start_up() {
        let c = config(
            "[server]\npublic_url = \"https://auth.example.com\"\n[webauthn]\nrp_id = \"example.com\"\norigins = [\"https://app.example.com\", \"https://evil.com\"]\n",
        );
        let e = Webauthn::from_config(&c).unwrap_err().to_string();
        assert!(e.contains("evil.com"), "{e}");
        for url in [
            "http://[::1]:8080",
            "http://localhost:3000",
            "https://a.example.com",
        ] {
            let c = config(&format!("[server]\npublic_url = \"{url}\"\n"));
            assert!(Webauthn::from_config(&c).unwrap().is_some(), "{url}");
        }
        let c = config("[webauthn]\nenabled = false\n");
        assert!(Webauthn::from_config(&c).unwrap().is_none());
    }
}
