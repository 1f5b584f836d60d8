//! What templates see. Views are plain serialisable structs built once per build, with
//! URLs already under the base path and dates already formatted, so templates only
//! arrange them and never compute.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::Site;
use crate::content::Content;
use crate::dates;
use crate::markdown;
use crate::page::Page;
use crate::post::{Kind, Post};
use crate::theme::{Theme, Words};
use crate::urls;

/// Site-wide data, the same on every page.
#[derive(Debug, Serialize)]
pub struct SiteView {
    pub name: String,
    pub tagline: String,
    pub region: String,
    /// Base path (`/` or `/buurtbord/`), for hand-written links in templates.
    pub base: String,
    pub home_url: String,
    pub static_url: String,
    pub feed_url: String,
    /// Where the form posts.
    pub submission_endpoint: String,
    /// The function's page for a poster who lost their private link.
    pub lost_link_url: String,
    pub municipalities: Vec<MunicipalityView>,
    pub categories: Vec<CategoryView>,
    pub kinds: Vec<KindView>,
    pub menu: Vec<LinkView>,
    pub expiry_default_days: u32,
    pub expiry_max_days: u32,
}

#[derive(Debug, Serialize, Clone)]
pub struct MunicipalityView {
    pub slug: String,
    pub name: String,
    pub url: String,
    pub neighbourhoods: Vec<String>,
    /// The municipality's listing per kind.
    pub by_kind: Vec<KindLink>,
}

#[derive(Debug, Serialize, Clone)]
pub struct KindLink {
    pub kind: Kind,
    pub url: String,
}

#[derive(Debug, Serialize, Clone)]
pub struct CategoryView {
    pub slug: String,
    pub label: String,
    pub description: String,
    pub url: String,
}

#[derive(Debug, Serialize, Clone)]
pub struct KindView {
    pub kind: Kind,
    pub one: String,
    pub many: String,
    pub url: String,
    pub form_url: String,
    pub feed_url: String,
}

#[derive(Debug, Serialize, Clone)]
pub struct LinkView {
    pub title: String,
    pub url: String,
}

/// A post as templates see it, on its page and as a card in listings.
#[derive(Debug, Serialize, Clone)]
pub struct PostView {
    pub id: String,
    pub url: String,
    pub title: String,
    pub kind: Kind,
    pub kind_label: String,
    pub category: CategoryView,
    pub municipality: MunicipalityView,
    pub neighbourhood: Option<String>,
    pub recurring: bool,
    pub date_iso: String,
    pub date: String,
    pub expires_iso: String,
    pub expires: String,
    pub display_name: String,
    pub organisation: Option<String>,
    /// Plain text, at most about 160 characters, for cards and descriptions.
    pub excerpt: String,
    /// Sanitised HTML of the body.
    pub body_html: String,
    /// Where the post's response form posts: the function, beside the submission endpoint.
    pub respond_url: String,
    /// Where the post's report form posts.
    pub report_url: String,
}

#[derive(Debug, Serialize)]
pub struct PageView {
    pub slug: String,
    pub url: String,
    pub title: String,
    pub description: Option<String>,
    pub body_html: String,
}

/// Builds the site view.
pub fn site_view(content: &Content, words: &Words) -> SiteView {
    let site = &content.site;
    let mut menu: Vec<&Page> = content.pages.iter().filter(|p| p.menu_order.is_some()).collect();
    menu.sort_by_key(|p| (p.menu_order, p.slug.clone()));
    SiteView {
        name: site.config.name.clone(),
        tagline: site.config.tagline.clone(),
        region: site.config.region.clone(),
        base: site.base_path.clone(),
        home_url: site.link("/"),
        static_url: site.link("/static/"),
        feed_url: site.link(urls::FEED_ALL),
        submission_endpoint: submission_endpoint(site),
        lost_link_url: function_link(site, urls::LOST_LINK),
        municipalities: (0..site.config.municipalities.len())
            .map(|i| municipality(site, i))
            .collect(),
        categories: site.config.categories.iter().map(|c| category(site, &c.slug)).collect(),
        kinds: Kind::ALL.iter().map(|k| kind(site, words, *k)).collect(),
        menu: menu
            .into_iter()
            .map(|p| LinkView { title: p.title.clone(), url: site.link(&urls::page(&p.slug)) })
            .collect(),
        expiry_default_days: site.config.expiry.default_days,
        expiry_max_days: site.config.expiry.max_days,
    }
}

fn submission_endpoint(site: &Site) -> String {
    let endpoint = &site.config.submission_endpoint;
    if endpoint.starts_with("http://") || endpoint.starts_with("https://") {
        endpoint.clone()
    } else {
        site.link(endpoint)
    }
}

