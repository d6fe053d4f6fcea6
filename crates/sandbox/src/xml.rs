//! A UBL 2.1 document in DIAN's shape (`Invoice` / `CreditNote` / `DebitNote`, and `Invoice` type `05` for a
//! support document, with the DIAN extensions block):
//! what `download-xml` returns. It is not signed.

use std::fmt::Write;

use crate::catalog::{Catalog, IDENTITY_DOCUMENTS, PRODUCT_TRIBUTES, by_id};
use crate::model::{DocKind, Document};
use crate::ranges::{Company, RangeMeta};
use crate::render::{COLOMBIA, issue_date, issue_time, money, qr_url};

/// Escapes text for element content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

/// One `PaymentMeans` per v2 `payment_details` entry, or v1's single form and method.
fn payment_means(doc: &Document) -> String {
    let means = |form: &str, method: &str, due: Option<&str>| {
        let due = due.map(|d| format!("<cbc:PaymentDueDate>{d}</cbc:PaymentDueDate>")).unwrap_or_default();
        format!(
            "  <cac:PaymentMeans><cbc:ID>{}</cbc:ID><cbc:PaymentMeansCode>{}</cbc:PaymentMeansCode>{due}</cac:PaymentMeans>\n",
            esc(form),
            esc(method)
        )
    };
    match &doc.v2 {
        Some(extras) => extras
            .payment_details
            .iter()
            .map(|p| means(&p.payment_form, &p.payment_method_code, p.due_date.as_deref()))
            .collect(),
        None => means(&doc.input.payment_form, &doc.input.payment_method_code, doc.input.payment_due_date.as_deref()),
    }
}

