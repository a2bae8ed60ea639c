//! Sign-in with other providers, and the identities it links (issue 20;
//! docs/providers.md). The protocol is in `crate::federation`; this file
//! holds the rules.
//!
//! **Linking rules** (docs/API.md; PocketBase CVE-2024-38351 and
//! CVE-2026-44166, better-auth GHSA-g38m-r43w-p2q7, Zitadel CVE-2025-64717):
//! - an identity signs in the account it is linked to, and only while its
//!   provider is enabled and the account is not disabled;
//! - an unknown identity creates an account only when no account has its
//!   address; when one does, nothing is linked and nobody is signed in
//!   (`link_required`): the person signs in to that account and links the
//!   provider from there, which needs a recent sign-in;
//! - only an address the provider marks verified is stored as confirmed;
//!   an identity whose address was not verified goes when the address's
//!   owner resets the password (`store::flows::set_password`);
//! - a provider account links to one toktok account at most.
//!
//! **The round trip.** `start` keeps `state`, `nonce` and the PKCE verifier
//! server-side (`provider_flows`, hashed state, ten minutes, one use) and
//! binds a sign-in to the browser that started it with a cookie whose hash
//! the row holds. The callback takes the state once, checks the binding,
//! redeems the provider's code and verifies the answer, then either
//! continues a pending `/oauth/authorize` (the hosted pages) or sends the
//! browser to the allow-listed `redirect_to` with a one-use `#code=` the
//! application exchanges for tokens. A link started with an access token
//! has no cookie (an API call cannot set one reliably); its code is
//! exchanged with that user's access token instead, so a link started by
//! one person can never be completed into another's account.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use serde_json::json;

mod round_trip;

pub use round_trip::{callback, start, start_link, start_link_here};

use super::login::Assurance;
use super::signin::{self, SignInAnswer};
use super::{Authenticated, RequestMeta};
use crate::app::AppState;
use crate::auth::sha256_hex;
use crate::config::ProviderConfig;
use crate::domain::email::Email;
use crate::error::ApiError;
use crate::federation::upstream::UpstreamError;
use crate::store::{IdentityRow, Link, Unlink, UserRecord, WaysIn};

/// How long a started sign-in waits for its callback.
pub const FLOW_TTL: i64 = 600;
/// How long a callback's exchange code lives (docs/API.md: 60 s).
pub const CODE_TTL: i64 = 60;
/// The `amr` of a provider sign-in (RFC 8176 "fed": federated).
pub const AMR_FEDERATED: &str = "fed";
/// Counter of provider sign-ins, by `provider` (configured ids only) and
/// `outcome`.
pub const METRIC: &str = "toktok_provider_signins_total";

/// A provider as the sign-in page and `GET /v1/auth/providers` show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProviderInfo {
    pub id: String,
    pub name: String,
}

/// An identity as its user sees it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IdentityView {
    #[schema(format = "uuid")]
    pub id: String,
    /// The provider's configured id.
    pub provider: String,
    /// The account's id at the provider.
    pub subject: String,
    pub email: Option<String>,
    /// Whether the provider vouched for `email`.
    pub email_verified: bool,
    pub name: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    pub last_login_at: Option<String>,
}

impl From<&IdentityRow> for IdentityView {
    fn from(i: &IdentityRow) -> Self {
        IdentityView {
            id: i.id.clone(),
            provider: i.provider.clone(),
            subject: i.subject.clone(),
            email: i.email.clone(),
            email_verified: i.email_verified,
            name: i.name.clone(),
            created_at: crate::clock::rfc3339(i.created_at),
            last_login_at: i.last_login_at.map(crate::clock::rfc3339),
        }
    }
}

/// A started round trip: where to send the browser, and the binding
/// cookie's value to set (none for a link).
#[derive(Debug)]
pub struct Started {
    pub url: String,
    pub binding: Option<String>,
}

/// What a callback came to.
pub enum Landing {
    /// On to `url` (the application's `redirect_to` with `#code=` or
    /// `#error=`).
    Redirect(String),
    /// Signed in for a pending `/oauth/authorize`: the hosted pages carry
    /// on with these tokens (or the second-factor step) and this flow.
    Authorize {
        answer: Box<SignInAnswer>,
        sealed: String,
    },
    /// Refused before the flow was known to be this browser's: a page,
    /// never a redirect.
    Refused(ApiError),
    /// A pending `/oauth/authorize` refused after the provider answered:
    /// back to its sign-in page with this error.
    AuthorizeRefused { error: ApiError, sealed: String },
}

/// What the callback received (the query or, for `form_post`, the form).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[into_params(parameter_in = Query)]
pub struct CallbackParams {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    /// RFC 9207: the provider's issuer, when it sends one.
    #[serde(default)]
    pub iss: Option<String>,
    /// The provider's refusal (e.g. `access_denied`).
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub error_description: Option<String>,
}

/// The exchange's answer: a sign-in, or (for a link code) the identity.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Exchanged {
    SignIn(SignInAnswer),
    Linked { identity: IdentityView },
}

