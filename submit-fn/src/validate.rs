//! Turns the NFC form values into a `Submission`, or into field errors keyed by field name.
//!
//! Every rule runs and every failing field is reported at once, so a resident fixes the form
//! in one go. Limits count characters, as residents do; the byte ceiling is the request limit.

use std::sync::LazyLock;

use chrono::{Days, NaiveDate};
use email_address::EmailAddress;
use generator::text::{clean_block, is_forbidden_in_line, is_invisible};
use regex::Regex;

use crate::messages::{Rule, field_message};
use crate::rules::SiteRules;
use crate::submission::{
    BODY_MAX_CHARS, BODY_MAX_LINKS, DISPLAY_NAME_MAX_CHARS, FormValues, Kind,
    ORGANISATION_MAX_CHARS, SHORT_FIELD_MAX_CHARS, Submission, TITLE_MAX_CHARS, field, trim,
};

/// One refused field: its form name, the rule it broke and the Dutch sentence to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub rule: Rule,
    pub message: String,
}

/// Every refused field of one submission, in form order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub(crate) fn push(&mut self, field: &'static str, rule: Rule, max: Option<usize>) {
        self.0.push(FieldError { field, rule, message: field_message(rule, max) });
    }

    /// The rule a field broke, if it broke one.
    pub fn rule_for(&self, field: &str) -> Option<Rule> {
        self.0.iter().find(|e| e.field == field).map(|e| e.rule)
    }
}

/// Validates the values against the site's rules; `today` is the date in the site's zone.
pub fn validate(
    values: &FormValues,
    rules: &SiteRules,
    today: NaiveDate,
) -> Result<Submission, FieldErrors> {
    let mut errors = FieldErrors::default();

    let title = public_line(values, field::TITLE, TITLE_MAX_CHARS, true, &mut errors);
    let kind = choice(values, field::KIND, &mut errors, Kind::parse);
    let category =
        choice(values, field::CATEGORY, &mut errors, |v| rules.category(v).map(|c| c.slug.clone()));
    let municipality = choice(values, field::MUNICIPALITY, &mut errors, |v| rules.municipality(v));
    let neighbourhood = neighbourhood(values, municipality, &mut errors);
    let body = body(values, &mut errors);
    let expires = expires(values, rules, today, &mut errors);
    let display_name =
        public_line(values, field::DISPLAY_NAME, DISPLAY_NAME_MAX_CHARS, true, &mut errors);
    let organisation =
        public_line(values, field::ORGANISATION, ORGANISATION_MAX_CHARS, false, &mut errors);
    let (email, phone) = contact(values, &mut errors);
    if !values.is_checked(field::CONSENT) {
        errors.push(field::CONSENT, Rule::ConsentRequired, None);
    }

    if !errors.0.is_empty() {
        return Err(errors);
    }
    // Every `None` below was reported as an error above, so this only fails on a logic slip.
    let (Some(title), Some(kind), Some(category), Some(municipality), Some(body)) =
        (title, kind, category, municipality, body)
    else {
        return Err(errors);
    };
    let Some(display_name) = display_name else { return Err(errors) };
    Ok(Submission {
        kind,
        title,
        body,
        category,
        municipality: municipality.slug.clone(),
        neighbourhood,
        recurring: is_recurring(values.get(field::RECURRING)),
        expires,
        display_name,
        organisation,
        email,
        phone,
    })
}

/// The theme's form sends `once` or `recurring`; a checkbox sends `ja`/`on`/`yes`.
fn is_recurring(value: &str) -> bool {
    matches!(trim(value).to_lowercase().as_str(), "recurring" | "ja" | "on" | "yes" | "true")
}

/// A one-line text: trimmed, no control characters or line breaks, at most `max` characters.
/// Returns `None` when empty (an error only if `required`) or invalid.
pub(crate) fn single_line(
    values: &FormValues,
    name: &'static str,
    max: usize,
    required: bool,
    errors: &mut FieldErrors,
) -> Option<String> {
    let value = trim(values.get(name));
    if value.chars().all(is_invisible) {
        if required {
            errors.push(name, Rule::Required, None);
        }
        return None;
    }
    // One predicate with the generator's, so what the form accepts can be published.
    if value.chars().any(is_forbidden_in_line) {
        errors.push(name, Rule::SingleLine, None);
        return None;
    }
    if value.chars().count() > max {
        errors.push(name, Rule::TooLong, Some(max));
        return None;
    }
    Some(value.to_owned())
}

