//! Factus' catalogues, kept for a while: every lookup answered from here is a call not spent of
//! Factus' 80 a minute.
//!
//! [`CachedLookups`] wraps any [`FactusLookupGateway`]. Each kind has its time to live
//! ([`LookupCacheTtl`]): the catalogues (municipalities, tributes, units, countries) and the DIAN
//! acquirer lookup change rarely (`FACTUS_LOOKUP_CACHE_SECS`, an hour by default); numbering
//! ranges carry `current`, which moves with every document issued, so they are kept briefly
//! (`FACTUS_NUMBERING_RANGE_CACHE_SECS`, 30 s). A time to live of zero turns the kind's cache off.
//!
//! Concurrent misses of one key are collapsed into one call (single flight): the first caller
//! loads while the others wait for it and then read what it stored. Failures are not kept; the
//! next caller tries again.
//!
//! Numbering ranges belong to a Factus account, so they are kept per access (the server's session,
//! or each client token, by its SHA-256: a token is never kept in the clear). The catalogues and
//! acquirers are the same for every account and are shared.
//!
//! Metric: `cache_requests_total{cache, outcome}`, `outcome` = `hit` | `miss` (a miss is a call
//! to Factus, whether it succeeded or not).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use factus_application::factus::{
    Acquirer, Country, FactusAccess, FactusError, FactusLookupGateway, MeasurementUnit, Municipality, NumberingRange,
    ProductTribute,
};
use factus_application::numbering_ranges::NumberingRangeFilter;
use hmac_sha2::Digest as _;
use secrecy::ExposeSecret as _;

/// The metric every cache counts its hits and misses in.
pub const CACHE_METRIC: &str = "cache_requests_total";

/// Counts one cache request.
pub fn count(cache: &'static str, hit: bool) {
    metrics::counter!(CACHE_METRIC, "cache" => cache, "outcome" => if hit { "hit" } else { "miss" }).increment(1);
}

/// How long each kind of lookup is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LookupCacheTtl {
    /// Municipalities, product tributes, units, countries, acquirers.
    pub catalogues: Duration,
    /// Numbering ranges.
    pub numbering_ranges: Duration,
}

impl Default for LookupCacheTtl {
    fn default() -> Self {
        Self { catalogues: Duration::from_secs(3600), numbering_ranges: Duration::from_secs(30) }
    }
}

/// One key's value and the lock its loader holds.
struct Slot<V> {
    value: RwLock<Option<(Instant, V)>>,
    loading: tokio::sync::Mutex<()>,
}

impl<V> Default for Slot<V> {
    fn default() -> Self {
        Self { value: RwLock::new(None), loading: tokio::sync::Mutex::new(()) }
    }
}

impl<V: Clone> Slot<V> {
    fn fresh(&self, ttl: Duration) -> Option<V> {
        let value = self.value.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        value.as_ref().filter(|(stored, _)| stored.elapsed() < ttl).map(|(_, value)| value.clone())
    }
}

/// A time-to-live cache of one kind, with single-flight loading.
struct TtlCache<V> {
    name: &'static str,
    ttl: Duration,
    slots: Mutex<HashMap<String, Arc<Slot<V>>>>,
}

impl<V: Clone> TtlCache<V> {
    fn new(name: &'static str, ttl: Duration) -> Self {
        Self { name, ttl, slots: Mutex::new(HashMap::new()) }
    }

    fn forget(&self, key: &str) {
        self.slots.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(key);
    }

    async fn get_or_load<F, Fut>(&self, key: String, load: F) -> Result<V, FactusError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, FactusError>>,
    {
        if self.ttl.is_zero() {
            return load().await;
        }
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            // Expired slots of other keys (old client tokens, one-off filters) go when the map
            // grows; the live ones are few.
            if slots.len() > 1_000 {
                slots.retain(|_, slot| slot.fresh(self.ttl).is_some());
            }
            Arc::clone(slots.entry(key).or_default())
        };
        if let Some(value) = slot.fresh(self.ttl) {
            count(self.name, true);
            return Ok(value);
        }
        let _loading = slot.loading.lock().await;
        // Whoever held the lock before may have loaded it meanwhile.
        if let Some(value) = slot.fresh(self.ttl) {
            count(self.name, true);
            return Ok(value);
        }
        count(self.name, false);
        let value = load().await?;
        *slot.value.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Some((Instant::now(), value.clone()));
        Ok(value)
    }

    /// A catalogue filtered by `name`, kept under the filter in lower case (no filter: the whole
    /// catalogue); `load` gets the name as it was given.
    async fn by_name<F, Fut>(&self, name: Option<String>, load: F) -> Result<V, FactusError>
    where
        F: FnOnce(Option<String>) -> Fut,
        Fut: Future<Output = Result<V, FactusError>>,
    {
        let key = name.as_ref().map_or_else(String::new, |name| name.to_lowercase());
        self.get_or_load(key, || load(name)).await
    }
}

