//! Listings and pagination: which posts appear on which listing, in which order, and how
//! they fall into pages. Every configured kind, municipality and category gets a listing,
//! also when it is empty, so no menu link ever leads to a 404.

use serde::Serialize;

use crate::config::Site;
use crate::post::{Kind, Post};
use crate::urls;

/// One listing: its root path, what it filters on, and its posts (indices into the
/// build's live posts, which are newest first, ties by id).
#[derive(Debug, Clone)]
pub struct Listing {
    pub root: String,
    pub kind: Option<Kind>,
    pub municipality: Option<usize>,
    pub category: Option<usize>,
    pub posts: Vec<usize>,
    /// Path of this listing's Atom feed, when it has one.
    pub feed: Option<String>,
}

impl Listing {
    /// True if `post` belongs on this listing.
    pub fn accepts(&self, site: &Site, post: &Post) -> bool {
        self.kind.is_none_or(|k| k == post.kind)
            && self
                .municipality
                .is_none_or(|i| site.config.municipalities[i].slug == post.municipality)
            && self.category.is_none_or(|i| site.config.categories[i].slug == post.category)
    }

    /// Number of pages: at least one, so an empty listing still has its page.
    pub fn page_count(&self, page_size: usize) -> usize {
        self.posts.len().div_ceil(page_size).max(1)
    }

    /// The posts on page `n` (1-based).
    pub fn page(&self, n: usize, page_size: usize) -> &[usize] {
        let start = ((n - 1) * page_size).min(self.posts.len());
        let end = (start + page_size).min(self.posts.len());
        &self.posts[start..end]
    }
}

/// All listings of the site for `posts`.
pub fn listings(site: &Site, posts: &[Post]) -> Vec<Listing> {
    let select = |keep: &dyn Fn(&Post) -> bool| -> Vec<usize> {
        posts.iter().enumerate().filter(|(_, p)| keep(p)).map(|(i, _)| i).collect()
    };
    let mut all = Vec::new();
    for kind in Kind::ALL {
        let root = urls::kind(kind).to_string();
        let feed = Some(urls::feed_of(&root));
        all.push(Listing {
            root,
            kind: Some(kind),
            municipality: None,
            category: None,
            posts: select(&|p| p.kind == kind),
            feed,
        });
    }
    for (i, m) in site.config.municipalities.iter().enumerate() {
        let root = urls::municipality(&m.slug, None);
        let feed = Some(urls::feed_of(&root));
        let posts_here = select(&|p| p.municipality == m.slug);
        for kind in Kind::ALL {
            all.push(Listing {
                root: urls::municipality(&m.slug, Some(kind)),
                kind: Some(kind),
                municipality: Some(i),
                category: None,
                posts: posts_here.iter().copied().filter(|j| posts[*j].kind == kind).collect(),
                feed: None,
            });
        }
        all.push(Listing {
            root,
            kind: None,
            municipality: Some(i),
            category: None,
            posts: posts_here,
            feed,
        });
    }
    for (i, c) in site.config.categories.iter().enumerate() {
        all.push(Listing {
            root: urls::category(&c.slug),
            kind: None,
            municipality: None,
            category: Some(i),
            posts: select(&|p| p.category == c.slug),
            feed: None,
        });
    }
    all
}

/// Links between the pages of one listing, as templates see them.
#[derive(Debug, Serialize)]
pub struct Pagination {
    pub current: usize,
    pub total_pages: usize,
    pub prev_url: Option<String>,
    pub next_url: Option<String>,
    /// Page links around the current page; `None` stands for a gap ("…").
    pub pages: Vec<Option<PageLink>>,
}

#[derive(Debug, Serialize)]
pub struct PageLink {
    pub number: usize,
    pub url: String,
    pub is_current: bool,
}

/// The pagination of page `current` out of `total` for the listing at `root`.
pub fn pagination(site: &Site, root: &str, current: usize, total: usize) -> Pagination {
    let link = |n: usize| site.link(&urls::listing_page(root, n));
    let mut pages = Vec::new();
    let mut last_shown = 0;
    for n in 1..=total {
        let near = n.abs_diff(current) <= 2;
        if n == 1 || n == total || near {
            if last_shown != 0 && n > last_shown + 1 {
                pages.push(None);
            }
            pages.push(Some(PageLink { number: n, url: link(n), is_current: n == current }));
            last_shown = n;
        }
    }
    Pagination {
        current,
        total_pages: total,
        prev_url: (current > 1).then(|| link(current - 1)),
        next_url: (current < total).then(|| link(current + 1)),
        pages,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(n: usize) -> Listing {
        Listing {
            root: "/hulpaanbod/".into(),
            kind: Some(Kind::Offer),
            municipality: None,
            category: None,
            posts: (0..n).collect(),
            feed: None,
        }
    }

    #[test]
    fn c17_page_counts_at_the_edges() {
        for (posts, pages) in [(0, 1), (1, 1), (2, 1), (4, 2), (5, 3)] {
            assert_eq!(listing(posts).page_count(2), pages, "{posts} posts");
        }
        assert_eq!(listing(5).page(3, 2), &[4]);
        assert!(listing(0).page(1, 2).is_empty());
    }
}