/// A required choice from a fixed list; `lookup` maps the trimmed value to the allowed one.
fn choice<T>(
    values: &FormValues,
    name: &'static str,
    errors: &mut FieldErrors,
    lookup: impl FnOnce(&str) -> Option<T>,
) -> Option<T> {
    let value = trim(values.get(name));
    if value.is_empty() {
        errors.push(name, Rule::Required, None);
        return None;
    }
    let found = lookup(value);
    if found.is_none() {
        errors.push(name, Rule::InvalidChoice, None);
    }
    found
}

fn neighbourhood(
    values: &FormValues,
    municipality: Option<&crate::rules::Municipality>,
    errors: &mut FieldErrors,
) -> Option<String> {
    let value = public_line(values, field::NEIGHBOURHOOD, SHORT_FIELD_MAX_CHARS, false, errors)?;
    let municipality = municipality?;
    if municipality.neighbourhoods.is_empty() {
        return Some(value);
    }
    let found = municipality.neighbourhood(&value).map(str::to_owned);
    if found.is_none() {
        // The form's suggestions list every municipality's neighbourhoods (without
        // JavaScript it cannot follow the chosen municipality), so say which ones fit.
        let message = field_message(Rule::UnknownNeighbourhood, None)
            .replace("{gemeente}", &municipality.name)
            .replace("{wijken}", &municipality.neighbourhoods.join(", "));
        errors.0.push(FieldError {
            field: field::NEIGHBOURHOOD,
            rule: Rule::UnknownNeighbourhood,
            message,
        });
    }
    found
}

/// The body keeps its line breaks; browsers send CRLF, stored as LF. Other control
/// characters carry no meaning in a post and are dropped.
fn body(values: &FormValues, errors: &mut FieldErrors) -> Option<String> {
    let text = values.get(field::BODY).replace("\r\n", "\n").replace('\r', "\n");
    // The generator's own cleaning, so the stored text is the text that gets published.
    let text = clean_block(&text);
    let text = trim(&text);
    if text.chars().all(is_invisible) {
        errors.push(field::BODY, Rule::Required, None);
        return None;
    }
    if has_contact_details(text) {
        errors.push(field::BODY, Rule::ContactInText, None);
        return None;
    }
    if text.chars().count() > BODY_MAX_CHARS {
        errors.push(field::BODY, Rule::TooLong, Some(BODY_MAX_CHARS));
        return None;
    }
    if count_links(text) > BODY_MAX_LINKS {
        errors.push(field::BODY, Rule::TooManyLinks, Some(BODY_MAX_LINKS));
        return None;
    }
    Some(text.to_owned())
}

/// A one-line field that is shown on the site, so it must not carry contact details.
fn public_line(
    values: &FormValues,
    name: &'static str,
    max: usize,
    required: bool,
    errors: &mut FieldErrors,
) -> Option<String> {
    let value = single_line(values, name, max, required, errors)?;
    if has_contact_details(&value) {
        errors.push(name, Rule::ContactInText, None);
        return None;
    }
    Some(value)
}

/// True if `text` holds something that looks like an e-mail address or a phone number
/// (nine or more digits in one run of digits, spaces and separators), or a `mailto:`,
/// `tel:` or `sms:` link. Such text would be public: contact goes through the site, so the
/// poster is asked to leave it out.
///
/// The text is also looked at as a reader's device shows it: as the site renders its
/// Markdown (character references such as `&#64;` become `@`), compatibility-normalised
/// (full-width `０６` and `＠` become `06` and `@`), without invisible characters (a
/// zero-width space inside an address), percent-decoded (a Markdown link to
/// `tel:%30%36…`), and with commas between digits left out (`06,12,34,56,78`), since
/// each of those still reaches the reader as a working address or a number to call.
/// Digits of every script count (`٠٦١٢…` is a phone number too).
pub fn has_contact_details(text: &str) -> bool {
    use unicode_normalization::UnicodeNormalization;
    static CONTACT_LINK: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)\b(mailto|tel|sms|callto):").expect("a valid pattern"));
    static DIGIT_COMMA: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(\d),(\d)").expect("a valid pattern"));
    let rendered = generator::markdown::plain_text(text);
    let shown: String = rendered.nfkc().filter(|c| !is_invisible(*c)).collect();
    let decoded = percent_encoding::percent_decode_str(&shown).decode_utf8_lossy();
    // The commas are taken out of text that keeps its spaces: "Bel 06,12,34,56,78" must
    // still read as a word and a number, and "3, 10, 17 en 24 januari" as dates. Twice,
    // since one pass skips every other comma of `1,2,3`.
    let spaced: String =
        rendered.nfkc().filter(|c| c.is_whitespace() || !is_invisible(*c)).collect();
    let joined = DIGIT_COMMA.replace_all(&spaced, "$1$2");
    let joined = DIGIT_COMMA.replace_all(&joined, "$1$2");
    [text, &rendered, &shown, &decoded, &joined]
        .iter()
        .any(|t| CONTACT_LINK.is_match(t) || looks_like_contact(t))
}

