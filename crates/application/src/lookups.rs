//! Factus' reference catalogues: municipalities, product tributes ("taxes"), measurement units,
//! numbering ranges (a plain listing; [`crate::numbering_ranges::NumberingRangeService`] manages
//! them and feeds the readiness watch), countries, and the DIAN acquirer lookup.
//!
//! These are plain reads: the use cases pass the filter through, and a failure is the gateway's
//! [`FactusError`] as a [`FactusFailure`] of [`FactusOperation::Lookup`].

use std::sync::Arc;

use crate::factus::{
    Acquirer, Country, FactusAccess, FactusError, FactusFailure, FactusLookupGateway, FactusOperation, MeasurementUnit,
    Municipality, NumberingRange, ProductTribute,
};
use crate::numbering_ranges::NumberingRangeFilter;

fn failed(error: FactusError) -> FactusFailure {
    FactusFailure::new(FactusOperation::Lookup, error)
}

/// The lookup use cases.
pub struct LookupService {
    lookups: Arc<dyn FactusLookupGateway>,
}

impl LookupService {
    pub fn new(lookups: Arc<dyn FactusLookupGateway>) -> Self {
        Self { lookups }
    }

    /// Municipalities; `name` filters by (part of) the name, a blank one is ignored.
    ///
    /// # Errors
    /// [`FactusFailure`] of [`FactusOperation::Lookup`].
    pub async fn municipalities(
        &self,
        access: &FactusAccess,
        name: Option<&str>,
    ) -> Result<Vec<Municipality>, FactusFailure> {
        self.lookups.municipalities(access, non_blank(name)).await.map_err(failed)
    }

    /// Product tributes (the reference's `/lookups/taxes`).
    ///
    /// # Errors
    /// [`FactusFailure`] of [`FactusOperation::Lookup`].
    pub async fn taxes(&self, access: &FactusAccess) -> Result<Vec<ProductTribute>, FactusFailure> {
        self.lookups.product_tributes(access, None).await.map_err(failed)
    }

    /// Measurement units.
    ///
    /// # Errors
    /// [`FactusFailure`] of [`FactusOperation::Lookup`].
    pub async fn units(&self, access: &FactusAccess) -> Result<Vec<MeasurementUnit>, FactusFailure> {
        self.lookups.measurement_units(access, None).await.map_err(failed)
    }

    /// The account's numbering ranges.
    ///
    /// # Errors
    /// [`FactusFailure`] of [`FactusOperation::Lookup`].
    pub async fn numbering_ranges(&self, access: &FactusAccess) -> Result<Vec<NumberingRange>, FactusFailure> {
        self.lookups.numbering_ranges(access, &NumberingRangeFilter::default()).await.map_err(failed)
    }

    /// The first active numbering range whose prefix is exactly `prefix` (case-sensitive), as
    /// the later generation resolves an invoice's `numbering_range_prefix` (docs/contract.md
    /// §12.6); `None` when the account has none.
    ///
    /// # Errors
    /// [`FactusFailure`] of [`FactusOperation::Lookup`].
    pub async fn active_range_with_prefix(
        &self,
        access: &FactusAccess,
        prefix: &str,
    ) -> Result<Option<NumberingRange>, FactusFailure> {
        let ranges = self.numbering_ranges(access).await?;
        Ok(ranges.into_iter().find(|range| range.is_active && range.prefix == prefix))
    }

    /// Countries; `name` filters by (part of) the name, a blank one is ignored.
    ///
    /// # Errors
    /// [`FactusFailure`] of [`FactusOperation::Lookup`].
    pub async fn countries(&self, access: &FactusAccess, name: Option<&str>) -> Result<Vec<Country>, FactusFailure> {
        self.lookups.countries(access, non_blank(name)).await.map_err(failed)
    }

    /// The name and e-mail DIAN has for an identification.
    ///
    /// # Errors
    /// [`FactusFailure`] of [`FactusOperation::Lookup`]; [`FactusFailure::is_not_found`] when DIAN
    /// knows no such acquirer.
    pub async fn acquirer(
        &self,
        access: &FactusAccess,
        identification_document_id: i64,
        identification_number: &str,
    ) -> Result<Acquirer, FactusFailure> {
        self.lookups.acquirer(access, identification_document_id, identification_number).await.map_err(failed)
    }
}

