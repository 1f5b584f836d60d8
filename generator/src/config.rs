//! `content/site.yaml`: the operator's settings, parsed strictly (unknown keys are
//! errors) and validated right after parsing, so a typo never silently changes the site.

use std::collections::HashMap;
use std::path::Path;

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::error::ContentError;
use crate::front_matter::{key_line, yaml_error};
use crate::slug;

/// The file as written by the operator.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    /// Site name in the header and feeds.
    pub name: String,
    /// One line under the name.
    pub tagline: String,
    /// Absolute URL of the site's root; may end in a sub-path such as `/buurtbord/`.
    pub base_url: String,
    /// IANA time zone used for every date and for expiry (Europe/Amsterdam).
    pub time_zone: String,
    /// The region's name, for texts such as "in de Gooi en Vechtstreek".
    pub region: String,
    pub municipalities: Vec<Municipality>,
    pub categories: Vec<Category>,
    /// Posts per listing page; default 20.
    #[serde(default = "default_page_size")]
    pub page_size: usize,
    pub expiry: Expiry,
    /// Days the personal data of an ended post (rejected, withdrawn, helped, removed,
    /// expired) is kept before the daily run deletes it; only anonymous counts stay.
    /// Default 30.
    #[serde(default = "default_retention_days")]
    pub retention_days: u32,
    /// Where the form posts: an absolute URL, or a path under the base URL.
    pub submission_endpoint: String,
    /// Settings of the moderation pages; optional.
    #[serde(default)]
    pub moderation: ModerationConfig,
}

