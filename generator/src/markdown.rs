//! Markdown from residents to safe HTML. Two lines of defence: raw HTML is turned into
//! text and links outside http, https, mailto and tel lose their target while parsing;
//! then ammonia sanitises the HTML with an explicit allowlist, so even a parser bug
//! cannot let a script, frame, form, event handler or style through.

use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

const SCHEMES: [&str; 4] = ["http", "https", "mailto", "tel"];

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let tags: HashSet<&str> = [
        "a",
        "p",
        "br",
        "hr",
        "strong",
        "em",
        "del",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    ]
    .into();
    let mut builder = ammonia::Builder::default();
    builder
        .tags(tags)
        .clean_content_tags(["script", "style"].into())
        .generic_attributes(HashSet::new())
        .tag_attributes([("a", ["href"].into()), ("ol", ["start"].into())].into())
        .url_schemes(SCHEMES.into())
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("nofollow ugc noopener"));
    builder
});

/// Renders resident Markdown to sanitised HTML. Headings shift so the text's top level is
/// `<h2>`, because the page's own title is the only `<h1>` and HTML may not skip a level
/// (a page written with `##` sections gets `<h2>`, not `<h3>`).
pub fn render(markdown: &str) -> String {
    let options = Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES;
    let events: Vec<Event> = Parser::new_ext(markdown, options).collect();
    let top = top_heading_level(&events);
    let mut link_depth_dropped: Vec<bool> = Vec::new();
    let events = events.into_iter().filter_map(|event| match event {
        Event::Html(html) | Event::InlineHtml(html) => Some(Event::Text(html)),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
            let safe = is_allowed_url(&dest_url);
            link_depth_dropped.push(!safe);
            safe.then_some(Event::Start(Tag::Link { link_type, dest_url, title, id }))
        }
        Event::End(TagEnd::Link) => {
            let dropped = link_depth_dropped.pop().unwrap_or(false);
            (!dropped).then_some(Event::End(TagEnd::Link))
        }
        // Images would make every reader's browser fetch a stranger's server; show the
        // description as text instead.
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
        Event::Start(Tag::Heading { level, id, classes, attrs }) => {
            Some(Event::Start(Tag::Heading { level: demote(level, top), id, classes, attrs }))
        }
        Event::End(TagEnd::Heading(level)) => Some(Event::End(TagEnd::Heading(demote(level, top)))),
        other => Some(other),
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    SANITIZER.clean(&html).to_string()
}

/// The text of `markdown` as a reader sees it, without markup: character references
/// decoded, link targets kept beside their text (a link's address is as readable to a
/// reader as its words, once clicked).
pub fn plain_text(markdown: &str) -> String {
    let mut text = String::with_capacity(markdown.len());
    for event in Parser::new(markdown) {
        match event {
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => {
                text.push_str(&t)
            }
            Event::Start(Tag::Link { dest_url, .. }) => {
                text.push(' ');
                text.push_str(&dest_url);
                text.push(' ');
            }
            Event::SoftBreak | Event::HardBreak | Event::End(_) => text.push('\n'),
            _ => {}
        }
    }
    text
}

/// The first words of the body as plain text, cut at a word boundary near `max_chars`.
pub fn excerpt(markdown: &str, max_chars: usize) -> String {
    let mut text = String::new();
    for event in Parser::new(markdown) {
        match event {
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            Event::SoftBreak | Event::HardBreak | Event::End(_) if !text.ends_with(' ') => {
                text.push(' ')
            }
            _ => {}
        }
        if text.chars().count() > max_chars {
            break;
        }
    }
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= max_chars {
        return text;
    }
    let cut: String = text.chars().take(max_chars).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{cut} …")
}

/// The highest heading level the text uses, as a number (1 when it has no heading).
fn top_heading_level(events: &[Event]) -> usize {
    let levels = events.iter().filter_map(|event| match event {
        Event::Start(Tag::Heading { level, .. }) => Some(*level as usize),
        _ => None,
    });
    levels.min().unwrap_or(1)
}

/// `level` moved so that `top` becomes `<h2>`, and never past `<h6>`.
fn demote(level: HeadingLevel, top: usize) -> HeadingLevel {
    let shifted = (level as usize + 2).saturating_sub(top).clamp(2, 6);
    HeadingLevel::try_from(shifted).unwrap_or(HeadingLevel::H6)
}

/// True if the link target's scheme is allowed, judged the way a browser reads it:
/// entity-decoded already by the parser, with ASCII blanks and controls removed.
fn is_allowed_url(url: &CowStr) -> bool {
    let compact: String =
        url.chars().filter(|c| !c.is_ascii_whitespace() && !c.is_control()).collect();
    match compact.split_once(':') {
        Some((scheme, _)) if !scheme.contains(['/', '?', '#']) => {
            SCHEMES.contains(&scheme.to_ascii_lowercase().as_str())
        }
        // No scheme: a relative link, which ammonia then refuses.
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_shows_as_text() {
        let html = render("<b>vet</b> en <script>alert(1)</script>");
        assert!(!html.contains("<b>") && !html.contains("<script"), "{html}");
        assert!(html.contains("&lt;b&gt;vet"), "{html}");
    }

    #[test]
    fn javascript_and_data_links_lose_their_target_but_keep_their_text() {
        for md in [
            "[klik](javascript:alert(1))",
            "[klik](JaVa\tScRiPt:alert(1))",
            "[klik](data:text/html,x)",
        ] {
            let html = render(md);
            assert!(!html.contains("href"), "{md}: {html}");
            assert!(html.contains("klik"), "{md}: {html}");
        }
    }

    #[test]
    fn safe_links_survive_with_rel_and_escaped_ampersand() {
        let html = render("[ok](https://example.org/?a=1&b=2) <mailto:a@example.org>");
        assert!(html.contains(r#"href="https://example.org/?a=1&amp;b=2""#), "{html}");
        assert!(html.contains(r#"rel="nofollow ugc noopener""#), "{html}");
        assert!(html.contains("mailto:a@example.org"), "{html}");
    }

    #[test]
    fn headings_start_at_h2() {
        assert!(render("# Titel").starts_with("<h2>"));
    }

    #[test]
    fn sections_written_with_two_hashes_become_h2_and_keep_their_order() {
        let html = render("## Wie zijn wij?\n\nTekst.\n\n### Bestuur\n\n## Contact");
        assert!(html.starts_with("<h2>Wie zijn wij?</h2>"), "{html}");
        assert!(html.contains("<h3>Bestuur</h3>") && html.contains("<h2>Contact</h2>"), "{html}");
    }

    #[test]
    fn images_become_their_description() {
        let html = render("![een fiets](https://example.org/f.png)");
        assert!(!html.contains("<img") && html.contains("een fiets"), "{html}");
    }

    #[test]
    fn excerpt_is_plain_and_cut_at_a_word() {
        let e = excerpt("**Hallo** buren,\n\nik zoek iemand die op dinsdag boodschappen doet", 30);
        assert_eq!(e, "Hallo buren, ik zoek iemand …");
    }

    #[test]
    fn relative_links_are_dropped() {
        assert!(!render("[x](/beheer/)").contains("href"));
    }
}
