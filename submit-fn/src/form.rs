//! Reading a submitted body into `FormValues`: the Content-Type decision and the two
//! encodings we accept, `application/x-www-form-urlencoded` (what the form sends) and
//! `application/json` (for API clients), both UTF-8.
//!
//! Invariant: bytes become text only as strict UTF-8; nothing is ever stored with U+FFFD
//! or as mojibake (case C13). Both encodings end in the same `FormValues`, so every later
//! check runs the same whatever the encoding.

use percent_encoding::percent_decode;

use crate::submission::FormValues;

/// The encodings a submission may arrive in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    UrlEncoded,
    Json,
}

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    /// Missing, unknown or non-UTF-8 Content-Type (multipart and text/plain included).
    #[error("unsupported content type")]
    UnsupportedMediaType,
    #[error("body is not valid UTF-8")]
    NotUtf8,
    #[error("body is not a JSON object of strings and booleans")]
    BadJson,
}

/// Decides the encoding from a Content-Type header value: the media type is compared
/// case-insensitively and parameters are ignored, except a charset other than UTF-8.
pub fn body_format(content_type: Option<&str>) -> Result<BodyFormat, FormError> {
    let header = content_type.ok_or(FormError::UnsupportedMediaType)?;
    let mut parts = header.split(';');
    let media_type = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    for parameter in parts {
        let Some((name, value)) = parameter.split_once('=') else { continue };
        let value = value.trim().trim_matches('"').to_ascii_lowercase();
        if name.trim().eq_ignore_ascii_case("charset") && value != "utf-8" && value != "utf8" {
            return Err(FormError::UnsupportedMediaType);
        }
    }
    match media_type.as_str() {
        "application/x-www-form-urlencoded" => Ok(BodyFormat::UrlEncoded),
        "application/json" => Ok(BodyFormat::Json),
        _ => Err(FormError::UnsupportedMediaType),
    }
}

/// Reads a body in the given encoding.
pub fn parse_body(format: BodyFormat, body: &[u8]) -> Result<FormValues, FormError> {
    match format {
        BodyFormat::UrlEncoded => parse_urlencoded(body),
        BodyFormat::Json => parse_json(body),
    }
}

/// Decodes `application/x-www-form-urlencoded` per the URL standard: `+` is a space, `%XX`
/// a byte, and the bytes must be UTF-8. Duplicate keys: the first wins (see `FormValues`).
pub fn parse_urlencoded(body: &[u8]) -> Result<FormValues, FormError> {
    let mut pairs = Vec::new();
    for piece in body.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
        let (key, value) = match piece.iter().position(|&b| b == b'=') {
            Some(at) => (&piece[..at], &piece[at + 1..]),
            None => (piece, &[][..]),
        };
        pairs.push((decode_component(key)?, decode_component(value)?));
    }
    Ok(FormValues::from_pairs(pairs))
}

fn decode_component(raw: &[u8]) -> Result<String, FormError> {
    let spaced: Vec<u8> = raw.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect();
    let bytes: Vec<u8> = percent_decode(&spaced).collect();
    String::from_utf8(bytes).map_err(|_| FormError::NotUtf8)
}

/// Reads a JSON object. Values must be strings, booleans (checkboxes) or null; a number is
/// refused rather than turned into text, since `007` and `7` are different titles (C05).
pub fn parse_json(body: &[u8]) -> Result<FormValues, FormError> {
    let text = std::str::from_utf8(body).map_err(|_| FormError::NotUtf8)?;
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|_| FormError::BadJson)?;
    let mut pairs = Vec::with_capacity(object.len());
    for (key, value) in object {
        let value = match value {
            serde_json::Value::String(s) => s,
            serde_json::Value::Bool(true) => "on".to_owned(),
            serde_json::Value::Bool(false) | serde_json::Value::Null => String::new(),
            _ => return Err(FormError::BadJson),
        };
        pairs.push((key, value));
    }
    Ok(FormValues::from_pairs(pairs))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Guards the media-type rule of case C13: parameters and case do not matter, a
    // foreign charset and every other type do.
    #[test]
    fn content_type_is_matched_case_insensitively_and_charset_must_be_utf8() {
        let form = Ok(BodyFormat::UrlEncoded);
        assert_eq!(body_format(Some("application/x-www-form-urlencoded")), form);
        assert_eq!(body_format(Some("application/x-www-form-urlencoded; charset=UTF-8")), form);
        assert_eq!(body_format(Some("Application/X-WWW-Form-URLEncoded ;charset=utf-8")), form);
        assert_eq!(body_format(Some("application/json; charset=utf-8")), Ok(BodyFormat::Json));
        let refused = Err(FormError::UnsupportedMediaType);
        assert_eq!(body_format(None), refused);
        assert_eq!(body_format(Some("text/plain")), refused);
        assert_eq!(body_format(Some("multipart/form-data; boundary=x")), refused);
        assert_eq!(
            body_format(Some("application/x-www-form-urlencoded; charset=ISO-8859-1")),
            refused
        );
    }

    // Guards the URL-encoding edges: `+` and `%20` are spaces, `%2B` is a plus, duplicate
    // keys keep the first value, and invalid UTF-8 is refused instead of replaced.
    #[test]
    fn urlencoded_plus_percent_duplicates_and_invalid_utf8() {
        let values = parse_urlencoded(b"title=a+b%20c%2B&title=second&empty=&flag").unwrap();
        assert_eq!(values.get("title"), "a b c+");
        assert_eq!(values.get("empty"), "");
        assert_eq!(values.get("flag"), "");
        assert_eq!(parse_urlencoded(b"title=Caf%E9"), Err(FormError::NotUtf8));
    }

    // Guards that JSON numbers are refused rather than turned into different text.
    #[test]
    fn json_accepts_strings_and_booleans_only() {
        let values = parse_json(br#"{"title":"007","consent":true,"recurring":false}"#).unwrap();
        assert_eq!(values.get("title"), "007");
        assert_eq!(values.get("consent"), "on");
        assert_eq!(values.get("recurring"), "");
        assert_eq!(parse_json(br#"{"title":7}"#), Err(FormError::BadJson));
        assert_eq!(parse_json(b"[1]"), Err(FormError::BadJson));
    }
}
