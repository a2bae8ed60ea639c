//! A router of plain (non-OpenAPI) routes that remembers each path it is
//! given. axum's `Router` cannot list its routes, and the API's list comes
//! from the OpenAPI document ([`super::operations`]); the account center,
//! the console and the static assets are not in it. Built through
//! [`Listed`], they can be walked all the same: the pages' authorization
//! matrix (tests/api/authz_pages.rs) takes its page rows from [`super::page_paths`],
//! so a new page cannot be left out of it.

use axum::routing::MethodRouter;
use axum::Router;

use crate::app::AppState;

/// A `Router` and the paths given to it, in order.
#[derive(Default)]
pub struct Listed {
    router: Router<AppState>,
    paths: Vec<&'static str>,
}

impl Listed {
    /// [`Router::route`], remembering `path`.
    pub fn route(mut self, path: &'static str, handler: MethodRouter<AppState>) -> Listed {
        self.router = self.router.route(path, handler);
        self.paths.push(path);
        self
    }

    /// Both lists in one.
    pub fn merge(mut self, other: Listed) -> Listed {
        self.router = self.router.merge(other.router);
        self.paths.extend(other.paths);
        self
    }

    /// The paths given, in the router's syntax (`/admin/users/{id}`).
    #[cfg(any(test, feature = "testing"))]
    pub fn paths(&self) -> &[&'static str] {
        &self.paths
    }

    pub fn into_router(self) -> Router<AppState> {
        self.router
    }
}
