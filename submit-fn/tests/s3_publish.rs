//! The cloud publisher against a real S3-protocol server (moto in server mode, started by
//! scripts/test.sh): the site bucket holds the whole site after open, follows each publish
//! and unpublish byte for byte as a full build would, and the content bucket holds only
//! public fields. These tests fail, never skip, when the endpoint is missing.

mod common;

use common::files;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use chrono::{DateTime, FixedOffset, NaiveDate};
use generator::BuildOptions;
use submit_fn::publish::{PublishError, Publisher, post_file};
use submit_fn::publish_s3::{S3Location, S3Options, S3Publisher, SiteSync};
use submit_fn::submission::{Kind, Submission};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const ID: &str = "01KBA7QDZP0000000000TRUUS1";
const CONTENT_PREFIX: &str = "content/";

fn now() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-12-03T12:00:00+01:00").unwrap()
}

/// A client for the moto server that scripts/test.sh started.
async fn client() -> Client {
    let endpoint = std::env::var("BUURTBORD_TEST_DYNAMODB_ENDPOINT").expect(
        "BUURTBORD_TEST_DYNAMODB_ENDPOINT is not set: run the tests with scripts/test.sh, or \
         `source scripts/moto.sh` first; it starts moto, which also serves S3",
    );
    // moto accepts any credentials, but the SDK wants some; scripts/moto.sh exports them.
    for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"] {
        assert!(std::env::var(name).is_ok(), "{name} is not set: run scripts/test.sh");
    }
    let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .load()
        .await;
    // Bucket names as path segments: a loopback server has no per-bucket host names.
    let config = aws_sdk_s3::config::Builder::from(&shared).force_path_style(true).build();
    Client::from_conf(config)
}

/// Two fresh buckets, the sample content uploaded under `content/`, and a working folder.
struct Fixture {
    tmp: tempfile::TempDir,
    client: Client,
    content: S3Location,
    site: S3Location,
}

impl Fixture {
    async fn new() -> Fixture {
        let client = client().await;
        let unique = ulid::Ulid::generate().to_string().to_lowercase();
        let (content_bucket, site_bucket) = (format!("content-{unique}"), format!("site-{unique}"));
        // Outside us-east-1, S3 wants the bucket's region named in the request.
        let region = client.config().region().unwrap().as_ref().to_owned();
        let location = CreateBucketConfiguration::builder()
            .location_constraint(BucketLocationConstraint::from(region.as_str()))
            .build();
        for bucket in [&content_bucket, &site_bucket] {
            let create = client.create_bucket().bucket(bucket);
            create.create_bucket_configuration(location.clone()).send().await.unwrap();
        }
        let fx = Fixture {
            tmp: tempfile::tempdir().unwrap(),
            client,
            content: S3Location::new(content_bucket, CONTENT_PREFIX),
            site: S3Location::new(site_bucket, ""),
        };
        let sample = Path::new(ROOT).join("content");
        for (rel, bytes) in files(&sample) {
            fx.put(&fx.content.bucket, &fx.content.key(&rel), bytes).await;
        }
        fx
    }

    fn options(&self, work: &str) -> S3Options {
        S3Options {
            content: self.content.clone(),
            site: self.site.clone(),
            work_dir: self.tmp.path().join(work),
            theme: theme(),
            now: now(),
            base_url: None,
        }
    }

    async fn publisher(&self) -> S3Publisher {
        S3Publisher::open(self.client.clone(), self.options("work")).await.unwrap()
    }

    async fn put(&self, bucket: &str, key: &str, bytes: Vec<u8>) {
        let put = self.client.put_object().bucket(bucket).key(key);
        put.body(ByteStream::from(bytes)).send().await.unwrap();
    }

    /// Every object under `location`, by path relative to it.
    async fn objects(&self, location: &S3Location) -> BTreeMap<String, Vec<u8>> {
        let mut all = BTreeMap::new();
        let mut token = None;
        loop {
            let list = self.client.list_objects_v2().bucket(&location.bucket);
            let page = list.prefix(&location.prefix).set_continuation_token(token);
            let page = page.send().await.unwrap();
            for object in page.contents() {
                let key = object.key().unwrap();
                let rel = key.strip_prefix(&location.prefix).unwrap().to_owned();
                all.insert(rel, self.body(&location.bucket, key).await.unwrap());
            }
            token = page.next_continuation_token().map(str::to_owned);
            if token.is_none() {
                return all;
            }
        }
    }

