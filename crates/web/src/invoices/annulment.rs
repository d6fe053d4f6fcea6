//! The credit note that annuls an invoice in full, written as a create-credit-note body of
//! `POST /api/v1/credit-notes` and built from the invoice as Factus shows it.
//!
//! An electronic invoice is never deleted once DIAN validated it: it is annulled with a credit
//! note that references it under DIAN's correction concept 2 (*Anulación de factura
//! electrónica*) and credits exactly what is left of it. The console's annulment builds that body
//! here and then goes through the API's own parser and issuance, so the note is checked, recorded
//! in the ledger and sent exactly like one a client posts (the ledger refuses an annulment that is
//! not exactly the invoice's remaining amount).
//!
//! The lines are the invoice's own, read from Factus' document (`docs/factus.md` §7.1, §7.5),
//! because the ledger keeps no copy of the request. The customer is left out: Factus then uses the
//! invoice's, which is what an annulment needs. The body has the API's v1 meaning — tax-inclusive
//! prices, catalogue ids or DIAN codes — whichever Factus version issued the invoice:
//!
//! - Factus v1 shows each item's `price` as it was sent (tax included), with `tax_rate`,
//!   `is_excluded` and the catalogue entries as `{id, code, name}`.
//! - Factus v2 shows a **net** `price`, the tax in `taxes[]` and catalogue entries by code. The
//!   tax-inclusive unit price is the line's `total` (what the customer pays for it) over its
//!   quantity after the discount; the gateway chose the net price so that this total equals the
//!   one the invoice was recorded with, so the note credits the same amount. Where it could only
//!   come within cents, the ledger's annulment rule refuses the note and says by how much.
//!
//! What the document lacks is left out of the body, so that the parser names it (a refusal in
//! plain words) instead of this module guessing a value.

use factus_application::ledger::IdempotencyKey;
use factus_domain::invoice::ANNULMENT_CONCEPT;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Map, Value, json};

/// The reference code of the credit note that annuls invoice `number`: one per invoice, so that
/// the ledger refuses a second annulment of it whoever asks.
#[must_use]
pub fn annulment_reference(number: &str) -> String {
    format!("ANUL-{number}")
}

/// The `Idempotency-Key` of the annulment of invoice `number`: a second submit (a double click, a
/// reload) is the same request and gets the first one's note instead of another.
///
/// # Errors
/// Never for a Factus number (short printable ASCII); a number that is not one is refused by the
/// key's own rules.
pub fn annulment_key(number: &str) -> Result<IdempotencyKey, factus_application::ledger::IdempotencyKeyError> {
    IdempotencyKey::parse(&format!("console-annulment-{number}"))
}

/// The create-credit-note body that annuls invoice `number`, from Factus' document of it
/// (`{status, message, data}`, either version's layout).
#[must_use]
pub fn annulment_body(number: &str, invoice: &Value) -> Value {
    let data = &invoice["data"];
    // v1 nests the bill's own fields under `bill`; v2 keeps them at the top of `data`.
    let bill = if data["bill"].is_object() { &data["bill"] } else { data };
    let payment_method =
        text(&bill["payment_method"]["code"]).or_else(|| text(&data["payment_details"][0]["payment_method"]["code"]));
    let items: Vec<Value> =
        data["items"].as_array().map(|items| items.iter().map(annulled_item).collect()).unwrap_or_default();
    let mut body = json!({
        "bill_number": number,
        "correction_concept_code": ANNULMENT_CONCEPT,
        "reference_code": annulment_reference(number),
        "observation": format!("Anulación de la factura electrónica {number}"),
        "items": items,
    });
    if let Some(code) = payment_method {
        body["payment_method_code"] = Value::String(code);
    }
    body
}

