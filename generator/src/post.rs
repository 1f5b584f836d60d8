//! The content model of a post: what a `content/posts/<id>.md` file holds, read
//! strictly. Only public fields exist here; there is no place for an e-mail address,
//! phone number or street address, so none can reach the site.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::config::Site;
use crate::dates::{self, DayEdge};
use crate::error::ContentError;
use crate::front_matter::{self, key_line, yaml_error};
use crate::slug;
use crate::text::{clean_block, clean_line};

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 120;
/// Longest display name, in characters.
pub const MAX_NAME_CHARS: usize = 60;

/// Whether a post asks for help or offers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Request,
    Offer,
}

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::Request, Kind::Offer];

    /// The identifier used in front matter and templates.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Request => "request",
            Kind::Offer => "offer",
        }
    }
}

/// Front matter exactly as written; every field a string so that YAML never turns a
/// title like `no` or `007` into a boolean or number behind our back.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FrontMatter {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    pub title: String,
    pub kind: Kind,
    pub category: String,
    pub municipality: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub neighbourhood: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub recurring: bool,
    pub date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
}

/// Fields written without quotes: typed values in a fixed format (RFC 3339 dates,
/// booleans). Every other value is a resident's text and is always double-quoted.
const TYPED_FIELDS: [&str; 4] = ["date", "updated", "expires", "recurring"];

impl FrontMatter {
    /// The complete content file: front matter, then `body`. Values are serialised by
    /// serde; each text value becomes a JSON string, which is a double-quoted YAML scalar
    /// that YAML 1.1 and 1.2 readers both read back as the same string. (serde_yaml alone
    /// leaves `no`, `on`, `12:30` or `2024-12-19` unquoted, which YAML 1.1 reads as a
    /// boolean, number or date.)
    pub fn to_file(&self, body: &str) -> String {
        let mapping = match serde_yaml::to_value(self) {
            Ok(serde_yaml::Value::Mapping(m)) => m,
            _ => unreachable!("front matter serialises to a mapping"),
        };
        let mut text = String::from("---\n");
        for (key, value) in &mapping {
            let key = key.as_str().expect("field names are strings");
            let value = match value {
                serde_yaml::Value::Bool(b) => b.to_string(),
                serde_yaml::Value::String(s) if TYPED_FIELDS.contains(&key) => s.clone(),
                serde_yaml::Value::String(s) => {
                    serde_json::to_string(s).expect("a string always serialises")
                }
                other => unreachable!("front matter field {key} is {other:?}"),
            };
            text.push_str(key);
            text.push_str(": ");
            text.push_str(&value);
            text.push('\n');
        }
        text.push_str("---\n");
        text.push_str(body);
        if !body.ends_with('\n') {
            text.push('\n');
        }
        text
    }
}

/// A validated post, ready for rendering.
#[derive(Debug, Clone)]
pub struct Post {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub kind: Kind,
    /// Category slug.
    pub category: String,
    /// Municipality slug.
    pub municipality: String,
    pub neighbourhood: Option<String>,
    pub recurring: bool,
    pub date: DateTime<FixedOffset>,
    pub updated: DateTime<FixedOffset>,
    pub expires: DateTime<FixedOffset>,
    pub display_name: String,
    pub organisation: Option<String>,
    /// Markdown as written (NFC, without control characters).
    pub body: String,
    pub source: PathBuf,
}

impl Post {
    /// True if the post is past its expiry at `now`.
    pub fn is_expired(&self, now: DateTime<FixedOffset>) -> bool {
        self.expires < now
    }
}

/// Reads one post file and checks it as [`parse`] does; every problem in it is returned,
/// not only the first.
pub fn load(site: &Site, path: &Path) -> Result<Post, Vec<ContentError>> {
    let bytes = std::fs::read(path)
        .map_err(|e| vec![ContentError::new(path, None, format!("cannot read: {e}"))])?;
    let text = front_matter::decode(path, &bytes).map_err(|e| vec![e])?;
    parse(site, path, text)
}

/// Checks the text of a post file held in memory, as if it were stored at `path` (which
/// errors name and [`Post::source`] keeps). A moderator's preview renders what this
/// returns, so it shows exactly what publishing the same text would put online.
pub fn parse(site: &Site, path: &Path, text: &str) -> Result<Post, Vec<ContentError>> {
    // The same text as `load` sees after decoding, which drops a byte order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let split = front_matter::split(path, text).map_err(|e| vec![e])?;
    let raw: FrontMatter =
        serde_yaml::from_str(split.yaml).map_err(|e| vec![yaml_error(path, &e, 1)])?;
    validate(site, path, split.yaml, raw, split.body)
}

