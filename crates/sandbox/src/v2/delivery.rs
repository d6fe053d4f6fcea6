//! What v2 hands out besides the document itself: the DIAN `AttachedDocument` XML (the container
//! DIAN mails to the customer, with the document inside and the validation result), and the
//! e-mail content (subject and a ZIP of the PDF and the `AttachedDocument`).

use std::fmt::Write;

use crate::catalog::Catalog;
use crate::model::{DocKind, Document};
use crate::ranges::{Company, RangeMeta};
use crate::render::{file_name, issue_date, issue_time};
use crate::{pdf, xml};

/// The DIAN type code of a document family (`01` invoice, `91` credit note, `05` support).
fn type_code(doc: &Document) -> &str {
    match doc.kind {
        DocKind::Bill => doc.input.document.as_str(),
        DocKind::CreditNote => "91",
        DocKind::SupportDocument => "05",
        DocKind::DebitNote => "92",
    }
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The `AttachedDocument` of a stored document: DIAN's envelope carrying the document XML in a
/// CDATA section and, for a validated one, the application response (code `02` validated).
pub(crate) fn attached_document(doc: &Document, range: &RangeMeta, catalog: &Catalog) -> String {
    let inner = xml::document(doc, range, catalog);
    let customer = &doc.input.customer;
    let (date, time) = (issue_date(doc.created_at), issue_time(doc.created_at));
    let validated = doc.status == 1;
    let mut x = String::new();
    let _ = write!(
        x,
        r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<AttachedDocument xmlns="urn:oasis:names:specification:ubl:schema:xsd:AttachedDocument-2"
 xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
 xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:UBLVersionID>UBL 2.1</cbc:UBLVersionID>
  <cbc:CustomizationID>Documentos adjuntos</cbc:CustomizationID>
  <cbc:ProfileID>Factura Electrónica de Venta</cbc:ProfileID>
  <cbc:ProfileExecutionID>2</cbc:ProfileExecutionID>
  <cbc:ID>{number}</cbc:ID>
  <cbc:IssueDate>{date}</cbc:IssueDate>
  <cbc:IssueTime>{time}</cbc:IssueTime>
  <cbc:DocumentType>Contenedor de Factura Electrónica</cbc:DocumentType>
  <cbc:ParentDocumentID>{number}</cbc:ParentDocumentID>
  <cac:SenderParty>
    <cac:PartyTaxScheme>
      <cbc:RegistrationName>{company}</cbc:RegistrationName>
      <cbc:CompanyID schemeAgencyID="195" schemeID="{company_dv}" schemeName="31">{company_nit}</cbc:CompanyID>
    </cac:PartyTaxScheme>
  </cac:SenderParty>
  <cac:ReceiverParty>
    <cac:PartyTaxScheme>
      <cbc:RegistrationName>{customer_name}</cbc:RegistrationName>
      <cbc:CompanyID schemeAgencyID="195">{customer_id}</cbc:CompanyID>
    </cac:PartyTaxScheme>
  </cac:ReceiverParty>
  <cac:Attachment>
    <cac:ExternalReference>
      <cbc:MimeCode>text/xml</cbc:MimeCode>
      <cbc:EncodingCode>UTF-8</cbc:EncodingCode>
      <cbc:Description><![CDATA[{inner}]]></cbc:Description>
    </cac:ExternalReference>
  </cac:Attachment>
  <cac:ParentDocumentLineReference>
    <cbc:LineID>1</cbc:LineID>
    <cac:DocumentReference>
      <cbc:ID>{number}</cbc:ID>
      <cbc:UUID schemeName="{scheme}">{key}</cbc:UUID>
      <cbc:IssueDate>{date}</cbc:IssueDate>
      <cbc:DocumentType>ApplicationResponse</cbc:DocumentType>
      <cac:ResultOfVerification>
        <cbc:ValidatorID>Unidad Especial Dirección de Impuestos y Aduanas Nacionales</cbc:ValidatorID>
        <cbc:ValidationResultCode>{result}</cbc:ValidationResultCode>
        <cbc:ValidationDate>{date}</cbc:ValidationDate>
        <cbc:ValidationTime>{time}</cbc:ValidationTime>
      </cac:ResultOfVerification>
    </cac:DocumentReference>
  </cac:ParentDocumentLineReference>
</AttachedDocument>
"#,
        number = esc(&doc.number),
        company = esc(Company::NAME),
        company_dv = Company::DV,
        company_nit = Company::NIT,
        customer_name = esc(customer.display_name()),
        customer_id = esc(&customer.identification),
        // The inner document never contains `]]>`: every text in it is escaped.
        inner = inner,
        scheme = match doc.kind {
            DocKind::Bill => "CUFE-SHA384",
            DocKind::CreditNote | DocKind::DebitNote => "CUDE-SHA384",
            DocKind::SupportDocument => "CUDS-SHA384",
        },
        key = doc.key,
        result = if validated { "02" } else { "04" },
    );
    x
}

/// `data.subject` of `email-content`: `NIT;company;number;type code;company` (DIAN's pattern).
pub(crate) fn email_subject(doc: &Document) -> String {
    format!("{};{};{};{};{}", Company::NIT, Company::NAME, doc.number, type_code(doc), Company::NAME)
}

/// The ZIP mailed with a document: its PDF and its `AttachedDocument`.
pub(crate) fn email_zip(doc: &Document, range: &RangeMeta, catalog: &Catalog) -> Vec<u8> {
    let name = file_name(doc);
    let attached_name = format!("ad{}", name.get(2..).unwrap_or_default());
    zip(&[
        (format!("{name}.pdf"), pdf::document(doc, range)),
        (format!("{attached_name}.xml"), attached_document(doc, range, catalog).into_bytes()),
    ])
}

/// A ZIP archive of `files`, stored without compression (every reader opens it).
pub(crate) fn zip(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in files {
        let offset = u32::try_from(out.len()).unwrap_or(u32::MAX);
        let crc = crc32fast::hash(data);
        let size = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let name_len = u16::try_from(name.len()).unwrap_or(u16::MAX);
        // Local file header: version 2.0, flag bit 11 (UTF-8 names), method 0 (stored).
        out.extend_from_slice(&[0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 8, 0, 0, 0, 0, 0x21, 0]);
        for value in [crc, size, size] {
            out.extend_from_slice(&value.to_le_bytes());
        }
        out.extend_from_slice(&name_len.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        // Central directory entry for the same file.
        central.extend_from_slice(&[0x50, 0x4b, 0x01, 0x02, 20, 0, 20, 0, 0, 8, 0, 0, 0, 0, 0x21, 0]);
        for value in [crc, size, size] {
            central.extend_from_slice(&value.to_le_bytes());
        }
        central.extend_from_slice(&name_len.to_le_bytes());
        central.extend_from_slice(&[0; 12]);
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let central_offset = u32::try_from(out.len()).unwrap_or(u32::MAX);
    let central_size = u32::try_from(central.len()).unwrap_or(u32::MAX);
    let count = u16::try_from(files.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&central);
    out.extend_from_slice(&[0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0]);
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&central_size.to_le_bytes());
    out.extend_from_slice(&central_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zip_lists_its_files_with_their_sizes_and_crcs() {
        let files = vec![("a.txt".to_owned(), b"hola".to_vec()), ("b.xml".to_owned(), b"<x/>".to_vec())];
        let archive = zip(&files);
        assert!(archive.starts_with(b"PK\x03\x04"));
        // End of central directory: two entries.
        let end = archive.len() - 22;
        assert_eq!(&archive[end..end + 4], b"PK\x05\x06");
        assert_eq!(u16::from_le_bytes([archive[end + 10], archive[end + 11]]), 2);
        // First local header: CRC and size of "hola", then the name and the data.
        assert_eq!(u32::from_le_bytes(archive[14..18].try_into().unwrap()), crc32fast::hash(b"hola"));
        assert_eq!(u32::from_le_bytes(archive[18..22].try_into().unwrap()), 4);
        assert_eq!(&archive[30..35], b"a.txt");
        assert_eq!(&archive[35..39], b"hola");
    }
}
