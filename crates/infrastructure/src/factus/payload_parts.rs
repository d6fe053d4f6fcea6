//! The parts of a create-invoice body that Factus v1 (`payload.rs`) and v2 (`payload_v2.rs`)
//! write the same way, and the rule both follow for optional keys: present when the domain holds
//! a value, left out otherwise (the domain already holds empty optional texts as absent).

use factus_domain::invoice::{BillingPeriod, Establishment, Invoice, Item, Mandate, OrderReference, Provider};
use serde_json::{Map, Value, json};
use time::Date;

/// Inserts, in order, the keys that have a value.
pub(super) fn insert_present<'k>(
    object: &mut Map<String, Value>,
    fields: impl IntoIterator<Item = (&'k str, Option<Value>)>,
) {
    for (key, value) in fields {
        if let Some(value) = value {
            object.insert(key.into(), value);
        }
    }
}

/// `YYYY-MM-DD`, as Python's `date.isoformat()` writes it.
pub(super) fn iso_date(date: Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

pub(super) fn order_reference(order: &OrderReference) -> Value {
    let mut object = Map::new();
    object.insert("reference_code".into(), json!(order.reference_code()));
    insert_present(&mut object, [("issue_date", order.issue_date().map(|issued| json!(iso_date(issued))))]);
    Value::Object(object)
}

/// The related documents; `None` when there are none (an empty list is left out).
pub(super) fn related_documents(invoice: &Invoice) -> Option<Value> {
    let documents = invoice.related_documents();
    (!documents.is_empty()).then(|| {
        documents
            .iter()
            .map(|doc| json!({"code": doc.code(), "issue_date": iso_date(doc.issue_date()), "number": doc.number()}))
            .collect()
    })
}

/// The allowances and charges; `None` when there are none (an empty list is left out).
pub(super) fn allowance_charges(invoice: &Invoice) -> Option<Value> {
    let charges = invoice.allowance_charges();
    (!charges.is_empty()).then(|| {
        charges
            .iter()
            .map(|charge| {
                json!({
                    "concept_type": charge.concept_type(),
                    "is_surcharge": charge.is_surcharge(),
                    "reason": charge.reason(),
                    "base_amount": charge.base_amount().to_string(),
                    "amount": charge.amount().to_string(),
                })
            })
            .collect()
    })
}

/// Where a version sends the billing period's optional start time.
#[derive(Debug, Clone, Copy)]
pub(super) enum StartTime {
    /// v1: after the end date and time.
    Last,
    /// v2: right after the start date.
    AfterStartDate,
}

pub(super) fn billing_period(period: &BillingPeriod, start_time: StartTime) -> Value {
    let start = [("start_time", period.start_time().map(Value::from))];
    let mut object = Map::new();
    object.insert("start_date".into(), json!(iso_date(period.start_date())));
    if let StartTime::AfterStartDate = start_time {
        insert_present(&mut object, start.clone());
    }
    object.insert("end_date".into(), json!(iso_date(period.end_date())));
    object.insert("end_time".into(), json!(period.end_time()));
    if let StartTime::Last = start_time {
        insert_present(&mut object, start);
    }
    Value::Object(object)
}

/// The establishment, its municipality last under the version's key (`municipality_id` in v1,
/// `municipality_code` in v2).
pub(super) fn establishment(place: &Establishment, municipality: (&str, Value)) -> Value {
    let mut object = Map::new();
    object.insert("name".into(), json!(place.name()));
    object.insert("address".into(), json!(place.address()));
    object.insert("phone_number".into(), json!(place.phone_number()));
    object.insert("email".into(), json!(place.email()));
    object.insert(municipality.0.into(), municipality.1);
    Value::Object(object)
}

/// The item's withholdings, each rate under the version's key (`withholding_tax_rate` in v1,
/// `rate` in v2); an empty list is sent as `[]`.
pub(super) fn withholding_taxes(item: &Item, rate_key: &str) -> Option<Value> {
    item.withholding_taxes().map(|withholdings| {
        withholdings
            .iter()
            .map(|tax| {
                let mut object = Map::new();
                object.insert("code".into(), json!(tax.code()));
                object.insert(rate_key.into(), json!(tax.rate().to_string()));
                Value::Object(object)
            })
            .collect()
    })
}

/// The item's mandate, its identification document under the version's key and value
/// (`identification_document_id` in v1, `identification_document_code` in v2).
pub(super) fn mandate(item: &Item, document: impl Fn(&Mandate) -> (&'static str, Value)) -> Option<Value> {
    item.mandate().map(|mandate| {
        let (key, value) = document(mandate);
        let mut object = Map::new();
        object.insert(key.into(), value);
        object.insert("identification".into(), json!(mandate.identification()));
        Value::Object(object)
    })
}

/// The provider of a support document: its identity document first and its municipality last,
/// each under the version's key and value (`identification_document_id` and `municipality_id` in
/// v1, `identification_document_code` and `municipality_code` in v2), `is_resident` as the version
/// writes a flag (`0`/`1` in v1, a boolean in v2).
pub(super) fn provider(
    provider: &Provider,
    document: (&str, Value),
    is_resident: Value,
    municipality: (&str, Option<Value>),
) -> Value {
    let mut object = Map::new();
    object.insert(document.0.into(), document.1);
    object.insert("identification".into(), json!(provider.identification()));
    insert_present(
        &mut object,
        [
            ("dv", provider.dv().map(Value::from)),
            ("trade_name", provider.trade_name().map(Value::from)),
            ("names", Some(Value::from(provider.names()))),
            ("address", provider.address().map(Value::from)),
            ("email", provider.email().map(|email| Value::from(email.as_str()))),
            ("phone", provider.phone().map(Value::from)),
            ("is_resident", Some(is_resident)),
            ("country_code", Some(Value::from(provider.country().code()))),
            municipality,
        ],
    );
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn dates_before_the_year_1000_are_zero_padded_like_python() {
        assert_eq!(iso_date(date!(0999 - 01 - 02)), "0999-01-02");
    }

    #[test]
    fn only_the_keys_with_a_value_are_inserted_in_their_order() {
        let mut object = Map::new();
        insert_present(&mut object, [("b", Some(json!(1))), ("x", None), ("a", Some(json!(2)))]);
        assert_eq!(serde_json::to_string(&object).unwrap(), r#"{"b":1,"a":2}"#);
    }
}
