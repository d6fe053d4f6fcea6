//! The account's DIAN numbering ranges: list (with Factus' filters), the software's DIAN ranges,
//! get, create, move the next number, delete — and the watch that warns, in the readiness probe,
//! about a range that has expired or run out of numbers, or soon will, before invoicing stops.
//!
//! Reading is open to every user; changing a range is for admins ([`crate::account`]).
//!
//! The watch ([`NumberingRangeWatch`]) keeps the last state seen of every range: every answer
//! of these use cases updates it (a complete listing replaces it), and so does the background
//! check ([`NumberingRangeService::refresh`]) when the server has its own Factus session. Its
//! warnings are computed when asked, against today's date in Colombia, so a range crosses its
//! expiry warning on the right day without another call to Factus.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use factus_domain::user::User;
use time::{Date, Month, OffsetDateTime, UtcOffset};

use crate::account::{AccountError, require_admin};
use crate::factus::{
    FactusAccess, FactusAccountGateway, FactusFailure, FactusLookupGateway, FactusOperation, NumberingRange,
    StatusMessage,
};

/// Range document codes and names (`docs/factus.md` §6.10).
pub const RANGE_DOCUMENTS: [(&str, &str); 9] = [
    ("21", "Factura de Venta"),
    ("22", "Nota Crédito"),
    ("23", "Nota Débito"),
    ("24", "Documento Soporte"),
    ("25", "Nota de Ajuste Documento Soporte"),
    ("26", "Nómina"),
    ("27", "Nota de Ajuste Nómina"),
    ("28", "Nota de eliminación de nómina"),
    ("30", "Factura de talonario y de papel"),
];

/// The range documents that need a DIAN resolution to be created (invoices, support documents,
/// paper invoices; `docs/factus.md` §5).
pub const DOCUMENTS_WITH_RESOLUTION: [&str; 3] = ["21", "24", "30"];

/// The longest prefix Factus accepts (`docs/factus.md` §5).
pub const MAX_PREFIX_LEN: usize = 4;

/// The name of a range document code.
#[must_use]
pub fn range_document_name(code: &str) -> Option<&'static str> {
    RANGE_DOCUMENTS.iter().find(|(known, _)| *known == code.trim()).map(|(_, name)| *name)
}

/// The code of a range document name (case ignored).
#[must_use]
pub fn range_document_code(name: &str) -> Option<&'static str> {
    let name = name.trim().to_lowercase();
    RANGE_DOCUMENTS.iter().find(|(_, known)| known.to_lowercase() == name).map(|(code, _)| *code)
}

/// Factus' filters of the range listing; each one given is sent as `filter[<name>]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NumberingRangeFilter {
    pub id: Option<i64>,
    /// A document code (`21`) or name.
    pub document: Option<String>,
    pub resolution_number: Option<String>,
    pub technical_key: Option<String>,
    pub is_active: Option<bool>,
}

impl NumberingRangeFilter {
    /// Only the active ranges: the ones that number documents.
    #[must_use]
    pub fn active() -> Self {
        Self { is_active: Some(true), ..Self::default() }
    }

    /// Whether a listing with this filter holds every range that can number a document, so the
    /// watch may replace what it knows with it.
    fn lists_every_active_range(&self) -> bool {
        self.id.is_none()
            && self.document.is_none()
            && self.resolution_number.is_none()
            && self.technical_key.is_none()
            && self.is_active != Some(false)
    }
}

/// A range to create, already checked by the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNumberingRange {
    /// A range document code ([`RANGE_DOCUMENTS`]).
    pub document: String,
    /// Up to [`MAX_PREFIX_LEN`] letters or digits.
    pub prefix: String,
    /// The next number to use.
    pub current: i64,
    /// The DIAN resolution; required for [`DOCUMENTS_WITH_RESOLUTION`].
    pub resolution_number: Option<String>,
}

/// A range DIAN authorised for the software (`GET /v1/numbering-ranges/dian`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DianNumberingRange {
    pub resolution_number: String,
    pub prefix: String,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub technical_key: Option<String>,
}

/// When the watch warns about a range (`NUMBERING_RANGE_WARN_REMAINING`,
/// `NUMBERING_RANGE_WARN_DAYS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeAlertPolicy {
    /// Warn when fewer numbers than this are left.
    pub min_remaining: i64,
    /// Warn when the resolution ends within this many days.
    pub expiry_warning_days: i64,
}

