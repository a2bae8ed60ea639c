//! The round trip to a provider: `start` (and `start_link`), then the
//! `callback` that redeems the provider's answer and applies the linking
//! rules (`super`'s documentation) to it.

use serde_json::json;

use super::super::{assurance, Authenticated, RequestMeta};
use super::IdentityView;
use super::{
    callback_url, count, provider, random_b64, sign_in, upstream, CallbackParams, Landing, Started,
    CODE_TTL, FLOW_TTL,
};
use crate::accounts::signin::SignInAnswer;
use crate::app::AppState;
use crate::auth::sha256_hex;
use crate::config::ProviderConfig;
use crate::domain::email::Email;
use crate::error::ApiError;
use crate::federation::redirect;
use crate::federation::upstream::Person;
use crate::store::{IdentityRow, ProviderFlowRow, StoreError, UserRecord};

/// `GET /v1/auth/providers/{id}/start`: a sign-in that lands at
/// `redirect_to` (allow-listed) or continues the sealed `oauth_flow`,
/// which the caller has opened (`http::providers`).
pub async fn start(
    state: &AppState,
    id: &str,
    redirect_to: Option<&str>,
    oauth_flow: Option<&str>,
    meta: &RequestMeta,
) -> Result<Started, ApiError> {
    let p = provider(state, id)?;
    // A sign-in attempt: each writes a row and may reach the provider.
    meta.limit(state, crate::ratelimit::Bucket::Login).await?;
    let (redirect_to, oauth_flow) =
        match (redirect_to.filter(|r| !r.is_empty()), oauth_flow) {
            // Sealed, and checked by the hosted pages (`http::providers`).
            (_, Some(sealed)) => (None, Some(sealed.to_owned())),
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

/// Where a link started from the account center comes back to: toktok's
/// own page, which exchanges the code with the browser's session.
pub const ACCOUNT_LANDING: &str = "/account/providers/linked";

/// A link for `who` started from the account center (R): like
/// [`start_link`], landing on [`ACCOUNT_LANDING`] under `public_url`,
/// which is toktok's own and needs no `allowed_redirects` entry.
pub async fn start_link_here(
    state: &AppState,
    who: &Authenticated,
    id: &str,
) -> Result<Started, ApiError> {
    let p = provider(state, id)?;
    assurance::require_recent(state, who).await?;
    let public = state.config.server.public_url.trim_end_matches('/');
    let to = format!("{public}{ACCOUNT_LANDING}");
    let url = begin(state, p, None, Some(to), None, Some(&who.user.id)).await?;
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
    let challenge = crate::domain::digest::sha256_b64url(&verifier);
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
    let mut user = crate::accounts::register::new_user_record(&email, "user", None, confirmed, now);
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
