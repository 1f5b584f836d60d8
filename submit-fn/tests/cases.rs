//! The handed cases about forms and encodings (C01, C02, C04, C05, C13, C20, C23), each
//! driven through the real router on a real SQLite queue.

mod common;

use axum::http::StatusCode;
use common::*;
use submit_fn::store::QueueStore;

/// Posts a case form (with the hidden fields a real form adds) and returns the answer.
async fn post_case(t: &TestApp, case: &str, file: &str) -> Answer {
    post_form(&t.app, case_form(case, file, &t.app.secrets)).await
}

async fn stored_titles(t: &TestApp) -> Vec<String> {
    all_pending(&t.store).await.into_iter().map(|i| i.submission.title).collect()
}

// C01: emoji, variation selectors and ZWJ sequences are visible text and are stored as sent.
#[tokio::test]
async fn c01_emoji_titles_are_accepted_and_stored_exactly() {
    let t = sqlite_app(100);
    for file in ["form-trailing-emoji.txt", "form-emoji-only.txt", "form-zwj-sequence.txt"] {
        let answer = post_case(&t, "C01", file).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{file}: {}", answer.html);
    }
    let mut titles = stored_titles(&t).await;
    titles.sort();
    let mut expected = vec![
        "Bike repair help 🚲".to_owned(),
        "🛠️🚲🔧".to_owned(),
        "👨‍👩‍👧 Babysitter wanted 🏠".to_owned(),
    ];
    expected.sort();
    assert_eq!(titles, expected);
    let names: Vec<String> =
        all_pending(&t.store).await.into_iter().map(|i| i.submission.display_name).collect();
    assert!(names.contains(&"Resident A 🌻".to_owned()));
}

// C02: NFC and NFD input give byte-identical stored values and the same municipality key.
#[tokio::test]
async fn c02_nfc_and_nfd_forms_store_identical_values() {
    let t = sqlite_app(100);
    assert_eq!(post_case(&t, "C02", "form-nfc.txt").await.status, StatusCode::SEE_OTHER);
    assert_eq!(post_case(&t, "C02", "form-nfd.txt").await.status, StatusCode::SEE_OTHER);
    let items = all_pending(&t.store).await;
    assert_eq!(items.len(), 2);
    for item in &items {
        assert_eq!(item.submission.title, "Caf\u{e9} volunteers needed in \u{c5}sby");
        assert_eq!(item.submission.municipality, "asby");
    }
    let nfd = items.iter().find(|i| i.submission.display_name.starts_with("Ren")).unwrap();
    assert_eq!(nfd.submission.display_name, "Ren\u{e9}e B");
}

// C04: a title with a line break is a field error; dashes inside a line and a body with
// `---` fences are kept verbatim.
#[tokio::test]
async fn c04_title_newline_is_a_field_error_and_dashes_are_kept() {
    let t = sqlite_app(100);
    let answer = post_case(&t, "C04", "form-title-newline.txt").await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.html.contains("href=\"#veld-title\""), "{}", answer.html);
    assert!(answer.html.contains("id=\"fout-title\""));
    assert!(stored_titles(&t).await.is_empty());

    assert_eq!(post_case(&t, "C04", "form-inline-dashes.txt").await.status, StatusCode::SEE_OTHER);
    assert_eq!(post_case(&t, "C04", "form-body-fences.txt").await.status, StatusCode::SEE_OTHER);
    let items = all_pending(&t.store).await;
    assert!(items.iter().any(|i| i.submission.title == "Garage clear-out --- everything must go"));
    let fenced = items.iter().find(|i| i.submission.title == "Need help moving a sofa").unwrap();
    assert_eq!(
        fenced.submission.body,
        "---\ntitle: Injected\nkind: offer\n---\n\nFirst part.\n\n---\n\nAfter a rule.\n\nHeading\n---\n\nLast line."
    );
    assert_eq!(fenced.submission.kind.as_str(), "request");
}

// C05: values that look like booleans, numbers or dates stay the strings that were typed.
#[tokio::test]
async fn c05_yaml_like_values_stay_strings() {
    let t = sqlite_app(100);
    let files =
        ["form-norway.txt", "form-number-like.txt", "form-date-like.txt", "form-colon-quotes.txt"];
    for file in files {
        assert_eq!(post_case(&t, "C05", file).await.status, StatusCode::SEE_OTHER, "{file}");
    }
    let items = all_pending(&t.store).await;
    let pairs: Vec<(String, String)> =
        items.into_iter().map(|i| (i.submission.title, i.submission.display_name)).collect();
    for expected in [
        ("no", "yes"),
        ("007", "1e3"),
        ("2024-12-19", "Resident A"),
        ("Tips: how to \"borrow\" a ladder", "O'Neill: Resident C"),
    ] {
        assert!(
            pairs.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} not in {pairs:?}"
        );
    }
}

/// Splits a handed `.http` file into its Content-Type (if any) and its body bytes.
fn http_case(file: &str) -> (Option<String>, Vec<u8>) {
    let bytes = case_bytes("C13", file);
    let split = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(bytes[..split].to_vec()).unwrap();
    let content_type = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        .map(|(_, value)| value.trim().to_owned());
    (content_type, bytes[split + 4..].to_vec())
}

async fn post_http_case(t: &TestApp, file: &str, extras: bool) -> Answer {
    let (content_type, mut body) = http_case(file);
    if extras {
        body.extend_from_slice(form_extras(&t.app.secrets).as_bytes());
    }
    post(&t.app, content_type.as_deref(), body).await
}

