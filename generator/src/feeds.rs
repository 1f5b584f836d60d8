//! Atom feeds, written with `atom_syndication` so that every title, name and URL is
//! escaped exactly once. Entry ids are `tag:` URIs built from the post's permanent id,
//! so a retitled post is an update in a feed reader, never a new item.

use atom_syndication::{Content, Entry, Feed, Link, Person, Text};
use chrono::{DateTime, FixedOffset};

use crate::config::Site;
use crate::dates;
use crate::post::Post;
use crate::views::PostView;

/// How many entries a feed carries.
pub const FEED_ENTRIES: usize = 50;

/// Renders a feed at `feed_path` for the listing at `listing_path`.
pub fn render(
    site: &Site,
    title: &str,
    feed_path: &str,
    listing_path: &str,
    entries: &[(&Post, &PostView)],
) -> String {
    let updated = entries
        .iter()
        .map(|(p, _)| p.updated)
        .max()
        .unwrap_or_else(|| DateTime::<FixedOffset>::from(DateTime::UNIX_EPOCH));
    let feed = Feed {
        id: tag(site, &format!("feed{feed_path}")),
        title: Text::plain(title),
        updated: dates::local(&updated, site.tz),
        links: vec![
            link(site.absolute(feed_path), "self", "application/atom+xml"),
            link(site.absolute(listing_path), "alternate", "text/html"),
        ],
        authors: vec![person(&site.config.name)],
        entries: entries.iter().take(FEED_ENTRIES).map(|(p, v)| entry(site, p, v)).collect(),
        lang: Some("nl".into()),
        ..Feed::default()
    };
    feed.to_string()
}

fn entry(site: &Site, post: &Post, view: &PostView) -> Entry {
    Entry {
        id: tag(site, &format!("bericht:{}", post.id)),
        title: Text::plain(&post.title),
        updated: dates::local(&post.updated, site.tz),
        published: Some(dates::local(&post.date, site.tz)),
        authors: vec![person(&post.display_name)],
        links: vec![link(site.absolute(&crate::urls::post(&post.slug)), "alternate", "text/html")],
        summary: Some(Text::plain(&view.excerpt)),
        content: Some(Content {
            value: Some(view.body_html.clone()),
            content_type: Some("html".into()),
            ..Content::default()
        }),
        ..Entry::default()
    }
}

/// A `tag:` URI (RFC 4151) under the site's host.
fn tag(site: &Site, specific: &str) -> String {
    let host = site.origin.split("://").nth(1).unwrap_or("localhost");
    format!("tag:{host},2026:{specific}")
}

fn link(href: String, rel: &str, mime: &str) -> Link {
    Link { href, rel: rel.into(), mime_type: Some(mime.into()), ..Link::default() }
}

fn person(name: &str) -> Person {
    Person { name: name.into(), ..Person::default() }
}