/// [`FactusLookupGateway`] with a cache in front (see the module docs).
pub struct CachedLookups {
    inner: Arc<dyn FactusLookupGateway>,
    municipalities: TtlCache<Vec<Municipality>>,
    tributes: TtlCache<Vec<ProductTribute>>,
    units: TtlCache<Vec<MeasurementUnit>>,
    numbering_ranges: TtlCache<Vec<NumberingRange>>,
    countries: TtlCache<Vec<Country>>,
    acquirers: TtlCache<Acquirer>,
}

impl CachedLookups {
    pub fn new(inner: Arc<dyn FactusLookupGateway>, ttl: LookupCacheTtl) -> Self {
        Self {
            inner,
            municipalities: TtlCache::new("municipalities", ttl.catalogues),
            tributes: TtlCache::new("taxes", ttl.catalogues),
            units: TtlCache::new("units", ttl.catalogues),
            numbering_ranges: TtlCache::new("numbering_ranges", ttl.numbering_ranges),
            countries: TtlCache::new("countries", ttl.catalogues),
            acquirers: TtlCache::new("acquirer", ttl.catalogues),
        }
    }
}

/// Whose numbering ranges: the server's session, or a client token by its digest.
fn account_key(access: &FactusAccess) -> String {
    match access {
        FactusAccess::ServerSession => "server".to_owned(),
        FactusAccess::ClientToken(token) => {
            format!("token:{}", hex::encode(hmac_sha2::Sha256::digest(token.expose_secret().as_bytes())))
        }
    }
}

#[async_trait]
impl FactusLookupGateway for CachedLookups {
    async fn municipalities(
        &self,
        access: &FactusAccess,
        name: Option<String>,
    ) -> Result<Vec<Municipality>, FactusError> {
        self.municipalities.by_name(name, |name| self.inner.municipalities(access, name)).await
    }

    async fn product_tributes(
        &self,
        access: &FactusAccess,
        name: Option<String>,
    ) -> Result<Vec<ProductTribute>, FactusError> {
        self.tributes.by_name(name, |name| self.inner.product_tributes(access, name)).await
    }

    async fn measurement_units(
        &self,
        access: &FactusAccess,
        name: Option<String>,
    ) -> Result<Vec<MeasurementUnit>, FactusError> {
        self.units.by_name(name, |name| self.inner.measurement_units(access, name)).await
    }

    async fn numbering_ranges(
        &self,
        access: &FactusAccess,
        filter: &NumberingRangeFilter,
    ) -> Result<Vec<NumberingRange>, FactusError> {
        // Only the whole listing is kept; a filtered one (range management) goes to Factus.
        if *filter != NumberingRangeFilter::default() {
            return self.inner.numbering_ranges(access, filter).await;
        }
        self.numbering_ranges.get_or_load(account_key(access), || self.inner.numbering_ranges(access, filter)).await
    }

    fn forget_numbering_ranges(&self, access: &FactusAccess) {
        self.numbering_ranges.forget(&account_key(access));
    }

    async fn countries(&self, access: &FactusAccess, name: Option<String>) -> Result<Vec<Country>, FactusError> {
        self.countries.by_name(name, |name| self.inner.countries(access, name)).await
    }

