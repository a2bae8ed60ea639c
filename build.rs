//! Swagger UI for `GET /docs` (src/http/swagger.rs), taken at build time from
//! the zip that the `utoipa-swagger-ui-vendored` crate carries (crates.io;
//! nothing is downloaded). Only the four files the page loads are kept, each
//! gzipped once here: the whole `dist/` folder with its source maps and
//! second bundles was 12 MiB of the binary (issue 25), these are 0.6 MiB.

use std::io::{Read, Write};
use std::path::PathBuf;

/// The files `/docs/` loads, as they are named in the zip's `dist/`.
const FILES: &[&str] = &[
    "swagger-ui-bundle.js",
    "swagger-ui-standalone-preset.js",
    "swagger-ui.css",
    "favicon-32x32.png",
];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let zip = std::io::Cursor::new(utoipa_swagger_ui_vendored::SWAGGER_UI_VENDORED);
    let mut archive = match zip::ZipArchive::new(zip) {
        Ok(archive) => archive,
        Err(e) => fail(&format!("the vendored Swagger UI zip does not open: {e}")),
    };
    let top = match archive
        .file_names()
        .next()
        .and_then(|n| n.split('/').next())
    {
        Some(top) => top.to_owned(),
        None => fail("the vendored Swagger UI zip is empty"),
    };
    for name in FILES {
        let mut raw = Vec::new();
        match archive.by_name(&format!("{top}/dist/{name}")) {
            Ok(mut file) => {
                if let Err(e) = file.read_to_end(&mut raw) {
                    fail(&format!("{name}: {e}"));
                }
            }
            Err(e) => fail(&format!("{name} is not in the Swagger UI zip: {e}")),
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let packed = gz.write_all(&raw).and_then(|()| gz.finish());
        match packed {
            Ok(bytes) => {
                if let Err(e) = std::fs::write(out.join(format!("{name}.gz")), bytes) {
                    fail(&format!("writing {name}.gz: {e}"));
                }
            }
            Err(e) => fail(&format!("gzipping {name}: {e}")),
        }
    }
}

fn fail(message: &str) -> ! {
    eprintln!("build.rs (Swagger UI): {message}");
    std::process::exit(1)
}
