//! The overview: documents by kind and state today and this month, what needs attention, the
//! queue of sends waiting for Factus, the connection to Factus and the calls its budget has left
//! in the current window, and the numbering ranges close to running out.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use factus_application::clock;
use factus_application::factus::{BudgetUsage, CircuitState};
use factus_application::issuance::LedgerTally;
use factus_application::ledger::{DocumentKind, LedgerEntry, LedgerState, QueueStats};
use factus_application::numbering_ranges::RangeProblem;
use factus_domain::user::User;
use maud::{Markup, html};
use time::OffsetDateTime;

use super::documents::document_path;
use super::{badge, column_heads, factus_access};
use crate::console::ConsoleState;
use crate::console::format::{colombian, colombian_date, elapsed, start_of_colombian_day, start_of_colombian_month};
use crate::console::i18n::{Lang, T, kind_text};
use crate::console::page::{Nav, Page, error_page};
use crate::console::session::{BASE, Session};
use crate::error::ApiError;

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

fn problem_text(problem: RangeProblem) -> T {
    match problem {
        RangeProblem::Expired => T::RangeExpired,
        RangeProblem::UsedUp => T::RangeUsedUp,
        RangeProblem::ExpiresSoon => T::RangeExpiresSoon,
        RangeProblem::RunningOut => T::RangeRunningOut,
    }
}

/// Documents of every kind in `state`.
fn attention(tally: &LedgerTally, state: LedgerState) -> u64 {
    DocumentKind::ALL.iter().map(|kind| tally.get(*kind, state)).sum()
}

/// The queue and its oldest entry when the viewer may open it (an admin any, a user their own);
/// `None` when the ledger could not say. The overview is still shown without it: the queue is a
/// figure to watch, not what the page is for.
async fn queue(state: &ConsoleState, viewer: &User) -> Option<(QueueStats, Option<LedgerEntry>)> {
    let issuance = &state.app.issuance;
    let stats = match issuance.queue_stats().await {
        Ok(stats) => stats,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "the overview could not read the queue");
            return None;
        }
    };
    let oldest = match stats.oldest_id {
        Some(id) => issuance.entry(viewer, id).await.unwrap_or_else(|error| {
            tracing::error!(error = format!("{error:#}"), "the overview could not read the oldest queued entry");
            None
        }),
        None => None,
    };
    Some((stats, oldest))
}

fn queue_card(lang: Lang, queue: Option<&(QueueStats, Option<LedgerEntry>)>, now: OffsetDateTime) -> Markup {
    html! {
        section class="card" aria-labelledby="queue" {
            h2 id="queue" { (lang.t(T::Queue)) }
            @match queue {
                None => p class="notice error" id="queue-unavailable" { (lang.t(T::QueueUnavailable)) },
                Some((stats, oldest)) => {
                    dl class="fields" {
                        dt { (lang.t(T::QueueDepth)) }
                        dd id="queue-depth" { a href={ (BASE) "/documents?state=queued" } { (stats.depth) } }
                        @if let Some(since) = stats.oldest_created_at {
                            dt { (lang.t(T::QueueOldest)) }
                            dd id="queue-oldest" {
                                // Somebody else's document, for a user who is not an admin: its age only.
                                @if let Some(entry) = oldest {
                                    a href=(document_path(entry)) { (entry.reference_code.as_str()) } ", "
                                }
                                (lang.t(T::QueueWaitingFor)) " " (elapsed(now - since))
                            }
                        }
                    }
                    p class="hint" { (lang.t(if stats.depth == 0 { T::QueueEmpty } else { T::QueueExplained })) }
                },
            }
        }
    }
}

/// The account's budget of Factus calls in the current window; `None` when it could not be read.
/// It exists with or without a server session: Factus counts the calls of the account the
/// gateway calls with, whoever's token they carry.
async fn budget_usage(state: &ConsoleState) -> Option<BudgetUsage> {
    match state.app.factus_budget.budget_usage().await {
        Ok(usage) => Some(usage),
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "the overview could not read the Factus call budget");
            None
        }
    }
}

/// A window as the operator configured it: whole seconds (`FACTUS_RATE_WINDOW_SECS`), else
/// milliseconds.
fn window_text(window: std::time::Duration) -> String {
    if window.subsec_millis() == 0 { format!("{} s", window.as_secs()) } else { format!("{} ms", window.as_millis()) }
}