impl Default for RangeAlertPolicy {
    fn default() -> Self {
        Self { min_remaining: 500, expiry_warning_days: 30 }
    }
}

/// What is wrong with a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RangeProblem {
    /// Its resolution has ended: Factus numbers nothing more with it.
    Expired,
    /// Every number has been used.
    UsedUp,
    /// Its resolution ends within the policy's days.
    ExpiresSoon,
    /// Fewer numbers than the policy's minimum are left.
    RunningOut,
}

impl RangeProblem {
    /// The problem as the readiness probe names it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Expired => "numbering_range_expired",
            Self::UsedUp => "numbering_range_used_up",
            Self::ExpiresSoon => "numbering_range_expires_soon",
            Self::RunningOut => "numbering_range_running_out",
        }
    }
}

/// A warning about one active range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeWarning {
    pub range_id: i64,
    pub prefix: String,
    pub problem: RangeProblem,
    /// What an operator reads, naming the range.
    pub message: String,
}

/// Colombia's offset (no daylight saving time): DIAN dates are Colombian dates.
const COLOMBIA: UtcOffset = match UtcOffset::from_hms(-5, 0, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};

/// Today in Colombia.
#[must_use]
pub fn today_in_colombia() -> Date {
    OffsetDateTime::now_utc().to_offset(COLOMBIA).date()
}

/// `YYYY-MM-DD` (the part before a `T` or a space when Factus sends a timestamp).
fn parse_date(text: &str) -> Option<Date> {
    let day = text.trim().split(['T', ' ']).next()?;
    let mut parts = day.split('-');
    let year = parts.next()?.parse().ok()?;
    let month = Month::try_from(parts.next()?.parse::<u8>().ok()?).ok()?;
    let day = parts.next()?.parse().ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

/// The problems of one range on `today`, with their messages.
fn problems(range: &NumberingRange, policy: RangeAlertPolicy, today: Date) -> Vec<(RangeProblem, String)> {
    let name = format!("El rango de numeración {} (id {})", range.prefix, range.id);
    let mut found = Vec::new();
    let end = range.end_date.as_deref().and_then(parse_date);
    match end {
        _ if range.is_expired || end.is_some_and(|end| end < today) => {
            let since = range.end_date.as_deref().map(|end| format!(" el {end}")).unwrap_or_default();
            found.push((RangeProblem::Expired, format!("{name} venció{since}: Factus ya no numera documentos con él")));
        }
        Some(end) if (end - today).whole_days() <= policy.expiry_warning_days => {
            let days = (end - today).whole_days();
            found.push((RangeProblem::ExpiresSoon, format!("{name} vence el {end} (en {days} días)")));
        }
        _ => {}
    }
    if let (Some(current), Some(to)) = (range.current, range.to) {
        let remaining = to.saturating_sub(current).saturating_add(1);
        if remaining <= 0 {
            found.push((RangeProblem::UsedUp, format!("{name} agotó sus números (el último es {to})")));
        } else if remaining < policy.min_remaining {
            found.push((
                RangeProblem::RunningOut,
                format!("{name} tiene solo {remaining} números disponibles (hasta {to})"),
            ));
        }
    }
    found
}

/// The last state seen of every range, and the warnings it gives.
#[derive(Debug, Default)]
pub struct NumberingRangeWatch {
    policy: RangeAlertPolicy,
    ranges: Mutex<BTreeMap<i64, NumberingRange>>,
}

impl NumberingRangeWatch {
    #[must_use]
    pub fn new(policy: RangeAlertPolicy) -> Self {
        Self { policy, ranges: Mutex::new(BTreeMap::new()) }
    }

    fn ranges(&self) -> std::sync::MutexGuard<'_, BTreeMap<i64, NumberingRange>> {
        // The map is replaced or updated entry by entry; a panic elsewhere cannot leave it torn.
        self.ranges.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records ranges as Factus just showed them.
    pub fn observe<'a>(&self, seen: impl IntoIterator<Item = &'a NumberingRange>) {
        let mut ranges = self.ranges();
        for range in seen {
            ranges.insert(range.id, range.clone());
        }
    }

    /// Replaces everything known with a complete listing.
    pub fn replace(&self, listing: &[NumberingRange]) {
        *self.ranges() = listing.iter().map(|range| (range.id, range.clone())).collect();
    }

    /// Forgets a deleted range.
    pub fn forget(&self, id: i64) {
        self.ranges().remove(&id);
    }

    /// The warnings about active ranges on `today`, by range id.
    #[must_use]
    pub fn warnings_on(&self, today: Date) -> Vec<RangeWarning> {
        self.ranges()
            .values()
            .filter(|range| range.is_active)
            .flat_map(|range| {
                problems(range, self.policy, today).into_iter().map(|(problem, message)| RangeWarning {
                    range_id: range.id,
                    prefix: range.prefix.clone(),
                    problem,
                    message,
                })
            })
            .collect()
    }

    /// The warnings about active ranges today.
    #[must_use]
    pub fn warnings(&self) -> Vec<RangeWarning> {
        self.warnings_on(today_in_colombia())
    }
}

