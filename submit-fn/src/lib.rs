//! buurtbord's submission function: the form route, validation, spam defence and the
//! moderation queue, served by `buurtbord serve` and, through `lambda_http`, by AWS Lambda.

pub mod messages;
pub mod rules;
pub mod spam;
pub mod store;
pub mod submission;
pub mod validate;
