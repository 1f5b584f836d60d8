//! The submission journey through the router: the form, spam refusals, re-rendering with
//! every value kept, double submit, rate limit, the confirmation page, and 1,000
//! concurrent submissions over a real socket.

mod common;

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use common::*;
use submit_fn::spam::new_nonce;

const GOOD: &str = "title=Boodschappen+%F0%9F%9B%92&kind=request&category=moving\
    &municipality=asby&body=Regel+1%0D%0ARegel+2&display_name=Anna&email=anna%40example.org";

fn good(t: &TestApp) -> Vec<u8> {
    format!("{GOOD}{}", form_extras(&t.app.secrets)).into_bytes()
}

// Guards that the form served by the function carries fresh hidden fields and the honeypot,
// and that the kind from the query is chosen (a request when there is none).
#[tokio::test]
async fn get_form_has_fresh_token_nonce_and_honeypot() {
    let t = sqlite_app(5);
    let answer = get(&t.app, "/plaatsen?kind=offer").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.html.contains("name=\"form_token\" value=\""));
    assert!(answer.html.contains("name=\"submission_id\" value=\""));
    assert!(
        answer.html.contains("name=\"website\" tabindex=\"-1\" autocomplete=\"off\" value=\"\"")
    );
    assert!(answer.html.contains("value=\"offer\" checked"));
    assert!(answer.html.contains("<h1>Bied hulp aan</h1>"));
    let plain = get(&t.app, "/plaatsen").await;
    assert!(plain.html.contains("value=\"request\" required checked"), "{}", plain.html);
}

// Guards the happy path and the confirmation: 303, then a page with the private link;
// a wrong token shows nothing.
#[tokio::test]
async fn valid_submission_redirects_to_confirmation_with_management_link() {
    let t = sqlite_app(5);
    let answer = post_form(&t.app, good(&t)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.html);
    let location = answer.location.unwrap();
    let page = get(&t.app, &location).await;
    assert_eq!(page.status, StatusCode::OK);
    let id = all_pending(&t.store).await[0].id.clone();
    assert!(
        page.html.contains(&format!("https://buurtbord.example.nl/beheer-bericht/{id}?token="))
    );
    // The theme's page: its header, stylesheet and the site's name, without a Referer.
    assert!(page.html.contains("<h1>Bedankt, uw bericht is ontvangen</h1>"));
    assert!(page.html.contains("class=\"site-header\"") && page.html.contains("Buurtbord Test"));
    assert!(page.html.contains("href=\"/static/style.css\""));
    assert!(page.html.contains("<meta name=\"referrer\" content=\"no-referrer\">"));
    let forged = location.split("token=").next().unwrap().to_owned() + "token=AAAA";
    assert_eq!(get(&t.app, &forged).await.status, StatusCode::NOT_FOUND);
}

// Guards the static page's first POST: without a signed token nothing is lost; the theme's
// form comes back with every value (emoji, Arabic, line breaks), fresh hidden fields and a
// kind note saying so.
#[tokio::test]
async fn post_without_form_token_rerenders_everything_with_a_note() {
    let t = sqlite_app(5);
    let body = "title=%D9%85%D8%B3%D8%A7%D8%B9%D8%AF%D8%A9+%F0%9F%91%8B&kind=offer&category=garden\
        &municipality=huizen&neighbourhood=Bovenweg&body=Lijn+1%0D%0ALijn+2+%3Cb%3E&display_name=Zo%C3%AB\
        &email=zoe%40example.org&phone=06+12345678&consent=ja";
    let answer = post_form(&t.app, body.as_bytes().to_vec()).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.html.contains("er is niets verloren"), "{}", answer.html);
    assert!(answer.html.contains("klik nog een keer op Versturen"));
    assert!(!answer.html.contains("class=\"error-summary\""));
    assert!(answer.html.contains("value=\"مساعدة 👋\""));
    assert!(answer.html.contains(">\nLijn 1\r\nLijn 2 &lt;b&gt;</textarea>"), "{}", answer.html);
    assert!(answer.html.contains("value=\"Zoë\"") && answer.html.contains("value=\"06 12345678\""));
    assert!(answer.html.contains("value=\"garden\" selected"));
    assert!(answer.html.contains("value=\"huizen\" selected"));
    assert!(answer.html.contains("value=\"Bovenweg\""));
    assert!(answer.html.contains("value=\"offer\" checked"));
    assert!(answer.html.contains("name=\"consent\" value=\"yes\" checked"));
    assert!(answer.html.contains("name=\"form_token\" value=\""));
    assert!(answer.html.contains("name=\"submission_id\" value=\""));
    assert!(all_pending(&t.store).await.is_empty());
}

