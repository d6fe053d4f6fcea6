//! The overview: documents by kind and state today and this month, what needs attention, the
//! connection to Factus, and the numbering ranges close to running out.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use factus_application::clock;
use factus_application::factus::{CircuitState, NumberingRange};
use factus_application::issuance::LedgerTally;
use factus_application::ledger::{DocumentKind, LedgerState};
use maud::{Markup, html};

use super::{badge, factus_access};
use crate::console::ConsoleState;
use crate::console::format::{colombian, colombian_date, start_of_colombian_day, start_of_colombian_month};
use crate::console::i18n::{Lang, T, kind_text};
use crate::console::page::{Nav, Page, error_page};
use crate::console::session::{BASE, Session};
use crate::error::ApiError;

/// A range is close to running out when fewer than this share of its numbers are left…
const LOW_SHARE_PERCENT: i64 = 10;
/// …or fewer than this many.
const LOW_COUNT: i64 = 100;

/// How many numbers an active range has left, when Factus says enough to tell.
fn remaining(range: &NumberingRange) -> Option<i64> {
    let (to, current) = (range.to?, range.current?);
    Some((to - current + 1).max(0))
}

fn running_out(range: &NumberingRange) -> bool {
    let (Some(left), Some(from), Some(to)) = (remaining(range), range.from, range.to) else { return false };
    let size = (to - from + 1).max(1);
    range.is_active && (left < LOW_COUNT || left * 100 < size * LOW_SHARE_PERCENT)
}

fn tally_table(lang: Lang, caption: &str, tally: &LedgerTally, from: &str) -> Markup {
    let kinds: Vec<DocumentKind> = DocumentKind::ALL
        .into_iter()
        .filter(|kind| {
            *kind == DocumentKind::Invoice || LedgerState::ALL.iter().any(|state| tally.get(*kind, *state) > 0)
        })
        .collect();
    html! {
        table class="tally" {
            caption class="visually-hidden" { (caption) }
            thead { tr {
                th scope="col" { (lang.t(T::Kind)) }
                @for state in LedgerState::ALL { th scope="col" { (badge(lang, state)) } }
            } }
            tbody {
                @for kind in &kinds {
                    tr {
                        th scope="row" { (lang.t(kind_text(*kind))) }
                        @for state in LedgerState::ALL {
                            td class="num" {
                                a href={ (BASE) "/documents?kind=" (kind.as_str()) "&state=" (state.as_str()) "&from=" (from) } {
                                    (tally.get(*kind, state))
                                }
                            }
                        }
                    }
                }
            }
        }
        @if tally.truncated { p class="hint" { (lang.t(T::TallyTruncated)) } }
    }
}

/// Documents of every kind in `state`.
fn attention(tally: &LedgerTally, state: LedgerState) -> u64 {
    DocumentKind::ALL.iter().map(|kind| tally.get(*kind, state)).sum()
}

