//! The publisher on a temporary copy of the sample content: an approved post is online
//! everywhere it belongs, a withdrawn one nowhere, the result equals a full build, and a
//! failed update leaves the old site online.

mod common;

use common::{copy_dir, files};
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, NaiveDate};
use generator::BuildOptions;
use submit_fn::publish::{LocalPublisher, PublishError, Publisher, post_file};
use submit_fn::submission::{Kind, Submission};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn now() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-12-03T12:00:00+01:00").unwrap()
}

/// A copy of `content/` and the output folder beside it.
struct Fixture {
    _tmp: tempfile::TempDir,
    content: PathBuf,
    out: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let content = tmp.path().join("content");
        copy_dir(&Path::new(ROOT).join("content"), &content);
        let out = tmp.path().join("public");
        Fixture { content, out, _tmp: tmp }
    }

    fn options(&self, out: &Path) -> BuildOptions {
        BuildOptions {
            content: self.content.clone(),
            theme: Path::new(ROOT).join("themes/default"),
            out: out.to_path_buf(),
            now: now(),
            base_url: None,
        }
    }

    fn publisher(&self) -> LocalPublisher {
        LocalPublisher::open(self.options(&self.out)).unwrap()
    }

    fn page(&self, rel: &str) -> String {
        std::fs::read_to_string(self.out.join(rel)).unwrap_or_default()
    }
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

const ID: &str = "01KBA7QDZP0000000000TRUUS1";

// Guards the invariant that nothing personal reaches content/: the address and number of
// the submission occur nowhere in the file, in any spelling the form may have kept.
#[test]
fn post_file_holds_no_email_or_phone_and_reads_back_as_the_post() {
    let mut s = submission("Boodschappen op dinsdag");
    s.neighbourhood = None;
    s.organisation = Some("Zonnebloem Laren".into());
    let text = post_file(ID, &s, now());

    for secret in ["truus.de.vries", "example.nl", "@", "06-12345678", "12345678", "0612345678"] {
        assert!(!text.contains(secret), "{secret:?} in\n{text}");
    }
    let site = generator::Site::load(&Path::new(ROOT).join("content"), None).unwrap();
    let post = generator::post::parse(&site, Path::new("x.md"), &text).unwrap();
    assert_eq!(post.title, "Boodschappen op dinsdag");
    assert_eq!(post.organisation.as_deref(), Some("Zonnebloem Laren"));
    assert!(post.recurring && post.municipality == "laren");
    assert_eq!(post.date, now());
    assert_eq!(post.expires.to_rfc3339(), "2027-01-15T23:59:59+01:00");
    assert_eq!(post.slug, "boodschappen-op-dinsdag-truus1");
}

// Guards C18 for form posts: two residents with the same title get two addresses.
#[test]
fn two_posts_with_the_same_title_get_different_slugs() {
    let s = submission("Hulp bij boodschappen");
    let a = post_file("01KBA7QDZP00000000000AAAA1", &s, now());
    let b = post_file("01KBA7QDZP00000000000BBBB2", &s, now());
    let slug = |t: &str| t.lines().find(|l| l.starts_with("slug:")).unwrap().to_string();
    assert_ne!(slug(&a), slug(&b));
    let long = post_file(ID, &submission(&"lang ".repeat(30)), now());
    assert!(slug(&long).len() <= "slug: \"\"".len() + 80, "{}", slug(&long));
    assert!(slug(&long).ends_with("-truus1\""), "{}", slug(&long));
}

// Guards issue 4's promise: after approval the post is on its page, on the listings of its
// kind, municipality and category, and in the feed; after withdrawal on none of them.
#[tokio::test]
async fn publish_puts_the_post_everywhere_and_unpublish_takes_it_everywhere_away() {
    let fx = Fixture::new();
    let publisher = fx.publisher();
    let title = "Wie gaat er mee naar de weekmarkt?";
    let shown = ["hulpvragen/index.html", "gemeente/laren/index.html"];
    let shown = [&shown[..], &["categorie/boodschappen/index.html", "atom.xml"]].concat();

    let published = publisher.publish(ID, &post_file(ID, &submission(title), now())).await.unwrap();
    let slug = "wie-gaat-er-mee-naar-de-weekmarkt-truus1";
    assert_eq!(published.url, format!("http://127.0.0.1:8080/bericht/{slug}/"));
    let page = format!("bericht/{slug}/index.html");
    assert!(fx.page(&page).contains(title), "{page}");
    for rel in shown.iter().chain(&["gemeente/laren/hulpvragen/index.html", "index.html"]) {
        assert!(fx.page(rel).contains(title), "{rel} lacks the post");
        assert!(published.report.written.contains(&rel.to_string()), "{rel} not reported");
    }
    assert!(publisher.is_published(ID).await.unwrap());

    let withdrawn = publisher.unpublish(ID).await.unwrap();
    assert_eq!(withdrawn.url, published.url);
    assert!(withdrawn.report.removed.contains(&page), "{:?}", withdrawn.report);
    assert!(!fx.out.join(&page).exists());
    for rel in &shown {
        assert!(!fx.page(rel).contains(title), "{rel} still shows the post");
    }
    assert!(!publisher.is_published(ID).await.unwrap());
    assert!(!fx.content.join(format!("posts/{ID}.md")).exists());
}

