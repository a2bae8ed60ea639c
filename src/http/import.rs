//! `POST /v1/admin/users/import`: users with their password hashes, one
//! JSON object a line (`application/x-ndjson`), read as the body streams in
//! (`accounts::import`). Exempt from `server.request_timeout` (a million
//! lines take a while): instead each piece of the body must arrive within
//! it.

use axum::body::Body;
use axum::extract::{RawQuery, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::Json;
use http_body_util::BodyExt as _;

use super::admin::{param, query_pairs};
use super::extract::{Admin, Meta};
use crate::accounts::import::{ImportReport, Importer, Source};
use crate::app::AppState;
use crate::error::ApiError;

/// The route, for the request deadline's exemption (`router.rs`).
pub const IMPORT_PATH: &str = "/v1/admin/users/import";

#[utoipa::path(post, path = "/v1/admin/users/import", tag = "admin",
    summary = "Import users with their password hashes",
    description = "One user a line (docs/import.md): `{\"email\", \"password_hash\"?, \"email_confirmed\"?, \"name\"?, \"role\"?, \"metadata\"?, \"app_metadata\"?, \"created_at\"?, \"id\"?, \"disabled\"?}`. Written in batches of 500, each in one transaction, so running the same file again after an interruption adds only what is missing. Every line that is not imported is reported by number with its reason; an address that exists is skipped (`reason: exists`).",
    security(("api_key" = []), ("bearer_jwt" = [])),
    params(
        ("dry_run" = Option<bool>, Query, description = "Check every line and report, writing nothing."),
    ),
    request_body(content = String, content_type = "application/x-ndjson",
        description = "One JSON object a line (the `UserLine` schema)."),
    responses(
        (status = 200, description = "What became of each line.", body = ImportReport),
        (status = 400, description = "`malformed_body`: the body stalled or broke off"),
        (status = 415, description = "`unsupported_media_type`: not application/x-ndjson"),
        (status = 422, description = "`validation_failed`: a bad `dry_run`"),
    ))]
#[tracing::instrument(skip_all)]
pub async fn import_users(
    State(state): State<AppState>,
    Admin(actor): Admin,
    Meta(meta): Meta,
    RawQuery(query): RawQuery,
    request: Request,
) -> Result<Json<ImportReport>, ApiError> {
    let q = query_pairs(query)?;
    let dry_run = match param(&q, "dry_run") {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(_) => return Err(ApiError::field("dry_run", "must be true or false")),
    };
    let ndjson = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| v == "application/x-ndjson" || v == "application/jsonl");
    if !ndjson {
        return Err(ApiError::UnsupportedMediaType);
    }
    let idle = state.config.server.request_timeout;
    let mut body: Body = request.into_body();
    let mut importer = Importer::new(&state, dry_run, Source::Api, actor, meta);
    loop {
        let frame = match tokio::time::timeout(idle, body.frame()).await {
            Err(_) => {
                return Err(ApiError::MalformedBody(format!(
                    "the body stalled for {} s after line {}; the lines before were imported, \
                     send the file again to finish",
                    idle.as_secs(),
                    importer.lines()
                )))
            }
            Ok(None) => break,
            Ok(Some(Err(_))) => {
                return Err(ApiError::MalformedBody(format!(
                    "the body broke off after line {}; send the file again to finish",
                    importer.lines()
                )))
            }
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        importer.feed(&data).await?;
    }
    Ok(Json(importer.finish().await?))
}