/// `GET /console`.
pub async fn overview(State(state): State<ConsoleState>, session: Session) -> Response {
    let lang = session.lang;
    let now = clock::now();
    let today_start = start_of_colombian_day(colombian_date(now));
    let month_start = start_of_colombian_month(now);
    let issuance = &state.app.issuance;
    let tallies = match issuance.tally_since(&session.user, today_start).await {
        Ok(today) => issuance.tally_since(&session.user, month_start).await.map(|month| (today, month)),
        Err(error) => Err(error),
    };
    let (today, month) = match tallies {
        Ok(tallies) => tallies,
        Err(error) => return error_page(lang, ApiError::from(error)),
    };
    let access = factus_access(&state);
    let ranges = match &access {
        Some(access) => Some(state.app.lookups.numbering_ranges(access).await),
        None => None,
    };
    let circuit = state.app.factus_status.circuit_state();
    let day = colombian(today_start);
    let month_day = colombian(month_start);
    let body = html! {
        div class="grid wide" {
            section class="card" aria-labelledby="today" {
                h2 id="today" { (lang.t(T::Today)) " — " (lang.t(T::Total)) ": " (today.total()) }
                (tally_table(lang, lang.t(T::Today), &today, &day[..10]))
            }
            section class="card" aria-labelledby="month" {
                h2 id="month" { (lang.t(T::ThisMonth)) " — " (lang.t(T::Total)) ": " (month.total()) }
                (tally_table(lang, lang.t(T::ThisMonth), &month, &month_day[..10]))
            }
        }
        div class="grid" {
            section class="card" aria-labelledby="attention" {
                h2 id="attention" { (lang.t(T::NeedsAttention)) }
                p class="hint" { (lang.t(T::ThisMonth)) }
                ul {
                    @for (state, text) in [(LedgerState::Unknown, T::UnknownDocuments), (LedgerState::Pending, T::PendingDocuments), (LedgerState::Rejected, T::RejectedDocuments)] {
                        li {
                            a href={ (BASE) "/documents?state=" (state.as_str()) "&from=" (&month_day[..10]) } {
                                strong { (attention(&month, state)) } " " (lang.t(text))
                            }
                        }
                    }
                }
            }
            section class="card" aria-labelledby="factus" {
                h2 id="factus" { (lang.t(T::FactusConnection)) }
                dl class="fields" {
                    dt { (lang.t(T::Circuit)) }
                    dd {
                        @match circuit {
                            CircuitState::Closed => span class="badge wrap issued" { (lang.t(T::CircuitClosed)) },
                            CircuitState::Open => span class="badge wrap rejected" { (lang.t(T::CircuitOpen)) },
                            CircuitState::HalfOpen => span class="badge wrap unknown" { (lang.t(T::CircuitHalfOpen)) },
                        }
                    }
                    dt { (lang.t(T::ApiVersion)) }
                    dd { (state.app.factus_status.api_version().as_str()) }
                    dt { (lang.t(T::ServerSession)) }
                    dd { (lang.t(if access.is_some() { T::Yes } else { T::No })) }
                }
            }
            section class="card" aria-labelledby="ranges" {
                h2 id="ranges" { (lang.t(T::RangesRunningOut)) }
                @match &ranges {
                    None => p class="hint" { (lang.t(T::NoServerSession)) },
                    Some(Err(failure)) => p class="notice error" { (lang.t(T::RangesUnavailable)) ": " (failure.to_string()) },
                    Some(Ok(ranges)) => {
                        @let low: Vec<&NumberingRange> = ranges.iter().filter(|range| running_out(range)).collect();
                        @if low.is_empty() {
                            p { (lang.t(T::NoRangeRunningOut)) }
                        } @else {
                            table {
                                thead { tr {
                                    th scope="col" { (lang.t(T::Prefix)) }
                                    th scope="col" { (lang.t(T::Document)) }
                                    th scope="col" { (lang.t(T::Remaining)) }
                                } }
                                tbody {
                                    @for range in low {
                                        tr {
                                            td { (range.prefix) }
                                            td { (range.document) }
                                            td class="num" { (remaining(range).unwrap_or_default()) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Page::new(&session, Nav::Overview, lang.t(T::Overview), body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(from: i64, to: i64, current: i64) -> NumberingRange {
        NumberingRange {
            id: 1,
            document: "Factura de Venta".into(),
            prefix: "SETP".into(),
            from: Some(from),
            to: Some(to),
            current: Some(current),
            resolution_number: None,
            technical_key: None,
            is_active: true,
            ..NumberingRange::default()
        }
    }

    #[test]
    fn a_range_runs_out_under_a_tenth_or_a_hundred_numbers_left() {
        assert!(!running_out(&range(1, 10_000, 1)));
        assert!(running_out(&range(1, 10_000, 9_950)));
        assert!(running_out(&range(1, 1_000_000, 950_000)));
        assert!(!running_out(&range(1, 1_000_000, 800_000)));
        assert_eq!(remaining(&range(1, 100, 101)), Some(0));
    }

    #[test]
    fn an_inactive_range_is_not_reported() {
        let mut low = range(1, 10_000, 9_990);
        low.is_active = false;
        assert!(!running_out(&low));
    }
}
