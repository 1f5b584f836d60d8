//! The figures for the municipality at `/beheer/cijfers`: requests, offers, responses and
//! posts marked helped, by month, municipality and category, for a chosen period, and the
//! same as a CSV download. The counting is in [`crate::stats`]; nothing personal is read.

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::BeheerState;
use crate::app::Origin;
use crate::auth::ModeratorSession;
use crate::stats::{Figures, Period, PeriodError, figures, write_csv};

/// The page, and the CSV beside it.
pub const FIGURES_PATH: &str = "/beheer/cijfers";
pub const FIGURES_CSV_PATH: &str = "/beheer/cijfers.csv";

#[derive(Deserialize)]
pub struct PeriodQuery {
    /// The first month, `YYYY-MM`.
    van: Option<String>,
    /// The last month, `YYYY-MM`.
    tot: Option<String>,
}

/// GET /beheer/cijfers
pub async fn show(
    State(state): State<BeheerState>,
    origin: Origin,
    session: ModeratorSession,
    Query(query): Query<PeriodQuery>,
) -> Response {
    let mut context = state.context(&origin.prefix, &session);
    context.insert("van", query.van.as_deref().unwrap_or_default());
    context.insert("tot", query.tot.as_deref().unwrap_or_default());
    let period = match Period::parse(query.van.as_deref(), query.tot.as_deref()) {
        Ok(period) => period,
        Err(error) => {
            context.insert("period_invalid", &true);
            context.insert("period_reversed", &(error == PeriodError::Reversed));
            context.insert("figures", &Figures::default());
            return state.render(
                StatusCode::BAD_REQUEST,
                "beheer/cijfers.html",
                &context,
                &origin.prefix,
            );
        }
    };
    let Some(figures) = read(&state, &period).await else {
        return state.auth.pages.server_error(&origin.prefix);
    };
    let csv_url = format!(
        "{}{FIGURES_CSV_PATH}?van={}&tot={}",
        origin.prefix,
        period.from.as_deref().unwrap_or_default(),
        period.to.as_deref().unwrap_or_default()
    );
    context.insert("period_invalid", &false);
    context.insert("figures", &figures);
    context.insert("csv_url", &csv_url);
    state.render(StatusCode::OK, "beheer/cijfers.html", &context, &origin.prefix)
}

/// GET /beheer/cijfers.csv
pub async fn csv(
    State(state): State<BeheerState>,
    origin: Origin,
    _session: ModeratorSession,
    Query(query): Query<PeriodQuery>,
) -> Response {
    let Ok(period) = Period::parse(query.van.as_deref(), query.tot.as_deref()) else {
        let why = "Deze periode kan niet: schrijf de maanden als jjjj-mm, de eerste maand vóór de laatste.";
        return (StatusCode::BAD_REQUEST, why).into_response();
    };
    let Some(figures) = read(&state, &period).await else {
        return state.auth.pages.server_error(&origin.prefix);
    };
    // A spreadsheet reads a downloaded file as UTF-8 only after a byte order mark; without
    // it, a municipality such as "Sociëteit" would come out garbled.
    let mut body = "\u{feff}".as_bytes().to_vec();
    if let Err(error) = write_csv(&figures, &mut body) {
        tracing::error!(%error, "figures csv not written");
        return state.auth.pages.server_error(&origin.prefix);
    }
    let headers = [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
        (header::CONTENT_DISPOSITION, "attachment; filename=\"buurtbord-cijfers.csv\""),
    ];
    (headers, body).into_response()
}

async fn read(state: &BeheerState, period: &Period) -> Option<Figures> {
    match figures(state.moderation.queue.as_ref(), &state.moderation.rules, period).await {
        Ok(figures) => Some(figures),
        Err(error) => {
            tracing::error!(%error, "figures could not be read");
            None
        }
    }
}