/// The budget's line of the Factus card: a bar and "12 of 80 calls in the last 60 s".
fn budget_fields(lang: Lang, usage: Option<&BudgetUsage>) -> Markup {
    html! {
        dt { (lang.t(T::FactusBudget)) }
        dd {
            @match usage {
                None => span class="notice error" id="budget-unavailable" { (lang.t(T::BudgetUnavailable)) },
                Some(usage) => {
                    // Yellow from half the limit, red from three quarters, where the gateway starts
                    // heeding Factus' own count: the operator sees the squeeze before sends wait.
                    // Hidden from screen readers, which read the same figures in the text.
                    meter class="budget" aria-hidden="true" min="0" max=(usage.limit) value=(usage.used.min(usage.limit))
                        low=(usage.limit / 2) high=(usage.limit.saturating_mul(3) / 4) optimum="0" {}
                    span id="budget-used" {
                        (usage.used) " " (lang.t(T::BudgetOf)) " " (usage.limit) " "
                        (lang.t(T::BudgetCallsInTheLast)) " " (window_text(usage.window))
                    }
                    @if usage.this_instance_only {
                        p class="hint" id="budget-this-instance" { (lang.t(T::BudgetThisInstanceOnly)) }
                    }
                },
            }
        }
    }
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
        // Reading the ranges shows them to the watch, whose warnings are the readiness probe's.
        Some(access) => Some(
            state.app.numbering_ranges.refresh(access).await.map(|_| state.app.numbering_ranges.watch().warnings()),
        ),
        None => None,
    };
    let queue = queue(&state, &session.user).await;
    let circuit = state.app.factus_status.circuit_state();
    let budget = budget_usage(&state).await;
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
            (queue_card(lang, queue.as_ref(), now))
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
                    (budget_fields(lang, budget.as_ref()))
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
                    Some(Ok(warnings)) => {
                        @if warnings.is_empty() {
                            p { (lang.t(T::NoRangeRunningOut)) }
                        } @else {
                            table {
                                (column_heads(lang, &[T::Prefix, T::Status, T::Why]))
                                tbody {
                                    @for warning in warnings {
                                        tr {
                                            td { (warning.prefix) }
                                            td { span class="badge wrap rejected" { (lang.t(problem_text(warning.problem))) } }
                                            td { (warning.message) }
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
    use factus_application::ledger::{EntryStatus, RequestFingerprint};
    use factus_domain::invoice::ReferenceCode;
    use factus_domain::user::Username;
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-12-01 15:00 UTC);

    fn queued(reference: &str, created_at: OffsetDateTime) -> LedgerEntry {
        LedgerEntry {
            id: Uuid::nil(),
            kind: DocumentKind::Invoice,
            user_id: Uuid::nil(),
            username: Username::parse("ana").expect("a name"),
            api_key_id: None,
            reference_code: ReferenceCode::parse(reference).expect("a reference"),
            idempotency_key: None,
            fingerprint: RequestFingerprint::parse("ab").expect("hex"),
            total: None,
            referenced_number: None,
            queued_request: None,
            counterparty: None,
            status: EntryStatus::Queued,
            attempts: 1,
            created_at,
            updated_at: created_at,
        }
    }

    #[test]
    fn the_queue_card_links_the_oldest_entry_the_viewer_may_open_and_tells_its_wait() {
        let since = NOW - time::Duration::seconds(200);
        let stats = QueueStats { depth: 3, oldest_created_at: Some(since), oldest_id: Some(Uuid::nil()) };
        let html = queue_card(Lang::En, Some(&(stats, Some(queued("FAC-9", since)))), NOW).into_string();
        assert!(
            html.contains(r#"<dd id="queue-depth"><a href="/console/documents?state=queued">3</a></dd>"#),
            "{html}"
        );
        assert!(
            html.contains(&format!(
                r#"<a href="/console/documents/FAC-9/{}">FAC-9</a>, waiting for 3 min 20 s"#,
                Uuid::nil()
            )),
            "{html}"
        );
        // Somebody else's, for a user who is not an admin: the wait without the link.
        let html = queue_card(Lang::En, Some(&(stats, None)), NOW).into_string();
        assert!(html.contains(r#"<dd id="queue-oldest">waiting for 3 min 20 s</dd>"#), "{html}");
    }

    fn usage(used: u32, this_instance_only: bool) -> BudgetUsage {
        BudgetUsage { used, limit: 80, window: std::time::Duration::from_secs(60), this_instance_only }
    }

    #[test]
    fn the_budget_reads_as_the_calls_used_of_the_limit_in_the_window_with_a_bar() {
        let html = budget_fields(Lang::En, Some(&usage(12, false))).into_string();
        assert!(html.contains(r#"<span id="budget-used">12 of 80 calls in the last 60 s</span>"#), "{html}");
        assert!(html.contains(r#"max="80" value="12" low="40" high="60""#), "{html}");
        assert!(!html.contains("budget-this-instance"), "{html}");
        let html = budget_fields(Lang::Es, Some(&usage(12, false))).into_string();
        assert!(html.contains("12 de 80 llamadas en los últimos 60 s"), "{html}");
    }

    #[test]
    fn a_budget_counted_past_the_limit_fills_the_bar_and_says_the_real_count() {
        // Factus counted calls of somebody else's on the account.
        let html = budget_fields(Lang::En, Some(&usage(95, false))).into_string();
        assert!(html.contains(r#"max="80" value="80""#), "{html}");
        assert!(html.contains("95 of 80 calls in the last 60 s"), "{html}");
    }

    #[test]
    fn a_budget_counted_by_this_instance_alone_says_so_and_an_unreadable_one_says_that() {
        let html = budget_fields(Lang::Es, Some(&usage(3, true))).into_string();
        assert!(html.contains("3 de 80 llamadas") && html.contains("Solo las de esta instancia"), "{html}");
        let html = budget_fields(Lang::Es, None).into_string();
        assert!(
            html.contains("No se pudo leer cuántas llamadas a Factus se han hecho.") && !html.contains("meter"),
            "{html}"
        );
    }

    #[test]
    fn a_window_of_whole_seconds_is_written_in_seconds_and_a_shorter_one_in_milliseconds() {
        assert_eq!(window_text(std::time::Duration::from_secs(60)), "60 s");
        assert_eq!(window_text(std::time::Duration::from_millis(1_500)), "1500 ms");
    }

    #[test]
    fn an_empty_queue_says_so_and_an_unreadable_one_says_that() {
        let html = queue_card(Lang::Es, Some(&(QueueStats::default(), None)), NOW).into_string();
        assert!(html.contains("Ningún documento espera cupo en Factus.") && !html.contains("queue-oldest"), "{html}");
        let html = queue_card(Lang::Es, None, NOW).into_string();
        assert!(html.contains("No se pudo leer la cola."), "{html}");
    }
}
