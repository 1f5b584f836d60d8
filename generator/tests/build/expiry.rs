//! Expiry: a post is on the site up to and including its expiry moment in the site's
//! zone (Europe/Amsterdam), and on no page, listing, feed or sitemap after it.

use crate::atom::{parse_feed, sitemap_locs};
use crate::fixture::{Fixture, PostFile, post};

/// True if the post at `/bericht/<slug>/` is anywhere on a site built at `now`.
fn is_live(post: PostFile, slug: &str, now: &str) -> bool {
    let site = Fixture::new().post(post).now(now).build();
    let page = site.exists(&format!("/bericht/{slug}/"));
    let listed = site.read("/hulpaanbod/").contains(&format!("/bericht/{slug}/"));
    let in_feed = !parse_feed("atom.xml", &site.read("/atom.xml")).entries.is_empty();
    let in_sitemap =
        sitemap_locs(&site.read("/sitemap.xml")).iter().any(|l| l.contains("/bericht/"));
    assert!(
        page == listed && listed == in_feed && in_feed == in_sitemap,
        "{slug} at {now}: page {page}, listing {listed}, feed {in_feed}, sitemap {in_sitemap}"
    );
    page
}

fn expiring(expires: &str) -> PostFile {
    post("exp").title("Vervalt").raw("expires", expires)
}

// A date-only expiry lasts the whole last day in the site zone, and ends at midnight.
#[test]
fn date_only_expiry_keeps_the_post_through_the_last_local_day() {
    assert!(is_live(expiring("2025-06-30"), "vervalt", "2025-06-30T23:59:59+02:00"));
    assert!(is_live(expiring("2025-06-30"), "vervalt", "2025-06-30T21:59:59Z"));
    assert!(!is_live(expiring("2025-06-30"), "vervalt", "2025-07-01T00:00:00+02:00"));
}

// An expiry at exactly midnight is still live at that instant and gone one second later.
#[test]
fn expiry_at_midnight_is_live_at_the_instant_and_gone_after() {
    let at_midnight = || expiring("2025-07-01T00:00:00+02:00");
    assert!(is_live(at_midnight(), "vervalt", "2025-07-01T00:00:00+02:00"));
    assert!(!is_live(at_midnight(), "vervalt", "2025-07-01T00:00:01+02:00"));
}

// The last day of a post can be the 25-hour day when summer time ends, or the 23-hour
// day when it starts: the end of that day is taken in the zone's offset of that night.
#[test]
fn date_only_expiry_across_dst_changes_ends_at_local_midnight() {
    // 26 October 2025: clocks go back, the day ends at 23:59:59+01:00.
    assert!(is_live(expiring("2025-10-26"), "vervalt", "2025-10-26T23:30:00+01:00"));
    assert!(!is_live(expiring("2025-10-26"), "vervalt", "2025-10-27T00:00:30+01:00"));
    // 29 March 2026: clocks go forward, the day ends at 23:59:59+02:00.
    assert!(is_live(expiring("2026-03-29"), "vervalt", "2026-03-29T23:30:00+02:00"));
    assert!(!is_live(expiring("2026-03-29"), "vervalt", "2026-03-30T00:00:30+02:00"));
}

// The default expiry (30 days in the fixture) counts calendar days in the site zone, so
// a post placed at 00:30 in summer time still ends on the 30th day's date after the
// clocks go back, and the page says so.
#[test]
fn default_expiry_across_a_dst_change_keeps_the_local_time_of_day() {
    let placed = || post("dst").title("Zomertijd").raw("date", "2025-10-01T00:30:00+02:00");
    let site = Fixture::new().post(placed()).now("2025-10-02T12:00:00+02:00").build();
    let page = site.read("/bericht/zomertijd/");
    assert!(
        page.contains(r#"<time datetime="2025-10-31T00:30:00+01:00">31 oktober 2025</time>"#),
        "{page}"
    );

    assert!(is_live(placed(), "zomertijd", "2025-10-31T00:29:00+01:00"));
    assert!(!is_live(placed(), "zomertijd", "2025-10-31T00:31:00+01:00"));
}

// Expired posts are counted in the report and left out; live ones stay.
#[test]
fn build_report_counts_live_and_expired_posts() {
    let site = Fixture::new()
        .post(post("old").title("Oud").raw("expires", "2025-06-05"))
        .post(post("new").title("Nieuw"))
        .now("2025-06-10T12:00:00+02:00");
    let report = site.try_build().unwrap();
    assert_eq!((report.posts, report.expired), (1, 1));
    assert!(site.exists("/bericht/nieuw/") && !site.exists("/bericht/oud/"));
}