/// A route of the function, which answers beside the submission endpoint: its address
/// with the endpoint's last segment replaced by `path`, so an absolute endpoint on another
/// host (or under an API Gateway stage) gives addresses on that host and stage too.
fn function_link(site: &Site, path: &str) -> String {
    let endpoint = submission_endpoint(site);
    let root = endpoint.rsplit_once('/').map_or("", |(root, _)| root);
    format!("{root}/{}", path.trim_start_matches('/'))
}

fn municipality(site: &Site, i: usize) -> MunicipalityView {
    let m = &site.config.municipalities[i];
    MunicipalityView {
        slug: m.slug.clone(),
        name: m.name.clone(),
        url: site.link(&urls::municipality(&m.slug, None)),
        neighbourhoods: m.neighbourhoods.clone(),
        by_kind: Kind::ALL
            .iter()
            .map(|k| KindLink { kind: *k, url: site.link(&urls::municipality(&m.slug, Some(*k))) })
            .collect(),
    }
}

fn category(site: &Site, slug: &str) -> CategoryView {
    let c = site.category(slug).expect("validated category");
    CategoryView {
        slug: c.slug.clone(),
        label: c.label.clone(),
        description: c.description.clone(),
        url: site.link(&urls::category(&c.slug)),
    }
}

/// The words and URLs of one kind.
pub fn kind(site: &Site, words: &Words, kind: Kind) -> KindView {
    let w = &words.kinds[&kind];
    KindView {
        kind,
        one: w.one.clone(),
        many: w.many.clone(),
        url: site.link(urls::kind(kind)),
        // The function's own form, not the static copy: only the function can give the
        // form the signed load time and one-time id that let the first press of "Versturen"
        // go through. The static copy stays for hosts whose function is down.
        form_url: format!("{}?kind={}", submission_endpoint(site), kind.as_str()),
        feed_url: site.link(&urls::feed_of(urls::kind(kind))),
    }
}

/// Builds a post's view, rendering its Markdown.
pub fn post_view(site: &Site, theme: &Theme, post: &Post) -> PostView {
    let date = dates::local(&post.date, site.tz);
    let expires = dates::local(&post.expires, site.tz);
    let index = site.config.municipalities.iter().position(|m| m.slug == post.municipality);
    PostView {
        id: post.id.clone(),
        url: site.link(&urls::post(&post.slug)),
        title: post.title.clone(),
        kind: post.kind,
        kind_label: theme.words.kinds[&post.kind].one.clone(),
        category: category(site, &post.category),
        municipality: municipality(site, index.expect("validated municipality")),
        neighbourhood: post.neighbourhood.clone(),
        recurring: post.recurring,
        date_iso: date.to_rfc3339(),
        date: theme.date(&date),
        expires_iso: expires.to_rfc3339(),
        expires: theme.date(&expires),
        display_name: post.display_name.clone(),
        organisation: post.organisation.clone(),
        excerpt: markdown::excerpt(&post.body, 160),
        body_html: markdown::render(&post.body),
        respond_url: function_link(site, &urls::respond(&post.id)),
        report_url: function_link(site, &urls::report(&post.id)),
    }
}

/// Builds a content page's view.
pub fn page_view(site: &Site, page: &Page) -> PageView {
    PageView {
        slug: page.slug.clone(),
        url: site.link(&urls::page(&page.slug)),
        title: page.title.clone(),
        description: page.description.clone(),
        body_html: markdown::render(&page.body),
    }
}

/// The submission form's state: empty on the static site; filled with what the resident
/// typed, the errors and fresh hidden fields when the function renders it again.
#[derive(Debug, Serialize, Clone, Default)]
pub struct FormView {
    /// The kind chosen beforehand, if any. Left out when `None`, so a template can fall
    /// back with `default`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    /// Where the form posts.
    pub action: String,
    /// Field values as typed, by field name.
    pub values: BTreeMap<String, String>,
    /// One message per wrong field, by field name.
    pub errors: BTreeMap<String, String>,
    /// The same errors in the order of the form's fields, for the summary at the top.
    pub error_list: Vec<FieldError>,
    /// Hidden fields such as the signed timestamp and the one-time nonce.
    pub hidden: BTreeMap<String, String>,
    /// A short message above the form (for example: please check and send again).
    pub notice: Option<String>,
}

/// One wrong field in the error summary; `field` is the form's field name, so the summary
/// links to `#veld-<field>`.
#[derive(Debug, Serialize, Clone)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FormView {
    /// The form as the static site shows it: nothing filled in.
    pub fn empty(site: &Site, kind: Kind) -> FormView {
        FormView { kind: Some(kind), action: submission_endpoint(site), ..FormView::default() }
    }
}
