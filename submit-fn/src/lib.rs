//! buurtbord's submission function: the form route, validation, spam defence and the
//! moderation queue, served by `buurtbord serve` and, through `lambda_http`, by AWS Lambda.

pub mod app;
pub mod auth;
pub mod beheer;
pub mod error;
pub mod form;
pub mod lambda;
pub mod local;
pub mod login;
pub mod mail;
pub mod manage;
pub mod messages;
pub mod moderate;
pub mod notify;
pub mod poster;
pub mod publish;
pub mod publish_s3;
pub mod render;
pub mod rules;
pub mod spam;
pub mod store;
pub mod submission;
pub mod submit;
pub mod validate;

pub use app::{App, AppState, router};
