//! The HTML pages the function answers with: the form (fresh, or again with errors and
//! every value kept), the confirmation, the poster's management page, and whole-page
//! messages (415, 413, 500, 404).
//!
//! Invariant: these pages come from the site's own theme through `generator::Renderer`,
//! so the form a resident sees again after a refusal is the static site's form, from the
//! same `form.html`, with the same words, hints and styles. Every sentence comes from the
//! theme or `messages.nl.yaml`, none from this file.

use std::collections::BTreeMap;
use std::path::Path;

use generator::post::Kind;
use generator::views::{FieldError, FormView};
use generator::{BuildError, Renderer};
use serde::Serialize;

use crate::messages::PageKind;
use crate::rules::SiteRules;
use crate::submission::{FormValues, field};
use crate::validate::FieldErrors;

/// The theme's templates, loaded once with site.yaml and the content pages.
pub struct Pages {
    renderer: Renderer,
    /// The public site's base URL, ending in `/`.
    site_root: String,
}

/// What the form page needs besides the values.
pub struct FormPage<'a> {
    pub values: &'a FormValues,
    pub errors: Option<&'a FieldErrors>,
    pub note: Option<String>,
    /// Where the form posts, with the stage prefix when behind API Gateway.
    pub action: String,
    pub form_token: String,
    pub submission_id: String,
}

/// Why the theme or the content could not give a page. The message lists every content
/// problem on one line, so an operator can fix them all from one start.
#[derive(Debug, thiserror::Error)]
#[error("{}", describe(&self.0))]
pub struct PagesError(pub BuildError);

impl From<BuildError> for PagesError {
    fn from(error: BuildError) -> PagesError {
        PagesError(error)
    }
}

fn describe(error: &BuildError) -> String {
    match error {
        BuildError::Content(problems) => {
            let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
            format!("{error}: {}", list.join("; "))
        }
        other => other.to_string(),
    }
}

/// The fields the form shows again after a refusal, in the theme form's order, which is
/// also the order of the error summary. Hidden tokens are issued fresh instead.
const SHOWN_FIELDS: [&str; 13] = [
    field::KIND,
    field::TITLE,
    field::BODY,
    field::CATEGORY,
    field::MUNICIPALITY,
    field::NEIGHBOURHOOD,
    field::RECURRING,
    field::EXPIRES,
    field::DISPLAY_NAME,
    field::ORGANISATION,
    field::EMAIL,
    field::PHONE,
    field::CONSENT,
];

#[derive(Serialize)]
struct ConfirmationData<'a> {
    manage_url: &'a str,
    /// Whether the poster gave an e-mail address (then the link was mailed too).
    mailed: bool,
}

#[derive(Serialize)]
struct MessageData<'a> {
    kind: &'static str,
    form_url: &'a str,
}

impl Pages {
    /// Loads site.yaml and the pages of `content_dir` and the theme in `theme_dir`;
    /// `base_url` replaces site.yaml's (`buurtbord serve` knows its own address).
    pub fn load(
        content_dir: &Path,
        theme_dir: &Path,
        base_url: Option<&str>,
    ) -> Result<Pages, PagesError> {
        let renderer = Renderer::load(content_dir, theme_dir, base_url)?;
        let site_root = renderer.site().absolute("/");
        Ok(Pages { renderer, site_root })
    }

    /// The public site's base URL, ending in `/`.
    pub fn site_root(&self) -> &str {
        &self.site_root
    }

    /// The theme's form, with the values as sent and, when given, the errors and a note.
    pub fn form(&self, rules: &SiteRules, page: &FormPage<'_>) -> Result<String, PagesError> {
        Ok(self.renderer.form(&form_view(rules, page))?)
    }

