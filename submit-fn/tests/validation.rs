//! Every validation rule, driven through `validate` with the cases' site rules.

mod common;

use chrono::NaiveDate;
use submit_fn::messages::Rule;
use submit_fn::submission::FormValues;
use submit_fn::validate::validate;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2030, 3, 1).unwrap()
}

fn values(overrides: &[(&str, &str)]) -> FormValues {
    let mut pairs: Vec<(String, String)> =
        overrides.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let base = [
        ("title", "Hulp bij boodschappen"),
        ("kind", "request"),
        ("category", "moving"),
        ("municipality", "huizen"),
        ("body", "Wie kan mij helpen?"),
        ("display_name", "Anna"),
        ("email", "anna@example.org"),
        ("consent", "ja"),
    ];
    pairs.extend(base.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    FormValues::from_pairs(pairs)
}

fn rule(overrides: &[(&str, &str)], field: &str) -> Option<Rule> {
    validate(&values(overrides), &common::rules(), today()).err().and_then(|e| e.rule_for(field))
}

// Guards that the base form is valid, so each test below fails for its own reason only.
#[test]
fn base_form_is_valid_and_trimmed() {
    let s = validate(&values(&[("title", "  Hulp \u{a0}")]), &common::rules(), today()).unwrap();
    assert_eq!(s.title, "Hulp");
    assert_eq!(s.municipality, "huizen");
    assert_eq!((s.neighbourhood, s.organisation, s.phone), (None, None, None));
}

#[test]
fn required_fields_reject_empty_and_whitespace_only() {
    for field in ["title", "kind", "category", "municipality", "body", "display_name"] {
        assert_eq!(rule(&[(field, " \u{a0}\t")], field), Some(Rule::Required), "{field}");
    }
}

#[test]
fn single_line_fields_reject_line_breaks_and_controls() {
    for (field, value) in
        [("title", "a\rb"), ("display_name", "a\u{7}b"), ("organisation", "a\u{2028}b")]
    {
        assert_eq!(rule(&[(field, value)], field), Some(Rule::SingleLine), "{field}");
    }
}

#[test]
fn limits_count_characters() {
    assert_eq!(rule(&[("title", &"ø".repeat(120))], "title"), None);
    assert_eq!(rule(&[("title", &"ø".repeat(121))], "title"), Some(Rule::TooLong));
    assert_eq!(rule(&[("display_name", &"界".repeat(61))], "display_name"), Some(Rule::TooLong));
    assert_eq!(rule(&[("organisation", &"🚲".repeat(81))], "organisation"), Some(Rule::TooLong));
    assert_eq!(rule(&[("body", &"a".repeat(4001))], "body"), Some(Rule::TooLong));
}

#[test]
fn choices_must_come_from_site_rules() {
    assert_eq!(rule(&[("kind", "both")], "kind"), Some(Rule::InvalidChoice));
    assert_eq!(rule(&[("category", "boodschappen")], "category"), Some(Rule::InvalidChoice));
    assert_eq!(rule(&[("municipality", "Amsterdam")], "municipality"), Some(Rule::InvalidChoice));
    assert_eq!(rule(&[("municipality", "HUIZEN")], "municipality"), None);
    let centrum = [("neighbourhood", "Centrum")];
    assert_eq!(rule(&centrum, "neighbourhood"), Some(Rule::UnknownNeighbourhood));
    assert_eq!(rule(&[("neighbourhood", "oostermeent")], "neighbourhood"), None);
}

// Guards the resident who picks a suggestion of another municipality (the form suggests
// them all, as it cannot follow the chosen municipality without JavaScript): the sentence
// names the municipality and the neighbourhoods that fit.
#[test]
fn an_unknown_neighbourhood_is_answered_with_the_municipalitys_own() {
    let errors = validate(&values(&[("neighbourhood", "Centrum")]), &common::rules(), today())
        .err()
        .expect("refused");
    let message = &errors.0.iter().find(|e| e.field == "neighbourhood").unwrap().message;
    let huizen = common::rules().municipalities.into_iter().find(|m| m.slug == "huizen").unwrap();
    assert!(message.contains(&huizen.name), "{message}");
    for n in &huizen.neighbourhoods {
        assert!(message.contains(n.as_str()), "{message} lacks {n}");
    }
    assert!(!message.contains('{'), "{message}");
}

#[test]
fn expires_must_be_a_date_from_today_within_max_days() {
    assert_eq!(rule(&[("expires", "1-3-2030")], "expires"), Some(Rule::InvalidDate));
    assert_eq!(rule(&[("expires", "2030-02-28")], "expires"), Some(Rule::DateInPast));
    assert_eq!(rule(&[("expires", "2030-05-30")], "expires"), None);
    assert_eq!(rule(&[("expires", "2030-05-31")], "expires"), Some(Rule::DateTooFar));
}

#[test]
fn contact_needs_a_valid_email_or_phone() {
    assert_eq!(rule(&[("email", " ")], "email"), Some(Rule::ContactRequired));
    assert_eq!(rule(&[("email", "anna@"), ("phone", "")], "email"), Some(Rule::InvalidEmail));
    assert_eq!(rule(&[("email", "anna@localhost")], "email"), Some(Rule::InvalidEmail));
    // A display name would be shown beside the address in the mail programs of posters
    // who get a relayed response: only the bare address is an address.
    let named = "\"Buurtbord Moderatie\" <anna@example.nl>";
    assert_eq!(rule(&[("email", named)], "email"), Some(Rule::InvalidEmail));
    assert_eq!(rule(&[("email", ""), ("phone", "06-1234567")], "phone"), Some(Rule::InvalidPhone));
    assert_eq!(rule(&[("email", ""), ("phone", "+31 (0)6 1234 5678")], "phone"), None);
    assert_eq!(
        rule(&[("email", ""), ("phone", "06 12+345678")], "phone"),
        Some(Rule::InvalidPhone)
    );
}

#[test]
fn consent_is_required() {
    assert_eq!(rule(&[("consent", "")], "consent"), Some(Rule::ConsentRequired));
}

#[test]
fn body_allows_three_links_and_keeps_line_breaks() {
    let three = "https://a.nl http://b.nl www.c.nl";
    assert_eq!(rule(&[("body", three)], "body"), None);
    let four = "https://a.nl http://b.nl www.c.nl https://www.d.nl";
    assert_eq!(rule(&[("body", four)], "body"), Some(Rule::TooManyLinks));
    let s = validate(&values(&[("body", "a\r\nb\u{0}")]), &common::rules(), today()).unwrap();
    assert_eq!(s.body, "a\nb");
}

// Guards the theme's radio values: `once` is not recurring, `recurring` is.
#[test]
fn recurring_follows_the_theme_values() {
    let once = validate(&values(&[("recurring", "once")]), &common::rules(), today()).unwrap();
    assert!(!once.recurring);
    let again =
        validate(&values(&[("recurring", "recurring")]), &common::rules(), today()).unwrap();
    assert!(again.recurring);
}

// Guards the whole kind "the form accepts what the generator cannot publish" (breaker:
// U+FFFE in a title was accepted, then refused at approval): noncharacters and bidi
// controls are refused in every one-line field, and dropped from the body.
#[test]
fn one_line_fields_refuse_what_the_generator_cannot_publish() {
    for value in ["Hulp \u{FFFE} nodig", "Hulp\u{FFFF}", "Anna\u{202E}live", "a\u{2066}b"] {
        for field in ["title", "display_name", "organisation"] {
            assert_eq!(rule(&[(field, value)], field), Some(Rule::SingleLine), "{field} {value:?}");
        }
    }
    let s = validate(&values(&[("body", "Wie\u{FFFE} helpt?")]), &common::rules(), today());
    assert_eq!(s.unwrap().body, "Wie helpt?");
}

// Guards fields that look empty: only zero-width, soft-hyphen or blank characters count as
// nothing, so a post never gets an invisible title.
#[test]
fn fields_of_only_invisible_characters_are_required_errors() {
    for value in ["\u{200B}\u{200B}", "\u{AD}", "\u{2800}\u{2800}", "\u{FEFF} \u{3164}"] {
        for field in ["title", "body", "display_name"] {
            assert_eq!(rule(&[(field, value)], field), Some(Rule::Required), "{field} {value:?}");
        }
    }
    assert_eq!(rule(&[("title", "Hulp\u{200B}")], "title"), None, "visible text stays valid");
}

// Guards "nothing personal reaches the public site" for what posters type themselves: an
// e-mail address or phone number in a public field is refused with a reason; the contact
// fields themselves, dates and house numbers are not.
#[test]
fn contact_details_in_public_text_are_refused() {
    let contacts = [
        "Mail naar jan.jansen@example.org",
        "Bel 06 1234 5678",
        "bel 0612345678 na zes uur",
        "Tel. +31 6 12345678",
        "(035) 123 45 67",
        "035-1234567",
        // As a reader's device shows them: links, encodings and look-alike characters.
        "[bel mij](tel:%30%36%31%32%33%34%35%36%37%38)",
        "[mail](mailto:%6a%61%6e%40example.nl)",
        "jan\u{200B}@example.nl",
        "jan\u{FF20}example.nl",
        "\u{FF10}\u{FF16}\u{FF11}\u{FF12}\u{FF13}\u{FF14}\u{FF15}\u{FF16}\u{FF17}\u{FF18}",
        "06_12_34_56_78",
        "Tel: bel de balie",
        // As the site renders Markdown: character references become the characters.
        "jan&#64;example.nl",
        "&#48;&#54;&#49;&#50;&#51;&#52;&#53;&#54;&#55;&#56;",
        // Digits of another script, and commas between the digits.
        "\u{660}\u{666}\u{661}\u{662}\u{663}\u{664}\u{665}\u{666}\u{667}\u{668}",
        "06,12,34,56,78",
        "Bel mij op 06,12,34,56,78 als u kunt helpen.",
    ];
    for text in contacts {
        for field in ["title", "body", "organisation"] {
            assert_eq!(
                rule(&[(field, text)], field),
                Some(Rule::ContactInText),
                "{field} {text:?}"
            );
        }
    }
    let harmless = [
        "Op 12-03-2030 om 14.30 uur",
        "Ik woon op nummer 12, ben 80 jaar",
        "Rond 1.000 meter lopen",
        "Kamer 2026 in het ziekenhuis",
        "Hotel: De Gooische Brink",
        "Op 3, 10, 17, 24 en 31 januari",
        "Data: 3, 10, 17, 24, 31 januari",
        "3, 10, 17, 24, 31 januari kan ik",
        "Prijs 1,50 of 2,75 euro per keer",
    ];
    for text in harmless {
        assert_eq!(rule(&[("body", text)], "body"), None, "{text:?}");
    }
    assert_eq!(rule(&[("phone", "06 1234 5678")], "phone"), None);
}

// Guards consent: an explicit no is not consent, whatever the client sends.
#[test]
fn consent_must_be_given_not_just_present() {
    for value in ["no", "nee", "false", "0", "off", " "] {
        assert_eq!(rule(&[("consent", value)], "consent"), Some(Rule::ConsentRequired), "{value}");
    }
    for value in ["ja", "yes", "on", "true"] {
        assert_eq!(rule(&[("consent", value)], "consent"), None, "{value}");
    }
}