/// One invoice line as a line of the note, in the API's v1 terms.
fn annulled_item(item: &Value) -> Value {
    let mut line = Map::new();
    for key in ["code_reference", "name", "scheme_id", "note"] {
        if let Some(value) = text(&item[key]) {
            line.insert(key.to_owned(), Value::String(value));
        }
    }
    let quantity = decimal(&item["quantity"]);
    if let Some(quantity) = quantity {
        // v1 quantities are whole units; v2 shows them with decimals ("2.00").
        line.insert("quantity".to_owned(), whole_or_decimal(quantity));
    }
    let discount_rate = decimal(&item["discount_rate"]);
    if let Some(rate) = discount_rate {
        line.insert("discount_rate".to_owned(), Value::String(rate.to_string()));
    }
    catalogue(&mut line, &item["unit_measure"], "unit_measure_id", "unit_measure_code");
    catalogue(&mut line, &item["standard_code"], "standard_code_id", "standard_code");
    match item["taxes"].as_array() {
        // Factus v2: the tax apart, the price net.
        Some(taxes) => {
            let tax = taxes.first().unwrap_or(&Value::Null);
            if let Some(rate) = decimal(&tax["rates"][0]["rate"]) {
                line.insert("tax_rate".to_owned(), Value::String(rate.to_string()));
            }
            if let Some(excluded) = flag(&tax["is_excluded"]) {
                line.insert("is_excluded".to_owned(), Value::from(excluded));
            }
            if let Some(code) = text(&tax["tribute"]["code"]) {
                line.insert("tribute_code".to_owned(), Value::String(code));
            }
            let price = tax_inclusive_price(decimal(&item["total"]), quantity, discount_rate);
            if let Some(price) = price {
                line.insert("price".to_owned(), Value::String(price.to_string()));
            }
        }
        // Factus v1: as it was sent.
        None => {
            if let Some(rate) = decimal(&item["tax_rate"]) {
                line.insert("tax_rate".to_owned(), Value::String(rate.to_string()));
            }
            if let Some(excluded) = flag(&item["is_excluded"]) {
                line.insert("is_excluded".to_owned(), Value::from(excluded));
            }
            catalogue(&mut line, &item["tribute"], "tribute_id", "tribute_code");
            if let Some(price) = decimal(&item["price"]) {
                line.insert("price".to_owned(), Value::String(price.to_string()));
            }
        }
    }
    let withholdings: Vec<Value> = item["withholding_taxes"]
        .as_array()
        .map(|taxes| {
            taxes
                .iter()
                .filter_map(|tax| {
                    let code = text(&tax["tribute_code"]).or_else(|| text(&tax["tribute"]["code"]))?;
                    let rate = decimal(&tax["rates"][0]["rate"])?;
                    Some(json!({"code": code, "withholding_tax_rate": rate.to_string()}))
                })
                .collect()
        })
        .unwrap_or_default();
    if !withholdings.is_empty() {
        line.insert("withholding_taxes".to_owned(), Value::Array(withholdings));
    }
    if let Some(mandate) = item["mandate"].as_object() {
        let mut kept = Map::new();
        catalogue(
            &mut kept,
            mandate.get("identification_document").unwrap_or(&Value::Null),
            "identification_document_id",
            "identification_document_code",
        );
        if let Some(identification) = mandate.get("identification").and_then(text) {
            kept.insert("identification".to_owned(), Value::String(identification));
        }
        line.insert("mandate".to_owned(), Value::Object(kept));
    }
    Value::Object(line)
}

/// The tax-inclusive unit price of a Factus v2 line: its total over the quantity after the
/// discount, to the cent. `None` when a figure is missing or the line is discounted in full
/// (nothing to divide by; the parser then names the missing price).
fn tax_inclusive_price(
    total: Option<Decimal>,
    quantity: Option<Decimal>,
    discount_rate: Option<Decimal>,
) -> Option<Decimal> {
    let hundred = Decimal::ONE_HUNDRED;
    let kept = hundred.checked_sub(discount_rate.unwrap_or_default())?.checked_div(hundred)?;
    let units = quantity?.checked_mul(kept)?;
    if units.is_zero() {
        return None;
    }
    let mut price = total?.checked_div(units)?.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    // Two places, as prices are written ("1190000.00").
    price.rescale(2);
    Some(price)
}

