//! Rendering single pages outside a build, for the function: the form again with the
//! resident's input and errors, a confirmation, a whole-page message. It uses the same
//! theme and site data as the static site, so both look and read the same.
//!
//! Invariant: every link on such a page reaches the static site. When site.yaml's
//! `submission_endpoint` is an absolute URL the function answers from another host, so
//! site links are made absolute; otherwise they stay under the base path, as in a build.

use std::path::Path;

use serde::Serialize;
use tera::Context;

use crate::config::Site;
use crate::content::{self, Content};
use crate::error::BuildError;
use crate::theme::Theme;
use crate::views::{self, FormView, SiteView};

/// A theme loaded once with the site's data, ready to render pages on request.
pub struct Renderer {
    content: Content,
    theme: Theme,
    base: Context,
}

impl Renderer {
    /// Loads site.yaml and the pages of `content_dir` (not the posts) and the theme;
    /// `base_url` replaces site.yaml's, as in a build.
    pub fn load(
        content_dir: &Path,
        theme_dir: &Path,
        base_url: Option<&str>,
    ) -> Result<Renderer, BuildError> {
        let mut content = content::load_site_and_pages(content_dir).map_err(BuildError::Content)?;
        if let Some(base_url) = base_url {
            content.site = Site::load(content_dir, Some(base_url)).map_err(BuildError::Content)?;
        }
        let theme = Theme::load(theme_dir)?;
        let mut site = views::site_view(&content, &theme.words);
        if is_absolute(&content.site.config.submission_endpoint) {
            absolute_links(&mut site, &content.site.origin);
        }
        let mut base = Context::new();
        base.insert("site", &site);
        base.insert("t", &theme.words);
        Ok(Renderer { content, theme, base })
    }

    /// The validated site settings.
    pub fn site(&self) -> &Site {
        &self.content.site
    }

    /// The theme's words, for the function's checks of a choice against its list.
    pub fn words(&self) -> &crate::theme::Words {
        &self.theme.words
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

fn is_absolute(url: &str) -> bool {
    url.starts_with("http://") || url.starts_with("https://")
}

/// Puts the site's origin in front of every site link the templates get.
fn absolute_links(site: &mut SiteView, origin: &str) {
    let absolute = |url: &mut String| {
        if !is_absolute(url) {
            url.insert_str(0, origin);
        }
    };
    for url in [&mut site.base, &mut site.home_url, &mut site.static_url, &mut site.feed_url] {
        absolute(url);
    }
    for m in &mut site.municipalities {
        absolute(&mut m.url);
        m.by_kind.iter_mut().for_each(|link| absolute(&mut link.url));
    }
    site.categories.iter_mut().for_each(|c| absolute(&mut c.url));
    for k in &mut site.kinds {
        absolute(&mut k.url);
        absolute(&mut k.form_url);
        absolute(&mut k.feed_url);
    }
    site.menu.iter_mut().for_each(|link| absolute(&mut link.url));
}