fn non_blank(name: Option<&str>) -> Option<String> {
    name.map(str::trim).filter(|name| !name.is_empty()).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use mockall::predicate::eq;
    use secrecy::SecretString;

    use super::*;
    use crate::factus::MockFactusLookupGateway;

    fn access() -> FactusAccess {
        FactusAccess::ClientToken(SecretString::from("token"))
    }

    fn service(gateway: MockFactusLookupGateway) -> LookupService {
        LookupService::new(Arc::new(gateway))
    }

    fn bogota() -> Municipality {
        Municipality { id: 169, name: "Bogotá, D.C.".into(), code: "11001".into(), department: "Bogotá".into() }
    }

    #[tokio::test]
    async fn municipalities_pass_a_trimmed_name_filter() {
        let mut gateway = MockFactusLookupGateway::new();
        gateway
            .expect_municipalities()
            .with(mockall::predicate::always(), eq(Some("Bogo".to_owned())))
            .times(1)
            .returning(|_, _| Ok(vec![bogota()]));

        let found = service(gateway).municipalities(&access(), Some("  Bogo ")).await.expect("lookup succeeds");

        assert_eq!(found, vec![bogota()]);
    }

    #[tokio::test]
    async fn a_blank_name_filter_is_not_sent() {
        let mut gateway = MockFactusLookupGateway::new();
        gateway
            .expect_countries()
            .with(mockall::predicate::always(), eq(None))
            .times(1)
            .returning(|_, _| Ok(vec![Country { id: 46, code: "CO".into(), name: "Colombia".into() }]));

        let found = service(gateway).countries(&access(), Some("   ")).await.expect("lookup succeeds");

        assert_eq!(found.len(), 1);
    }

    #[tokio::test]
    async fn taxes_are_the_product_tributes_without_a_filter() {
        let mut gateway = MockFactusLookupGateway::new();
        gateway.expect_product_tributes().with(mockall::predicate::always(), eq(None)).times(1).returning(|_, _| {
            Ok(vec![ProductTribute { id: 1, name: "IVA".into(), code: "01".into(), description: None }])
        });

        let taxes = service(gateway).taxes(&access()).await.expect("lookup succeeds");

        assert_eq!(taxes[0].code, "01");
    }

    #[tokio::test]
    async fn units_come_straight_from_factus() {
        let mut gateway = MockFactusLookupGateway::new();
        gateway
            .expect_measurement_units()
            .returning(|_, _| Ok(vec![MeasurementUnit { id: 70, name: "unidad".into(), code: "94".into() }]));

        assert_eq!(service(gateway).units(&access()).await.expect("units")[0].id, 70);
    }

    #[tokio::test]
    async fn a_lookup_refused_by_factus_is_rejected_with_its_status() {
        let mut gateway = MockFactusLookupGateway::new();
        gateway
            .expect_product_tributes()
            .returning(|_, _| Err(FactusError::Rejected { status: 401, message: "Unauthenticated.".into() }));

        let error = service(gateway).taxes(&access()).await.unwrap_err();

        assert!(
            matches!(&error.error, FactusError::Rejected { status: 401, message } if message == "Unauthenticated.")
        );
    }

    #[tokio::test]
    async fn a_lookup_while_factus_is_down_is_an_upstream_failure() {
        let mut gateway = MockFactusLookupGateway::new();
        gateway.expect_measurement_units().returning(|_, _| {
            Err(FactusError::Unavailable { message: "All connection attempts failed".into(), request_sent: false })
        });

        let error = service(gateway).units(&access()).await.unwrap_err();

        assert!(matches!(error.error, FactusError::Unavailable { .. }), "{error:?}");
    }

    #[tokio::test]
    async fn a_lookup_failing_for_an_unknown_reason_is_unexpected() {
        let mut gateway = MockFactusLookupGateway::new();
        gateway.expect_municipalities().returning(|_, _| Err(FactusError::Unexpected(anyhow::anyhow!("boom"))));

        let error = service(gateway).municipalities(&access(), None).await.unwrap_err();

        assert!(matches!(error.error, FactusError::Unexpected(_)), "{error:?}");
    }

    #[tokio::test]
    async fn acquirer_returns_what_dian_knows() {
        let mut gateway = MockFactusLookupGateway::new();
        gateway
            .expect_acquirer()
            .withf(|_, document, number| *document == 3 && number == "1399991")
            .times(1)
            .returning(|_, _, _| {
                Ok(Acquirer { name: "Nombre Cédula de ciudadanía 1".into(), email: "a@example.com".into() })
            });

        let acquirer = service(gateway).acquirer(&access(), 3, "1399991").await.expect("lookup succeeds");

        assert_eq!(acquirer.name, "Nombre Cédula de ciudadanía 1");
    }

    #[tokio::test]
    async fn an_acquirer_dian_does_not_know_is_not_found() {
        let mut gateway = MockFactusLookupGateway::new();
        gateway.expect_acquirer().returning(|_, _, _| {
            Err(FactusError::Rejected { status: 404, message: "No se encontró el adquirente".into() })
        });

        let error = service(gateway).acquirer(&access(), 3, "1").await.unwrap_err();

        assert!(
            error.is_not_found()
                && matches!(&error.error, FactusError::Rejected { message, .. } if message == "No se encontró el adquirente")
        );
    }

    #[tokio::test]
    async fn an_acquirer_lookup_refused_otherwise_is_rejected() {
        let mut gateway = MockFactusLookupGateway::new();
        gateway
            .expect_acquirer()
            .returning(|_, _, _| Err(FactusError::Rejected { status: 422, message: "inválido".into() }));

        let error = service(gateway).acquirer(&access(), 3, "x").await.unwrap_err();

        assert!(matches!(error.error, FactusError::Rejected { status: 422, .. }), "{error:?}");
    }

    #[tokio::test]
    async fn an_acquirer_lookup_behind_an_open_circuit_is_an_upstream_failure() {
        let mut gateway = MockFactusLookupGateway::new();
        gateway.expect_acquirer().returning(|_, _, _| Err(FactusError::CircuitOpen));

        let error = service(gateway).acquirer(&access(), 3, "1").await.unwrap_err();

        assert!(matches!(error.error, FactusError::CircuitOpen), "{error:?}");
    }

    #[tokio::test]
    async fn an_acquirer_lookup_failing_for_an_unknown_reason_is_unexpected() {
        let mut gateway = MockFactusLookupGateway::new();
        gateway.expect_acquirer().returning(|_, _, _| Err(FactusError::Unexpected(anyhow::anyhow!("boom"))));

        let error = service(gateway).acquirer(&access(), 3, "1").await.unwrap_err();

        assert!(matches!(error.error, FactusError::Unexpected(_)), "{error:?}");
    }

    fn range(id: i64, prefix: &str, is_active: bool) -> NumberingRange {
        NumberingRange {
            id,
            document: "Factura de Venta".into(),
            prefix: prefix.into(),
            from: None,
            to: None,
            current: None,
            resolution_number: None,
            technical_key: None,
            is_active,
            ..NumberingRange::default()
        }
    }

    #[tokio::test]
    async fn a_prefix_resolves_to_the_first_active_range_with_exactly_that_prefix() {
        let mut gateway = MockFactusLookupGateway::new();
        gateway.expect_numbering_ranges().returning(|_, _| {
            Ok(vec![range(1, "SETP", false), range(2, "setp", true), range(8, "SETP", true), range(9, "SETP", true)])
        });
        let service = service(gateway);

        let found = service.active_range_with_prefix(&access(), "SETP").await.expect("ranges");
        assert_eq!(found.map(|range| range.id), Some(8));
        assert_eq!(service.active_range_with_prefix(&access(), "FV").await.expect("ranges"), None);
    }
}