/// The XML of a stored document.
pub(crate) fn document(doc: &Document, range: &RangeMeta, catalog: &Catalog) -> String {
    let input = &doc.input;
    let totals = &doc.totals;
    let (root, namespace, type_tag, type_code, line_tag, quantity_tag, key_scheme) = match doc.kind {
        DocKind::Bill => (
            "Invoice",
            "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
            "InvoiceTypeCode",
            input.document.as_str(),
            "InvoiceLine",
            "InvoicedQuantity",
            "CUFE-SHA384",
        ),
        DocKind::SupportDocument => (
            "Invoice",
            "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
            "InvoiceTypeCode",
            "05",
            "InvoiceLine",
            "InvoicedQuantity",
            "CUDS-SHA384",
        ),
        DocKind::CreditNote => (
            "CreditNote",
            "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
            "CreditNoteTypeCode",
            "91",
            "CreditNoteLine",
            "CreditedQuantity",
            "CUDE-SHA384",
        ),
        DocKind::DebitNote => (
            "DebitNote",
            "urn:oasis:names:specification:ubl:schema:xsd:DebitNote-2",
            "DebitNoteTypeCode",
            "92",
            "DebitNoteLine",
            "DebitedQuantity",
            "CUDE-SHA384",
        ),
    };
    let mut x = String::with_capacity(8 * 1024);
    let _ = write!(
        x,
        r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<{root} xmlns="{namespace}" xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2" xmlns:ext="urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2" xmlns:sts="dian:gov:co:facturaelectronica:Structures-2-1" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
  <ext:UBLExtensions>
    <ext:UBLExtension>
      <ext:ExtensionContent>
        <sts:DianExtensions>
"#
    );
    if let Some(resolution) = &range.resolution_number {
        let _ = write!(
            x,
            r#"          <sts:InvoiceControl>
            <sts:InvoiceAuthorization>{resolution}</sts:InvoiceAuthorization>
            <sts:AuthorizationPeriod><cbc:StartDate>{}</cbc:StartDate><cbc:EndDate>{}</cbc:EndDate></sts:AuthorizationPeriod>
            <sts:AuthorizedInvoices><sts:Prefix>{}</sts:Prefix><sts:From>{}</sts:From><sts:To>{}</sts:To></sts:AuthorizedInvoices>
          </sts:InvoiceControl>
"#,
            range.start_date,
            range.end_date,
            esc(&range.prefix),
            range.from,
            range.to
        );
    }
    let _ = write!(
        x,
        r#"          <sts:InvoiceSource><cbc:IdentificationCode listAgencyID="6" listAgencyName="United Nations Economic Commission for Europe" listSchemeURI="urn:oasis:names:specification:ubl:codelist:gc:CountryIdentificationCode-2.1">CO</cbc:IdentificationCode></sts:InvoiceSource>
          <sts:SoftwareProvider><sts:ProviderID schemeAgencyID="195" schemeAgencyName="CO, DIAN (Dirección de Impuestos y Aduanas Nacionales)" schemeID="{dv}" schemeName="31">{nit}</sts:ProviderID><sts:SoftwareID schemeAgencyID="195">factus-sandbox</sts:SoftwareID></sts:SoftwareProvider>
          <sts:AuthorizationProvider><sts:AuthorizationProviderID schemeAgencyID="195" schemeID="4" schemeName="31">800197268</sts:AuthorizationProviderID></sts:AuthorizationProvider>
          <sts:QRCode>{qr}</sts:QRCode>
        </sts:DianExtensions>
      </ext:ExtensionContent>
    </ext:UBLExtension>
  </ext:UBLExtensions>
  <cbc:UBLVersionID>UBL 2.1</cbc:UBLVersionID>
  <cbc:CustomizationID>{customization}</cbc:CustomizationID>
  <cbc:ProfileID>DIAN 2.1: {profile}</cbc:ProfileID>
  <cbc:ProfileExecutionID>2</cbc:ProfileExecutionID>
  <cbc:ID>{number}</cbc:ID>
  <cbc:UUID schemeID="2" schemeName="{key_scheme}">{key}</cbc:UUID>
  <cbc:IssueDate>{date}</cbc:IssueDate>
  <cbc:IssueTime>{time}</cbc:IssueTime>
  <cbc:{type_tag}>{type_code}</cbc:{type_tag}>
"#,
        dv = Company::DV,
        nit = Company::NIT,
        qr = esc(&qr_url(&doc.key)),
        customization = match &input.credit_note {
            Some(c) => c.customization_id.as_str(),
            None => input.operation_type.as_str(),
        },
        profile = match doc.kind {
            DocKind::Bill => "Factura Electrónica de Venta",
            DocKind::CreditNote => "Nota Crédito de Factura Electrónica de Venta",
            DocKind::DebitNote => "Nota Débito de Factura Electrónica de Venta",
            DocKind::SupportDocument => "documento soporte en adquisiciones efectuadas a no obligados a facturar.",
        },
        number = esc(&doc.number),
        key = doc.key,
        date = issue_date(doc.created_at),
        time = issue_time(doc.created_at),
    );
    if let Some(observation) = &input.observation {
        let _ = writeln!(x, "  <cbc:Note>{}</cbc:Note>", esc(observation));
    }
    let _ = writeln!(x, "  <cbc:DocumentCurrencyCode>COP</cbc:DocumentCurrencyCode>");
    let _ = writeln!(x, "  <cbc:LineCountNumeric>{}</cbc:LineCountNumeric>", input.items.len());
    if let (Some(fields), Some(bill)) = (&input.credit_note, &doc.bill) {
        let _ = write!(
            x,
            r#"  <cac:DiscrepancyResponse><cbc:ReferenceID>{number}</cbc:ReferenceID><cbc:ResponseCode>{concept}</cbc:ResponseCode></cac:DiscrepancyResponse>
  <cac:BillingReference><cac:InvoiceDocumentReference><cbc:ID>{number}</cbc:ID><cbc:UUID schemeName="CUFE-SHA384">{cufe}</cbc:UUID><cbc:IssueDate>{date}</cbc:IssueDate></cac:InvoiceDocumentReference></cac:BillingReference>
"#,
            number = esc(&bill.number),
            concept = esc(&fields.correction_concept_code),
            cufe = bill.cufe,
            date = bill.issued_at.to_offset(COLOMBIA).date(),
        );
    }
    // The issuing company is the supplier of invoices and notes; on a support document the
    // provider is the supplier and the issuing company buys.
    let company_party = format!(
        r#"    <cbc:AdditionalAccountID>1</cbc:AdditionalAccountID>
    <cac:Party>
      <cac:PartyName><cbc:Name>{name}</cbc:Name></cac:PartyName>
      <cac:PartyTaxScheme><cbc:RegistrationName>{name}</cbc:RegistrationName><cbc:CompanyID schemeAgencyID="195" schemeID="{dv}" schemeName="31">{nit}</cbc:CompanyID><cac:TaxScheme><cbc:ID>01</cbc:ID><cbc:Name>IVA</cbc:Name></cac:TaxScheme></cac:PartyTaxScheme>
      <cac:Contact><cbc:Telephone>{phone}</cbc:Telephone><cbc:ElectronicMail>{email}</cbc:ElectronicMail></cac:Contact>
    </cac:Party>
"#,
        name = esc(Company::NAME),
        dv = Company::DV,
        nit = Company::NIT,
        phone = Company::PHONE,
        email = Company::EMAIL,
    );
    let customer = &input.customer;
    let scheme = by_id(&IDENTITY_DOCUMENTS, customer.identification_document_id).map_or("13", |(_, code, _)| code);
    let country = input.support_document.as_ref().map_or("CO", |s| s.country_code.as_str());
    let municipality = customer
        .municipality_id
        .and_then(|id| catalog.municipality(id))
        .map(|m| {
            format!(
                "<cac:PhysicalLocation><cac:Address><cbc:ID>{}</cbc:ID><cbc:CityName>{}</cbc:CityName><cbc:CountrySubentity>{}</cbc:CountrySubentity><cbc:CountrySubentityCode>{}</cbc:CountrySubentityCode><cac:AddressLine><cbc:Line>{}</cbc:Line></cac:AddressLine><cac:Country><cbc:IdentificationCode>{}</cbc:IdentificationCode></cac:Country></cac:Address></cac:PhysicalLocation>",
                m.code,
                esc(&m.name),
                esc(&m.department.name),
                m.department.code,
                esc(customer.contact.address.as_deref().unwrap_or_default()),
                esc(country),
            )
        })
        .unwrap_or_default();
    let counterpart_party = format!(
        r#"    <cbc:AdditionalAccountID>{legal}</cbc:AdditionalAccountID>
    <cac:Party>
      <cac:PartyName><cbc:Name>{name}</cbc:Name></cac:PartyName>
      {municipality}
      <cac:PartyTaxScheme><cbc:RegistrationName>{name}</cbc:RegistrationName><cbc:CompanyID schemeAgencyID="195"{dv} schemeName="{scheme}">{id}</cbc:CompanyID><cac:TaxScheme><cbc:ID>{tribute}</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
      <cac:Contact><cbc:ElectronicMail>{email}</cbc:ElectronicMail></cac:Contact>
    </cac:Party>
"#,
        legal = customer.legal_organization_id,
        name = esc(customer.display_name()),
        dv = customer.dv.as_deref().map(|d| format!(r#" schemeID="{d}""#)).unwrap_or_default(),
        id = esc(&customer.identification),
        tribute = if customer.tribute_id == 18 { "01" } else { "ZZ" },
        email = esc(customer.contact.email.as_deref().unwrap_or_default()),
    );
    let (supplier, buyer) = match doc.kind {
        DocKind::SupportDocument => (&counterpart_party, &company_party),
        DocKind::Bill | DocKind::CreditNote | DocKind::DebitNote => (&company_party, &counterpart_party),
    };
    let _ = write!(
        x,
        r#"  <cac:AccountingSupplierParty>
{supplier}  </cac:AccountingSupplierParty>
  <cac:AccountingCustomerParty>
{buyer}  </cac:AccountingCustomerParty>
{payment_means}"#,
        payment_means = payment_means(doc),
    );
    for (i, charge) in input.allowance_charges.iter().enumerate() {
        let _ = writeln!(
            x,
            r#"  <cac:AllowanceCharge><cbc:ID>{}</cbc:ID><cbc:ChargeIndicator>{}</cbc:ChargeIndicator><cbc:AllowanceChargeReason>{}</cbc:AllowanceChargeReason><cbc:Amount currencyID="COP">{}</cbc:Amount><cbc:BaseAmount currencyID="COP">{}</cbc:BaseAmount></cac:AllowanceCharge>"#,
            i + 1,
            charge.is_surcharge,
            esc(&charge.reason),
            money(charge.amount),
            money(charge.base_amount)
        );
    }
    for (code, amount) in &totals.taxes {
        let name = PRODUCT_TRIBUTES.iter().find(|t| t.code == code).map_or("IVA", |t| t.name);
        let _ = write!(
            x,
            r#"  <cac:TaxTotal><cbc:TaxAmount currencyID="COP">{amount}</cbc:TaxAmount>"#,
            amount = money(*amount)
        );
        // Each tax of each line (a v2 line may carry several); state saved before lines listed
        // their taxes falls back to the line's single tax.
        let subtotals = totals.lines.iter().flat_map(|l| {
            let single = [(l.tax_code.as_str(), l.taxable_amount, l.tax_amount, l.tax_rate)];
            let listed = l.taxes.iter().map(|t| (t.code.as_str(), t.taxable_amount, t.tax_amount, t.rate));
            if l.taxes.is_empty() { single.to_vec() } else { listed.collect() }
        });
        for (_, taxable, amount, rate) in subtotals.filter(|(c, ..)| c == code) {
            let _ = write!(
                x,
                r#"<cac:TaxSubtotal><cbc:TaxableAmount currencyID="COP">{}</cbc:TaxableAmount><cbc:TaxAmount currencyID="COP">{}</cbc:TaxAmount><cac:TaxCategory><cbc:Percent>{}</cbc:Percent><cac:TaxScheme><cbc:ID>{code}</cbc:ID><cbc:Name>{}</cbc:Name></cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal>"#,
                money(taxable),
                money(amount),
                money(rate),
                esc(name)
            );
        }
        x.push_str("</cac:TaxTotal>\n");
    }
    for w in &totals.withholdings {
        let _ = writeln!(
            x,
            r#"  <cac:WithholdingTaxTotal><cbc:TaxAmount currencyID="COP">{}</cbc:TaxAmount><cac:TaxSubtotal><cbc:TaxAmount currencyID="COP">{}</cbc:TaxAmount><cac:TaxCategory><cbc:Percent>{}</cbc:Percent><cac:TaxScheme><cbc:ID>{}</cbc:ID><cbc:Name>{}</cbc:Name></cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal></cac:WithholdingTaxTotal>"#,
            money(w.value),
            money(w.value),
            money(w.rate),
            esc(&w.code),
            esc(&w.name)
        );
    }
    let _ = write!(
        x,
        r#"  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="COP">{gross}</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="COP">{taxable}</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="COP">{inclusive}</cbc:TaxInclusiveAmount>
    <cbc:AllowanceTotalAmount currencyID="COP">{allowance}</cbc:AllowanceTotalAmount>
    <cbc:ChargeTotalAmount currencyID="COP">{charge}</cbc:ChargeTotalAmount>{rounding}
    <cbc:PayableAmount currencyID="COP">{total}</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
"#,
        gross = money(totals.gross_value),
        taxable = money(totals.taxable_amount),
        inclusive = money(totals.gross_value + totals.tax_amount),
        allowance = money(totals.allowance_amount),
        charge = money(totals.surcharge_amount),
        // v2's cash_rounding_amount, already part of the total.
        rounding = if totals.cash_rounding_amount.is_zero() {
            String::new()
        } else {
            format!(
                "\n    <cbc:PayableRoundingAmount currencyID=\"COP\">{}</cbc:PayableRoundingAmount>",
                money(totals.cash_rounding_amount)
            )
        },
        total = money(totals.total),
    );
    for (i, (item, line)) in input.items.iter().zip(&totals.lines).enumerate() {
        let unit = catalog.unit(item.unit_measure_id).map_or("94", |u| u.code.as_str());
        let _ = write!(
            x,
            r#"  <cac:{line_tag}>
    <cbc:ID>{n}</cbc:ID>
    <cbc:{quantity_tag} unitCode="{unit}">{quantity}</cbc:{quantity_tag}>
    <cbc:LineExtensionAmount currencyID="COP">{base}</cbc:LineExtensionAmount>
    <cac:AllowanceCharge><cbc:ID>1</cbc:ID><cbc:ChargeIndicator>false</cbc:ChargeIndicator><cbc:MultiplierFactorNumeric>{rate}</cbc:MultiplierFactorNumeric><cbc:Amount currencyID="COP">{discount}</cbc:Amount></cac:AllowanceCharge>
    <cac:TaxTotal><cbc:TaxAmount currencyID="COP">{tax}</cbc:TaxAmount><cac:TaxSubtotal><cbc:TaxableAmount currencyID="COP">{taxable}</cbc:TaxableAmount><cbc:TaxAmount currencyID="COP">{tax}</cbc:TaxAmount><cac:TaxCategory><cbc:Percent>{percent}</cbc:Percent><cac:TaxScheme><cbc:ID>{tax_code}</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal></cac:TaxTotal>
    <cac:Item><cbc:Description>{name}</cbc:Description><cac:StandardItemIdentification><cbc:ID>{code}</cbc:ID></cac:StandardItemIdentification></cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="COP">{price}</cbc:PriceAmount><cbc:BaseQuantity unitCode="{unit}">1</cbc:BaseQuantity></cac:Price>
  </cac:{line_tag}>
"#,
            n = i + 1,
            unit = esc(unit),
            quantity = item.quantity,
            base = money(line.base),
            rate = money(item.discount_rate),
            discount = money(line.discount),
            tax = money(line.tax_amount),
            taxable = money(line.taxable_amount),
            percent = money(line.tax_rate),
            tax_code = line.tax_code,
            name = esc(&item.name),
            code = esc(&item.code_reference),
            price = money(item.price),
        );
    }
    let _ = writeln!(x, "</{root}>");
    x
}
