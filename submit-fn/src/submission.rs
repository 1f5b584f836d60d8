//! The submission model: the raw form values as they arrive (`FormValues`, NFC-normalised
//! at intake) and the validated `Submission` that goes into the queue.
//!
//! Invariant: every text value is NFC before anything looks at it, so lengths, duplicate
//! detection and storage all see the same string whatever keyboard produced it (case C02).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// The longest title, in characters (what residents see, not bytes).
pub const TITLE_MAX_CHARS: usize = 120;
/// The longest body, in characters.
pub const BODY_MAX_CHARS: usize = 4000;
/// The longest display name, in characters.
pub const DISPLAY_NAME_MAX_CHARS: usize = 60;
/// The longest organisation name, in characters.
pub const ORGANISATION_MAX_CHARS: usize = 80;
/// The longest neighbourhood, e-mail address and phone number, in characters.
pub const SHORT_FIELD_MAX_CHARS: usize = 120;
/// The most links a body may contain.
pub const BODY_MAX_LINKS: usize = 3;
/// The largest request body the function reads, in bytes; larger requests get 413.
pub const REQUEST_MAX_BYTES: usize = 64 * 1024;

/// Form field names, shared by parsing, validation and the templates.
pub mod field {
    pub const TITLE: &str = "title";
    pub const KIND: &str = "kind";
    pub const CATEGORY: &str = "category";
    pub const MUNICIPALITY: &str = "municipality";
    pub const NEIGHBOURHOOD: &str = "neighbourhood";
    pub const BODY: &str = "body";
    pub const RECURRING: &str = "recurring";
    pub const EXPIRES: &str = "expires";
    pub const DISPLAY_NAME: &str = "display_name";
    pub const ORGANISATION: &str = "organisation";
    pub const EMAIL: &str = "email";
    pub const PHONE: &str = "phone";
    pub const CONSENT: &str = "consent";
    /// Hidden field that people never see and bots fill in.
    pub const HONEYPOT: &str = "website";
    /// Hidden one-time nonce that makes a double submit store one entry.
    pub const SUBMISSION_ID: &str = "submission_id";
    /// Hidden signed timestamp of when the form was rendered.
    pub const FORM_TOKEN: &str = "form_token";
}

/// Whether a post asks for help or offers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Request,
    Offer,
}

impl Kind {
    /// The value used in forms, stores and front matter.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Request => "request",
            Kind::Offer => "offer",
        }
    }

    /// Parses the stored or submitted value; anything else is `None`.
    pub fn parse(value: &str) -> Option<Kind> {
        match value {
            "request" => Some(Kind::Request),
            "offer" => Some(Kind::Offer),
            _ => None,
        }
    }
}

/// A validated post waiting for moderation. Optional fields are `None`, never `""`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submission {
    pub kind: Kind,
    pub title: String,
    pub body: String,
    /// Category slug from site.yaml.
    pub category: String,
    /// Municipality slug from site.yaml (a submitted name is mapped to its slug).
    pub municipality: String,
    pub neighbourhood: Option<String>,
    pub recurring: bool,
    pub expires: Option<NaiveDate>,
    pub display_name: String,
    pub organisation: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

impl From<Kind> for generator::post::Kind {
    fn from(kind: Kind) -> generator::post::Kind {
        match kind {
            Kind::Request => generator::post::Kind::Request,
            Kind::Offer => generator::post::Kind::Offer,
        }
    }
}

/// The values of one submitted form, keyed by field name, each NFC-normalised.
///
/// Kept as typed so that a re-rendered form shows exactly what the resident sent, line
/// breaks, emoji and all. When a key occurs twice the first value wins: browsers never
/// send our fields twice, and a fixed rule beats whichever value a parser happens to keep.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FormValues(BTreeMap<String, String>);

impl FormValues {
    /// Builds the values from decoded pairs, normalising each key and value to NFC.
    pub fn from_pairs<I>(pairs: I) -> FormValues
    where
        I: IntoIterator<Item = (String, String)>,
    {
        let mut map = BTreeMap::new();
        for (key, value) in pairs {
            let key: String = key.nfc().collect();
            map.entry(key).or_insert_with(|| value.nfc().collect());
        }
        FormValues(map)
    }

    /// The value as sent (NFC), or `""` when the field is absent.
    pub fn get(&self, name: &str) -> &str {
        self.0.get(name).map(String::as_str).unwrap_or("")
    }

    /// Replaces one value, e.g. a fresh hidden token when the form is rendered again.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.0.insert(name.to_owned(), value.into());
    }

    /// True when a checkbox was ticked: present with any non-empty value.
    /// True if the box was ticked: a browser sends the checkbox's value, an API client
    /// may send `true`; an explicit `no`, `false` or `0` is not a tick.
    pub fn is_checked(&self, name: &str) -> bool {
        let value = trim(self.get(name)).to_lowercase();
        !is_blank(&value) && !matches!(value.as_str(), "no" | "nee" | "false" | "0" | "off")
    }
}

/// True when the text has no visible content. Every Unicode whitespace counts, including
/// U+00A0 (a no-break space typed on a Mac with Option+Space), as in case C23.
pub fn is_blank(text: &str) -> bool {
    text.chars().all(char::is_whitespace)
}

/// Trims every Unicode whitespace, U+00A0 included, from both ends.
pub fn trim(text: &str) -> &str {
    text.trim_matches(char::is_whitespace)
}
