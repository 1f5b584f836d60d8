//! The HTML pages the function answers with: the form (fresh, or again with errors and
//! every value kept), the confirmation, and whole-page messages (415, 413, 500, 404).
//!
//! Templates live in `submit-fn/templates/` and are compiled in, so the Lambda binary needs
//! no files; every sentence comes from the templates or `messages.nl.yaml`.

use std::collections::BTreeMap;

use serde::Serialize;
use tera::{Context, Tera};

use crate::messages::{PageKind, labels, page_text};
use crate::rules::SiteRules;
use crate::submission::{
    BODY_MAX_CHARS, DISPLAY_NAME_MAX_CHARS, FormValues, ORGANISATION_MAX_CHARS, TITLE_MAX_CHARS,
    field,
};
use crate::validate::FieldErrors;

/// The compiled templates and what every page shows (site name, link to the site).
pub struct Pages {
    tera: Tera,
    site_name: String,
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

/// The fields the form shows again after a refusal; hidden tokens are issued fresh instead.
const SHOWN_FIELDS: [&str; 13] = [
    field::TITLE,
    field::KIND,
    field::CATEGORY,
    field::MUNICIPALITY,
    field::NEIGHBOURHOOD,
    field::BODY,
    field::RECURRING,
    field::EXPIRES,
    field::DISPLAY_NAME,
    field::ORGANISATION,
    field::EMAIL,
    field::PHONE,
    field::CONSENT,
];

#[derive(Serialize)]
struct Limits {
    title: usize,
    body: usize,
    display_name: usize,
    organisation: usize,
    expiry_days: u32,
}

impl Pages {
    /// Compiles the built-in templates.
    pub fn new(site_name: &str, site_root: &str) -> Result<Pages, tera::Error> {
        let mut tera = Tera::default();
        tera.add_raw_templates([
            ("base.html", include_str!("../templates/base.html")),
            ("form.html", include_str!("../templates/form.html")),
            ("bedankt.html", include_str!("../templates/bedankt.html")),
            ("melding.html", include_str!("../templates/melding.html")),
        ])?;
        let mut site_root = site_root.to_owned();
        if !site_root.ends_with('/') {
            site_root.push('/');
        }
        Ok(Pages { tera, site_name: site_name.to_owned(), site_root })
    }

    /// The public site's base URL, ending in `/`.
    pub fn site_root(&self) -> &str {
        &self.site_root
    }

    /// The form, with the values as sent and, when given, the errors and a note.
    pub fn form(&self, rules: &SiteRules, page: &FormPage<'_>) -> Result<String, tera::Error> {
        let mut context = self.context();
        let field_errors: BTreeMap<&str, &str> = page
            .errors
            .map(|e| e.0.iter().map(|e| (e.field, e.message.as_str())).collect())
            .unwrap_or_default();
        let errors: Vec<BTreeMap<&str, &str>> = page
            .errors
            .map(|e| {
                e.0.iter()
                    .map(|e| BTreeMap::from([("field", e.field), ("message", &e.message)]))
                    .collect()
            })
            .unwrap_or_default();
        // Every field is present, empty when not sent, so templates can compare freely.
        let values: BTreeMap<&str, &str> =
            SHOWN_FIELDS.iter().map(|&name| (name, page.values.get(name))).collect();
        context.insert("values", &values);
        context.insert("errors", &errors);
        context.insert("field_errors", &field_errors);
        context.insert("note", &page.note);
        context.insert("action", &page.action);
        context.insert("form_token", &page.form_token);
        context.insert("submission_id", &page.submission_id);
        context.insert("labels", labels());
        context.insert("categories", &rules.categories);
        context.insert("municipalities", &rules.municipalities);
        context.insert(
            "limits",
            &Limits {
                title: TITLE_MAX_CHARS,
                body: BODY_MAX_CHARS,
                display_name: DISPLAY_NAME_MAX_CHARS,
                organisation: ORGANISATION_MAX_CHARS,
                expiry_days: rules.expiry_max_days,
            },
        );
        self.tera.render("form.html", &context)
    }

    /// The confirmation with the private management link.
    pub fn confirmation(&self, manage_url: &str) -> Result<String, tera::Error> {
        let mut context = self.context();
        context.insert("manage_url", manage_url);
        self.tera.render("bedankt.html", &context)
    }

    /// A whole-page message with a link back to the form.
    pub fn message(&self, kind: PageKind, form_url: &str) -> Result<String, tera::Error> {
        let mut context = self.context();
        let text = page_text(kind);
        context.insert("heading", &text.heading);
        context.insert("text", &text.text);
        context.insert("form_url", form_url);
        self.tera.render("melding.html", &context)
    }

    fn context(&self) -> Context {
        let mut context = Context::new();
        context.insert("site_name", &self.site_name);
        context.insert("site_root", &self.site_root);
        context
    }
}
