//! The whole cloud path on loopback: the app built by `Cloud::open` exactly as the Lambda
//! entry builds it (from variables), on moto in server mode for DynamoDB, S3, SSM and SES,
//! driven through `submit_fn::lambda::handle` with recorded Function URL events
//! (`tests/events/`, payload 2.0, their `{{PLACEHOLDERS}}` filled in per request).
//! Fails, never skips, when the moto endpoint is missing.

mod common;

use std::collections::HashMap;
use std::path::Path;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use aws_sdk_ssm::types::ParameterType;
use axum::http::{StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http_body_util::BodyExt;
use submit_fn::cloud::{Cloud, CloudConfig};
use submit_fn::spam::Secrets;
use submit_fn::store::{DynamoQueue, LockState, Moderator, ModeratorStore, Status};

const BASE_URL: &str = "https://buurtbord.example.nl/";
const FROM: &str = "hulp@buurtbord.example.nl";
const MODERATOR: &str = "vrijwilliger@example.nl";
const PASSWORD: &str = "een lang genoeg wachtwoord";
const TITLE: &str = "Need help moving a sofa";

/// What one invocation answered.
struct Reply {
    status: StatusCode,
    location: String,
    cookies: Vec<String>,
    html: String,
}

/// Fills a recorded event's placeholders and routes it through the Lambda handler.
async fn invoke(router: &axum::Router, event: &str, fill: &[(&str, &str)]) -> Reply {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/events").join(event);
    let mut text = std::fs::read_to_string(&path).unwrap();
    let request_id = ulid::Ulid::generate().to_string();
    for (name, value) in fill.iter().chain(&[("REQUEST_ID", request_id.as_str())]) {
        text = text.replace(&format!("{{{{{name}}}}}"), value);
    }
    assert!(!text.contains("{{"), "{event}: a placeholder is left: {text}");
    let request = lambda_http::request::from_str(&text).unwrap();
    let response = submit_fn::lambda::handle(router.clone(), request).await;
    let headers = response.headers().clone();
    let text_of = |name| headers.get(name).map(|v| v.to_str().unwrap().to_owned());
    let cookies = headers.get_all(header::SET_COOKIE).iter();
    let cookies = cookies.map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned());
    Reply {
        status: response.status(),
        location: text_of(header::LOCATION).unwrap_or_default(),
        cookies: cookies.collect(),
        html: {
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            String::from_utf8(bytes.to_vec()).unwrap()
        },
    }
}

/// The value of the hidden field `name` in a page.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start =
        html.find(&marker).unwrap_or_else(|| panic!("no {name} field in {html}")) + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// The moto endpoint that scripts/moto.sh started, with the credentials it exported.
fn endpoint() -> String {
    let endpoint = std::env::var("BUURTBORD_TEST_DYNAMODB_ENDPOINT").expect(
        "BUURTBORD_TEST_DYNAMODB_ENDPOINT is not set: `source scripts/moto.sh` first (or run \
         scripts/test.sh); moto serves DynamoDB, S3, SSM and SES on one endpoint",
    );
    for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"] {
        assert!(std::env::var(name).is_ok(), "{name} is not set: `source scripts/moto.sh`");
    }
    endpoint
}

