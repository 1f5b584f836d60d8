//! Reading built HTML with a real parser (`scraper`, on html5ever as browsers parse),
//! so the checks see elements and attributes as a browser would, not as text.

use scraper::{Html, Selector};

/// Elements that must never come out of a resident's text.
pub const FORBIDDEN_ELEMENTS: &[&str] = &[
    "script", "iframe", "form", "input", "button", "object", "embed", "style", "svg", "math",
    "set", "animate", "img", "frame", "frameset", "base", "meta", "link",
];

/// Link schemes a resident's text may carry.
pub const SAFE_SCHEMES: &[&str] = &["http", "https", "mailto", "tel"];

pub fn parse(html: &str) -> Html {
    Html::parse_document(html)
}

pub fn select<'a>(doc: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    let selector = Selector::parse(css).unwrap_or_else(|e| panic!("selector {css}: {e:?}"));
    doc.select(&selector).collect()
}

/// The text content of the first element matching `css`, whitespace collapsed.
pub fn text_of(doc: &Html, css: &str) -> String {
    let element = select(doc, css).into_iter().next().unwrap_or_else(|| panic!("no {css}"));
    element.text().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every problem a browser would turn into script, style or a foreign request, inside
/// the elements matching `scope`.
pub fn unsafe_markup(html: &str, scope: &str) -> Vec<String> {
    let doc = parse(html);
    let mut problems = Vec::new();
    for root in select(&doc, scope) {
        for element in root.descendants().filter_map(scraper::ElementRef::wrap) {
            let name = element.value().name();
            if FORBIDDEN_ELEMENTS.contains(&name) && !is_theme_form(element) {
                problems.push(format!("<{name}> element"));
            }
            for (attr, value) in element.value().attrs() {
                if attr.starts_with("on") {
                    problems.push(format!("<{name} {attr}=…> event handler"));
                }
                if attr == "style" {
                    problems.push(format!("<{name} style=…> attribute"));
                }
                let is_url = matches!(
                    attr,
                    "href" | "src" | "action" | "formaction" | "data" | "xlink:href"
                );
                if is_url && !is_safe_url(value) {
                    problems.push(format!("<{name} {attr}={value:?}> unsafe URL"));
                }
            }
        }
    }
    problems
}

/// True if `element` is, or is inside, one of the theme's own forms on a post page: a
/// form whose action is the function's response or report route. A resident's text can
/// set no action, so such a form never comes from it.
fn is_theme_form(element: scraper::ElementRef<'_>) -> bool {
    let is_ours = |e: scraper::ElementRef<'_>| {
        e.value().name() == "form"
            && e.value()
                .attr("action")
                .is_some_and(|a| a.contains("/reageren/") || a.contains("/melden/"))
    };
    is_ours(element) || element.ancestors().filter_map(scraper::ElementRef::wrap).any(is_ours)
}

/// True if `url`, read the way a browser reads it (entities already decoded by the
/// parser, ASCII blanks and controls removed, lowercased), is relative (the theme's own
/// links) or has an allowed scheme.
pub fn is_safe_url(url: &str) -> bool {
    let compact: String =
        url.chars().filter(|c| !c.is_ascii_whitespace() && !c.is_control()).collect();
    match compact.split_once(':') {
        Some((scheme, _)) if !scheme.contains(['/', '?', '#']) => {
            SAFE_SCHEMES.contains(&scheme.to_ascii_lowercase().as_str())
        }
        _ => true,
    }
}

/// Every link and asset reference of a page: `a[href]`, `link[href]`, `img[src]`,
/// `script[src]`, as written.
pub fn references(html: &str) -> Vec<String> {
    let doc = parse(html);
    let mut refs = Vec::new();
    for (css, attr) in
        [("a[href]", "href"), ("link[href]", "href"), ("img[src]", "src"), ("script[src]", "src")]
    {
        refs.extend(
            select(&doc, css).iter().filter_map(|e| e.value().attr(attr)).map(String::from),
        );
    }
    refs
}