    /// The poster's edit form (`wijzigen.html`): the submission form's fields, values and
    /// errors, under `data.form`, with what `edit` adds.
    pub fn edit_form(
        &self,
        rules: &SiteRules,
        page: &FormPage<'_>,
        edit: &crate::edit::EditView,
    ) -> Result<String, PagesError> {
        #[derive(Serialize)]
        struct EditData<'a> {
            form: FormView,
            #[serde(flatten)]
            edit: &'a crate::edit::EditView,
        }
        let mut form = form_view(rules, page);
        form.hidden = BTreeMap::new();
        Ok(self.renderer.page("wijzigen.html", &EditData { form, edit })?)
    }

    /// The lost-link page (`link-kwijt.html`) in the state `view` says.
    pub fn lost_link(&self, view: &crate::lost_link::LostLinkView) -> Result<String, PagesError> {
        Ok(self.renderer.page("link-kwijt.html", view)?)
    }

    /// Each form field's label by field name, from the theme's `field_<name>` words.
    pub fn field_labels(&self) -> BTreeMap<String, String> {
        let extra = &self.renderer.words().extra;
        extra
            .iter()
            .filter_map(|(key, label)| {
                Some((key.strip_prefix("field_")?.to_owned(), label.clone()))
            })
            .collect()
    }
}

/// The form's view: the values as sent, the errors by field and in form order, the hidden
/// fields and the note.
fn form_view(rules: &SiteRules, page: &FormPage<'_>) -> FormView {
    let mut errors: Vec<&crate::validate::FieldError> =
        page.errors.map(|e| e.0.iter().collect()).unwrap_or_default();
    errors.sort_by_key(|e| SHOWN_FIELDS.iter().position(|&name| name == e.field));
    let mut by_field = BTreeMap::new();
    for error in &errors {
        by_field.entry(error.field.to_owned()).or_insert_with(|| error.message.clone());
    }
    FormView {
        kind: kind(page.values.get(field::KIND)),
        action: page.action.clone(),
        values: shown_values(rules, page.values),
        errors: by_field,
        error_list: errors
            .iter()
            .map(|e| FieldError { field: e.field.to_owned(), message: e.message.clone() })
            .collect(),
        hidden: BTreeMap::from([
            (field::FORM_TOKEN.to_owned(), page.form_token.clone()),
            (field::SUBMISSION_ID.to_owned(), page.submission_id.clone()),
        ]),
        notice: page.note.clone(),
    }
}

impl Pages {
    /// The confirmation with the private management link.
    pub fn confirmation(&self, manage_url: &str, mailed: bool) -> Result<String, PagesError> {
        Ok(self.renderer.page("bedankt.html", &ConfirmationData { manage_url, mailed })?)
    }

    /// The poster's management page (`beheren.html`).
    pub fn manage(&self, view: &crate::manage::ManageView) -> Result<String, PagesError> {
        Ok(self.renderer.page("beheren.html", view)?)
    }

    /// A page of a form on a post (`reageren.html`, `melden.html`) in the state `view` says.
    pub fn post_form(
        &self,
        template: &str,
        view: &crate::post_forms::FormView,
    ) -> Result<String, PagesError> {
        Ok(self.renderer.page(template, view)?)
    }

    /// The reasons a reader can give for a report, from the theme.
    pub fn report_reasons(&self) -> &[generator::theme::Choice] {
        &self.renderer.words().report_reasons
    }

    /// A whole-page message with a link back to the form.
    pub fn message(&self, kind: PageKind, form_url: &str) -> Result<String, PagesError> {
        Ok(self.renderer.page("melding.html", &MessageData { kind: kind.key(), form_url })?)
    }
}

/// Every shown field as typed (empty when not sent, so the template can compare freely),
/// except that a municipality or category typed as its name or in other case is shown as
/// the list option the validator matches it to, so the choice stays selected.
fn shown_values(rules: &SiteRules, values: &FormValues) -> BTreeMap<String, String> {
    let mut shown: BTreeMap<String, String> =
        SHOWN_FIELDS.iter().map(|&name| (name.to_owned(), values.get(name).to_owned())).collect();
    let typed = |name: &str| crate::submission::trim(values.get(name)).to_owned();
    if let Some(m) = rules.municipality(&typed(field::MUNICIPALITY)) {
        shown.insert(field::MUNICIPALITY.to_owned(), m.slug.clone());
    }
    if let Some(c) = rules.category(&typed(field::CATEGORY)) {
        shown.insert(field::CATEGORY.to_owned(), c.slug.clone());
    }
    shown
}

fn kind(value: &str) -> Option<Kind> {
    Kind::ALL.into_iter().find(|k| k.as_str() == value)
}