    async fn acquirer(
        &self,
        access: &FactusAccess,
        identification_document_id: i64,
        identification_number: &str,
    ) -> Result<Acquirer, FactusError> {
        let key = format!("{identification_document_id}:{identification_number}");
        self.acquirers
            .get_or_load(key, || self.inner.acquirer(access, identification_document_id, identification_number))
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use secrecy::SecretString;

    use super::*;

    /// Factus with a slow numbering-ranges call that counts how often it is made.
    struct Counting {
        calls: AtomicU32,
        fail: bool,
    }

    fn range() -> NumberingRange {
        NumberingRange {
            id: 8,
            document: "Factura de Venta".into(),
            prefix: "SETP".into(),
            from: Some(990_000_000),
            to: Some(995_000_000),
            current: Some(990_000_100),
            resolution_number: None,
            technical_key: None,
            is_active: true,
            ..NumberingRange::default()
        }
    }

    fn unused() -> FactusError {
        FactusError::Unexpected(anyhow::anyhow!("not used in this test"))
    }

    #[async_trait]
    impl FactusLookupGateway for Counting {
        async fn municipalities(&self, _: &FactusAccess, _: Option<String>) -> Result<Vec<Municipality>, FactusError> {
            Err(unused())
        }
        async fn product_tributes(
            &self,
            _: &FactusAccess,
            _: Option<String>,
        ) -> Result<Vec<ProductTribute>, FactusError> {
            Err(unused())
        }
        async fn measurement_units(
            &self,
            _: &FactusAccess,
            _: Option<String>,
        ) -> Result<Vec<MeasurementUnit>, FactusError> {
            Err(unused())
        }
        async fn numbering_ranges(
            &self,
            _: &FactusAccess,
            _: &NumberingRangeFilter,
        ) -> Result<Vec<NumberingRange>, FactusError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            if self.fail { Err(FactusError::Timeout) } else { Ok(vec![range()]) }
        }
        async fn countries(&self, _: &FactusAccess, _: Option<String>) -> Result<Vec<Country>, FactusError> {
            Err(unused())
        }
        async fn acquirer(&self, _: &FactusAccess, _: i64, _: &str) -> Result<Acquirer, FactusError> {
            Err(unused())
        }
    }

    fn cached(fail: bool, ttl: Duration) -> (Arc<Counting>, Arc<CachedLookups>) {
        let inner = Arc::new(Counting { calls: AtomicU32::new(0), fail });
        let ttl = LookupCacheTtl { catalogues: ttl, numbering_ranges: ttl };
        (Arc::clone(&inner), Arc::new(CachedLookups::new(inner, ttl)))
    }

    #[tokio::test]
    async fn concurrent_misses_are_collapsed_into_one_call() {
        let (inner, cache) = cached(false, Duration::from_secs(60));
        let lookups: Vec<_> = (0..50)
            .map(|_| {
                let cache = Arc::clone(&cache);
                tokio::spawn(async move {
                    cache.numbering_ranges(&FactusAccess::ServerSession, &NumberingRangeFilter::default()).await
                })
            })
            .collect();
        for lookup in lookups {
            assert_eq!(lookup.await.unwrap().unwrap(), vec![range()]);
        }
        assert_eq!(inner.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn an_expired_entry_is_loaded_again_and_failures_are_not_kept() {
        let (inner, cache) = cached(false, Duration::from_millis(100));
        cache.numbering_ranges(&FactusAccess::ServerSession, &NumberingRangeFilter::default()).await.unwrap();
        cache.numbering_ranges(&FactusAccess::ServerSession, &NumberingRangeFilter::default()).await.unwrap();
        assert_eq!(inner.calls.load(Ordering::SeqCst), 1);
        tokio::time::sleep(Duration::from_millis(150)).await;
        cache.numbering_ranges(&FactusAccess::ServerSession, &NumberingRangeFilter::default()).await.unwrap();
        assert_eq!(inner.calls.load(Ordering::SeqCst), 2);

        let (inner, cache) = cached(true, Duration::from_secs(60));
        assert!(cache.numbering_ranges(&FactusAccess::ServerSession, &NumberingRangeFilter::default()).await.is_err());
        assert!(cache.numbering_ranges(&FactusAccess::ServerSession, &NumberingRangeFilter::default()).await.is_err());
        assert_eq!(inner.calls.load(Ordering::SeqCst), 2, "a failure is not an answer to keep");
    }

    #[tokio::test]
    async fn numbering_ranges_are_kept_per_account_and_a_zero_ttl_keeps_nothing() {
        let (inner, cache) = cached(false, Duration::from_secs(60));
        let token = FactusAccess::ClientToken(SecretString::from("client-token"));
        cache.numbering_ranges(&FactusAccess::ServerSession, &NumberingRangeFilter::default()).await.unwrap();
        cache.numbering_ranges(&token, &NumberingRangeFilter::default()).await.unwrap();
        cache.numbering_ranges(&token, &NumberingRangeFilter::default()).await.unwrap();
        assert_eq!(inner.calls.load(Ordering::SeqCst), 2);
        assert!(!account_key(&token).contains("client-token"), "tokens are kept as digests");

        let (inner, cache) = cached(false, Duration::ZERO);
        cache.numbering_ranges(&FactusAccess::ServerSession, &NumberingRangeFilter::default()).await.unwrap();
        cache.numbering_ranges(&FactusAccess::ServerSession, &NumberingRangeFilter::default()).await.unwrap();
        assert_eq!(inner.calls.load(Ordering::SeqCst), 2);
    }
}
