//! `buurtbord serve`'s answer for a page that does not exist, as a browser asks for it.

mod support;

use support::Server;

// Guards a reader whose browser cached a post page that has since left the site: the
// browser asks again with `If-Modified-Since`, and the theme's 404 page must still come
// whole. Found by the browser journey (tests/e2e): the 404 file's own conditional answer
// (304) reached Chromium as an empty 404, which it shows as its own error page.
#[test]
fn unknown_page_asked_with_if_modified_since_gets_the_whole_404_page() {
    let server = Server::start();
    let agent: ureq::Agent =
        ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let url = server.url("/bericht/bestaat-niet/");

    let first = agent.get(&url).call().unwrap();
    assert_eq!(first.status(), 404);
    let since = first.headers().get("last-modified").and_then(|v| v.to_str().ok());
    let since = since.unwrap_or("Thu, 01 Jan 2099 00:00:00 GMT").to_owned();

    let mut again = agent.get(&url).header("If-Modified-Since", &since).call().unwrap();
    assert_eq!(again.status(), 404);
    let body = again.body_mut().read_to_string().unwrap();
    assert!(body.contains("Deze pagina bestaat niet"), "an empty or partial 404: {body:?}");
    let kind = again.headers().get("content-type").and_then(|v| v.to_str().ok());
    assert_eq!(kind, Some("text/html; charset=utf-8"));
}
