//! Recorded Lambda events (cases C09, C10, C14) through `lambda_http::request::from_str`
//! and the real handler, on a real SQLite queue.
//!
//! The events post to `/submit` without the form's hidden fields; each test maps the path
//! to `/plaatsen` and adds consent, a signed form token and a nonce, re-encoding the body
//! as base64 when the event says it is.

mod common;

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::*;

/// Loads an event, maps it onto the product's route and adds the hidden fields.
fn event(case: &str, file: &str, extras: &str) -> lambda_http::Request {
    let text = String::from_utf8(case_bytes(case, file)).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let encoded = json["isBase64Encoded"].as_bool().unwrap_or(false);
    let body = json["body"].as_str().unwrap_or_default();
    let mut plain = if encoded { STANDARD.decode(body).unwrap() } else { body.as_bytes().to_vec() };
    plain.extend_from_slice(extras.as_bytes());
    json["body"] = if encoded {
        STANDARD.encode(&plain).into()
    } else {
        String::from_utf8(plain).unwrap().into()
    };
    let text = json.to_string().replace("/submit\"", "/plaatsen\"");
    lambda_http::request::from_str(&text).unwrap()
}

async fn run(t: &TestApp, request: lambda_http::Request) -> Answer {
    let router = submit_fn::router(t.app.clone());
    answer(submit_fn::lambda::handle(router, request).await).await
}

// C09: the base64 and the plain Function URL events store the same submission; the HTML
// answer is text, not base64.
#[tokio::test]
async fn c09_base64_and_plain_bodies_store_the_same_submission() {
    let t = sqlite_app(100);
    for file in ["event-function-url-base64.json", "event-function-url-plain.json"] {
        let extras = form_extras(&t.app.secrets);
        let answer = run(&t, event("C09", file, &extras)).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{file}: {}", answer.html);
    }
    let items = all_pending(&t.store).await;
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].submission, items[1].submission);
    assert_eq!(items[0].submission.title, "Need help moving a sofa");

    let refused = run(&t, event("C09", "event-function-url-plain.json", "")).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.content_type.as_deref(), Some("text/html; charset=utf-8"));
}

// C09 must 5: an HTML response leaves the Lambda entry as text (isBase64Encoded false).
#[tokio::test]
async fn c09_html_response_is_returned_as_text() {
    let t = sqlite_app(100);
    let request = event("C09", "event-function-url-plain.json", "");
    let response = submit_fn::lambda::handle(submit_fn::router(t.app.clone()), request).await;
    let response = lambda_http::IntoResponse::into_response(response).await;
    assert!(matches!(response.body(), lambda_http::Body::Text(_)), "{:?}", response.body());
}

// C09 must 3: a body that is not base64 never reaches the store, and the next invocation is
// served. lambda_http panics while decoding it (before our handler); the runtime turns that
// into a failed invocation.
#[tokio::test]
async fn c09_bad_base64_stores_nothing_and_later_invocations_work() {
    let t = sqlite_app(100);
    let text = String::from_utf8(case_bytes("C09", "event-bad-base64.json")).unwrap();
    let parsed = std::panic::catch_unwind(|| lambda_http::request::from_str(&text));
    assert!(!matches!(parsed, Ok(Ok(_))), "bad base64 must not become a request");
    assert!(all_pending(&t.store).await.is_empty());

    let extras = form_extras(&t.app.secrets);
    let answer = run(&t, event("C09", "event-function-url-base64.json", &extras)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
}

// C10: all five event shapes reach the route; the redirect stays inside a named stage.
#[tokio::test]
async fn c10_every_event_shape_routes_and_redirects_inside_its_stage() {
    let t = sqlite_app(100);
    let cases = [
        ("event-rest-v1-stage.json", "/prod/bedankt/"),
        ("event-http-v2-named-stage.json", "/prod/bedankt/"),
        ("event-http-v2-default-stage.json", "/bedankt/"),
        ("event-http-v2-custom-domain.json", "/bedankt/"),
        ("event-function-url.json", "/bedankt/"),
    ];
    for (file, location) in cases {
        let extras = form_extras(&t.app.secrets);
        let answer = run(&t, event("C10", file, &extras)).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{file}: {}", answer.html);
        let got = answer.location.unwrap();
        assert!(got.starts_with(location), "{file}: {got}");
    }
    assert_eq!(all_pending(&t.store).await.len(), 5);
}

// C10 must 4: a re-rendered form posts back inside the stage.
#[tokio::test]
async fn c10_rerendered_form_action_keeps_the_stage_prefix() {
    let t = sqlite_app(100);
    let answer = run(&t, event("C10", "event-rest-v1-stage.json", "")).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.html.contains("action=\"/prod/plaatsen\""), "{}", answer.html);
}

// C14: two attempts with the same nonce (retry, double click) store one item and both get
// the same confirmation.
#[tokio::test]
async fn c14_retried_event_stores_one_item_with_the_same_confirmation() {
    let t = sqlite_app(100);
    let extras = form_extras(&t.app.secrets);
    // The case's own submission_id is kept; our extras add a nonce that the first-wins rule
    // ignores, so the case's UUID is the nonce.
    let first = run(&t, event("C14", "event-attempt-1.json", &extras)).await;
    let second = run(&t, event("C14", "event-attempt-2.json", &extras)).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.html);
    assert_eq!(second.status, StatusCode::SEE_OTHER);
    assert_eq!(first.location, second.location);
    let items = all_pending(&t.store).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].nonce, "7d0f3c2e-9b1a-4c55-8e21-3f6a0b9c1d44");
}