fn looks_like_contact(text: &str) -> bool {
    static EMAIL: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"[\w.%+\-]+@[\w\-]+(\.[\w\-]+)+").expect("a valid pattern"));
    static DIGIT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\d").expect("a valid pattern"));
    static PHONE_RUN: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(\+|\b)\d[\d \u{A0}()._\-/]{6,}\d").expect("a valid pattern")
    });
    EMAIL.is_match(text)
        || PHONE_RUN.find_iter(text).any(|run| DIGIT.find_iter(run.as_str()).count() >= 9)
}

/// Counts web links: every `http://`, `https://`, and `www.` not already part of one.
pub fn count_links(text: &str) -> usize {
    let lower = text.to_lowercase();
    let schemes = lower.matches("http://").count() + lower.matches("https://").count();
    let bare_www = lower.match_indices("www.").filter(|(at, _)| !lower[..*at].ends_with("//"));
    schemes + bare_www.count()
}

fn expires(
    values: &FormValues,
    rules: &SiteRules,
    today: NaiveDate,
    errors: &mut FieldErrors,
) -> Option<NaiveDate> {
    let value = trim(values.get(field::EXPIRES));
    if value.is_empty() {
        return None;
    }
    let Ok(date) = NaiveDate::parse_from_str(value, "%Y-%m-%d") else {
        errors.push(field::EXPIRES, Rule::InvalidDate, None);
        return None;
    };
    let last = today.checked_add_days(Days::new(rules.expiry_max_days.into()))?;
    if date < today {
        errors.push(field::EXPIRES, Rule::DateInPast, None);
        return None;
    }
    if date > last {
        errors.push(field::EXPIRES, Rule::DateTooFar, Some(rules.expiry_max_days as usize));
        return None;
    }
    Some(date)
}

/// E-mail and/or phone: at least one, and each one given must be well-formed.
fn contact(values: &FormValues, errors: &mut FieldErrors) -> (Option<String>, Option<String>) {
    let email = single_line(values, field::EMAIL, SHORT_FIELD_MAX_CHARS, false, errors);
    let phone = single_line(values, field::PHONE, SHORT_FIELD_MAX_CHARS, false, errors);
    let email_given = !trim(values.get(field::EMAIL)).is_empty();
    let phone_given = !trim(values.get(field::PHONE)).is_empty();
    if !email_given && !phone_given {
        errors.push(field::EMAIL, Rule::ContactRequired, None);
        return (None, None);
    }
    let email = email.filter(|e| {
        let ok = is_email(e);
        if !ok {
            errors.push(field::EMAIL, Rule::InvalidEmail, None);
        }
        ok
    });
    let phone = phone.filter(|p| {
        let ok = is_phone(p);
        if !ok {
            errors.push(field::PHONE, Rule::InvalidPhone, None);
        }
        ok
    });
    (email, phone)
}

/// An address mail can be delivered to: RFC 5322 syntax and a dotted domain, since a bare
/// host name (`naam@localhost`) is never a resident's real address.
pub fn is_email(value: &str) -> bool {
    // A bare address only: `"Naam" <adres>` would let a responder choose the name the
    // poster's mail program shows beside Reply-To.
    EmailAddress::parse_with_options(
        value,
        email_address::Options::default().without_display_text(),
    )
    .map(|address| address.domain().contains('.') && !address.domain().ends_with('.'))
    .unwrap_or(false)
}

/// A Dutch or international number: digits with spaces, dashes or brackets as typed, an
/// optional leading `+`, and 10 to 15 digits (`0612345678`, `+31 6 1234 5678`).
pub fn is_phone(value: &str) -> bool {
    let rest = value.strip_prefix('+').unwrap_or(value);
    let allowed = rest.chars().all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')'));
    let digits = rest.chars().filter(char::is_ascii_digit).count();
    allowed && (10..=15).contains(&digits)
}
