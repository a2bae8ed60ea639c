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

use super::login::Assurance;
use super::signin::{self, SignInAnswer};
use super::{assurance, Authenticated, RequestMeta};
use crate::app::AppState;
use crate::auth::sha256_hex;
use crate::config::ProviderConfig;
use crate::domain::email::Email;
use crate::error::ApiError;
use crate::federation::redirect;
use crate::federation::upstream::{Person, UpstreamError};
use crate::store::{IdentityRow, Link, ProviderFlowRow, StoreError, Unlink, UserRecord, WaysIn};

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

/// `GET /v1/auth/providers/{id}/start`: a sign-in that lands at
/// `redirect_to` (allow-listed) or continues the sealed `oauth_flow`.
pub async fn start(
    state: &AppState,
    id: &str,
    redirect_to: Option<&str>,
    oauth_flow: Option<&str>,
) -> Result<Started, ApiError> {
    let p = provider(state, id)?;
    let (redirect_to, oauth_flow) =
        match (redirect_to.filter(|r| !r.is_empty()), oauth_flow) {
            (_, Some(sealed)) => {
                crate::oidc::sealed::Flow::open(&state.pages_key, sealed, state.now())
                    .ok_or(ApiError::InvalidLinkToken)?;
                (None, Some(sealed.to_owned()))
            }
            (Some(to), None) => (Some(allowed_redirect(state, to)?), None),
            (None, None) => return Err(ApiError::field(
                "redirect_to",
                "required: where to send the browser back to (one of [accounts] allowed_redirects)",
            )),
        };
    let binding = random_b64(32)?;
    let url = begin(state, p, Some(&binding), redirect_to, oauth_flow, None).await?;
    Ok(Started {
        url,
        binding: Some(binding),
    })
}

fn allowed_redirect(state: &AppState, to: &str) -> Result<String, ApiError> {
    redirect::allowed(to, &state.config.accounts.allowed_redirects).ok_or_else(|| {
        ApiError::field(
            "redirect_to",
            "not an allowed redirect (see [accounts] allowed_redirects)",
        )
    })
}

/// `POST /v1/users/me/identities/{provider}/start` (R): a link for `who`.
pub async fn start_link(
    state: &AppState,
    who: &Authenticated,
    id: &str,
    redirect_to: &str,
) -> Result<Started, ApiError> {
    let p = provider(state, id)?;
    assurance::require_recent(state, who).await?;
    let redirect_to = allowed_redirect(state, redirect_to)?;
    let url = begin(state, p, None, Some(redirect_to), None, Some(&who.user.id)).await?;
    Ok(Started { url, binding: None })
}

async fn begin(
    state: &AppState,
    p: &ProviderConfig,
    binding: Option<&str>,
    redirect_to: Option<String>,
    oauth_flow: Option<String>,
    link_user_id: Option<&str>,
) -> Result<String, ApiError> {
    let now = state.now();
    let (state_value, nonce, verifier) = (random_b64(32)?, random_b64(32)?, random_b64(32)?);
    let challenge = crate::oidc::pkce::challenge_of(&verifier);
    let url = state
        .providers
        .authorization_url(
            p,
            &callback_url(state, &p.id),
            &state_value,
            &nonce,
            &challenge,
            now,
        )
        .await
        .map_err(|e| upstream(state, p, &e))?;
    state
        .store
        .insert_provider_flow(ProviderFlowRow {
            state_hash: sha256_hex(&state_value),
            provider: p.id.clone(),
            nonce,
            code_verifier: verifier,
            binding_hash: binding.map(sha256_hex),
            redirect_to,
            oauth_flow,
            link_user_id: link_user_id.map(str::to_owned),
            created_at: now,
            expires_at: now + FLOW_TTL,
        })
        .await?;
    Ok(url)
}