/// What the deployment template and the operator's set-up steps create: the table, both
/// buckets with content and theme, the three secrets in SSM, the verified sender, and
/// the function's variables naming them.
async fn provision(endpoint: &str, work: &Path) -> (HashMap<String, String>, Secrets) {
    let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .load()
        .await;
    let unique = ulid::Ulid::generate().to_string().to_lowercase();
    let table = format!("buurtbord-{unique}");
    DynamoQueue::new(aws_sdk_dynamodb::Client::new(&shared), &table).create_table().await.unwrap();

    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&shared).force_path_style(true).build(),
    );
    let region = shared.region().unwrap().as_ref().to_owned();
    let (content, site) = (format!("content-{unique}"), format!("site-{unique}"));
    for bucket in [&content, &site] {
        let location = CreateBucketConfiguration::builder()
            .location_constraint(BucketLocationConstraint::from(region.as_str()))
            .build();
        s3.create_bucket()
            .bucket(bucket)
            .create_bucket_configuration(location)
            .send()
            .await
            .unwrap();
    }
    let uploads = [("content/", common::content_dir()), ("theme/", common::theme_dir())];
    for (prefix, dir) in uploads {
        for (rel, bytes) in common::files(&dir) {
            let put = s3.put_object().bucket(&content).key(format!("{prefix}{rel}"));
            put.body(ByteStream::from(bytes)).send().await.unwrap();
        }
    }

    let secrets = Secrets::generate();
    let ssm = aws_sdk_ssm::Client::new(&shared);
    let path = format!("/buurtbord-{unique}");
    let values = [
        ("form-key", &secrets.form_key),
        ("ip-salt", &secrets.ip_salt),
        ("cookie-key", &secrets.cookie_key),
    ];
    for (name, bytes) in values {
        let put = ssm.put_parameter().name(format!("{path}/{name}")).value(STANDARD.encode(bytes));
        put.r#type(ParameterType::SecureString).send().await.unwrap();
    }
    let ses = aws_sdk_sesv2::Client::new(&shared);
    ses.create_email_identity().email_identity(FROM).send().await.unwrap();

    let vars = [
        ("BUURTBORD_TABLE", table),
        ("BUURTBORD_CONTENT_BUCKET", content),
        ("BUURTBORD_SITE_BUCKET", site),
        ("BUURTBORD_WORK_DIR", work.display().to_string()),
        ("BUURTBORD_BASE_URL", BASE_URL.to_owned()),
        ("BUURTBORD_SECRETS_PATH", path),
        ("BUURTBORD_MAIL", "ses".to_owned()),
        ("BUURTBORD_MAIL_FROM", FROM.to_owned()),
        ("BUURTBORD_AWS_ENDPOINT", endpoint.to_owned()),
    ];
    (vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(), secrets)
}

