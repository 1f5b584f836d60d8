//! What the moderation templates see: queue rows and items with names instead of slugs,
//! ages as numbers (the templates say them in Dutch), and the form values of a correction.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::rules::SiteRules;
use crate::store::{AuditEntry, QueueItem};
use crate::submission::{FormValues, Submission, field};

/// How long ago something happened, in the largest whole unit.
#[derive(Debug, Clone, Serialize)]
pub struct Age {
    pub days: i64,
    pub hours: i64,
    pub minutes: i64,
}

impl Age {
    pub fn between(then: DateTime<Utc>, now: DateTime<Utc>) -> Age {
        let minutes = (now - then).num_minutes().max(0);
        Age { days: minutes / (24 * 60), hours: minutes / 60, minutes }
    }
}

/// One queued post as the queue and the post page show it.
#[derive(Debug, Clone, Serialize)]
pub struct ItemView {
    pub id: String,
    pub status: &'static str,
    pub kind: &'static str,
    pub title: String,
    pub body: String,
    pub category: String,
    pub municipality: String,
    pub neighbourhood: Option<String>,
    pub recurring: bool,
    pub expires: Option<String>,
    pub display_name: String,
    pub organisation: Option<String>,
    /// Contact details are shown to moderators, who may need to call back; never to the
    /// public.
    pub email: Option<String>,
    pub phone: Option<String>,
    pub received: String,
    pub age: Age,
    pub decided_by: Option<String>,
    pub reason: Option<String>,
}

impl ItemView {
    pub fn new(item: &QueueItem, rules: &SiteRules, now: DateTime<Utc>) -> ItemView {
        let s = &item.submission;
        let local = item.received_at.with_timezone(&rules.time_zone);
        ItemView {
            id: item.id.clone(),
            status: item.status.as_str(),
            kind: s.kind.as_str(),
            title: s.title.clone(),
            body: s.body.clone(),
            category: rules
                .category(&s.category)
                .map(|c| c.label.clone())
                .unwrap_or_else(|| s.category.clone()),
            municipality: rules
                .municipality(&s.municipality)
                .map(|m| m.name.clone())
                .unwrap_or_else(|| s.municipality.clone()),
            neighbourhood: s.neighbourhood.clone(),
            recurring: s.recurring,
            expires: s.expires.map(|d| d.format("%d-%m-%Y").to_string()),
            display_name: s.display_name.clone(),
            organisation: s.organisation.clone(),
            email: s.email.clone(),
            phone: s.phone.clone(),
            received: local.format("%d-%m-%Y %H:%M").to_string(),
            age: Age::between(item.received_at, now),
            decided_by: item.decision.as_ref().map(|d| d.by.clone()),
            reason: item.decision.as_ref().and_then(|d| d.reason.clone()),
        }
    }
}

/// One line of the audit log.
#[derive(Debug, Clone, Serialize)]
pub struct AuditView {
    pub at: String,
    pub actor: String,
    pub action: &'static str,
    pub post_id: String,
    pub note: Option<String>,
}

impl AuditView {
    pub fn new(entry: &AuditEntry, rules: &SiteRules) -> AuditView {
        AuditView {
            at: entry.at.with_timezone(&rules.time_zone).format("%d-%m-%Y %H:%M").to_string(),
            actor: entry.actor.clone(),
            action: entry.action.as_str(),
            post_id: entry.post_id.clone(),
            note: entry.note.clone(),
        }
    }
}

/// The fields a moderator may edit, in form order.
pub const EDITABLE_FIELDS: [&str; 10] = [
    field::KIND,
    field::TITLE,
    field::CATEGORY,
    field::MUNICIPALITY,
    field::NEIGHBOURHOOD,
    field::BODY,
    field::RECURRING,
    field::EXPIRES,
    field::DISPLAY_NAME,
    field::ORGANISATION,
];

/// The form values of a stored submission, so the correction form starts from it.
pub fn form_values(s: &Submission) -> FormValues {
    let pairs = [
        (field::KIND, s.kind.as_str().to_owned()),
        (field::TITLE, s.title.clone()),
        (field::CATEGORY, s.category.clone()),
        (field::MUNICIPALITY, s.municipality.clone()),
        (field::NEIGHBOURHOOD, s.neighbourhood.clone().unwrap_or_default()),
        (field::BODY, s.body.clone()),
        (field::RECURRING, if s.recurring { "recurring" } else { "once" }.to_owned()),
        (field::EXPIRES, s.expires.map(|d| d.to_string()).unwrap_or_default()),
        (field::DISPLAY_NAME, s.display_name.clone()),
        (field::ORGANISATION, s.organisation.clone().unwrap_or_default()),
        (field::EMAIL, s.email.clone().unwrap_or_default()),
        (field::PHONE, s.phone.clone().unwrap_or_default()),
    ];
    FormValues::from_pairs(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)))
}

/// The values the template reads, every field present so it can compare freely.
pub fn shown_values(
    values: &FormValues,
    fields: &[&'static str],
) -> BTreeMap<&'static str, String> {
    fields.iter().map(|&name| (name, values.get(name).to_owned())).collect()
}

/// The labels of the fields in which `after` differs from `before`, for the audit log.
pub fn changed_fields(
    before: &Submission,
    after: &Submission,
    labels: &std::collections::BTreeMap<String, String>,
) -> String {
    let mut changed = Vec::new();
    // The log is read by volunteers: each field by the label the form shows.
    let mut check = |name: &str, differs: bool| {
        if differs {
            changed.push(labels.get(name).cloned().unwrap_or_else(|| name.to_owned()));
        }
    };
    check(field::KIND, before.kind != after.kind);
    check(field::TITLE, before.title != after.title);
    check(field::CATEGORY, before.category != after.category);
    check(field::MUNICIPALITY, before.municipality != after.municipality);
    check(field::NEIGHBOURHOOD, before.neighbourhood != after.neighbourhood);
    check(field::BODY, before.body != after.body);
    check(field::RECURRING, before.recurring != after.recurring);
    check(field::EXPIRES, before.expires != after.expires);
    check(field::DISPLAY_NAME, before.display_name != after.display_name);
    check(field::ORGANISATION, before.organisation != after.organisation);
    changed.join(", ")
}
