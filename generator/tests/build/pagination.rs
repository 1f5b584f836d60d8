//! Pagination beyond the C17 case: other page sizes, exact multiples, and the count of
//! results on every listing kind.

use crate::fixture::{Fixture, post};
use crate::html::{parse, select};

/// A site with `n` offers in Åsby, a minute apart, at page size `size`.
fn site(n: usize, size: usize) -> Fixture {
    let mut site = Fixture::new().page_size(size);
    for i in 0..n {
        let date = format!("2025-06-01T10:{i:02}:00+02:00");
        site = site.post(post(&format!("p{i:02}")).raw("date", &date));
    }
    site.build()
}

/// The listing's page paths on disk, page 1 first.
fn pages_of(site: &Fixture, root: &str) -> Vec<String> {
    let mut pages = vec![root.to_string()];
    for n in 2.. {
        let path = format!("{root}pagina/{n}/");
        if !site.exists(&path) {
            break;
        }
        pages.push(path);
    }
    pages
}

// Exactly N × page size posts fill N pages and never make an empty page N+1.
#[test]
fn exact_multiple_of_page_size_gives_full_pages_and_no_empty_extra_page() {
    let site = site(6, 3);
    for root in ["/hulpaanbod/", "/gemeente/asby/", "/categorie/garden/"] {
        let pages = pages_of(&site, root);
        assert_eq!(pages.len(), 2, "{root}: {pages:?}");
        for page in &pages {
            assert_eq!(select(&parse(&site.read(page)), "article.card").len(), 3, "{page}");
        }
    }
}

// Exactly one page of posts has no pagination navigation at all.
#[test]
fn exactly_one_full_page_has_no_page_navigation() {
    let site = site(3, 3);
    let doc = parse(&site.read("/hulpaanbod/"));
    assert_eq!(select(&doc, "article.card").len(), 3);
    assert!(select(&doc, "nav.pagination, a[rel=next], a[rel=prev]").is_empty());
    assert!(!site.exists("/hulpaanbod/pagina/2/"));
}

// Long listings show the first, last and nearby page numbers with gaps, and the current
// page is marked; the count says how many results there are.
#[test]
fn long_listing_shows_count_current_page_and_gaps() {
    let site = site(10, 1);
    let page = site.read("/hulpaanbod/pagina/5/");
    let doc = parse(&page);
    let current: Vec<String> = select(&doc, "nav.pagination [aria-current=page]")
        .iter()
        .map(|e| e.text().collect())
        .collect();
    assert_eq!(current, ["5"]);
    let numbers: Vec<String> = select(&doc, "nav.pagination li")
        .iter()
        .map(|e| e.text().collect::<String>().trim().to_string())
        .filter(|t| t.chars().all(|c| c.is_ascii_digit() || c == '…'))
        .collect();
    assert_eq!(numbers, ["1", "…", "3", "4", "5", "6", "7", "…", "10"]);
    assert!(page.contains("10 berichten"), "the count of results is shown");
    assert!(page.contains("pagina 5 van 10"));
}
