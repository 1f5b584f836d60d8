//! The moderator's preview: a queued post rendered with the same theme templates, site
//! data and Markdown pipeline as the published page, before anything is written. The post
//! text goes through the same validation as a content file, so what the moderator sees is
//! what approval publishes, or the reason it would be refused.

use std::path::{Path, PathBuf};

use tera::Context;

use crate::config::Site;
use crate::content::{self, Content};
use crate::error::BuildError;
use crate::theme::Theme;
use crate::{post, urls, views};

/// The theme and site data, loaded once, ready to render single post pages.
pub struct Preview {
    content: Content,
    theme: Theme,
    base: Context,
}

impl Preview {
    /// Loads site.yaml and the pages of `content_dir` (not the posts) and the theme;
    /// `base_url` replaces site.yaml's, as in a build.
    pub fn load(
        content_dir: &Path,
        theme_dir: &Path,
        base_url: Option<&str>,
    ) -> Result<Preview, BuildError> {
        let mut content = content::load_site_and_pages(content_dir).map_err(BuildError::Content)?;
        if let Some(base_url) = base_url {
            content.site = Site::load(content_dir, Some(base_url)).map_err(BuildError::Content)?;
        }
        let theme = Theme::load(theme_dir)?;
        let mut base = Context::new();
        base.insert("site", &views::site_view(&content, &theme.words));
        base.insert("t", &theme.words);
        Ok(Preview { content, theme, base })
    }

    /// The validated site settings.
    pub fn site(&self) -> &Site {
        &self.content.site
    }

    /// The theme's words, for pages outside the theme that name the same things (the
    /// moderators' edit form labels its fields as the public form does).
    pub fn words(&self) -> &crate::theme::Words {
        &self.theme.words
    }

    /// The page the post file `text` (front matter and body) would get on the site.
    pub fn post_page(&self, id: &str, text: &str) -> Result<String, BuildError> {
        let site = &self.content.site;
        let path = PathBuf::from(format!("posts/{id}.md"));
        let post = post::parse(site, &path, text).map_err(BuildError::Content)?;
        let mut context = self.base.clone();
        context.insert("post", &views::post_view(site, &self.theme, &post));
        let page = urls::post(&post.slug);
        context.insert("canonical", &site.absolute(&page));
        context.insert("current_path", &site.link(&page));
        self.theme.render("post.html", &context)
    }
}