/// What moderators can choose from in `/beheer`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModerationConfig {
    /// Ready-made reasons for a rejection, shown as choices beside a free-text field; the
    /// poster receives the chosen text.
    #[serde(default)]
    pub reject_reasons: Vec<String>,
    /// The sender of mails to posters and moderators; default `noreply@` and the base
    /// URL's host (`noreply@localhost` when that host is an IP address).
    #[serde(default)]
    pub mail_from: Option<String>,
    /// The volunteer centre's own address (`hulp@vrijwilligerscentrum.nl`). A response to a
    /// post whose poster cannot be mailed (a post without a queue record, or one entered at
    /// the desk without an e-mail address) goes here, so the centre can pass it on. Default:
    /// the moderators who receive the notice of new posts, else every moderator.
    #[serde(default)]
    pub contact: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Municipality {
    pub slug: String,
    pub name: String,
    /// Optional list; when present a post's neighbourhood must be one of these.
    #[serde(default)]
    pub neighbourhoods: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub slug: String,
    pub label: String,
    pub description: String,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expiry {
    /// Days a post stays up when it names no expiry date.
    pub default_days: u32,
    /// The longest a poster may choose.
    pub max_days: u32,
    /// Days before its expiry a poster is mailed once, with the link to extend; 0 sends
    /// no reminder. Default 3.
    #[serde(default = "default_reminder_days")]
    pub reminder_days: u32,
}

fn default_page_size() -> usize {
    20
}

fn default_retention_days() -> u32 {
    30
}

fn default_reminder_days() -> u32 {
    3
}

/// A validated configuration with the lookups the rest of the generator needs.
#[derive(Debug, Clone)]
pub struct Site {
    pub config: SiteConfig,
    pub tz: Tz,
    /// The base URL's path, always starting and ending with `/` (`/` or `/buurtbord/`).
    pub base_path: String,
    /// Scheme, host and port of the base URL, for absolute links in feeds and sitemaps.
    pub origin: String,
    municipality_by_key: HashMap<String, usize>,
    category_by_slug: HashMap<String, usize>,
}

impl Site {
    /// Reads and validates `site.yaml` in `content_dir`. `base_url` replaces the file's
    /// base URL; otherwise `BUURTBORD_BASE_URL` does, when set.
    pub fn load(content_dir: &Path, base_url: Option<&str>) -> Result<Site, Vec<ContentError>> {
        let path = content_dir.join("site.yaml");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| vec![ContentError::new(&path, None, format!("cannot read: {e}"))])?;
        Site::parse(&path, &text, base_url)
    }

    /// Parses `text` as the content of `path`; every problem found is returned.
    pub fn parse(
        path: &Path,
        text: &str,
        base_url: Option<&str>,
    ) -> Result<Site, Vec<ContentError>> {
        let mut config: SiteConfig =
            serde_yaml::from_str(text).map_err(|e| vec![yaml_error(path, &e, 0)])?;
        if let Some(url) =
            base_url.map(str::to_string).or_else(|| std::env::var("BUURTBORD_BASE_URL").ok())
        {
            config.base_url = url;
        }
        let mut errors = Vec::new();
        let at = |key: &str| key_line(text, key, 0);
        let mut err =
            |key: &str, reason: String| errors.push(ContentError::new(path, at(key), reason));

        let tz: Tz = config.time_zone.parse().unwrap_or_else(|_| {
            err("time_zone", format!("unknown time zone `{}`", config.time_zone));
            Tz::UTC
        });
        let (base_path, origin) = match split_base_url(&config.base_url) {
            Ok(parts) => parts,
            Err(reason) => {
                err("base_url", reason);
                ("/".into(), String::new())
            }
        };
        if !(1..=200).contains(&config.page_size) {
            err("page_size", format!("page_size must be 1 to 200, not {}", config.page_size));
        }
        if config.expiry.default_days == 0 || config.expiry.default_days > config.expiry.max_days {
            err("expiry", "expiry.default_days must be between 1 and expiry.max_days".into());
        }
        if config.expiry.reminder_days > config.expiry.max_days {
            err("expiry", "expiry.reminder_days must be between 0 and expiry.max_days".into());
        }
        if !(1..=3650).contains(&config.retention_days) {
            let reason = format!("retention_days must be 1 to 3650, not {}", config.retention_days);
            err("retention_days", reason);
        }

        if let Some(contact) = &config.moderation.contact
            && !is_plain_address(contact)
        {
            err("moderation", format!("moderation.contact `{contact}` is not an e-mail address"));
        }

        let mut municipality_by_key = HashMap::new();
        for (i, m) in config.municipalities.iter().enumerate() {
            if !slug::is_valid(&m.slug) {
                err("municipalities", format!("municipality slug `{}` is not [a-z0-9-]", m.slug));
            }
            for key in [m.slug.clone(), fold(&m.name)] {
                if municipality_by_key.insert(key, i).is_some_and(|other| other != i) {
                    err("municipalities", format!("municipality `{}` is listed twice", m.slug));
                }
            }
        }
        let mut category_by_slug = HashMap::new();
        for (i, c) in config.categories.iter().enumerate() {
            if !slug::is_valid(&c.slug) {
                err("categories", format!("category slug `{}` is not [a-z0-9-]", c.slug));
            }
            if category_by_slug.insert(c.slug.clone(), i).is_some() {
                err("categories", format!("category `{}` is listed twice", c.slug));
            }
        }
        if config.municipalities.is_empty() || config.categories.is_empty() {
            err("municipalities", "at least one municipality and one category are needed".into());
        }

        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Site { config, tz, base_path, origin, municipality_by_key, category_by_slug })
    }

    /// The municipality a post names, by slug or by name (after NFC, ignoring case).
    pub fn municipality(&self, key: &str) -> Option<&Municipality> {
        let i = self
            .municipality_by_key
            .get(key)
            .or_else(|| self.municipality_by_key.get(&fold(key)))?;
        Some(&self.config.municipalities[*i])
    }

    pub fn category(&self, slug: &str) -> Option<&Category> {
        self.category_by_slug.get(slug).map(|i| &self.config.categories[*i])
    }

    /// A site path (starting with `/`) as a link under the base path.
    pub fn link(&self, path: &str) -> String {
        format!("{}{}", self.base_path, path.trim_start_matches('/'))
    }

    /// The sender address of the site's mail: `moderation.mail_from`, or `noreply@` and the
    /// base URL's host.
    pub fn mail_from(&self) -> String {
        if let Some(from) = &self.config.moderation.mail_from {
            return from.clone();
        }
        let host = url::Url::parse(&self.origin).ok().and_then(|url| match url.host() {
            Some(url::Host::Domain(domain)) => Some(domain.to_owned()),
            _ => None,
        });
        format!("noreply@{}", host.as_deref().unwrap_or("localhost"))
    }

    /// A site path as an absolute URL, for feeds and the sitemap.
    pub fn absolute(&self, path: &str) -> String {
        format!("{}{}", self.origin, self.link(path))
    }
}

