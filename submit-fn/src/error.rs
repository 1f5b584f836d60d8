//! `AppError`: every way a request can fail before a form is shown again, and the one
//! place where such a failure becomes a response with a fixed status and a calm page.

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::form::FormError;
use crate::messages::PageKind;
use crate::render::{Pages, PagesError};
use crate::store::StoreError;

/// A request that ends in a whole-page message instead of the form.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Form(#[from] FormError),
    #[error("request body over the limit")]
    TooLarge,
    #[error("not found")]
    NotFound,
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// A template of the function's own (moderation, mail) failed.
    #[error("template: {0}")]
    Render(#[from] tera::Error),
    /// The theme could not render one of the resident's pages.
    #[error("theme page: {0}")]
    Page(#[from] PagesError),
    /// A poster's action changed the queue but could not update the site.
    #[error("poster action: {0}")]
    Action(crate::moderate::ModerateError),
    /// The content store could not say whether a post is on the site.
    #[error("content store: {0}")]
    Publish(#[from] crate::publish::PublishError),
}

impl AppError {
    fn status_and_page(&self) -> (StatusCode, PageKind) {
        match self {
            AppError::Form(FormError::UnsupportedMediaType) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, PageKind::UnsupportedMediaType)
            }
            AppError::Form(_) => (StatusCode::BAD_REQUEST, PageKind::Unreadable),
            AppError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, PageKind::TooLarge),
            AppError::NotFound => (StatusCode::NOT_FOUND, PageKind::NotFound),
            AppError::Action(_) => (StatusCode::INTERNAL_SERVER_ERROR, PageKind::ActionFailed),
            AppError::Store(_) | AppError::Render(_) | AppError::Page(_) | AppError::Publish(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, PageKind::ServerError)
            }
        }
    }

    /// The response for this error: its status and page, logged once. Internal errors are
    /// logged as errors with their cause; refusals as info with their reason only.
    pub fn into_page(self, pages: &Pages, form_url: &str) -> Response {
        let (status, kind) = self.status_and_page();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        } else {
            tracing::info!(status = status.as_u16(), reason = %self, "request refused");
        }
        match pages.message(kind, form_url) {
            Ok(body) => (status, Html(body)).into_response(),
            Err(error) => {
                tracing::error!(%error, "message page failed to render");
                let plain = [(header::CONTENT_TYPE, "text/plain; charset=utf-8")];
                (status, plain, kind.key()).into_response()
            }
        }
    }
}