/// `GET|POST /v1/auth/providers/{id}/callback`.
pub async fn callback(
    state: &AppState,
    id: &str,
    params: CallbackParams,
    binding: Option<&str>,
    meta: &RequestMeta,
) -> Landing {
    let Some(p) = state.providers.enabled(id) else {
        return Landing::Refused(ApiError::NotFound);
    };
    let now = state.now();
    let Some(state_value) = params.state.as_deref().filter(|s| !s.is_empty()) else {
        count(state, &p.id, "bad_state");
        return Landing::Refused(ApiError::InvalidLinkToken);
    };
    let flow = match state
        .store
        .take_provider_state(&sha256_hex(state_value), now)
        .await
    {
        Ok(Some(flow)) if flow.provider == p.id => flow,
        Ok(_) => {
            count(state, &p.id, "bad_state");
            return Landing::Refused(ApiError::InvalidLinkToken);
        }
        Err(e) => return Landing::Refused(e.into()),
    };
    // The browser that started a sign-in must be the one finishing it
    // (RFC 9700 §4.7: login CSRF).
    if let Some(expected) = &flow.binding_hash {
        // Hashes compared: the time says nothing about the cookie.
        let same = binding.is_some_and(|b| sha256_hex(b) == *expected);
        if !same {
            count(state, &p.id, "bad_state");
            return Landing::Refused(ApiError::InvalidLinkToken);
        }
    }
    let outcome = finish_callback(state, p, &flow, &params, now, meta).await;
    match (outcome, flow.oauth_flow, flow.redirect_to) {
        (Ok(Finished::SignIn(answer)), Some(sealed), _) => Landing::Authorize { answer, sealed },
        (Err(error), Some(sealed), _) => Landing::AuthorizeRefused { error, sealed },
        (Ok(Finished::Code(code)), None, Some(to)) => {
            Landing::Redirect(fragment(&to, &[("code", &code)]))
        }
        (Err(e), None, Some(to)) => {
            let (_, code, _) = e.parts();
            Landing::Redirect(fragment(
                &to,
                &[("error", code), ("error_description", &e.to_string())],
            ))
        }
        (_, None, None)
        | (Ok(Finished::SignIn(_)), None, Some(_))
        | (Ok(Finished::Code(_)), Some(_), _) => Landing::Refused(ApiError::Internal(
            "a provider flow without a destination".to_owned(),
        )),
    }
}

/// `to` with `#pairs` (form-encoded).
fn fragment(to: &str, pairs: &[(&str, &str)]) -> String {
    let encoded = serde_urlencoded::to_string(pairs).unwrap_or_default();
    format!("{to}#{encoded}")
}

enum Finished {
    /// For the application: the exchange code.
    Code(String),
    /// For a pending authorization: signed in already.
    SignIn(Box<SignInAnswer>),
}

async fn finish_callback(
    state: &AppState,
    p: &ProviderConfig,
    flow: &ProviderFlowRow,
    params: &CallbackParams,
    now: i64,
    meta: &RequestMeta,
) -> Result<Finished, ApiError> {
    if let Some(error) = &params.error {
        let clip = |s: &str| s.chars().take(200).collect::<String>();
        tracing::info!(
            provider = %p.id,
            error = %clip(error),
            description = %clip(params.error_description.as_deref().unwrap_or("")),
            "the provider answered with an error"
        );
        count(state, &p.id, "denied");
        return Err(ApiError::Forbidden);
    }
    // RFC 9207: an issuer in the response must be this provider's.
    if let (Some(iss), crate::config::ProviderKind::Oidc) = (&params.iss, p.kind) {
        if iss.trim_end_matches('/') != p.issuer {
            count(state, &p.id, "refused");
            return Err(ApiError::InvalidLinkToken);
        }
    }
    let Some(code) = params
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= 2048)
    else {
        count(state, &p.id, "refused");
        return Err(ApiError::InvalidLinkToken);
    };
    let person = state
        .providers
        .person(
            p,
            code,
            &callback_url(state, &p.id),
            &flow.code_verifier,
            &flow.nonce,
            now,
        )
        .await
        .map_err(|e| upstream(state, p, &e))?;
    if person.subject.is_empty() || person.subject.len() > 255 {
        count(state, &p.id, "refused");
        return Err(ApiError::InvalidLinkToken);
    }
    if let Some(link_user) = &flow.link_user_id {
        // A link: checked and written at the exchange, with the access
        // token of the user who started it.
        let identity = new_identity(p, &person, link_user, now);
        let json = serde_json::to_string(&IdentityView::from(&identity))
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let code = random_b64(32)?;
        state
            .store
            .set_provider_code(
                flow.state_hash.clone(),
                sha256_hex(&code),
                link_user.clone(),
                Some(json),
                now + CODE_TTL,
            )
            .await?;
        return Ok(Finished::Code(code));
    }
    let user = signing_in(state, p, &person, now, meta).await?;
    if flow.oauth_flow.is_some() {
        let answer = sign_in(state, p, &user, meta).await?;
        return Ok(Finished::SignIn(Box::new(answer)));
    }
    let code = random_b64(32)?;
    state
        .store
        .set_provider_code(
            flow.state_hash.clone(),
            sha256_hex(&code),
            user.id.clone(),
            None,
            now + CODE_TTL,
        )
        .await?;
    Ok(Finished::Code(code))
}