/// One `@` between a local part and a dotted domain, no spaces or angle brackets: a bare
/// address, since the function adds no display name to it.
fn is_plain_address(address: &str) -> bool {
    let bad = |c: char| c.is_whitespace() || matches!(c, '<' | '>' | ',' | ';');
    match address.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !address.chars().any(bad)
        }
        None => false,
    }
}

/// Lowercased NFC, so `Åsby` typed on a Mac matches `åsby` in site.yaml.
fn fold(s: &str) -> String {
    s.trim().nfc().collect::<String>().to_lowercase()
}

/// Splits `https://host/sub/` into (`/sub/`, `https://host`).
fn split_base_url(raw: &str) -> Result<(String, String), String> {
    let url = url::Url::parse(raw).map_err(|e| format!("base_url `{raw}` is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("base_url `{raw}` must be an http or https URL"));
    }
    let mut path = url.path().to_string();
    if !path.ends_with('/') {
        path.push('/');
    }
    let origin = url.origin().ascii_serialization();
    Ok((path, origin))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_with(base_url: &str, extra: &str) -> Site {
        let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../content/site.yaml"));
        let text = std::fs::read_to_string(path).unwrap().replace("moderation:", extra);
        Site::parse(path, &text, Some(base_url)).unwrap()
    }

    // Guards the sender of the site's mail: the configured address, else `noreply@` the
    // base URL's domain, and a parseable local address when the host is an IP address.
    #[test]
    fn mail_from_is_configured_or_derived_from_the_base_url_host() {
        let derived = sample_with("https://hulp.example.nl/buurt/", "moderation:");
        assert_eq!(derived.mail_from(), "noreply@hulp.example.nl");
        assert_eq!(
            sample_with("http://127.0.0.1:8080/", "moderation:").mail_from(),
            "noreply@localhost"
        );
        let set = sample_with(
            "https://hulp.example.nl/",
            "moderation:\n  mail_from: \"Buurtbord <hulp@example.nl>\"",
        );
        assert_eq!(set.mail_from(), "Buurtbord <hulp@example.nl>");
    }

    // Guards moderation.contact: responses nobody else can receive go there, so a typo must
    // stop the build rather than lose them.
    #[test]
    fn moderation_contact_must_be_a_bare_address() {
        let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../content/site.yaml"));
        let text = std::fs::read_to_string(path).unwrap();
        // Without the sample's own contact line, so the one added is the only one.
        let text: String = text
            .lines()
            .filter(|line| !line.trim_start().starts_with("contact:"))
            .map(|line| format!("{line}\n"))
            .collect();
        let with = |contact: &str| {
            let text =
                text.replacen("moderation:", &format!("moderation:\n  contact: {contact:?}"), 1);
            Site::parse(path, &text, None)
        };
        let ok = with("hulp@vrijwilligerscentrum.example.nl").expect("a bare address");
        assert_eq!(
            ok.config.moderation.contact.as_deref(),
            Some("hulp@vrijwilligerscentrum.example.nl")
        );
        for bad in ["hulp", "hulp@localhost", "Hulp <hulp@example.nl>", "a@b@example.nl"] {
            let errors = with(bad).expect_err(bad);
            assert!(errors[0].reason.contains("moderation.contact"), "{bad}: {:?}", errors[0]);
        }
    }
}
