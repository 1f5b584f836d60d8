//! The theme: Tera templates compiled once, the static assets, and `theme.yaml`, which
//! holds every word the generator itself puts on a page (month names, kind labels, feed
//! titles). Resident-facing text lives here and in the templates, never in Rust code.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, FixedOffset};
use serde::{Deserialize, Serialize};
use tera::Tera;

use crate::error::BuildError;
use crate::post::Kind;

/// Words from `theme.yaml`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Words {
    /// Twelve month names, January first.
    pub months: Vec<String>,
    pub kinds: BTreeMap<Kind, KindWords>,
    /// Feed titles; `{name}` is replaced by a municipality's name.
    pub feed_all: String,
    pub feed_municipality: String,
    /// Any further strings templates want, available as `t.extra.<key>`.
    #[serde(default)]
    pub extra: BTreeMap<String, String>,
    /// The reasons a reader can choose when reporting a post, in the order shown; the
    /// function accepts only these keys and shows moderators the labels. Default: none.
    #[serde(default)]
    pub report_reasons: Vec<Choice>,
}

/// One choice of a list: the value a form sends and the words a reader sees.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub key: String,
    pub label: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KindWords {
    pub one: String,
    pub many: String,
}

/// A loaded theme.
pub struct Theme {
    pub tera: Tera,
    pub words: Words,
    pub static_dir: PathBuf,
}

impl Theme {
    /// Compiles every template in `<dir>/templates` and reads `<dir>/theme.yaml`.
    pub fn load(dir: &Path) -> Result<Theme, BuildError> {
        let glob = dir.join("templates").join("**").join("*");
        let mut tera = Tera::new(&glob.to_string_lossy())
            .map_err(|e| BuildError::Theme(format!("{}: {}", dir.display(), chain(&e))))?;
        tera.autoescape_on(vec![".html", ".xml"]);
        // Tera's default also escapes `/`, which bloats every URL; `&<>"'` is enough for
        // both HTML text and quoted attributes.
        tera.set_escape_fn(|s| quick_xml::escape::escape(s).into_owned());
        let words_path = dir.join("theme.yaml");
        let text =
            std::fs::read_to_string(&words_path).map_err(|e| BuildError::io(&words_path, e))?;
        let words: Words = serde_yaml::from_str(&text)
            .map_err(|e| BuildError::Theme(format!("{}: {e}", words_path.display())))?;
        if words.months.len() != 12 || words.kinds.len() != 2 {
            return Err(BuildError::Theme(format!(
                "{}: needs 12 months and words for both kinds",
                words_path.display()
            )));
        }
        Ok(Theme { tera, words, static_dir: dir.join("static") })
    }

    /// Renders `template` with `context`; errors carry Tera's whole cause chain.
    pub fn render(&self, template: &str, context: &tera::Context) -> Result<String, BuildError> {
        self.tera
            .render(template, context)
            .map_err(|e| BuildError::Theme(format!("{template}: {}", chain(&e))))
    }

    /// As [`Theme::render`], appending to `out`: a build reuses one buffer per worker
    /// instead of growing a fresh string for each of its many thousands of pages.
    pub fn render_to(
        &self,
        template: &str,
        context: &tera::Context,
        out: &mut Vec<u8>,
    ) -> Result<(), BuildError> {
        self.tera
            .render_to(template, context, out)
            .map_err(|e| BuildError::Theme(format!("{template}: {}", chain(&e))))
    }

    /// A date as residents read it: "1 juni 2025".
    pub fn date(&self, dt: &DateTime<FixedOffset>) -> String {
        format!("{} {} {}", dt.day(), self.words.months[dt.month0() as usize], dt.year())
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
