//! Reading built feeds and sitemaps with a strict XML parser (roxmltree), checking the
//! parts of Atom 1.0 (RFC 4287) that feed readers rely on while doing so.

use chrono::DateTime;
use roxmltree::{Document, Node};

const ATOM: &str = "http://www.w3.org/2005/Atom";
const SITEMAP: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";

/// A feed as a reader sees it.
#[derive(Debug)]
pub struct Feed {
    pub id: String,
    pub title: String,
    pub updated: String,
    pub self_link: String,
    pub entries: Vec<Entry>,
}

#[derive(Debug)]
pub struct Entry {
    pub id: String,
    pub title: String,
    pub updated: String,
    pub published: Option<String>,
    pub link: String,
    pub authors: Vec<String>,
    /// The entry's HTML content, unescaped once (as a reader gets it).
    pub content_html: Option<String>,
}

/// Parses `xml` strictly and checks the required Atom elements; panics naming `path`.
pub fn parse_feed(path: &str, xml: &str) -> Feed {
    let doc = Document::parse(xml).unwrap_or_else(|e| panic!("{path} is not well-formed: {e}"));
    let feed = doc.root_element();
    assert!(feed.has_tag_name((ATOM, "feed")), "{path}: root is not an Atom feed");
    let entries = children(feed, "entry").map(|e| entry(path, e)).collect();
    Feed {
        id: required(path, feed, "id"),
        title: required(path, feed, "title"),
        updated: date(path, &required(path, feed, "updated")),
        self_link: link(path, feed, "self"),
        entries,
    }
}

fn entry(path: &str, e: Node) -> Entry {
    let content = children(e, "content").next();
    if let Some(c) = content {
        assert_eq!(c.attribute("type"), Some("html"), "{path}: entry content type");
    }
    Entry {
        id: required(path, e, "id"),
        title: required(path, e, "title"),
        updated: date(path, &required(path, e, "updated")),
        published: children(e, "published").next().map(|p| date(path, p.text().unwrap_or(""))),
        link: link(path, e, "alternate"),
        authors: children(e, "author")
            .filter_map(|a| children(a, "name").next())
            .map(|n| n.text().unwrap_or("").to_string())
            .collect(),
        content_html: content.map(|c| c.text().unwrap_or("").to_string()),
    }
}

/// The `<loc>` of every URL in a sitemap, after checking it is well-formed and that
/// each `lastmod` is a W3C date-time with an offset.
pub fn sitemap_locs(xml: &str) -> Vec<String> {
    let doc =
        Document::parse(xml).unwrap_or_else(|e| panic!("sitemap.xml is not well-formed: {e}"));
    let root = doc.root_element();
    assert!(root.has_tag_name((SITEMAP, "urlset")), "sitemap root is {:?}", root.tag_name());
    let mut locs = Vec::new();
    for url in root.children().filter(|n| n.has_tag_name((SITEMAP, "url"))) {
        let child = |name| url.children().find(|n| n.has_tag_name((SITEMAP, name)));
        locs.push(child("loc").and_then(|n| n.text()).expect("every url has a loc").to_string());
        if let Some(lastmod) = child("lastmod") {
            date("sitemap.xml", lastmod.text().unwrap_or(""));
        }
    }
    locs
}

fn children<'a, 'i>(node: Node<'a, 'i>, name: &'static str) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children().filter(move |n| n.has_tag_name((ATOM, name)))
}

fn required(path: &str, node: Node, name: &'static str) -> String {
    let child = children(node, name).next().unwrap_or_else(|| panic!("{path}: no <{name}>"));
    let text = child.text().unwrap_or("").to_string();
    assert!(!text.trim().is_empty(), "{path}: empty <{name}>");
    text
}

fn link(path: &str, node: Node, rel: &str) -> String {
    let link = children(node, "link")
        .find(|l| l.attribute("rel").unwrap_or("alternate") == rel)
        .unwrap_or_else(|| panic!("{path}: no link rel={rel}"));
    link.attribute("href").expect("a link has an href").to_string()
}

/// Checks `value` is RFC 3339 with an offset and returns it unchanged.
fn date(path: &str, value: &str) -> String {
    DateTime::parse_from_rfc3339(value)
        .unwrap_or_else(|e| panic!("{path}: `{value}` is not RFC 3339 with offset: {e}"));
    value.to_string()
}