/// The numbering-range use cases.
pub struct NumberingRangeService {
    lookups: Arc<dyn FactusLookupGateway>,
    account: Arc<dyn FactusAccountGateway>,
    watch: Arc<NumberingRangeWatch>,
    listing_cache: Option<Arc<dyn FactusLookupGateway>>,
}

impl NumberingRangeService {
    pub fn new(
        lookups: Arc<dyn FactusLookupGateway>,
        account: Arc<dyn FactusAccountGateway>,
        watch: Arc<NumberingRangeWatch>,
    ) -> Self {
        Self { lookups, account, watch, listing_cache: None }
    }

    /// Makes every change of a range forget the listing `cache` keeps for its account, so the
    /// lookup shows the change at once instead of after the cache's time to live.
    #[must_use]
    pub fn forgetting_in(mut self, cache: Arc<dyn FactusLookupGateway>) -> Self {
        self.listing_cache = Some(cache);
        self
    }

    fn forget_listing(&self, access: &FactusAccess) {
        if let Some(cache) = &self.listing_cache {
            cache.forget_numbering_ranges(access);
        }
    }

    /// The watch the readiness probe reads.
    #[must_use]
    pub fn watch(&self) -> &Arc<NumberingRangeWatch> {
        &self.watch
    }

    /// The ranges matching `filter` (any user).
    ///
    /// # Errors
    /// [`AccountError::Factus`] of [`FactusOperation::ListNumberingRanges`].
    pub async fn list(
        &self,
        access: &FactusAccess,
        filter: &NumberingRangeFilter,
    ) -> Result<Vec<NumberingRange>, AccountError> {
        let ranges = self
            .lookups
            .numbering_ranges(access, filter)
            .await
            .map_err(FactusFailure::of(FactusOperation::ListNumberingRanges))?;
        if filter.lists_every_active_range() {
            let active: Vec<NumberingRange> = ranges.iter().filter(|range| range.is_active).cloned().collect();
            self.watch.replace(&active);
        } else {
            self.watch.observe(&ranges);
        }
        Ok(ranges)
    }

    /// Reads every active range from Factus into the watch (the background check); answers how
    /// many there are.
    ///
    /// # Errors
    /// As [`NumberingRangeService::list`].
    pub async fn refresh(&self, access: &FactusAccess) -> Result<usize, AccountError> {
        self.list(access, &NumberingRangeFilter::active()).await.map(|ranges| ranges.len())
    }

    /// One range (any user).
    ///
    /// # Errors
    /// [`AccountError::RangeNotFound`] when Factus answers 404; [`AccountError::Factus`] of
    /// [`FactusOperation::GetNumberingRange`].
    pub async fn get(&self, access: &FactusAccess, id: i64) -> Result<NumberingRange, AccountError> {
        let range = self
            .account
            .numbering_range(access, id)
            .await
            .map_err(|error| not_found_or(id, FactusOperation::GetNumberingRange, error))?;
        self.watch.observe([&range]);
        Ok(range)
    }

    /// The ranges DIAN authorised for the software (any user).
    ///
    /// # Errors
    /// [`AccountError::Factus`] of [`FactusOperation::SoftwareNumberingRanges`].
    pub async fn software_ranges(&self, access: &FactusAccess) -> Result<Vec<DianNumberingRange>, AccountError> {
        Ok(self
            .account
            .software_numbering_ranges(access)
            .await
            .map_err(FactusFailure::of(FactusOperation::SoftwareNumberingRanges))?)
    }