// Guards byte-identity: a series of approvals, a correction and a withdrawal leave exactly
// the files a fresh full build of the same content folder writes.
#[tokio::test]
async fn output_after_a_series_of_publishes_equals_a_full_build() {
    let fx = Fixture::new();
    let publisher = fx.publisher();
    let ids: Vec<String> = (0..6).map(|i| format!("01KBA7QDZP00000000000SER{i:02}")).collect();
    for (i, id) in ids.iter().enumerate() {
        let mut s = submission(&format!("Hulpvraag nummer {i} 🚲 café"));
        s.kind = if i % 2 == 0 { Kind::Request } else { Kind::Offer };
        s.municipality = ["huizen", "laren", "eemnes"][i % 3].into();
        let at = now() - chrono::Duration::hours(i as i64);
        publisher.publish(id, &post_file(id, &s, at)).await.unwrap();
    }
    let mut corrected = submission("Hulpvraag nummer 2, verbeterd");
    corrected.category = "tuin".into();
    publisher.publish(&ids[2], &post_file(&ids[2], &corrected, now())).await.unwrap();
    publisher.unpublish(&ids[4]).await.unwrap();

    let full = fx._tmp.path().join("full");
    generator::build(&fx.options(&full)).unwrap();
    let (live, fresh) = (files(&fx.out), files(&full));
    assert_eq!(live.keys().collect::<Vec<_>>(), fresh.keys().collect::<Vec<_>>());
    for (path, bytes) in &live {
        assert!(bytes == &fresh[path], "{path} differs from a full build");
    }
}

// Guards "a failed rebuild leaves the old site": when the post's page cannot be written,
// no file of the site changes, the error is returned, and the content file stays so the
// next rebuild publishes the post.
#[tokio::test]
async fn a_failed_update_leaves_the_old_site_online_and_the_content_file_in_place() {
    let fx = Fixture::new();
    let publisher = fx.publisher();
    let slug = "markt-truus1";
    let obstacle = fx.out.join("bericht").join(slug);
    std::fs::write(&obstacle, "not a folder").unwrap();
    let before = files(&fx.out);

    let text = post_file(ID, &submission("Markt"), now());
    let err = publisher.publish(ID, &text).await.unwrap_err();
    assert!(matches!(err, PublishError::Build(_)), "{err:?}");
    assert!(!err.to_string().contains('\n'), "{err}");
    assert!(files(&fx.out) == before, "the site changed after a failed update");
    assert!(fx.content.join(format!("posts/{ID}.md")).exists());

    std::fs::remove_file(&obstacle).unwrap();
    publisher.rebuild(now()).await.unwrap();
    assert!(fx.page(&format!("bericht/{slug}/index.html")).contains("Markt"));
}

// Guards validation before writing: invalid text and a path-like id write nothing.
#[tokio::test]
async fn invalid_text_and_bad_ids_are_refused_before_anything_is_written() {
    let fx = Fixture::new();
    let publisher = fx.publisher();
    let before = files(&fx.out);
    let mut s = submission("Onbekende categorie");
    s.category = "ruimtevaart".into();

    let err = publisher.publish(ID, &post_file(ID, &s, now())).await.unwrap_err();
    assert!(err.to_string().contains("unknown category"), "{err}");
    let other_id = post_file("01KBA7QDZP0000000000OTHER1", &submission("x"), now());
    let err = publisher.publish(ID, &other_id).await.unwrap_err();
    assert!(matches!(err, PublishError::Invalid(_)), "{err:?}");
    let err = publisher.publish("../site", &post_file(ID, &submission("x"), now())).await;
    assert!(matches!(err, Err(PublishError::BadId(_))), "{err:?}");
    let err = publisher.unpublish(ID).await.unwrap_err();
    assert!(matches!(err, PublishError::NotPublished(_)), "{err:?}");

    assert!(!fx.content.join(format!("posts/{ID}.md")).exists());
    assert!(files(&fx.out) == before);
}
