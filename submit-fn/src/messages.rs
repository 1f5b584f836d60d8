//! The Dutch sentences the function's checks produce (a field's error, a note above the
//! form), loaded from `messages.nl.yaml` at compile time so no resident-facing text lives
//! in Rust code and a broken file fails the first test run. Everything else a resident
//! reads on the function's pages (labels, whole-page messages) is in the site's theme.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

/// Why a field was refused; the key of its sentence in `messages.nl.yaml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Required,
    TooLong,
    SingleLine,
    InvalidChoice,
    InvalidDate,
    DateInPast,
    DateTooFar,
    InvalidEmail,
    InvalidPhone,
    ContactRequired,
    ConsentRequired,
    TooManyLinks,
    ContactInText,
    /// A responder's way back is neither an e-mail address nor a phone number.
    InvalidContact,
    /// A neighbourhood that is not one of the chosen municipality's; the sentence names them.
    UnknownNeighbourhood,
}

impl Rule {
    /// The key in the translations file.
    pub fn key(self) -> &'static str {
        match self {
            Rule::Required => "required",
            Rule::TooLong => "too_long",
            Rule::SingleLine => "single_line",
            Rule::InvalidChoice => "invalid_choice",
            Rule::InvalidDate => "invalid_date",
            Rule::DateInPast => "date_in_past",
            Rule::DateTooFar => "date_too_far",
            Rule::InvalidEmail => "invalid_email",
            Rule::InvalidPhone => "invalid_phone",
            Rule::ContactRequired => "contact_required",
            Rule::ConsentRequired => "consent_required",
            Rule::TooManyLinks => "too_many_links",
            Rule::ContactInText => "contact_in_text",
            Rule::InvalidContact => "invalid_contact",
            Rule::UnknownNeighbourhood => "unknown_neighbourhood",
        }
    }
}

/// Why a whole submission was refused and the form shown again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    CheckAndResend,
    TooFast,
    ExpiredForm,
    Honeypot,
    RateLimited,
    NonceReused,
}

impl Note {
    /// The key in the translations file, also used as the logged reason.
    pub fn key(self) -> &'static str {
        match self {
            Note::CheckAndResend => "check_and_resend",
            Note::TooFast => "too_fast",
            Note::ExpiredForm => "expired_form",
            Note::Honeypot => "honeypot",
            Note::RateLimited => "rate_limited",
            Note::NonceReused => "nonce_reused",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Messages {
    fields: BTreeMap<String, String>,
    notes: BTreeMap<String, String>,
    /// The column headings of the figures' CSV, in column order.
    figure_columns: Vec<String>,
}

/// Why a request got a whole page instead of the form; the theme's `melding.html` holds
/// the words for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageKind {
    UnsupportedMediaType,
    TooLarge,
    Unreadable,
    ServerError,
    NotFound,
    /// A poster's action on the management page was not fully carried out.
    ActionFailed,
}

impl PageKind {
    /// The name `melding.html` knows this page by.
    pub fn key(self) -> &'static str {
        match self {
            PageKind::UnsupportedMediaType => "unsupported_media_type",
            PageKind::TooLarge => "too_large",
            PageKind::Unreadable => "unreadable",
            PageKind::ServerError => "server_error",
            PageKind::NotFound => "not_found",
            PageKind::ActionFailed => "action_failed",
        }
    }
}

static MESSAGES: LazyLock<Messages> = LazyLock::new(|| {
    serde_yaml::from_str(include_str!("../messages.nl.yaml"))
        .expect("messages.nl.yaml is valid YAML with `fields` and `notes`")
});

/// The sentence for a field rule, with `{max}` replaced when the rule has a limit.
pub fn field_message(rule: Rule, max: Option<usize>) -> String {
    let text = MESSAGES.fields.get(rule.key()).map(String::as_str).unwrap_or(rule.key());
    match max {
        Some(max) => text.replace("{max}", &max.to_string()),
        None => text.to_owned(),
    }
}

/// The column headings of the figures' CSV (`buurtbord stats --csv`, `/beheer/cijfers`).
pub fn figure_columns() -> &'static [String] {
    &MESSAGES.figure_columns
}

/// The sentence for a note above the form.
pub fn note_message(note: Note) -> String {
    MESSAGES.notes.get(note.key()).cloned().unwrap_or_else(|| note.key().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Guards that every rule and note has a sentence: a missing key would show the bare key.
    #[test]
    fn every_rule_and_note_has_a_dutch_sentence() {
        let rules = [
            Rule::Required,
            Rule::TooLong,
            Rule::SingleLine,
            Rule::InvalidChoice,
            Rule::InvalidDate,
            Rule::DateInPast,
            Rule::DateTooFar,
            Rule::InvalidEmail,
            Rule::InvalidPhone,
            Rule::ContactRequired,
            Rule::ConsentRequired,
            Rule::TooManyLinks,
            Rule::ContactInText,
            Rule::InvalidContact,
            Rule::UnknownNeighbourhood,
        ];
        for rule in rules {
            assert!(MESSAGES.fields.contains_key(rule.key()), "missing {}", rule.key());
        }
        let notes = [
            Note::CheckAndResend,
            Note::TooFast,
            Note::ExpiredForm,
            Note::Honeypot,
            Note::RateLimited,
            Note::NonceReused,
        ];
        for note in notes {
            assert!(MESSAGES.notes.contains_key(note.key()), "missing {}", note.key());
        }
        assert_eq!(field_message(Rule::TooLong, Some(120)), "Gebruik hoogstens 120 tekens.");
    }
}