    /// Creates a range (admins only).
    ///
    /// # Errors
    /// [`AccountError::NotAdmin`] without calling Factus; [`AccountError::Factus`] of
    /// [`FactusOperation::CreateNumberingRange`].
    pub async fn create(
        &self,
        actor: &User,
        access: &FactusAccess,
        range: &NewNumberingRange,
    ) -> Result<NumberingRange, AccountError> {
        require_admin(actor)?;
        let created = self
            .account
            .create_numbering_range(access, range)
            .await
            .map_err(FactusFailure::of(FactusOperation::CreateNumberingRange))?;
        tracing::info!(actor = %actor.username, range_id = created.id, prefix = %created.prefix, "numbering range created at Factus");
        self.watch.observe([&created]);
        self.forget_listing(access);
        Ok(created)
    }

    /// Moves a range's next number (admins only).
    ///
    /// # Errors
    /// [`AccountError::NotAdmin`] without calling Factus; [`AccountError::RangeNotFound`];
    /// [`AccountError::Factus`] of [`FactusOperation::UpdateNumberingRange`].
    pub async fn update_current(
        &self,
        actor: &User,
        access: &FactusAccess,
        id: i64,
        current: i64,
    ) -> Result<NumberingRange, AccountError> {
        require_admin(actor)?;
        let updated = self
            .account
            .update_numbering_range_current(access, id, current)
            .await
            .map_err(|error| not_found_or(id, FactusOperation::UpdateNumberingRange, error))?;
        tracing::info!(actor = %actor.username, range_id = id, current, "numbering range moved at Factus");
        self.watch.observe([&updated]);
        self.forget_listing(access);
        Ok(updated)
    }

    /// Deletes a range (admins only); answers Factus' status line.
    ///
    /// # Errors
    /// [`AccountError::NotAdmin`] without calling Factus; [`AccountError::RangeNotFound`];
    /// [`AccountError::Factus`] of [`FactusOperation::DeleteNumberingRange`].
    pub async fn delete(&self, actor: &User, access: &FactusAccess, id: i64) -> Result<StatusMessage, AccountError> {
        require_admin(actor)?;
        let deleted = self
            .account
            .delete_numbering_range(access, id)
            .await
            .map_err(|error| not_found_or(id, FactusOperation::DeleteNumberingRange, error))?;
        tracing::info!(actor = %actor.username, range_id = id, "numbering range deleted at Factus");
        self.watch.forget(id);
        self.forget_listing(access);
        Ok(deleted)
    }
}

