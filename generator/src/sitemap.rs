//! `sitemap.xml` and `robots.txt`. A sitemap file holds at most 50,000 URLs (the
//! protocol's limit); larger sites get an index that points to numbered parts.

use quick_xml::escape::escape;

use crate::config::Site;

/// Most URLs in one sitemap file.
pub const MAX_URLS: usize = 50_000;

/// One sitemap entry, `<url>…</url>` and a newline, for site path `path` with its last
/// change `lastmod` in W3C date-time format. Entries are made once per post and kept, so
/// an update that adds one post does not format the other 10,000 again.
pub fn entry(site: &Site, path: &str, lastmod: Option<&str>) -> String {
    let mut xml = String::with_capacity(120);
    xml.push_str("<url><loc>");
    xml.push_str(&escape(site.absolute(path)));
    xml.push_str("</loc>");
    if let Some(lastmod) = lastmod {
        xml.push_str("<lastmod>");
        xml.push_str(&escape(lastmod));
        xml.push_str("</lastmod>");
    }
    xml.push_str("</url>\n");
    xml
}

/// The sitemap files to write, as (site path, XML) pairs, from entries made by [`entry`].
pub fn render(site: &Site, entries: &[&str]) -> Vec<(String, String)> {
    if entries.len() <= MAX_URLS {
        return vec![("/sitemap.xml".into(), urlset(entries))];
    }
    let parts: Vec<(String, String)> = entries
        .chunks(MAX_URLS)
        .enumerate()
        .map(|(i, chunk)| (format!("/sitemap-{}.xml", i + 1), urlset(chunk)))
        .collect();
    let mut index = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for (path, _) in &parts {
        index.push_str(&format!("<sitemap><loc>{}</loc></sitemap>\n", escape(site.absolute(path))));
    }
    index.push_str("</sitemapindex>\n");
    let mut files = vec![("/sitemap.xml".to_string(), index)];
    files.extend(parts);
    files
}

fn urlset(entries: &[&str]) -> String {
    const HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n";
    const TAIL: &str = "</urlset>\n";
    let len = HEAD.len() + TAIL.len() + entries.iter().map(|e| e.len()).sum::<usize>();
    let mut xml = String::with_capacity(len);
    xml.push_str(HEAD);
    for entry in entries {
        xml.push_str(entry);
    }
    xml.push_str(TAIL);
    xml
}

/// `robots.txt`: everything may be indexed except the moderation pages.
pub fn robots(site: &Site) -> String {
    format!(
        "User-agent: *\nDisallow: {}\nSitemap: {}\n",
        site.link("/beheer/"),
        site.absolute("/sitemap.xml")
    )
}