fn new_identity(p: &ProviderConfig, person: &Person, user_id: &str, now: i64) -> IdentityRow {
    IdentityRow {
        id: uuid::Uuid::now_v7().to_string(),
        user_id: user_id.to_owned(),
        provider: p.id.clone(),
        subject: person.subject.clone(),
        email: person.email.clone(),
        email_verified: person.email_verified && person.email.is_some(),
        name: person.name.clone(),
        created_at: now,
        last_login_at: Some(now),
    }
}

/// The account this person signs in to, by the linking rules.
async fn signing_in(
    state: &AppState,
    p: &ProviderConfig,
    person: &Person,
    now: i64,
    meta: &RequestMeta,
) -> Result<UserRecord, ApiError> {
    if let Some(identity) = state
        .store
        .identity_by_subject(&p.id, &person.subject)
        .await?
    {
        let user = state
            .store
            .user_by_id(&identity.user_id)
            .await?
            .ok_or(ApiError::InvalidLinkToken)?;
        if user.disabled {
            count(state, &p.id, "disabled");
            return Err(ApiError::Forbidden);
        }
        let mut touched = identity;
        touched.email = person.email.clone();
        touched.email_verified = person.email_verified && person.email.is_some();
        touched.name = person.name.clone();
        state.store.touch_identity(touched, now).await?;
        return Ok(user);
    }
    // An unknown identity: a new account, only at a free address.
    let email = person
        .email
        .as_deref()
        .and_then(|e| Email::parse(e).ok())
        .ok_or_else(|| {
            count(state, &p.id, "no_email");
            ApiError::field(
                "email",
                "the provider shared no usable email address; allow toktok to read it there",
            )
        })?;
    let key = email.normalized();
    if state.store.user_by_email_key(&key).await?.is_some() {
        return Err(link_required(state, p, person, now, meta).await);
    }
    if !state.config.accounts.registration_open {
        count(state, &p.id, "registration_closed");
        return Err(ApiError::RegistrationClosed);
    }
    let confirmed = (person.email_verified).then_some(now);
    let mut user = super::register::new_user_record(&email, "user", None, confirmed, now);
    user.name = person
        .name
        .as_deref()
        .map(|n| n.chars().filter(|c| !c.is_control()).take(200).collect());
    let identity = new_identity(p, person, &user.id, now);
    let event = meta.event(
        now,
        "user.registered",
        Some(&user.id),
        json!({ "via": "provider", "provider": p.id, "identity": identity.id }),
    );
    match state
        .store
        .insert_user_with_identity(user.clone(), key, identity, event)
        .await
    {
        Ok(()) => Ok(user),
        // The address was taken meanwhile (or the identity signed up in
        // another tab): the same rules, read again.
        Err(StoreError::Conflict(_)) => Err(link_required(state, p, person, now, meta).await),
        Err(e) => Err(e.into()),
    }
}

/// An unknown identity at an address an account has: nothing linked,
/// nobody signed in, and the event says so.
async fn link_required(
    state: &AppState,
    p: &ProviderConfig,
    person: &Person,
    now: i64,
    meta: &RequestMeta,
) -> ApiError {
    count(state, &p.id, "link_required");
    let event = meta.event(
        now,
        "provider.link_required",
        None,
        json!({ "provider": p.id, "email_verified": person.email_verified }),
    );
    if let Err(e) = state.store.audit(event).await {
        tracing::warn!(error = %e, "cannot write the provider.link_required audit event");
    }
    ApiError::LinkRequired
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