fn validate(
    site: &Site,
    path: &Path,
    yaml: &str,
    raw: FrontMatter,
    body: &str,
) -> Result<Post, Vec<ContentError>> {
    let mut errors = Vec::new();
    let mut err = |key: &str, reason: String| {
        errors.push(ContentError::new(path, key_line(yaml, key, 1), reason));
    };

    let id = raw.id.trim().to_string();
    if id.is_empty()
        || id.len() > 64
        || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        err("id", format!("id `{id}` must be 1 to 64 letters, digits, `-` or `_`"));
    }
    let title = clean_line(&raw.title);
    if title.is_empty() {
        err("title", "title is empty".into());
    } else if title.chars().count() > MAX_TITLE_CHARS {
        err("title", format!("title is longer than {MAX_TITLE_CHARS} characters"));
    }
    let display_name = clean_line(&raw.display_name);
    if display_name.is_empty() {
        err("display_name", "display_name is empty".into());
    } else if display_name.chars().count() > MAX_NAME_CHARS {
        err("display_name", format!("display_name is longer than {MAX_NAME_CHARS} characters"));
    }
    let slug = match raw.slug.as_deref().map(str::trim) {
        Some(s) if slug::is_valid(s) && !slug::is_reserved(s) => s.to_string(),
        Some(s) => {
            err(
                "slug",
                format!("slug `{s}` must be [a-z0-9-], at most 80 bytes, not a reserved word"),
            );
            String::new()
        }
        None => slug::post_slug(&title, &id),
    };

    let category = clean_line(&raw.category);
    if site.category(&category).is_none() {
        err("category", format!("unknown category `{category}` (not in site.yaml)"));
    }
    let municipality = site.municipality(&clean_line(&raw.municipality));
    let neighbourhood = raw.neighbourhood.as_deref().map(clean_line).filter(|n| !n.is_empty());
    match municipality {
        None => err(
            "municipality",
            format!("unknown municipality `{}` (not in site.yaml)", raw.municipality),
        ),
        Some(m) => {
            if let Some(n) = &neighbourhood
                && !m.neighbourhoods.is_empty()
                && !m.neighbourhoods.iter().any(|k| clean_line(k) == *n)
            {
                err(
                    "neighbourhood",
                    format!("`{n}` is not a neighbourhood of {} in site.yaml", m.name),
                );
            }
        }
    }

    let mut date_of = |key: &str, value: &str, edge| match dates::parse(value, site.tz, edge) {
        Ok(dt) => Some(dt),
        Err(reason) => {
            err(key, format!("{key}: {reason}"));
            None
        }
    };
    let date = date_of("date", &raw.date, DayEdge::Start);
    let updated = raw.updated.as_deref().and_then(|v| date_of("updated", v, DayEdge::Start));
    let expires = raw.expires.as_deref().and_then(|v| date_of("expires", v, DayEdge::End));

    if !errors.is_empty() {
        return Err(errors);
    }
    let date = date.expect("checked above");
    // Calendar days on the site's wall clock: adding 24-hour days to a fixed offset
    // would end a post placed at 00:30 in summer time on the day before, after October's
    // clock change.
    let local = date.with_timezone(&site.tz).naive_local();
    let days = Duration::days(i64::from(site.config.expiry.default_days));
    let default_expiry = dates::in_zone(local + days, site.tz);
    Ok(Post {
        id,
        slug,
        title,
        kind: raw.kind,
        category,
        municipality: municipality.expect("checked above").slug.clone(),
        neighbourhood,
        recurring: raw.recurring,
        date,
        updated: updated.unwrap_or(date),
        expires: expires.unwrap_or(default_expiry),
        display_name,
        organisation: raw.organisation.as_deref().map(clean_line).filter(|o| !o.is_empty()),
        body: clean_block(body),
        source: path.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn front(title: &str) -> FrontMatter {
        FrontMatter {
            id: "01JX00000000000000000000E5".into(),
            slug: Some("x".into()),
            title: title.into(),
            kind: Kind::Offer,
            category: "garden".into(),
            municipality: "asby".into(),
            neighbourhood: None,
            recurring: true,
            date: "2025-06-01T00:30:00+02:00".into(),
            updated: None,
            expires: Some("2025-06-30T23:59:59+02:00".into()),
            display_name: title.into(),
            organisation: None,
        }
    }

    #[test]
    fn c05_every_adversarial_title_round_trips_through_the_writer() {
        let titles = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/cases/C05/titles.txt"
        ))
        .expect("handed case C05 is readable");
        for title in titles.lines().chain([
            "Garage clear-out --- everything must go",
            "🚲 \u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}",
        ]) {
            let fm = front(title);
            let file = fm.to_file("Body.\n\n---\ntitle: not metadata\n---\n");
            let split = crate::front_matter::split(Path::new("x.md"), &file).unwrap();
            let back: FrontMatter = serde_yaml::from_str(split.yaml).unwrap();
            assert_eq!(back, fm, "{title:?} in\n{file}");
            assert!(file.lines().any(|l| l.starts_with("title: \"")), "{file}");
        }
    }

    #[test]
    fn c04_a_newline_in_a_title_cannot_become_a_key() {
        let file = front("x\n---\ntitle: Hijacked").to_file("b");
        assert_eq!(file.matches("\ntitle:").count(), 1, "{file}");
        assert_eq!(file.lines().filter(|l| *l == "---").count(), 2, "{file}");
    }

    #[test]
    fn c01_emoji_are_written_as_literal_utf8() {
        let file = front("Fiets 🚲 hulp").to_file("b");
        assert!(file.contains("Fiets 🚲 hulp") && !file.contains("\\u"), "{file}");
    }
}