// Guards field errors: the summary names and links to each wrong field in the form's order,
// each message stands next to its field with aria-invalid and aria-describedby, the page
// title says there is an error, and every value is kept.
#[tokio::test]
async fn invalid_fields_get_summary_and_messages_with_values_kept() {
    let t = sqlite_app(5);
    let body = format!(
        "title=Hulp+%22nu%22+%26+O%27Neill&kind=request&category=onbekend&municipality=%C3%85sby\
         &body=x&display_name=Anna&email=geen-adres{}",
        form_extras(&t.app.secrets)
    );
    let answer = post_form(&t.app, body.into_bytes()).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.html.contains("<title>Fout: Vraag om hulp – Buurtbord Test</title>"));
    let summary = answer.html.split("class=\"error-summary\"").nth(1).unwrap();
    let summary = summary.split("</div>").next().unwrap();
    assert!(summary.contains("Verbeter deze 2 punten"), "{summary}");
    let category = summary.find("<a href=\"#veld-category\">Soort hulp: Kies een van de");
    let email = summary.find("<a href=\"#veld-email\">E-mailadres: Vul een geldig e-mailadres");
    assert!(category.unwrap() < email.unwrap(), "{summary}");

    assert!(answer.html.contains("<p class=\"field-error\" id=\"fout-email\">"));
    assert!(answer.html.contains("aria-describedby=\"fout-email\" aria-invalid=\"true\""));
    assert!(answer.html.contains("aria-describedby=\"fout-category\" aria-invalid=\"true\""));
    assert!(!answer.html.contains("id=\"fout-title\""));
    assert!(answer.html.contains("aria-describedby=\"hint-title\">"));
    assert!(answer.html.contains("value=\"geen-adres\""));
    assert!(answer.html.contains(&format!("value=\"{}\"", escaped("Hulp \"nu\" & O'Neill"))));
    // Åsby was typed as its name; the list still shows it chosen.
    assert!(answer.html.contains("<option value=\"asby\" selected>Åsby</option>"));
}

// Guards the honeypot and the timing window: refused politely, nothing stored.
#[tokio::test]
async fn honeypot_and_too_fast_submissions_are_refused_and_not_stored() {
    let t = sqlite_app(5);
    let answer = post_form(
        &t.app,
        format!("{GOOD}&website=spam{}", form_extras(&t.app.secrets)).into_bytes(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let token = t.app.secrets.issue_form_token(Utc::now());
    let fast = format!("{GOOD}&consent=ja&form_token={token}&submission_id={}", new_nonce());
    let answer = post_form(&t.app, fast.into_bytes()).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.html.contains("Dat ging erg snel"));
    let old = t.app.secrets.issue_form_token(Utc::now() - Duration::days(2));
    let stale = format!("{GOOD}&consent=ja&form_token={old}&submission_id={}", new_nonce());
    assert_eq!(post_form(&t.app, stale.into_bytes()).await.status, StatusCode::BAD_REQUEST);
    assert!(all_pending(&t.store).await.is_empty());
}

// Guards idempotency: the same form sent twice stores once and confirms twice alike; other
// content under the same nonce is refused instead of revealing the first post's link.
#[tokio::test]
async fn double_submit_stores_once_and_confirms_alike() {
    let t = sqlite_app(5);
    let body = good(&t);
    let first = post_form(&t.app, body.clone()).await;
    let second = post_form(&t.app, body.clone()).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    assert_eq!(first.location, second.location);
    let other = String::from_utf8(body).unwrap().replace("Anna", "Bert");
    let third = post_form(&t.app, other.into_bytes()).await;
    assert_eq!(third.status, StatusCode::BAD_REQUEST);
    assert_eq!(all_pending(&t.store).await.len(), 1);
}

// Guards the rate limit: the sixth post in an hour from one address is refused with 429.
#[tokio::test]
async fn sixth_post_in_an_hour_is_rate_limited() {
    let t = sqlite_app(5);
    for _ in 0..5 {
        assert_eq!(post_form(&t.app, good(&t)).await.status, StatusCode::SEE_OTHER);
    }
    let answer = post_form(&t.app, good(&t)).await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(answer.html.contains("Probeer het over een uur opnieuw"));
    assert_eq!(all_pending(&t.store).await.len(), 5);
}

// Guards "a confirmed submission is never lost": 1,000 concurrent submissions on a real
// socket; every one answered 303 is in the queue exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_submissions_are_each_queued_once() {
    let t = sqlite_app(100_000);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = submit_fn::router(t.app.clone());
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await.unwrap() });

    let mut tasks = tokio::task::JoinSet::new();
    let semaphore = std::sync::Arc::new(tokio::sync::Semaphore::new(200));
    for _ in 0..1000 {
        let body = good(&t);
        let permit = semaphore.clone().acquire_owned().await.unwrap();
        tasks.spawn(async move {
            let _permit = permit;
            raw_post(addr, &body).await
        });
    }
    let mut confirmed = std::collections::HashSet::new();
    while let Some(result) = tasks.join_next().await {
        let (status, location) = result.unwrap();
        assert_eq!(status, 303);
        assert!(confirmed.insert(location));
    }
    let items = all_pending(&t.store).await;
    assert_eq!(items.len(), 1000);
    let ids: std::collections::HashSet<_> = items.iter().map(|i| i.id.clone()).collect();
    assert_eq!(ids.len(), 1000);
    for location in &confirmed {
        let id = location.trim_start_matches("/bedankt/").split('?').next().unwrap();
        assert!(ids.contains(id), "{location}");
    }
}

/// One HTTP/1.1 POST over a fresh connection; returns the status and Location.
async fn raw_post(addr: std::net::SocketAddr, body: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /plaatsen HTTP/1.1\r\nHost: localhost\r\nContent-Type: \
         application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response[9..12].parse().unwrap();
    let location =
        response.lines().find_map(|l| l.strip_prefix("location: ")).unwrap_or_default().to_owned();
    (status, location)
}