/// Factus' 404 for a range id is [`AccountError::RangeNotFound`]; anything else a failure of
/// `operation`.
fn not_found_or(id: i64, operation: FactusOperation, error: crate::factus::FactusError) -> AccountError {
    let failure = FactusFailure::new(operation, error);
    if failure.is_not_found() { AccountError::RangeNotFound { id } } else { AccountError::Factus(failure) }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;
    use crate::account::test_users::{admin, user};
    use crate::factus::{FactusError, MockFactusAccountGateway, MockFactusLookupGateway};

    fn access() -> FactusAccess {
        FactusAccess::ClientToken(SecretString::from("token"))
    }

    fn range(id: i64, prefix: &str) -> NumberingRange {
        NumberingRange {
            id,
            document: "Factura de Venta".into(),
            document_code: Some("21".into()),
            prefix: prefix.into(),
            from: Some(1),
            to: Some(5000),
            current: Some(1),
            resolution_number: Some("18764000001".into()),
            start_date: Some("2026-01-01".into()),
            end_date: Some("2036-01-01".into()),
            technical_key: None,
            is_expired: false,
            is_active: true,
            created_at: None,
            updated_at: None,
        }
    }

    fn date(text: &str) -> Date {
        parse_date(text).expect("a date")
    }

    fn service(lookups: MockFactusLookupGateway, account: MockFactusAccountGateway) -> NumberingRangeService {
        NumberingRangeService::new(Arc::new(lookups), Arc::new(account), Arc::new(NumberingRangeWatch::default()))
    }

    fn problems_of(watch: &NumberingRangeWatch, today: &str) -> Vec<(i64, RangeProblem)> {
        watch.warnings_on(date(today)).into_iter().map(|warning| (warning.range_id, warning.problem)).collect()
    }

    #[test]
    fn a_healthy_range_gives_no_warning() {
        let watch = NumberingRangeWatch::default();
        watch.observe([&range(1, "FE")]);
        assert!(watch.warnings_on(date("2026-12-01")).is_empty());
    }

    #[test]
    fn an_expired_range_is_named_in_its_warning() {
        let watch = NumberingRangeWatch::default();
        watch.observe([&NumberingRange { end_date: Some("2021-01-01".into()), ..range(11, "SETT") }]);

        let warnings = watch.warnings_on(date("2026-12-01"));

        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!((warnings[0].range_id, warnings[0].problem), (11, RangeProblem::Expired));
        assert_eq!(
            warnings[0].message,
            "El rango de numeración SETT (id 11) venció el 2021-01-01: Factus ya no numera documentos con él"
        );
    }

    #[test]
    fn factus_saying_a_range_is_expired_is_enough() {
        let watch = NumberingRangeWatch::default();
        watch.observe([&NumberingRange { is_expired: true, end_date: None, ..range(3, "X") }]);
        assert_eq!(problems_of(&watch, "2026-12-01"), [(3, RangeProblem::Expired)]);
    }

    #[test]
    fn a_range_warns_from_the_configured_days_before_its_end_and_not_one_day_earlier() {
        let watch = NumberingRangeWatch::new(RangeAlertPolicy { min_remaining: 10, expiry_warning_days: 30 });
        watch.observe([&NumberingRange { end_date: Some("2026-12-31".into()), ..range(1, "FE") }]);

        assert!(problems_of(&watch, "2026-11-30").is_empty());
        assert_eq!(problems_of(&watch, "2026-12-01"), [(1, RangeProblem::ExpiresSoon)]);
        assert_eq!(problems_of(&watch, "2026-12-31"), [(1, RangeProblem::ExpiresSoon)]);
        assert_eq!(problems_of(&watch, "2027-01-01"), [(1, RangeProblem::Expired)]);
    }

    #[test]
    fn a_range_warns_below_the_configured_remaining_numbers_and_when_used_up() {
        let watch = NumberingRangeWatch::new(RangeAlertPolicy { min_remaining: 100, expiry_warning_days: 0 });
        watch.observe([
            &NumberingRange { current: Some(4901), ..range(1, "A") }, // 100 left
            &NumberingRange { current: Some(4902), ..range(2, "B") }, // 99 left
            &NumberingRange { current: Some(5001), ..range(3, "C") }, // none left
        ]);

        assert_eq!(problems_of(&watch, "2026-12-01"), [(2, RangeProblem::RunningOut), (3, RangeProblem::UsedUp)]);
        let messages: Vec<String> = watch.warnings_on(date("2026-12-01")).into_iter().map(|w| w.message).collect();
        assert_eq!(messages[0], "El rango de numeración B (id 2) tiene solo 99 números disponibles (hasta 5000)");
    }

    #[test]
    fn an_inactive_range_warns_about_nothing_because_it_numbers_nothing() {
        let watch = NumberingRangeWatch::default();
        watch.observe([&NumberingRange { is_active: false, is_expired: true, ..range(1, "OLD") }]);
        assert!(watch.warnings_on(date("2026-12-01")).is_empty());
    }

    #[tokio::test]
    async fn a_complete_listing_replaces_what_the_watch_knew_and_a_filtered_one_adds_to_it() {
        let mut lookups = MockFactusLookupGateway::new();
        lookups.expect_numbering_ranges().returning(|_, filter| {
            Ok(if filter.id.is_some() {
                vec![NumberingRange { is_expired: true, ..range(7, "OLD") }]
            } else {
                vec![NumberingRange { is_expired: true, ..range(8, "NEW") }]
            })
        });
        let service = service(lookups, MockFactusAccountGateway::new());
        service.watch().observe([&NumberingRange { is_expired: true, ..range(1, "GONE") }]);

        service.list(&access(), &NumberingRangeFilter::default()).await.unwrap();
        assert_eq!(problems_of(service.watch(), "2026-12-01"), [(8, RangeProblem::Expired)]);

        let filter = NumberingRangeFilter { id: Some(7), ..NumberingRangeFilter::default() };
        service.list(&access(), &filter).await.unwrap();
        assert_eq!(
            problems_of(service.watch(), "2026-12-01"),
            [(7, RangeProblem::Expired), (8, RangeProblem::Expired)]
        );
    }

    #[tokio::test]
    async fn the_background_refresh_asks_factus_for_the_active_ranges() {
        let mut lookups = MockFactusLookupGateway::new();
        lookups
            .expect_numbering_ranges()
            .withf(|_, filter| *filter == NumberingRangeFilter::active())
            .times(1)
            .returning(|_, _| Ok(vec![range(8, "SETP"), range(9, "NC")]));

        assert_eq!(service(lookups, MockFactusAccountGateway::new()).refresh(&access()).await.unwrap(), 2);
    }

    #[tokio::test]
    async fn an_admin_creates_a_range_and_the_watch_sees_it_at_once() {
        let mut account = MockFactusAccountGateway::new();
        account
            .expect_create_numbering_range()
            .withf(|_, new| new.prefix == "SETT")
            .times(1)
            .returning(|_, _| Ok(NumberingRange { is_expired: true, ..range(11, "SETT") }));
        let service = service(MockFactusLookupGateway::new(), account);
        let new = NewNumberingRange {
            document: "21".into(),
            prefix: "SETT".into(),
            current: 1,
            resolution_number: Some("18760000003".into()),
        };

        let created = service.create(&admin(), &access(), &new).await.unwrap();

        assert_eq!(created.id, 11);
        assert_eq!(problems_of(service.watch(), "2026-12-01"), [(11, RangeProblem::Expired)]);
    }

    #[tokio::test]
    async fn users_who_are_not_admins_change_no_range_and_factus_is_not_called() {
        let service = service(MockFactusLookupGateway::new(), MockFactusAccountGateway::new());
        let new = NewNumberingRange { document: "22".into(), prefix: "NC".into(), current: 1, resolution_number: None };

        assert!(matches!(service.create(&user(), &access(), &new).await, Err(AccountError::NotAdmin)));
        assert!(matches!(service.update_current(&user(), &access(), 8, 5).await, Err(AccountError::NotAdmin)));
        assert!(matches!(service.delete(&user(), &access(), 8).await, Err(AccountError::NotAdmin)));
    }

    #[tokio::test]
    async fn a_range_factus_does_not_know_is_not_found_on_every_operation_by_id() {
        let mut account = MockFactusAccountGateway::new();
        let missing =
            || FactusError::Rejected { status: 404, message: "No se encontró el rango de numeración".into() };
        account.expect_numbering_range().returning(move |_, _| Err(missing()));
        account.expect_update_numbering_range_current().returning(move |_, _, _| Err(missing()));
        account.expect_delete_numbering_range().returning(move |_, _| Err(missing()));
        let service = service(MockFactusLookupGateway::new(), account);

        assert!(matches!(service.get(&access(), 99).await, Err(AccountError::RangeNotFound { id: 99 })));
        assert!(matches!(
            service.update_current(&admin(), &access(), 99, 1).await,
            Err(AccountError::RangeNotFound { id: 99 })
        ));
        assert!(matches!(service.delete(&admin(), &access(), 99).await, Err(AccountError::RangeNotFound { id: 99 })));
    }

    #[tokio::test]
    async fn a_deleted_range_no_longer_warns_and_other_refusals_keep_factus_message() {
        let mut account = MockFactusAccountGateway::new();
        account
            .expect_delete_numbering_range()
            .withf(|_, id| *id == 11)
            .returning(|_, _| Ok(StatusMessage { status: "OK".into(), message: "Rango eliminado".into() }));
        account.expect_update_numbering_range_current().returning(|_, _, _| {
            Err(FactusError::Rejected { status: 422, message: "current: fuera del rango".into() })
        });
        let service = service(MockFactusLookupGateway::new(), account);
        service.watch().observe([&NumberingRange { is_expired: true, ..range(11, "SETT") }]);

        service.delete(&admin(), &access(), 11).await.unwrap();
        let refused = service.update_current(&admin(), &access(), 8, 0).await.unwrap_err();

        assert!(service.watch().warnings_on(date("2026-12-01")).is_empty());
        assert_eq!(refused.to_string(), "Error al actualizar el rango de numeración: current: fuera del rango");
    }

    #[test]
    fn range_documents_are_known_by_code_and_by_name() {
        assert_eq!(range_document_name("21"), Some("Factura de Venta"));
        assert_eq!(range_document_code("nota crédito"), Some("22"));
        assert_eq!(range_document_code("Recibo"), None);
    }
}
