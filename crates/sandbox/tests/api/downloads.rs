//! Credit-note downloads carry what the invoice's do: number, CUDE, totals, the customer and the
//! corrected invoice.

use serde_json::json;

use crate::common::{decoded, spawn, xml_of};

#[tokio::test]
async fn a_credit_note_pdf_and_xml_show_its_cude_totals_customer_and_the_corrected_invoice() {
    let t = spawn().await;
    let bill = t.create_bill("DL-1").await;
    let note = json!({
        "numbering_range_id": 9, "correction_concept_code": 1, "customization_id": 20,
        "bill_id": bill["data"]["bill"]["id"], "reference_code": "NC-DL-1", "payment_method_code": "10",
        "items": [{
            "code_reference": "P-1", "name": "Producto uno", "quantity": 1, "discount_rate": 0,
            "price": "100.50", "tax_rate": "19.00", "unit_measure_id": 70, "standard_code_id": 1,
            "is_excluded": 0, "tribute_id": 1
        }]
    });
    let created = t.post_created("/v1/credit-notes/validate", &note).await;
    let cude = created["data"]["credit_note"]["cude"].as_str().unwrap();
    let cufe = bill["data"]["bill"]["cufe"].as_str().unwrap();

    let pdf = t.get_ok("/v1/credit-notes/download-pdf/NC1").await;
    let bytes = decoded(&pdf, "pdf_base_64_encoded");
    assert!(bytes.starts_with(b"%PDF-1.") && bytes.ends_with(b"%%EOF\n"));
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("NC1"));
    assert!(text.contains(cude), "CUDE printed");
    assert!(text.contains("SETP990000001"), "corrected invoice printed");
    assert!(text.contains("Juana P"), "customer printed");
    assert!(text.contains("Total: 100.50"));

    let xml = t.get_ok("/v1/credit-notes/download-xml/NC1").await;
    let text = xml_of(&xml);
    let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
    let first = |name: &str| doc.descendants().find(|n| n.tag_name().name() == name).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "CreditNote");
    assert_eq!(first("CreditNoteTypeCode").text(), Some("91"));
    assert_eq!(first("UUID").attribute("schemeName"), Some("CUDE-SHA384"));
    assert_eq!(first("UUID").text(), Some(cude));
    assert_eq!(first("PayableAmount").text(), Some("100.50"));
    assert_eq!(first("CreditedQuantity").text(), Some("1"));
    assert_eq!(first("ResponseCode").text(), Some("1"), "correction concept");
    let reference = first("InvoiceDocumentReference");
    let invoice_uuid = reference.descendants().find(|n| n.tag_name().name() == "UUID").and_then(|n| n.text());
    assert_eq!(invoice_uuid, Some(cufe));
}
