//! What the site allows a submission to say: kinds, categories, municipalities with their
//! neighbourhoods, and the longest expiry. Taken from `site.yaml` by the caller, so
//! validation needs no file access and tests can build rules in a line.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// One municipality a post can be placed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Municipality {
    pub slug: String,
    pub name: String,
    /// When not empty, a post's neighbourhood must be one of these.
    pub neighbourhoods: Vec<String>,
}

/// One category a post can be placed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub description: Option<String>,
    pub slug: String,
    pub label: String,
}

/// The allowed values for a submission, from `site.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteRules {
    pub site_name: String,
    pub municipalities: Vec<Municipality>,
    pub categories: Vec<Category>,
    /// The latest `expires` a poster may choose, in days from today.
    pub expiry_max_days: u32,
    /// How long a post without its own `expires` stays online, in days from publication.
    pub expiry_default_days: u32,
    /// IANA zone in which "today" is decided for `expires`.
    pub time_zone: chrono_tz::Tz,
    /// Days before expiry the poster gets one reminder; 0 sends none.
    pub reminder_days: u32,
    /// Days an ended post's personal data is kept before the daily run purges it.
    pub retention_days: u32,
    /// `moderation.contact`: the volunteer centre's address for responses no poster can
    /// receive (see [`crate::respond`]); `None` sends them to the moderators instead.
    pub contact: Option<String>,
}

/// The part of `site.yaml` the function needs. Unknown keys are ignored here because the
/// generator's strict reader owns the file's validation.
#[derive(Deserialize)]
struct SiteYaml {
    name: String,
    base_url: String,
    time_zone: String,
    municipalities: Vec<MunicipalityYaml>,
    categories: Vec<Category>,
    expiry: ExpiryYaml,
    /// Defaults as in the generator's `SiteConfig`, which validates the value.
    #[serde(default = "default_retention_days")]
    retention_days: u32,
    #[serde(default)]
    moderation: ModerationYaml,
}

#[derive(Deserialize, Default)]
struct ModerationYaml {
    #[serde(default)]
    contact: Option<String>,
}

#[derive(Deserialize)]
struct MunicipalityYaml {
    slug: String,
    name: String,
    #[serde(default)]
    neighbourhoods: Vec<String>,
}

#[derive(Deserialize)]
struct ExpiryYaml {
    max_days: u32,
    default_days: u32,
    #[serde(default = "default_reminder_days")]
    reminder_days: u32,
}

fn default_retention_days() -> u32 {
    30
}

fn default_reminder_days() -> u32 {
    3
}

/// Why `site.yaml` could not give the rules.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("site.yaml: {0}")]
    Yaml(#[from] serde_yaml::Error),
    #[error("site.yaml: unknown time_zone {0:?}")]
    TimeZone(String),
}

impl SiteRules {
    /// Reads the rules and the base URL from the text of `site.yaml`.
    pub fn from_site_yaml(text: &str) -> Result<(SiteRules, String), RulesError> {
        let yaml: SiteYaml = serde_yaml::from_str(text)?;
        let time_zone =
            yaml.time_zone.parse().map_err(|_| RulesError::TimeZone(yaml.time_zone.clone()))?;
        let municipalities = yaml
            .municipalities
            .into_iter()
            .map(|m| Municipality { slug: m.slug, name: m.name, neighbourhoods: m.neighbourhoods })
            .collect();
        let rules = SiteRules {
            site_name: yaml.name,
            municipalities,
            categories: yaml.categories,
            expiry_max_days: yaml.expiry.max_days,
            expiry_default_days: yaml.expiry.default_days,
            time_zone,
            reminder_days: yaml.expiry.reminder_days,
            retention_days: yaml.retention_days,
            contact: yaml.moderation.contact,
        };
        Ok((rules, yaml.base_url))
    }

    /// Finds a municipality by slug or by name, after NFC and ignoring case.
    pub fn municipality(&self, value: &str) -> Option<&Municipality> {
        let wanted = fold(value);
        self.municipalities.iter().find(|m| fold(&m.slug) == wanted || fold(&m.name) == wanted)
    }

    /// Finds a category by slug or label, after NFC and ignoring case.
    pub fn category(&self, value: &str) -> Option<&Category> {
        let wanted = fold(value);
        self.categories.iter().find(|c| fold(&c.slug) == wanted || fold(&c.label) == wanted)
    }
}

impl Municipality {
    /// Finds one of this municipality's neighbourhoods, after NFC and ignoring case, and
    /// returns the spelling from site.yaml.
    pub fn neighbourhood(&self, value: &str) -> Option<&str> {
        let wanted = fold(value);
        self.neighbourhoods.iter().find(|n| fold(n) == wanted).map(String::as_str)
    }
}

fn fold(value: &str) -> String {
    value.nfc().collect::<String>().to_lowercase()
}