// C13 must 1: a charset parameter and odd capitalisation are accepted like the plain type.
#[tokio::test]
async fn c13_charset_parameter_and_mixed_case_are_accepted() {
    let t = sqlite_app(100);
    for file in ["request-charset.http", "request-mixed-case.http"] {
        let answer = post_http_case(&t, file, true).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{file}: {}", answer.html);
    }
    assert_eq!(stored_titles(&t).await.len(), 2);
}

// C13 must 2-4: no Content-Type, text/plain, multipart and Latin-1 get 415 with a readable
// page that links back to the form, and nothing is stored.
#[tokio::test]
async fn c13_unsupported_content_types_get_415_page_and_store_nothing() {
    let t = sqlite_app(100);
    for file in [
        "request-missing-content-type.http",
        "request-text-plain.http",
        "request-multipart.http",
        "request-latin1-charset.http",
    ] {
        let answer = post_http_case(&t, file, true).await;
        assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{file}");
        assert_eq!(answer.content_type.as_deref(), Some("text/html; charset=utf-8"));
        assert!(answer.html.contains("href=\"/plaatsen\""), "{file}: {}", answer.html);
        assert!(answer.html.contains("<h1>"));
    }
    assert!(stored_titles(&t).await.is_empty());
}

// C13 (deviation, see issue 3): JSON is accepted for API clients, through the same spam
// checks and validation: the case's JSON without a form token is not stored, the same
// JSON with one is.
#[tokio::test]
async fn c13_json_passes_the_same_checks_as_the_form() {
    let t = sqlite_app(100);
    let answer = post_http_case(&t, "request-json.http", false).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(stored_titles(&t).await.is_empty());

    let (_, body) = http_case("request-json.http");
    let mut object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&body).unwrap();
    let extras = form_extras(&t.app.secrets);
    for pair in extras.trim_start_matches('&').split('&') {
        let (key, value) = pair.split_once('=').unwrap();
        object.insert(key.into(), value.into());
    }
    let body = serde_json::to_vec(&object).unwrap();
    let answer = post(&t.app, Some("application/json"), body).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.html);
    assert_eq!(stored_titles(&t).await, ["Need help moving a sofa"]);
}

// C20: limits count characters: 150 Hangul and 400 ASCII characters are too long; 100 emoji
// (400 bytes) fit.
#[tokio::test]
async fn c20_title_limits_count_characters_not_bytes() {
    let t = sqlite_app(100);
    for file in ["form-long-hangul-title.txt", "form-long-ascii-title.txt"] {
        let answer = post_case(&t, "C20", file).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{file}");
        assert!(answer.html.contains("Gebruik hoogstens 120 tekens."), "{file}");
    }
    let answer = post_case(&t, "C20", "form-long-emoji-title.txt").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(stored_titles(&t).await[0].chars().count(), 100);
}

fn body_of(body: &str, secrets: &submit_fn::spam::Secrets) -> Vec<u8> {
    let mut form = b"title=Big&kind=request&category=moving&municipality=%C3%85sby\
        &display_name=Resident+A&email=resident-a%40example.org&body="
        .to_vec();
    form.extend_from_slice(body.as_bytes());
    form.extend_from_slice(form_extras(secrets).as_bytes());
    form
}

// C20: 4,000 two-byte characters fit the body; 4,001 characters are a field error; a request
// over 64 KiB gets 413 with a readable page, never a dropped connection.
#[tokio::test]
async fn c20_body_limit_in_characters_and_413_over_the_byte_ceiling() {
    let t = sqlite_app(100);
    let answer = post_form(&t.app, body_of(&"%C3%B8".repeat(4000), &t.app.secrets)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    let answer = post_form(&t.app, body_of(&"a".repeat(4001), &t.app.secrets)).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.html.contains("Gebruik hoogstens 4000 tekens."));

    for size in [450_000, 3_000_000] {
        let answer = post_form(&t.app, body_of(&"a".repeat(size), &t.app.secrets)).await;
        assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE, "{size}");
        assert!(answer.html.contains("href=\"/plaatsen\""));
    }
    assert_eq!(stored_titles(&t).await.len(), 1);
}

// C23 must 2: an empty optional `expires` is stored as absent and reads back as None.
#[tokio::test]
async fn c23_empty_optional_expires_reads_back_as_none() {
    let t = sqlite_app(100);
    assert_eq!(post_case(&t, "C23", "form-empty-optional.txt").await.status, StatusCode::SEE_OTHER);
    let item = &all_pending(&t.store).await[0];
    assert_eq!(item.submission.expires, None);
    assert_eq!(t.store.get(&item.id).await.unwrap().unwrap().submission.expires, None);
}

// C23 must 2 (form-ok): a valid `expires` is stored. The case's fixed 2025 date is in the
// past by now, so the date is moved to a month from today.
#[tokio::test]
async fn c23_valid_expires_is_stored() {
    let t = sqlite_app(100);
    let date = (chrono::Utc::now() + chrono::Duration::days(30)).date_naive();
    let body = String::from_utf8(case_form("C23", "form-ok.txt", &t.app.secrets)).unwrap();
    let body = body.replace("expires=2025-06-30", &format!("expires={date}"));
    assert_eq!(post_form(&t.app, body.into_bytes()).await.status, StatusCode::SEE_OTHER);
    assert_eq!(all_pending(&t.store).await[0].submission.expires, Some(date));
}

// C23 must 3: a space, an empty value and a lone U+00A0 are empty, reported before any
// store call.
#[tokio::test]
async fn c23_blank_required_fields_are_field_errors() {
    let t = sqlite_app(100);
    let answer = post_case(&t, "C23", "form-empty-required.txt").await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    for field in ["category", "municipality", "display_name"] {
        assert!(answer.html.contains(&format!("href=\"#veld-{field}\"")), "{field}");
    }
    assert!(stored_titles(&t).await.is_empty());
}
