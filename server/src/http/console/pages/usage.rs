//! Usage charts: one bar chart per counted event (verifications, SMS, calls, approval
//! requests), one bar per day of the last 30, drawn as inline SVG on the server (no chart
//! library, no script). Each bar has a `<title>` with its day and count.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::html;
use super::shown::{optional_id, refused};
use crate::http::console::layout::page;
use crate::http::console::session::Operator;
use crate::service::operator_deliveries::{self, UsageSeries};
use crate::state::AppState;

const WIDTH: i64 = 600;
const HEIGHT: i64 = 120;
const LABEL: i64 = 16;

pub fn body(charts: &[UsageSeries], app: Option<i64>) -> Markup {
    html! {
        form method="get" action="/console/usage" {
            label for="app" { "App id" }
            input id="app" name="app" type="number" min="1" value=[app];
            button type="submit" { "Show" }
        }
        @for series in charts {
            (chart(series))
        }
    }
}

fn chart(series: &UsageSeries) -> Markup {
    let top = series
        .days
        .iter()
        .map(|(_, n)| *n)
        .max()
        .unwrap_or(0)
        .max(1);
    let total: i64 = series.days.iter().map(|(_, n)| *n).sum();
    let slot = WIDTH / (series.days.len().max(1) as i64);
    let first = series.days.first().map_or("", |(d, _)| d.as_str());
    let last = series.days.last().map_or("", |(d, _)| d.as_str());
    html! {
        figure.chart {
            figcaption { (series.title) " — " (total) " in the last " (series.days.len()) " days (peak " (top) " a day)" }
            svg xmlns="http://www.w3.org/2000/svg" role="img" width=(WIDTH) height=(HEIGHT + LABEL)
                viewBox={ "0 0 " (WIDTH) " " (HEIGHT + LABEL) } aria-label=(series.title) {
                @for (i, (day, count)) in series.days.iter().enumerate() {
                    @let height = count * HEIGHT / top;
                    rect class="bar" x=(i as i64 * slot + 1) y=(HEIGHT - height) width=((slot - 2).max(1)) height=(height)
                        data-day=(day) data-count=(count) {
                        title { (day) ": " (count) }
                    }
                }
                line x1="0" y1=(HEIGHT) x2=(WIDTH) y2=(HEIGHT) stroke="currentColor" {}
                text x="0" y=(HEIGHT + LABEL - 3) font-size="11" { (first) }
                text x=(WIDTH) y=(HEIGHT + LABEL - 3) font-size="11" text-anchor="end" { (last) }
            }
        }
    }
}

/// `?app=…`.
#[derive(Deserialize)]
pub struct UsageQuery {
    app: Option<String>,
}

/// `GET /console/usage`.
pub async fn show(
    operator: Operator,
    State(state): State<AppState>,
    Query(query): Query<UsageQuery>,
) -> Response {
    let charts = match optional_id(query.app.as_deref()) {
        Ok(app) => operator_deliveries::usage(&state, app)
            .await
            .map(|charts| (charts, app)),
        Err(e) => Err(e),
    };
    match charts {
        Ok((charts, app)) => html(
            StatusCode::OK,
            page("Usage per day", &operator, body(&charts, app)),
        ),
        Err(e) => refused(&operator, &e),
    }
}
