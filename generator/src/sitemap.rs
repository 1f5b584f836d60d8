//! `sitemap.xml` and `robots.txt`. A sitemap file holds at most 50,000 URLs (the
//! protocol's limit); larger sites get an index that points to numbered parts.

use quick_xml::escape::escape;

use crate::config::Site;

/// Most URLs in one sitemap file.
pub const MAX_URLS: usize = 50_000;

/// One sitemap entry: a site path and its last change in W3C date-time format.
pub struct Entry {
    pub path: String,
    pub lastmod: Option<String>,
}

/// The sitemap files to write, as (site path, XML) pairs.
pub fn render(site: &Site, entries: &[Entry]) -> Vec<(String, String)> {
    if entries.len() <= MAX_URLS {
        return vec![("/sitemap.xml".into(), urlset(site, entries))];
    }
    let parts: Vec<(String, String)> = entries
        .chunks(MAX_URLS)
        .enumerate()
        .map(|(i, chunk)| (format!("/sitemap-{}.xml", i + 1), urlset(site, chunk)))
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

fn urlset(site: &Site, entries: &[Entry]) -> String {
    let mut xml = String::with_capacity(entries.len() * 100 + 200);
    xml.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for entry in entries {
        xml.push_str("<url><loc>");
        xml.push_str(&escape(site.absolute(&entry.path)));
        xml.push_str("</loc>");
        if let Some(lastmod) = &entry.lastmod {
            xml.push_str("<lastmod>");
            xml.push_str(&escape(lastmod));
            xml.push_str("</lastmod>");
        }
        xml.push_str("</url>\n");
    }
    xml.push_str("</urlset>\n");
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
