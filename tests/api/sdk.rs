//! `GET /sdk/toktok.js` and `/sdk/toktok.d.ts` (issue 24): the files of
//! clients/js/ as they are, cached, revalidated by an ETag that is the
//! module's subresource-integrity value, loadable from any origin.

use base64::Engine as _;
use reqwest::StatusCode;
use sha2::Digest as _;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_library_is_served_as_the_repository_holds_it() {
    let app = spawn_app().await;
    let file = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/clients/js/toktok.js")).unwrap();
    let sri = format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(&file))
    );
    let res = app
        .client
        .get(app.url("/sdk/toktok.js"))
        .header("origin", "https://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let h = res.headers().clone();
    assert_eq!(h["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(h["access-control-allow-origin"], "*");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h["cache-control"]
        .to_str()
        .unwrap()
        .contains("max-age=604800"));
    assert_eq!(h["etag"].to_str().unwrap(), format!("\"{sri}\""));
    assert_eq!(res.bytes().await.unwrap().as_ref(), file.as_slice());
    assert_eq!(toktok::http::sdk::integrity(), sri);

    let again = app
        .client
        .get(app.url("/sdk/toktok.js"))
        .header("if-none-match", format!("\"{sri}\""))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    let types = app
        .client
        .get(app.url("/sdk/toktok.d.ts"))
        .send()
        .await
        .unwrap();
    assert_eq!(types.status(), StatusCode::OK);
    let text = types.text().await.unwrap();
    assert!(text.contains("export declare function createClient"));
}
