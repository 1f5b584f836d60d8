//! Slugs: the URL segment of a post. Only `[a-z0-9-]`, no leading, trailing or doubled
//! hyphens, at most [`MAX_SLUG_BYTES`], never empty and never a word the generator or
//! an operating system reserves. Transliteration is pinned by tests, so upgrading
//! `deunicode` cannot silently move a published post to another URL.

use unicode_normalization::UnicodeNormalization;

/// Longest slug in bytes; keeps `<slug>-<suffix>.md` far below the 255-byte file-name limit.
pub const MAX_SLUG_BYTES: usize = 80;

/// Path segments the generator, the function or an operating system uses itself.
const RESERVED: &[&str] = &[
    "pagina",
    "page",
    "feed",
    "atom",
    "atom-xml",
    "index",
    "index-html",
    "sitemap",
    "sitemap-xml",
    "categorie",
    "category",
    "gemeente",
    "municipality",
    "bericht",
    "hulpvragen",
    "hulpaanbod",
    "requests",
    "offers",
    "static",
    "assets",
    "new",
    "submit",
    "plaatsen",
    "bedankt",
    "thanks",
    "beheer",
    "moderation",
    "vraag-hulp",
    "bied-hulp-aan",
    "con",
    "nul",
    "aux",
    "prn",
    "com1",
    "com2",
    "com3",
    "com4",
    "com5",
    "com6",
    "com7",
    "com8",
    "com9",
    "lpt1",
    "lpt2",
    "lpt3",
    "lpt4",
    "lpt5",
    "lpt6",
    "lpt7",
    "lpt8",
    "lpt9",
];

/// Turns free text into a slug, or an empty string when nothing usable is left.
pub fn slugify(text: &str) -> String {
    let nfc: String = text.nfc().map(|c| if is_emoji(c) { ' ' } else { c }).collect();
    let ascii = deunicode::deunicode_with_tofu(&nfc, "-").to_lowercase();
    let mut slug = String::with_capacity(ascii.len());
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    truncate(slug.trim_end_matches('-'), MAX_SLUG_BYTES)
}

/// True for pictographs and the characters that join and modify them. deunicode spells
/// emoji out as English words (`🚲` becomes `bike`), which would put words in the URL
/// that the resident never wrote; they separate words instead.
fn is_emoji(c: char) -> bool {
    matches!(
        c as u32,
        0x2190..=0x21FF // arrows
            | 0x2300..=0x23FF // technical symbols: ⌚ ⏰
            | 0x25A0..=0x27BF // shapes, symbols, dingbats: ☀ ✂ ✅
            | 0x2900..=0x297F | 0x2B00..=0x2BFF // arrows, stars: ⤴ ⭐
            | 0x3030 | 0x303D | 0x3297 | 0x3299
            | 0x200D | 0x20E3 | 0xFE0E | 0xFE0F // joiner, keycap, variation selectors
            | 0x1F000..=0x1FAFF // pictographs, emoticons, skin tones
            | 0xE0020..=0xE007F // tag sequences (flags)
    )
}

/// A post's slug from its title: the plain slug, or with the id's tail appended when the
/// plain slug is empty or reserved.
pub fn post_slug(title: &str, id: &str) -> String {
    let slug = slugify(title);
    let tail = id_tail(id);
    if slug.is_empty() {
        format!("bericht-{tail}")
    } else if is_reserved(&slug) {
        format!("{slug}-{tail}")
    } else {
        slug
    }
}

/// True if and only if `slug` is a valid slug as the generator writes them.
pub fn is_valid(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= MAX_SLUG_BYTES
        && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--")
}

/// True if `slug` would clash with a path the generator owns or an OS device name.
pub fn is_reserved(slug: &str) -> bool {
    RESERVED.contains(&slug)
}

/// The slug the publisher freezes into a post from the form: the title's slug with the
/// id's tail always appended, so two residents who both ask "Hulp bij boodschappen" get
/// two pages instead of the second approval failing on a taken slug. Never reserved (the
/// tail makes it differ from every reserved word) and at most [`MAX_SLUG_BYTES`].
pub fn unique_post_slug(title: &str, id: &str) -> String {
    let tail = id_tail(id);
    let base = truncate(&slugify(title), MAX_SLUG_BYTES - tail.len() - 1);
    let base = base.trim_end_matches('-');
    if base.is_empty() { format!("bericht-{tail}") } else { format!("{base}-{tail}") }
}

