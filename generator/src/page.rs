//! Content pages (`content/pages/<slug>.md`): how it works, about, privacy,
//! accessibility. Written by the operator, rendered with the same safe Markdown.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::ContentError;
use crate::front_matter::{self, key_line, yaml_error};
use crate::slug;
use crate::text::{clean_block, clean_line};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageFrontMatter {
    title: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    menu_order: Option<u32>,
}

/// A validated content page.
#[derive(Debug, Clone)]
pub struct Page {
    pub slug: String,
    pub title: String,
    pub description: Option<String>,
    /// Pages with an order are linked in the footer, lowest first.
    pub menu_order: Option<u32>,
    pub body: String,
    pub source: PathBuf,
}

/// Reads one page; its slug is its file name.
pub fn load(path: &Path) -> Result<Page, Vec<ContentError>> {
    let bytes = std::fs::read(path)
        .map_err(|e| vec![ContentError::new(path, None, format!("cannot read: {e}"))])?;
    let text = front_matter::decode(path, &bytes).map_err(|e| vec![e])?;
    let split = front_matter::split(path, text).map_err(|e| vec![e])?;
    let raw: PageFrontMatter =
        serde_yaml::from_str(split.yaml).map_err(|e| vec![yaml_error(path, &e, 1)])?;

    let mut errors = Vec::new();
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    if !slug::is_valid(stem) || slug::is_reserved(stem) {
        errors.push(ContentError::new(
            path,
            None,
            "a page's file name must be a slug ([a-z0-9-]) that is not a reserved word",
        ));
    }
    let title = clean_line(&raw.title);
    if title.is_empty() {
        errors.push(ContentError::new(path, key_line(split.yaml, "title", 1), "title is empty"));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Page {
        slug: stem.to_string(),
        title,
        description: raw.description.as_deref().map(clean_line),
        menu_order: raw.menu_order,
        body: clean_block(split.body),
        source: path.to_path_buf(),
    })
}