    async fn body(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        let got = self.client.get_object().bucket(bucket).key(key).send().await.ok()?;
        Some(got.body.collect().await.unwrap().into_bytes().to_vec())
    }

    /// A site file's text, empty when the object is missing.
    async fn page(&self, rel: &str) -> String {
        let body = self.body(&self.site.bucket, &self.site.key(rel)).await.unwrap_or_default();
        String::from_utf8(body).unwrap()
    }

    async fn content_type(&self, rel: &str) -> String {
        let head = self.client.head_object().bucket(&self.site.bucket).key(self.site.key(rel));
        let head = head.send().await.unwrap_or_else(|e| panic!("{rel}: {e:?}"));
        head.content_type().unwrap_or_default().to_owned()
    }

    /// A full local build of what the content bucket holds now.
    async fn full_build(&self) -> BTreeMap<String, Vec<u8>> {
        let content = self.tmp.path().join("full-content");
        for (rel, bytes) in self.objects(&self.content).await {
            let path = content.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
        let out = self.tmp.path().join("full-public");
        let options =
            BuildOptions { content, theme: theme(), out: out.clone(), now: now(), base_url: None };
        generator::build(&options).unwrap();
        files(&out)
    }
}

fn theme() -> PathBuf {
    Path::new(ROOT).join("themes/default")
}

fn submission(title: &str) -> Submission {
    Submission {
        kind: Kind::Request,
        title: title.into(),
        body: "Ik zoek iemand die **dinsdag** met mij naar de markt gaat.".into(),
        category: "boodschappen".into(),
        municipality: "laren".into(),
        neighbourhood: None,
        recurring: true,
        expires: Some(NaiveDate::from_ymd_opt(2027, 1, 15).unwrap()),
        display_name: "Truus".into(),
        organisation: None,
        email: Some("truus.de.vries@example.nl".into()),
        phone: Some("06-12345678".into()),
    }
}

fn assert_same_site(bucket: &BTreeMap<String, Vec<u8>>, full: &BTreeMap<String, Vec<u8>>) {
    assert_eq!(bucket.keys().collect::<Vec<_>>(), full.keys().collect::<Vec<_>>());
    for (rel, bytes) in bucket {
        assert!(bytes == &full[rel], "{rel} differs from a full build");
    }
}

// Guards the cold start: after open the site bucket holds the whole site, each file with
// the Content-Type a browser needs, byte-identical to a full build.
#[tokio::test]
async fn open_uploads_the_whole_site_with_content_types() {
    let fx = Fixture::new().await;
    fx.publisher().await;

    let expected = [
        ("index.html", "text/html; charset=utf-8"),
        ("404.html", "text/html; charset=utf-8"),
        ("atom.xml", "application/atom+xml; charset=utf-8"),
        ("gemeente/laren/atom.xml", "application/atom+xml; charset=utf-8"),
        ("sitemap.xml", "application/xml; charset=utf-8"),
        ("robots.txt", "text/plain; charset=utf-8"),
        ("static/style.css", "text/css; charset=utf-8"),
    ];
    for (rel, content_type) in expected {
        assert_eq!(fx.content_type(rel).await, content_type, "{rel}");
    }
    assert_same_site(&fx.objects(&fx.site).await, &fx.full_build().await);
}

// Guards the documented choice to upload only what differs: a second cold start on an
// unchanged bucket uploads nothing, and a stray or changed object is repaired.
#[tokio::test]
async fn reopen_uploads_only_what_differs_and_deletes_strays() {
    let fx = Fixture::new().await;
    let publisher = fx.publisher().await;
    assert_eq!(publisher.sync_site().await.unwrap(), SiteSync { uploaded: 0, deleted: 0 });

    fx.put(&fx.site.bucket, "index.html", b"tampered".to_vec()).await;
    fx.put(&fx.site.bucket, "bericht/weg/index.html", b"withdrawn long ago".to_vec()).await;
    S3Publisher::open(fx.client.clone(), fx.options("second")).await.unwrap();
    assert_same_site(&fx.objects(&fx.site).await, &fx.full_build().await);
}

// Guards issue 4's promise in the cloud: after approval the post's page is in the site
// bucket as HTML, its listings and feed mention it, and the content object holds only
// public fields.
#[tokio::test]
async fn publish_uploads_the_page_and_listings_and_stores_no_personal_data() {
    let fx = Fixture::new().await;
    let publisher = fx.publisher().await;
    let title = "Wie gaat er mee naar de weekmarkt?";

    let published = publisher.publish(ID, &post_file(ID, &submission(title), now())).await.unwrap();
    let slug = "wie-gaat-er-mee-naar-de-weekmarkt-truus1";
    assert_eq!(published.url, format!("http://127.0.0.1:8080/bericht/{slug}/"));
    let page = format!("bericht/{slug}/index.html");
    assert!(fx.page(&page).await.contains(title), "{page}");
    assert_eq!(fx.content_type(&page).await, "text/html; charset=utf-8");
    let shown = ["index.html", "hulpvragen/index.html", "gemeente/laren/index.html", "atom.xml"];
    for rel in shown.iter().chain(&["categorie/boodschappen/index.html", "sitemap.xml"]) {
        let text = fx.page(rel).await;
        assert!(text.contains(title) || text.contains(slug), "{rel} lacks the post");
    }

    let key = fx.content.key(&format!("posts/{ID}.md"));
    let stored = fx.body(&fx.content.bucket, &key).await.expect("content object stored");
    let stored = String::from_utf8(stored).unwrap();
    assert!(stored.contains(title));
    for secret in ["truus.de.vries", "example.nl", "@", "06-12345678", "12345678"] {
        assert!(!stored.contains(secret), "{secret:?} in\n{stored}");
    }
}

// Guards byte-identity in the cloud: after approvals and a withdrawal the site bucket holds
// exactly the files a fresh full build of the content bucket writes, no more, no fewer.
#[tokio::test]
async fn site_bucket_after_publishes_equals_a_full_local_build() {
    let fx = Fixture::new().await;
    let publisher = fx.publisher().await;
    let ids: Vec<String> = (0..4).map(|i| format!("01KBA7QDZP00000000000SER{i:02}")).collect();
    for (i, id) in ids.iter().enumerate() {
        let mut s = submission(&format!("Hulpvraag nummer {i} 🚲 café"));
        s.kind = if i % 2 == 0 { Kind::Request } else { Kind::Offer };
        s.municipality = ["huizen", "laren", "eemnes"][i % 3].into();
        let at = now() - chrono::Duration::hours(i as i64);
        publisher.publish(id, &post_file(id, &s, at)).await.unwrap();
    }
    publisher.unpublish(&ids[1]).await.unwrap();

    assert_same_site(&fx.objects(&fx.site).await, &fx.full_build().await);
}

// Guards withdrawal: the post's page object and its content object are both gone, and its
// listing no longer mentions it.
#[tokio::test]
async fn unpublish_removes_the_page_object_and_the_content_object() {
    let fx = Fixture::new().await;
    let publisher = fx.publisher().await;
    let title = "Samen naar de markt";
    publisher.publish(ID, &post_file(ID, &submission(title), now())).await.unwrap();
    let page = "bericht/samen-naar-de-markt-truus1/index.html";
    assert!(fx.page(page).await.contains(title));

    let withdrawn = publisher.unpublish(ID).await.unwrap();
    assert!(withdrawn.report.removed.contains(&page.to_owned()), "{:?}", withdrawn.report);
    assert!(fx.body(&fx.site.bucket, page).await.is_none(), "page object still there");
    let key = fx.content.key(&format!("posts/{ID}.md"));
    assert!(fx.body(&fx.content.bucket, &key).await.is_none(), "content object still there");
    assert!(!fx.page("hulpvragen/index.html").await.contains(title));
    let again = publisher.unpublish(ID).await.unwrap_err();
    assert!(matches!(again, PublishError::NotPublished(_)), "{again:?}");
}

// Guards validation before storing: invalid text, a foreign id and a path-like id change
// neither bucket.
#[tokio::test]
async fn invalid_text_is_refused_and_neither_bucket_changes() {
    let fx = Fixture::new().await;
    let publisher = fx.publisher().await;
    let (site, content) = (fx.objects(&fx.site).await, fx.objects(&fx.content).await);
    let mut s = submission("Onbekende categorie");
    s.category = "ruimtevaart".into();

    let err = publisher.publish(ID, &post_file(ID, &s, now())).await.unwrap_err();
    assert!(matches!(err, PublishError::Invalid(_)), "{err:?}");
    assert!(err.to_string().contains("unknown category"), "{err}");
    let other_id = post_file("01KBA7QDZP0000000000OTHER1", &submission("x"), now());
    let err = publisher.publish(ID, &other_id).await.unwrap_err();
    assert!(matches!(err, PublishError::Invalid(_)), "{err:?}");
    let err = publisher.publish("../site", &post_file(ID, &submission("x"), now())).await;
    assert!(matches!(err, Err(PublishError::BadId(_))), "{err:?}");

    assert!(fx.objects(&fx.site).await == site, "the site bucket changed");
    assert!(fx.objects(&fx.content).await == content, "the content bucket changed");
}

// Guards is_published: it follows the content object, before and after each step.
#[tokio::test]
async fn is_published_is_true_only_while_the_content_object_exists() {
    let fx = Fixture::new().await;
    let publisher = fx.publisher().await;
    assert!(!publisher.is_published(ID).await.unwrap());
    publisher.publish(ID, &post_file(ID, &submission("Hulp gezocht"), now())).await.unwrap();
    assert!(publisher.is_published(ID).await.unwrap());
    publisher.unpublish(ID).await.unwrap();
    assert!(!publisher.is_published(ID).await.unwrap());
}

// Guards two function instances on one bucket: a post that another instance published is
// not dropped from the listings when this instance publishes the next one.
#[tokio::test]
async fn publish_by_another_instance_stays_on_the_site() {
    let fx = Fixture::new().await;
    let first = fx.publisher().await;
    let second = S3Publisher::open(fx.client.clone(), fx.options("second")).await.unwrap();
    let other = "01KBA7QDZP0000000000OTHER1";
    first.publish(other, &post_file(other, &submission("Eerste bericht"), now())).await.unwrap();
    second.publish(ID, &post_file(ID, &submission("Tweede bericht"), now())).await.unwrap();

    let home = fx.page("hulpvragen/index.html").await;
    assert!(home.contains("Eerste bericht") && home.contains("Tweede bericht"));
    assert_same_site(&fx.objects(&fx.site).await, &fx.full_build().await);
}

// Guards the site location's ownership: a site prefix that could hold content keys is
// refused, since the publisher deletes whatever the site does not have.
#[tokio::test]
async fn a_site_location_overlapping_the_content_is_refused() {
    let fx = Fixture::new().await;
    let mut options = fx.options("work");
    options.site = S3Location::new(fx.content.bucket.clone(), "");
    let err = S3Publisher::open(fx.client.clone(), options).await.err().expect("refused");
    assert!(matches!(err, PublishError::S3 { action: "open", .. }), "{err:?}");
    assert!(fx.objects(&fx.content).await.contains_key("site.yaml"));
}

// Guards live_post in the cloud, where the forms on a post page ask it about posts without
// a queue record: it answers from the content bucket, so a sample post is found with its
// title and address, an expired or unknown one is not, and a post another instance
// published or removed is answered as the bucket now holds it.
#[tokio::test]
async fn live_post_follows_the_content_object_and_its_expiry() {
    let fx = Fixture::new().await;
    let first = fx.publisher().await;
    let sample = "01M4ZV79100BVBC20VAMZ28A9K";
    let live = first.live_post(sample, now()).await.unwrap().expect("a sample post is online");
    assert_eq!(live.title, "Wie legt mij een brief van de Belastingdienst uit?");
    let slug = "wie-legt-mij-een-brief-van-de-belastingdienst-uit";
    assert!(live.url.ends_with(&format!("/bericht/{slug}/")), "{}", live.url);
    let after_expiry = DateTime::parse_from_rfc3339("2027-06-01T12:00:00+02:00").unwrap();
    assert_eq!(first.live_post(sample, after_expiry).await.unwrap(), None);
    for unknown in ["01KBA7QDZP0000000000NOPOST", "../site.yaml", ""] {
        assert_eq!(first.live_post(unknown, now()).await.unwrap(), None, "{unknown}");
    }

    let second = S3Publisher::open(fx.client.clone(), fx.options("second")).await.unwrap();
    second.publish(ID, &post_file(ID, &submission("Hulp gezocht"), now())).await.unwrap();
    let found = first.live_post(ID, now()).await.unwrap().expect("published by the other");
    assert_eq!(found.title, "Hulp gezocht");
    second.unpublish(ID).await.unwrap();
    assert_eq!(first.live_post(ID, now()).await.unwrap(), None, "removed by the other");
}
