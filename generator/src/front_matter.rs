//! Splitting a content file into YAML front matter and Markdown body. The front matter
//! ends at the first line that is exactly `---` (trailing blanks allowed) after the
//! opening one; every later `---` belongs to the body, so a thematic break or a quoted
//! metadata block in a resident's text can never cut or replace the metadata.

use std::path::Path;

use crate::error::ContentError;

/// A content file's two parts, borrowed from the file's text.
#[derive(Debug)]
pub struct Split<'a> {
    pub yaml: &'a str,
    pub body: &'a str,
}

/// Decodes `bytes` as UTF-8 (without BOM), reporting the line of the first bad byte.
pub fn decode<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a str, ContentError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
        ContentError::new(path, Some(line), "invalid UTF-8: save the file as UTF-8")
    })
}

/// Splits `text` into front matter and body.
pub fn split<'a>(path: &Path, text: &'a str) -> Result<Split<'a>, ContentError> {
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or("");
    if !is_fence(first) {
        return Err(ContentError::new(path, Some(1), "the file must start with a `---` line"));
    }
    let yaml_start = first.len();
    let mut offset = yaml_start;
    for line in lines {
        if is_fence(line) {
            return Ok(Split {
                yaml: &text[yaml_start..offset],
                body: &text[offset + line.len()..],
            });
        }
        offset += line.len();
    }
    Err(ContentError::new(path, Some(1), "the front matter has no closing `---` line"))
}

fn is_fence(line: &str) -> bool {
    line.trim_end() == "---"
}

/// A serde_yaml error as a content error; `line_offset` is the number of file lines
/// before the YAML text (1 for front matter after its opening `---`).
pub fn yaml_error(path: &Path, e: &serde_yaml::Error, line_offset: usize) -> ContentError {
    let line = e.location().map(|l| l.line() + line_offset);
    let reason = e.to_string();
    // serde_yaml appends " at line X column Y"; the line is already in front.
    let reason = match reason.find(" at line ") {
        Some(i) => reason[..i].to_string(),
        None => reason,
    };
    ContentError::new(path, line, reason)
}

/// The file line where top-level `key:` stands in `yaml`, for errors found after parsing.
pub fn key_line(yaml: &str, key: &str, line_offset: usize) -> Option<usize> {
    yaml.lines()
        .position(|l| l.strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with(':')))
        .map(|i| i + 1 + line_offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "x.md";

    #[test]
    fn c04_only_the_first_closing_fence_ends_front_matter() {
        let text = "---\ntitle: a\n---\nIntro\n\n---\n\ntitle: not metadata\n---\nEnd\n";
        let split = split(Path::new(P), text).unwrap();
        assert_eq!(split.yaml, "title: a\n");
        assert_eq!(split.body, "Intro\n\n---\n\ntitle: not metadata\n---\nEnd\n");
    }

    #[test]
    fn inline_dashes_in_a_value_do_not_end_front_matter() {
        let text = "---\ntitle: \"a --- b\"\n---  \nbody";
        let split = split(Path::new(P), text).unwrap();
        assert_eq!(split.yaml, "title: \"a --- b\"\n");
        assert_eq!(split.body, "body");
    }

    #[test]
    fn crlf_files_split_too() {
        let split = split(Path::new(P), "---\r\ntitle: a\r\n---\r\nbody\r\n").unwrap();
        assert_eq!(split.yaml, "title: a\r\n");
        assert_eq!(split.body, "body\r\n");
    }

    #[test]
    fn missing_fences_are_errors_on_line_one() {
        assert_eq!(split(Path::new(P), "title: a\n").unwrap_err().line, Some(1));
        assert_eq!(split(Path::new(P), "---\ntitle: a\n").unwrap_err().line, Some(1));
    }

    #[test]
    fn invalid_utf8_names_its_line() {
        let err = decode(Path::new(P), b"---\nok\n\xff\n").unwrap_err();
        assert_eq!(err.line, Some(3));
    }

    #[test]
    fn key_line_finds_top_level_keys_only() {
        let yaml = "title: a\n  category: nested\ncategory : b\n";
        assert_eq!(key_line(yaml, "category", 1), Some(4));
    }
}
