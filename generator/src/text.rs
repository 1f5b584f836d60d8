//! Text normalisation applied to everything read from content files: NFC, so text typed
//! on a Mac (NFD) and on a phone (NFC) is the same text, and removal of control
//! characters that XML cannot carry and that no resident meant to type.

use std::borrow::Cow;

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

/// `s` in NFC; text that is already NFC (nearly all of it) is not copied.
fn nfc(s: &str) -> Cow<'_, str> {
    match is_nfc_quick(s.chars()) {
        IsNormalized::Yes => Cow::Borrowed(s),
        _ => Cow::Owned(s.nfc().collect()),
    }
}

/// NFC-normalises a one-line field and trims it. Line breaks and tabs become a space (a
/// hand-edited title may wrap); every other control character is dropped.
pub fn clean_line(s: &str) -> String {
    let nfc: String = nfc(s)
        .chars()
        .filter_map(|c| match c {
            '\t' | '\n' | '\r' => Some(' '),
            c if is_unwanted(c) || c.is_control() => None,
            c => Some(c),
        })
        .collect();
    nfc.trim().to_string()
}

/// NFC-normalises a multi-line text, keeping line breaks and tabs but dropping the
/// other control characters (they are invalid in XML 1.0 and so would break the feeds)
/// and the bidirectional overrides and isolates, which can make text read in another
/// order than it is written (an address typed backwards that shows forwards). Text in
/// Arabic or Hebrew needs none of them: its direction comes from its letters.
pub fn clean_block(s: &str) -> String {
    nfc(s)
        .chars()
        .filter(|c| {
            matches!(c, '\n' | '\t') || !(is_unwanted(*c) || c.is_control() || is_bidi_control(*c))
        })
        .collect()
}

/// The explicit bidirectional embeddings, overrides and isolates.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that are not controls in Unicode's sense but are still illegal in XML, and
/// unprintable in YAML, so a front matter holding one cannot be read back.
fn is_unwanted(c: char) -> bool {
    matches!(c, '\u{FFFE}' | '\u{FFFF}')
}

/// True for a character a one-line field (title, name) must not hold, so that whatever a
/// form accepts, the generator can publish and a reader sees as typed: controls, the two
/// noncharacters YAML and XML refuse, the line and paragraph separators, and the
/// bidirectional controls that can make a name read backwards.
pub fn is_forbidden_in_line(c: char) -> bool {
    c.is_control() || is_unwanted(c) || is_bidi_control(c) || matches!(c, '\u{2028}' | '\u{2029}')
}

/// True for a character that shows nothing by itself: white space, and the format and
/// filler characters that render as empty (zero-width space, soft hyphen, word joiner,
/// braille and Hangul blanks). A field of only these is empty to a reader.
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{2800}'
                | '\u{3164}'
                | '\u{FEFF}'
                | '\u{FFA0}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfd_and_nfc_lines_become_identical() {
        assert_eq!(clean_line("Cafe\u{301} in A\u{30a}sby"), clean_line("Café in Åsby"));
    }

    #[test]
    fn vertical_tab_is_removed_and_newline_becomes_a_space() {
        assert_eq!(clean_line(" a\u{b}b\nc\td "), "ab c d");
    }

    #[test]
    fn noncharacters_separators_and_bidi_controls_are_forbidden_in_a_line() {
        for c in ['\u{FFFE}', '\u{FFFF}', '\u{0}', '\u{85}', '\u{2028}', '\u{202E}', '\u{2067}'] {
            assert!(is_forbidden_in_line(c), "{c:?}");
        }
        for c in ['a', 'é', '👋', 'م', '\u{200D}'] {
            assert!(!is_forbidden_in_line(c), "{c:?}");
        }
        assert_eq!(clean_line("a\u{FFFE}b"), "ab");
    }

    #[test]
    fn zero_width_and_blank_characters_are_invisible_letters_are_not() {
        let blank = "\u{200B}\u{00AD}\u{2800}\u{3164}\u{202E} \u{FEFF}";
        assert!(blank.chars().all(is_invisible));
        assert!(!"a\u{200B}".chars().all(is_invisible));
    }

    #[test]
    fn block_keeps_newlines_but_drops_nul_and_form_feed() {
        assert_eq!(clean_block("a\u{0}\n\u{c}b\r\n"), "a\nb\n");
    }
}
