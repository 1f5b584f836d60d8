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
/// other control characters (they are invalid in XML 1.0 and so would break the feeds).
pub fn clean_block(s: &str) -> String {
    nfc(s)
        .chars()
        .filter(|c| matches!(c, '\n' | '\t') || !(is_unwanted(*c) || c.is_control()))
        .collect()
}

/// Characters that are not controls in Unicode's sense but are still illegal in XML.
fn is_unwanted(c: char) -> bool {
    matches!(c, '\u{FFFE}' | '\u{FFFF}')
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
    fn block_keeps_newlines_but_drops_nul_and_form_feed() {
        assert_eq!(clean_block("a\u{0}\n\u{c}b\r\n"), "a\nb\n");
    }
}
