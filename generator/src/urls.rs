//! The site's URL scheme, in one place: every path the generator writes and every link
//! to it comes from here. Paths start with `/` and are relative to the base path.

use crate::post::Kind;

pub const HOME: &str = "/";
pub const FEED_ALL: &str = "/atom.xml";
pub const SITEMAP: &str = "/sitemap.xml";
pub const NOT_FOUND: &str = "/404.html";
pub const ROBOTS: &str = "/robots.txt";

/// The listing of one kind.
pub fn kind(kind: Kind) -> &'static str {
    match kind {
        Kind::Request => "/hulpvragen/",
        Kind::Offer => "/hulpaanbod/",
    }
}

/// The form page with `kind` chosen.
pub fn form(kind: Kind) -> &'static str {
    match kind {
        Kind::Request => "/vraag-hulp/",
        Kind::Offer => "/bied-hulp-aan/",
    }
}

/// A municipality's listing, optionally of one kind.
pub fn municipality(slug: &str, kind_filter: Option<Kind>) -> String {
    match kind_filter {
        None => format!("/gemeente/{slug}/"),
        Some(k) => format!("/gemeente/{slug}{}", kind(k)),
    }
}

pub fn category(slug: &str) -> String {
    format!("/categorie/{slug}/")
}

pub fn post(slug: &str) -> String {
    format!("/bericht/{slug}/")
}

/// The function's response form for post `id`; relative to the function, not the site.
pub fn respond(id: &str) -> String {
    format!("/reageren/{id}")
}

/// The function's report form for post `id`; relative to the function, not the site.
pub fn report(id: &str) -> String {
    format!("/melden/{id}")
}

/// The function's page where a poster asks for their private links again; relative to the
/// function, not the site.
pub const LOST_LINK: &str = "/link-kwijt";

pub fn page(slug: &str) -> String {
    format!("/{slug}/")
}

/// Page `n` of a listing at `root`; page 1 is the root itself, so it has one address.
pub fn listing_page(root: &str, n: usize) -> String {
    if n <= 1 { root.to_string() } else { format!("{root}pagina/{n}/") }
}

/// The Atom feed that belongs to a listing.
pub fn feed_of(root: &str) -> String {
    format!("{root}atom.xml")
}

/// The file a path is written to: directories get `index.html`.
pub fn file_of(path: &str) -> String {
    let rel = path.trim_start_matches('/');
    if rel.is_empty() || rel.ends_with('/') { format!("{rel}index.html") } else { rel.to_string() }
}