/// An object's text, or `None` when it is missing.
async fn object(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Option<String> {
    let got = s3.get_object().bucket(bucket).key(key).send().await.ok()?;
    Some(String::from_utf8(got.body.collect().await.unwrap().into_bytes().to_vec()).unwrap())
}

/// The raw messages moto's SES backend accepted, from its model dump.
async fn sent_mail(endpoint: &str) -> Vec<serde_json::Value> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = endpoint.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!("GET /moto-api/data.json HTTP/1.0\r\nHost: {host}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8(response).unwrap();
    let (_, body) = response.split_once("\r\n\r\n").unwrap();
    let data: serde_json::Value = serde_json::from_str(body).unwrap();
    data["ses"]["RawMessage"].as_array().cloned().unwrap_or_default()
}

// Guards the cloud deployment as a whole: a resident's post sent through a Function URL
// lands in the DynamoDB queue; a moderator from the DynamoDB store logs in and approves it
// with the session's CSRF token; the content file is in the content prefix, the post's
// page and the listings are in the site bucket, and the poster's mail went out through SES.
#[tokio::test(flavor = "multi_thread")]
async fn post_sent_through_function_url_is_approved_published_to_s3_and_mailed_through_ses() {
    let endpoint = endpoint();
    let work = tempfile::tempdir().unwrap();
    let (vars, secrets) = provision(&endpoint, work.path()).await;
    let cloud = Cloud::open(&CloudConfig::from_vars(vars.clone())).await.unwrap();
    let router = cloud.router();
    let store = cloud.app.store.clone();

    // The resident posts the form.
    let poster =
        format!("poster-{}@example.org", ulid::Ulid::generate().to_string().to_lowercase());
    let form = format!(
        "title=Need+help+moving+a+sofa&kind=request&category=moving&municipality=%C3%85sby\
         &body=Two+people+for+one+hour%2C+Saturday+morning.&display_name=Resident+A\
         &email={}{}",
        poster.replace('@', "%40"),
        common::form_extras(&secrets)
    );
    let body = STANDARD.encode(form);
    let fill = [("PATH", "/plaatsen"), ("QUERY", ""), ("BODY", body.as_str())];
    let reply = invoke(&router, "function-url-post.json", &fill).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.html);
    let id =
        reply.location.strip_prefix("/bedankt/").unwrap().split('?').next().unwrap().to_owned();
    let queued = store.get(&id).await.unwrap().expect("the post is in the DynamoDB queue");
    assert_eq!(queued.status, Status::Pending);
    assert_eq!(queued.submission.email.as_deref(), Some(poster.as_str()));

    // A moderator, added to the DynamoDB moderator store as `moderator add --table` does.
    let moderators = DynamoQueue::new(
        aws_sdk_dynamodb::Client::new(
            &aws_config::defaults(aws_config::BehaviorVersion::latest())
                .endpoint_url(&endpoint)
                .load()
                .await,
        ),
        &vars["BUURTBORD_TABLE"],
    );
    let moderator = Moderator {
        email: MODERATOR.to_owned(),
        password_hash: submit_fn::auth::hash_password(PASSWORD).unwrap(),
        added_at: chrono::Utc::now(),
        lock: LockState::default(),
        notify: false,
    };
    moderators.add_moderator(&moderator).await.unwrap();

    // Logs in, opens the post and approves it with the page's CSRF token.
    let login =
        format!("email={}&password={}", MODERATOR.replace('@', "%40"), PASSWORD.replace(' ', "+"));
    let login = STANDARD.encode(login);
    let fill = [("PATH", "/beheer/inloggen"), ("QUERY", ""), ("BODY", login.as_str())];
    let reply = invoke(&router, "function-url-post.json", &fill).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.html);
    let cookie = reply.cookies.first().expect("a session cookie").clone();

    let page = format!("/beheer/bericht/{id}");
    let fill = [("PATH", page.as_str()), ("QUERY", ""), ("COOKIE", cookie.as_str())];
    let reply = invoke(&router, "function-url-get-session.json", &fill).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.html);
    let csrf = hidden(&reply.html, "csrf");

    let approve = format!("{page}/goedkeuren");
    let body = STANDARD.encode(format!("csrf={csrf}"));
    let fill = [
        ("PATH", approve.as_str()),
        ("QUERY", ""),
        ("COOKIE", cookie.as_str()),
        ("BODY", body.as_str()),
    ];
    let reply = invoke(&router, "function-url-post-session.json", &fill).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.html);
    assert_eq!(store.get(&id).await.unwrap().unwrap().status, Status::Approved);

    // The content file, with public fields only, and the site in its bucket.
    let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&endpoint)
        .load()
        .await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&shared).force_path_style(true).build(),
    );
    let (content, site) = (&vars["BUURTBORD_CONTENT_BUCKET"], &vars["BUURTBORD_SITE_BUCKET"]);
    let file = object(&s3, content, &format!("content/posts/{id}.md")).await.expect("content file");
    assert!(file.contains(TITLE), "{file}");
    assert!(!file.contains(&poster), "the address must not reach the content store");

    let slug = generator::slug::unique_post_slug(&generator::text::clean_line(TITLE), &id);
    let post_page = object(&s3, site, &format!("bericht/{slug}/index.html")).await;
    assert!(post_page.expect("the post's page").contains(TITLE));
    let home = object(&s3, site, "index.html").await.expect("the home listing");
    assert!(home.contains(&slug), "the home listing links the post");
    assert!(object(&s3, site, "404.html").await.is_some(), "the whole site is in the bucket");

    // The poster's mail, handed to SES as the raw message lettre built.
    let mails = sent_mail(&endpoint).await;
    let to_poster: Vec<_> = mails
        .iter()
        .filter(|m| m["destinations"].as_array().is_some_and(|d| d.iter().any(|a| a == &poster)))
        .collect();
    assert_eq!(to_poster.len(), 2, "two mails to the poster, received and online: {mails:?}");
    let subjects = ["Subject: We hebben uw bericht ontvangen", "Subject: Uw bericht staat online"];
    for (mail, subject) in to_poster.iter().zip(subjects) {
        assert_eq!(mail["source"], FROM);
        let raw = mail["raw_data"].as_str().unwrap();
        assert!(raw.contains("multipart/alternative") && raw.contains(subject), "{raw}");
    }
}