fn id_tail(id: &str) -> String {
    let clean: String = id.chars().filter(char::is_ascii_alphanumeric).collect();
    let start = clean.len().saturating_sub(6);
    clean[start..].to_lowercase()
}

fn truncate(slug: &str, max: usize) -> String {
    if slug.len() <= max {
        return slug.to_string();
    }
    // Slugs are ASCII here, so any byte index is a character boundary.
    slug[..max].trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_title_different_ids_give_different_valid_slugs() {
        let a = unique_post_slug("Hulp bij boodschappen", "01JX00000000000000000AAAAA");
        let b = unique_post_slug("Hulp bij boodschappen", "01JX00000000000000000BBBBB");
        assert_eq!(a, "hulp-bij-boodschappen-0aaaaa");
        assert_ne!(a, b);
        let long = unique_post_slug(&"lange titel ".repeat(20), "01JX00000000000000000CCCCC");
        let empty = unique_post_slug("🚲", "01JX00000000000000000DDDDD");
        for slug in
            [&a, &b, &long, &empty, &unique_post_slug("pagina", "01JX0000000000000000000001")]
        {
            assert!(is_valid(slug) && !is_reserved(slug), "{slug}");
            assert!(slug.len() <= MAX_SLUG_BYTES, "{slug}");
        }
        assert_eq!(empty, "bericht-0ddddd");
    }

    #[test]
    fn c01_trailing_emoji_leaves_no_trailing_hyphen() {
        assert_eq!(slugify("Bike repair help 🚲"), "bike-repair-help");
    }

    #[test]
    fn c01_emoji_only_title_gets_fallback_slug() {
        let slug = post_slug("🚲🛠️", "01JX0000000000000000000001");
        assert_eq!(slug, "bericht-000001");
        assert!(is_valid(&slug));
    }

    #[test]
    fn c02_nfd_and_nfc_titles_give_the_same_slug() {
        let nfc = slugify("Café volunteers needed in Åsby");
        let nfd = slugify("Cafe\u{301} volunteers needed in A\u{30a}sby");
        assert_eq!(nfc, "cafe-volunteers-needed-in-asby");
        assert_eq!(nfd, nfc);
    }

    #[test]
    fn c02_transliteration_table_is_pinned() {
        let table = [
            ("å", "a"),
            ("ø", "o"),
            ("æ", "ae"),
            ("ä", "a"),
            ("ö", "o"),
            ("ü", "u"),
            ("ß", "ss"),
            ("ł", "l"),
            ("đ", "d"),
            ("é", "e"),
            ("ë", "e"),
            ("ĳ", "ij"),
        ];
        for (input, want) in table {
            assert_eq!(slugify(&format!("x{input}x")), format!("x{want}x"), "for {input}");
        }
    }

    #[test]
    fn c18_reserved_titles_never_give_reserved_or_dot_slugs() {
        let titles = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/cases/C18/reserved-titles.txt"
        ))
        .expect("handed case C18 is readable");
        for title in titles.lines() {
            let slug = post_slug(title, "01JX00000000000000000000J1");
            assert!(is_valid(&slug), "{title:?} gave invalid slug {slug:?}");
            assert!(!is_reserved(&slug), "{title:?} gave reserved slug {slug:?}");
            assert!(!slug.starts_with('.'), "{title:?} gave {slug:?}");
        }
    }

    #[test]
    fn c20_long_titles_in_any_script_stay_within_the_byte_limit() {
        for title in ["한".repeat(150), "a".repeat(400), "🚲".repeat(100), "ø".repeat(200)] {
            let slug = post_slug(&title, "01JX00000000000000000000J1");
            assert!(slug.len() <= MAX_SLUG_BYTES, "{} bytes", slug.len());
            assert!(is_valid(&slug), "{slug:?}");
        }
    }

    #[test]
    fn punctuation_only_title_falls_back() {
        assert_eq!(post_slug("?!... ---", "abc"), "bericht-abc");
    }

    #[test]
    fn non_latin_script_is_transliterated() {
        assert!(!slugify("Помощь с покупками").is_empty());
        assert!(is_valid(&slugify("買い物の手伝い")));
    }
}
