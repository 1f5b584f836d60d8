//! The figures for the municipality: how many requests, offers, responses and posts marked
//! helped, by month, municipality and category, counted from the stores' non-personal
//! facts ([`crate::store::StatsStore`]). Shown at `/beheer/cijfers` and printed by
//! `buurtbord stats`, both also as CSV.
//!
//! What counts: a post counts in the month it was received, once it was placed, that is
//! when it is or was online or its poster withdrew it (approved, expired, helped,
//! withdrawn, removed); waiting and rejected posts are not placed. A withdrawal before approval
//! cannot be told apart from one after, so it counts too. Responses are those to counted
//! posts; "helped" is the posts whose poster marked them helped.
//!
//! Invariant: a row holds only a month, a municipality, a category and counts; the months
//! are fixed-width `YYYY-MM`, so text order is time order.

use std::collections::BTreeMap;
use std::io::Write;

use chrono_tz::Tz;
use serde::Serialize;

use crate::rules::SiteRules;
use crate::store::{PostFacts, StatsStore, Status, StoreError};
use crate::submission::Kind;

/// The counts of one row, or of all rows together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub requests: u64,
    pub offers: u64,
    pub responses: u64,
    pub helped: u64,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.requests += other.requests;
        self.offers += other.offers;
        self.responses += other.responses;
        self.helped += other.helped;
    }
}

/// One month, municipality and category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// `YYYY-MM`.
    pub month: String,
    /// The municipality's name from site.yaml (its slug when site.yaml no longer has it).
    pub municipality: String,
    /// The category's label from site.yaml (its slug when site.yaml no longer has it).
    pub category: String,
    #[serde(flatten)]
    pub counts: Counts,
}

/// The figures of a period, rows in month, municipality and category order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub rows: Vec<Row>,
    pub totals: Counts,
}

/// The months to count, both ends included; `None` leaves that end open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Period {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// Why a period was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeriodError {
    /// This end is not a `YYYY-MM` month.
    NotAMonth(String),
    /// The first month comes after the last: the figures would be empty, and an empty
    /// table reads as "nothing happened".
    Reversed,
}

impl Period {
    /// A period from two optional `YYYY-MM` texts; an end that is not such a month, or a
    /// start after the end, is refused.
    pub fn parse(from: Option<&str>, to: Option<&str>) -> Result<Period, PeriodError> {
        let month = |text: Option<&str>| -> Result<Option<String>, PeriodError> {
            let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
                return Ok(None);
            };
            chrono::NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d")
                .ok()
                .filter(|_| text.len() == 7)
                .map(|_| Some(text.to_owned()))
                .ok_or_else(|| PeriodError::NotAMonth(text.to_owned()))
        };
        let period = Period { from: month(from)?, to: month(to)? };
        if let (Some(from), Some(to)) = (&period.from, &period.to)
            && from > to
        {
            return Err(PeriodError::Reversed);
        }
        Ok(period)
    }

    fn contains(&self, month: &str) -> bool {
        self.from.as_deref().is_none_or(|from| month >= from)
            && self.to.as_deref().is_none_or(|to| month <= to)
    }
}

/// Reads the facts from `store` and counts them for `period`.
pub async fn figures(
    store: &dyn StatsStore,
    rules: &SiteRules,
    period: &Period,
) -> Result<Figures, StoreError> {
    let zone: Tz = rules.time_zone;
    Ok(count(&store.post_facts(zone).await?, rules, period))
}

/// Counts `facts` for `period`, as the module's header says.
pub fn count(facts: &[PostFacts], rules: &SiteRules, period: &Period) -> Figures {
    let mut by_key: BTreeMap<(String, String, String), Counts> = BTreeMap::new();
    for fact in facts.iter().filter(|f| is_placed(f.status) && period.contains(&f.month)) {
        let key = (fact.month.clone(), fact.municipality.clone(), fact.category.clone());
        let counts = by_key.entry(key).or_default();
        match fact.kind {
            Kind::Request => counts.requests += 1,
            Kind::Offer => counts.offers += 1,
        }
        counts.responses += u64::from(fact.responses);
        counts.helped += u64::from(fact.status == Status::Helped);
    }
    let mut figures = Figures::default();
    for ((month, municipality, category), counts) in by_key {
        figures.totals.add(&counts);
        let municipality =
            rules.municipality(&municipality).map(|m| m.name.clone()).unwrap_or(municipality);
        let category = rules.category(&category).map(|c| c.label.clone()).unwrap_or(category);
        figures.rows.push(Row { month, municipality, category, counts });
    }
    figures
}

fn is_placed(status: Status) -> bool {
    matches!(
        status,
        Status::Approved | Status::Expired | Status::Helped | Status::Withdrawn | Status::Removed
    )
}

/// Writes the figures as CSV: a heading line (from `messages.nl.yaml`), then one line per
/// row. The totals are left out, so a spreadsheet sums the columns itself. Fields are
/// separated by `;`, as a spreadsheet set to Dutch expects in a double-clicked file
/// (Dutch uses the comma in numbers).
pub fn write_csv(figures: &Figures, out: impl Write) -> Result<(), csv::Error> {
    let mut writer = csv::WriterBuilder::new().delimiter(b';').from_writer(out);
    writer.write_record(crate::messages::figure_columns())?;
    for row in &figures.rows {
        let c = &row.counts;
        writer.write_record([
            row.month.clone(),
            row.municipality.clone(),
            row.category.clone(),
            c.requests.to_string(),
            c.offers.to_string(),
            c.responses.to_string(),
            c.helped.to_string(),
        ])?;
    }
    writer.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Guards the period's input: `YYYY-MM` or nothing, anything else refused with itself.
    #[test]
    fn period_takes_months_and_refuses_other_text() {
        let period = Period::parse(Some("2027-01"), None).unwrap();
        assert!(period.contains("2027-01") && period.contains("2030-12"));
        assert!(!period.contains("2026-12"));
        let not_a_month = |text: &str| Err(PeriodError::NotAMonth(text.to_owned()));
        assert_eq!(Period::parse(Some("2027-13"), None), not_a_month("2027-13"));
        assert_eq!(Period::parse(None, Some("januari")), not_a_month("januari"));
        assert_eq!(Period::parse(Some("2027-02"), Some("2027-01")), Err(PeriodError::Reversed));
        assert!(Period::parse(Some("2027-01"), Some("2027-01")).is_ok());
        assert_eq!(Period::parse(Some(" "), None), Ok(Period::default()));
    }
}
