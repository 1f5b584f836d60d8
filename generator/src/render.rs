//! Rendering single pages outside a build, for the function: the form again with the
//! resident's input and errors, a confirmation, an error page. It uses the same theme
//! and site data as the static site, so both look and read the same.

use std::path::Path;

use serde::Serialize;
use tera::Context;

use crate::config::Site;
use crate::content::{self, Content};
use crate::error::BuildError;
use crate::theme::Theme;
use crate::views::{self, FormView};

/// A theme loaded once with the site's data, ready to render pages on request.
pub struct Renderer {
    content: Content,
    theme: Theme,
    base: Context,
}

impl Renderer {
    /// Loads site.yaml and the pages of `content_dir` (not the posts) and the theme.
    pub fn load(content_dir: &Path, theme_dir: &Path) -> Result<Renderer, BuildError> {
        let content = content::load_site_and_pages(content_dir).map_err(BuildError::Content)?;
        let theme = Theme::load(theme_dir)?;
        let mut base = Context::new();
        base.insert("site", &views::site_view(&content, &theme.words));
        base.insert("t", &theme.words);
        Ok(Renderer { content, theme, base })
    }

    /// The validated site settings.
    pub fn site(&self) -> &Site {
        &self.content.site
    }

    /// The form page with `form`'s values, errors and hidden fields.
    pub fn form(&self, form: &FormView) -> Result<String, BuildError> {
        let mut context = self.base.clone();
        context.insert("form", form);
        self.finish("form.html", context)
    }

    /// Any template of the theme, with `data` available under the name `data`.
    pub fn page(&self, template: &str, data: &impl Serialize) -> Result<String, BuildError> {
        let mut context = self.base.clone();
        context.insert("data", data);
        self.finish(template, context)
    }

    fn finish(&self, template: &str, mut context: Context) -> Result<String, BuildError> {
        context.insert("canonical", &"");
        context.insert("current_path", &"");
        self.theme.render(template, &context)
    }
}