fn random_b64(n: usize) -> Result<String, ApiError> {
    let mut bytes = vec![0u8; n];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ApiError::Internal("the system random generator failed".into()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// How the user can sign in besides one factor (for "never the last way").
pub fn ways_in(state: &AppState) -> WaysIn {
    WaysIn {
        email_codes: state.config.email_code.enabled,
        providers: state
            .providers
            .all()
            .iter()
            .filter(|p| p.enabled)
            .map(|p| p.id.clone())
            .collect(),
    }
}

/// The enabled providers, in configuration order.
pub fn list(state: &AppState) -> Vec<ProviderInfo> {
    state
        .providers
        .all()
        .iter()
        .filter(|p| p.enabled)
        .map(|p| ProviderInfo {
            id: p.id.clone(),
            name: p.name.clone(),
        })
        .collect()
}

/// The callback URL registered at the provider.
pub fn callback_url(state: &AppState, provider: &str) -> String {
    format!(
        "{}/v1/auth/providers/{provider}/callback",
        state.config.server.public_url
    )
}

fn provider<'a>(state: &'a AppState, id: &str) -> Result<&'a ProviderConfig, ApiError> {
    state.providers.enabled(id).ok_or(ApiError::NotFound)
}

fn count(state: &AppState, p: &str, outcome: &str) {
    state
        .metrics
        .incr(METRIC, &[("provider", p), ("outcome", outcome)]);
}

fn upstream(state: &AppState, p: &ProviderConfig, e: &UpstreamError) -> ApiError {
    match e {
        UpstreamError::Unavailable(why) => {
            tracing::warn!(provider = %p.id, error = %why, "a sign-in provider is unavailable");
            count(state, &p.id, "provider_unavailable");
            ApiError::ProviderUnavailable
        }
        UpstreamError::Refused(why) => {
            tracing::warn!(provider = %p.id, error = %why, "a provider's answer was refused");
            count(state, &p.id, "refused");
            ApiError::InvalidLinkToken
        }
    }
}

/// Starts the session (or the MFA step) of a provider sign-in.
async fn sign_in(
    state: &AppState,
    p: &ProviderConfig,
    user: &UserRecord,
    meta: &RequestMeta,
) -> Result<SignInAnswer, ApiError> {
    let email_key = Email::parse(&user.email)
        .map(|e| e.normalized())
        .map_err(|_| ApiError::InvalidLinkToken)?;
    let assurance = Assurance {
        amr: vec![AMR_FEDERATED.to_owned()],
        aal: 1,
        factor: None,
    };
    let answer = signin::finish(
        state,
        user,
        email_key,
        None,
        meta,
        "login.provider",
        assurance,
    )
    .await?;
    count(state, &p.id, "success");
    Ok(answer)
}

/// `POST /v1/auth/providers/exchange`: a callback's code, once.
pub async fn exchange(
    state: &AppState,
    code: &str,
    who: Option<&Authenticated>,
    meta: &RequestMeta,
) -> Result<Exchanged, ApiError> {
    let now = state.now();
    let taken = state
        .store
        .take_provider_code(&sha256_hex(code), now)
        .await?
        .ok_or(ApiError::InvalidLinkToken)?;
    // The provider may have been disabled since the callback.
    let p = state
        .providers
        .enabled(&taken.provider)
        .ok_or(ApiError::InvalidLinkToken)?;
    if let Some(identity) = taken.identity {
        let who = who.ok_or(ApiError::Unauthenticated)?;
        if taken.link_user_id.as_deref() != Some(who.user.id.as_str()) {
            return Err(ApiError::Forbidden);
        }
        let view: IdentityView =
            serde_json::from_str(&identity).map_err(|e| ApiError::Internal(e.to_string()))?;
        let row = IdentityRow {
            id: view.id.clone(),
            user_id: who.user.id.clone(),
            provider: view.provider.clone(),
            subject: view.subject.clone(),
            email: view.email.clone(),
            email_verified: view.email_verified,
            name: view.name.clone(),
            created_at: now,
            last_login_at: None,
        };
        let event = meta.event(
            now,
            "identity.linked",
            Some(&who.user.id),
            json!({ "identity": row.id, "provider": row.provider }),
        );
        return match state.store.link_identity(row, event).await? {
            Link::Linked(row) | Link::AlreadyLinked(row) => {
                count(state, &p.id, "linked");
                Ok(Exchanged::Linked {
                    identity: IdentityView::from(&row),
                })
            }
            Link::Elsewhere => Err(ApiError::Conflict(
                "this provider account is linked to another toktok account".to_owned(),
            )),
        };
    }
    let user = state
        .store
        .user_by_id(&taken.user_id)
        .await?
        .ok_or(ApiError::InvalidLinkToken)?;
    if user.disabled {
        count(state, &p.id, "disabled");
        return Err(ApiError::Forbidden);
    }
    sign_in(state, p, &user, meta).await.map(Exchanged::SignIn)
}

/// `GET /v1/users/me/identities`.
pub async fn identities(
    state: &AppState,
    who: &Authenticated,
) -> Result<Vec<IdentityView>, ApiError> {
    Ok(state
        .store
        .identities_of(&who.user.id)
        .await?
        .iter()
        .map(IdentityView::from)
        .collect())
}

/// `DELETE /v1/users/me/identities/{id}`: never the last way in.
pub async fn unlink(
    state: &AppState,
    who: &Authenticated,
    id: &str,
    meta: &RequestMeta,
) -> Result<(), ApiError> {
    let now = state.now();
    let event = meta.event(now, "identity.unlinked", Some(&who.user.id), json!({}));
    match state
        .store
        .unlink_identity(&who.user.id, id, ways_in(state), event)
        .await?
    {
        Unlink::Removed => Ok(()),
        Unlink::NotFound => Err(ApiError::NotFound),
        Unlink::LastWay => Err(ApiError::Conflict(
            "this identity is the account's last way to sign in: set a password or add a passkey first"
                .to_owned(),
        )),
    }
}
