//! The function's pages come from the site's theme: the form is the static site's form from
//! the same template, and the confirmation and whole-page messages use the theme's layout.

mod common;

use std::path::Path;

use axum::http::StatusCode;
use common::*;
use submit_fn::messages::PageKind;
use submit_fn::render::Pages;

/// The `<form>` element of a page, with the hidden inputs the function adds taken out.
fn form_without_hidden_inputs(html: &str) -> String {
    let start = html.find("<form").expect("a form");
    let end = html[start..].find("</form>").expect("a closed form") + start;
    let mut form = html[start..end].to_owned();
    while let Some(at) = form.find("<input type=\"hidden\"") {
        let len = form[at..].find(">\n  ").expect("the hidden input's line") + ">\n  ".len();
        form.replace_range(at..at + len, "");
    }
    form
}

// Guards "one form template, not two": the static /vraag-hulp/ page built by the generator
// and the form the function serves are the same markup, apart from the hidden tokens.
#[tokio::test]
async fn static_form_page_and_function_form_come_from_one_template() {
    let out = tempfile::tempdir().unwrap();
    let options = generator::BuildOptions {
        content: content_dir(),
        theme: theme_dir(),
        out: out.path().join("public"),
        now: chrono::Utc::now().fixed_offset(),
        base_url: None,
    };
    generator::build(&options).unwrap();
    let static_page = std::fs::read_to_string(out.path().join("public/vraag-hulp/index.html"));
    let static_form = form_without_hidden_inputs(&static_page.unwrap());

    let t = sqlite_app(5);
    let answer = get(&t.app, "/plaatsen?kind=request").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.html.contains("<input type=\"hidden\" name=\"form_token\""));
    assert_eq!(form_without_hidden_inputs(&answer.html), static_form);
    assert!(static_form.contains("action=\"/plaatsen\""));
}

fn paragraph_after_heading(html: &str) -> String {
    let after = html.split("</h1>").nth(1).expect("a heading");
    let start = after.find("<p>").expect("a paragraph") + 3;
    after[start..start + after[start..].find("</p>").unwrap()].to_owned()
}

// Guards the whole-page messages: each kind has its own Dutch sentence in the theme's
// layout, a heading, and a link back to the form it was given.
#[test]
fn every_message_page_is_the_themes_with_its_own_text() {
    let pages = pages();
    let kinds = [
        PageKind::UnsupportedMediaType,
        PageKind::TooLarge,
        PageKind::Unreadable,
        PageKind::ServerError,
        PageKind::NotFound,
    ];
    let mut texts = std::collections::BTreeSet::new();
    for kind in kinds {
        let html = pages.message(kind, "/prod/plaatsen").unwrap();
        assert!(html.contains("class=\"site-header\""), "{kind:?}");
        assert!(html.contains("<a href=\"/prod/plaatsen\">Terug naar het formulier</a>"));
        assert!(html.contains("<h1>") && !html.contains(kind.key()), "{kind:?}: {html}");
        texts.insert(paragraph_after_heading(&html));
    }
    assert_eq!(texts.len(), kinds.len(), "{texts:?}");
    let server_error = pages.message(PageKind::ServerError, "/plaatsen").unwrap();
    assert!(server_error.contains("Dat ligt aan ons, niet aan u."));
}

// Guards the 413 and 404 answers of the router: the theme's message page with its status.
#[tokio::test]
async fn too_large_and_not_found_answers_are_theme_pages() {
    let t = sqlite_app(5);
    let answer = post_form(&t.app, vec![b'a'; 70 * 1024]).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(answer.html.contains("<h1>Uw bericht is te lang</h1>"), "{}", answer.html);
    let answer = get(&t.app, "/bedankt/01ARZ3NDEKTSV4RRFFQ69G5FAV?token=x").await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert!(answer.html.contains("<h1>Deze pagina bestaat niet</h1>"));
    assert!(answer.html.contains("<title>Deze pagina bestaat niet – Buurtbord Test</title>"));
}

/// A copy of the fixture content with site.yaml's text changed by `edit`.
fn edited_content(edit: impl Fn(&str) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let yaml = std::fs::read_to_string(content_dir().join("site.yaml")).unwrap();
    std::fs::write(dir.path().join("site.yaml"), edit(&yaml)).unwrap();
    std::fs::create_dir(dir.path().join("pages")).unwrap();
    let privacy = Path::new("pages/privacy.md");
    std::fs::copy(content_dir().join(privacy), dir.path().join(privacy)).unwrap();
    dir
}

// Guards the function on its own host (an absolute submission_endpoint): every link to the
// site, the stylesheet included, is absolute, while the form still posts to the function.
#[test]
fn pages_link_to_the_site_absolutely_when_the_function_has_its_own_host() {
    let content =
        edited_content(|yaml| yaml.replace("\"/plaatsen\"", "\"https://fn.example.net/plaatsen\""));
    let pages = Pages::load(content.path(), &theme_dir(), None).unwrap();
    let html = pages.message(PageKind::NotFound, "/plaatsen").unwrap();
    assert!(html.contains("href=\"https://buurtbord.example.nl/static/style.css\""), "{html}");
    assert!(html.contains("href=\"https://buurtbord.example.nl/privacy/\""));
    assert!(html.contains("href=\"https://buurtbord.example.nl/gemeente/asby/\""));
    // Only the link back to the form is relative: it is the function's own address.
    assert_eq!(html.matches("href=\"/").count(), 1, "{html}");

    let same_host = common::pages().message(PageKind::NotFound, "/plaatsen").unwrap();
    assert!(same_host.contains("href=\"/static/style.css\""));
}

// Guards the operator's view of a bad site.yaml: every problem is in the one message.
#[test]
fn bad_site_yaml_reports_every_problem_at_once() {
    let content = edited_content(|yaml| {
        yaml.replace("Europe/Amsterdam", "Europe/Nergens").replace("max_days: 90", "max_days: 9")
    });
    let error = Pages::load(content.path(), &theme_dir(), None).err().expect("bad content");
    let message = error.to_string();
    assert!(message.contains("Europe/Nergens") && message.contains("default_days"), "{message}");
}
