//! buurtbord's submission function: the form route, validation, spam defence and the
//! moderation queue, served by `buurtbord serve` and, through `lambda_http`, by AWS Lambda.

pub mod app;
pub mod auth;
pub mod beheer;
pub mod cloud;
pub mod daily;
pub mod edit;
pub mod error;
pub mod form;
pub mod lambda;
pub mod local;
pub mod login;
pub mod lost_link;
pub mod mail;
pub mod mail_ses;
pub mod manage;
pub mod messages;
pub mod moderate;
pub mod notify;
pub mod post_forms;
pub mod poster;
pub mod privacy;
pub mod publish;
pub mod publish_s3;
pub mod render;
pub mod report;
pub mod respond;
pub mod revise;
pub mod rules;
pub mod spam;
pub mod stats;
pub mod store;
pub mod submission;
pub mod submit;
pub mod validate;

pub use app::{App, AppState, router};