/// A catalogue entry as Factus shows it (`{id, code, name}` on v1, `{code, name}` on v2): its v1
/// id under `id_key` when shown, else its DIAN code under `code_key`.
fn catalogue(line: &mut Map<String, Value>, entry: &Value, id_key: &str, code_key: &str) {
    if let Some(id) = entry["id"].as_i64() {
        line.insert(id_key.to_owned(), Value::from(id));
    } else if let Some(code) = text(&entry["code"]) {
        line.insert(code_key.to_owned(), Value::String(code));
    }
}

/// A quantity as a JSON integer when it is whole, else as the decimal it is.
fn whole_or_decimal(quantity: Decimal) -> Value {
    let normalized = quantity.normalize();
    if normalized.scale() == 0
        && let Ok(units) = i64::try_from(normalized.mantissa())
    {
        return Value::from(units);
    }
    Value::String(normalized.to_string())
}

/// A number Factus writes as a JSON number or a numeric string.
fn decimal(value: &Value) -> Option<Decimal> {
    match value {
        Value::String(text) => text.trim().parse().ok(),
        Value::Number(number) => number.to_string().parse().ok(),
        _ => None,
    }
}

/// A text Factus writes as a string or a number; blank is none.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) if !text.trim().is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// `is_excluded` as the API takes it (0 or 1), from v1's integer or v2's boolean.
fn flag(value: &Value) -> Option<i64> {
    match value {
        Value::Bool(flag) => Some(i64::from(*flag)),
        Value::Number(number) => number.as_i64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use factus_domain::invoice::{Note, NoteKind};
    use rust_decimal::Decimal;
    use serde_json::{Value, json};

    use super::*;
    use crate::invoices::request::parse_note;

    fn dec(text: &str) -> Decimal {
        text.parse().expect("a decimal")
    }

    /// Factus v1's document of an invoice of two services at 1.190.000 pesos, IVA included
    /// (the sandbox's rendering, `docs/factus.md` §7.1).
    fn v1_invoice() -> Value {
        json!({"status": "OK", "message": "Solicitud exitosa", "data": {
            "customer": {"identification": "123456789", "names": "Juan Pérez"},
            "bill": {"number": "SETP990000001", "total": "2380000.00",
                     "payment_method": {"code": "10", "name": "Efectivo"}},
            "items": [{"scheme_id": null, "note": null, "code_reference": "P-001",
                       "name": "Servicio de contabilidad", "quantity": 2, "discount_rate": "0.00",
                       "discount": "0.00", "gross_value": "2000000.00", "tax_rate": "19.00",
                       "taxable_amount": "2000000.00", "tax_amount": "380000.00", "price": "1190000.00",
                       "is_excluded": 0, "unit_measure": {"id": 70, "code": "94", "name": "unidad"},
                       "standard_code": {"id": 1, "code": "999", "name": "Estándar de adopción del contribuyente"},
                       "tribute": {"id": 1, "code": "01", "name": "IVA"}, "total": 2_380_000,
                       "withholding_taxes": [{"tribute_code": "06", "name": "ReteRenta", "value": "80000.00",
                                              "rates": [{"code": "06", "name": "ReteRenta", "rate": "4.00"}]}],
                       "mandate": null}]
        }})
    }

    /// Factus v2's document of an invoice: net prices, taxes apart, codes (§7.5). Three units at
    /// 10.000 pesos IVA included (8.403,36 net) and one at 50.000 with 10 % off.
    fn v2_invoice() -> Value {
        let item = |code: &str, quantity: &str, price: &str, discount: &str, total: &str| {
            json!({"code_reference": code, "name": format!("Producto {code}"), "quantity": quantity,
                   "unit_measure": {"code": "94", "name": "unidad"},
                   "standard_code": {"code": "999", "name": "Estándar"}, "discount_rate": discount,
                   "price": price, "total": total,
                   "taxes": [{"tribute": {"code": "01", "name": "IVA"}, "is_excluded": false,
                              "rates": [{"taxable_amount": "0", "tax_amount": "0", "rate": "19.00"}]}],
                   "withholding_taxes": [], "mandate": null})
        };
        json!({"status": "OK", "message": "Solicitud exitosa", "data": {
            "number": "SETP990000002", "customer": {"identification": "900373115", "company": "Acme SAS"},
            "payment_details": [{"payment_method": {"code": "47", "name": "Transferencia"}}],
            "items": [item("A", "3.00", "8403.36", "0.00", "30000.00"), item("B", "1.00", "42016.81", "10.00", "45000.00")]
        }})
    }

    fn note_of(body: &Value) -> Note {
        parse_note(NoteKind::Credit, body).unwrap_or_else(|error| panic!("a valid credit note: {error:?}"))
    }

    #[test]
    fn a_v1_invoice_is_annulled_with_its_own_lines_under_concept_2() {
        let body = annulment_body("SETP990000001", &v1_invoice());
        assert_eq!(body["reference_code"], "ANUL-SETP990000001");
        assert_eq!(body["payment_method_code"], "10");
        assert_eq!(
            body["items"][0],
            json!({"code_reference": "P-001", "name": "Servicio de contabilidad", "quantity": 2,
                   "discount_rate": "0.00", "unit_measure_id": 70, "standard_code_id": 1, "tax_rate": "19.00",
                   "is_excluded": 0, "tribute_id": 1, "price": "1190000.00",
                   "withholding_taxes": [{"code": "06", "withholding_tax_rate": "4.00"}]})
        );
        let note = note_of(&body);
        assert!(note.is_annulment());
        assert_eq!(note.bill_number(), Some("SETP990000001"));
        assert_eq!(note.customer(), None, "Factus uses the invoice's customer");
        assert_eq!(note.total().amount(), dec("2380000.00"));
    }

    #[test]
    fn a_v2_invoice_gets_its_tax_inclusive_prices_back_from_its_line_totals() {
        let body = annulment_body("SETP990000002", &v2_invoice());
        assert_eq!(body["payment_method_code"], "47");
        let items = &body["items"];
        assert_eq!((items[0]["quantity"].clone(), items[0]["price"].clone()), (json!(3), json!("10000.00")));
        assert_eq!((items[1]["quantity"].clone(), items[1]["price"].clone()), (json!(1), json!("50000.00")));
        assert_eq!(items[0]["unit_measure_code"], "94");
        assert_eq!(items[0]["tribute_code"], "01");
        assert_eq!(items[0]["is_excluded"], 0);
        let note = note_of(&body);
        assert_eq!(note.total().amount(), dec("75000.00"), "the invoice's own total");
    }

    #[test]
    fn a_line_factus_did_not_show_whole_is_left_for_the_parser_to_name() {
        let mut invoice = v1_invoice();
        invoice["data"]["items"][0].as_object_mut().expect("an item").remove("price");
        let body = annulment_body("SETP990000001", &invoice);
        let refused = parse_note(NoteKind::Credit, &body).expect_err("no price");
        assert!(format!("{refused:?}").contains("price"), "{refused:?}");
        // No lines at all: the note's own rule says so.
        let body = annulment_body("SETP990000001", &json!({"data": {}}));
        assert!(parse_note(NoteKind::Credit, &body).is_err());
    }

    #[test]
    fn the_key_and_the_reference_are_the_invoices() {
        assert_eq!(annulment_key("SETP990000001").expect("a key").as_str(), "console-annulment-SETP990000001");
        assert_eq!(annulment_reference("SETP990000001"), "ANUL-SETP990000001");
        assert_eq!(tax_inclusive_price(Some(dec("100")), Some(dec("1")), Some(dec("100"))), None);
    }
}
