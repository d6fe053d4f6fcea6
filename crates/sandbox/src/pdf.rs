//! A hand-written PDF 1.4 (Helvetica text lines, WinAnsi encoding, exact xref offsets): the
//! graphic representation of a document. Small and valid; no PDF library needed.

use crate::model::{DocKind, Document};
use crate::ranges::{Company, RangeMeta};
use crate::render::{money, timestamp};

/// One line of text.
struct Line {
    text: String,
    size: u8,
    bold: bool,
}

const PAGE_WIDTH: u32 = 612;
const PAGE_HEIGHT: u32 = 792;
const MARGIN: u32 = 50;

fn line(lines: &mut Vec<Line>, size: u8, bold: bool, text: impl Into<String>) {
    lines.push(Line { text: text.into(), size, bold });
}

/// The PDF of a stored document.
pub(crate) fn document(doc: &Document, range: &RangeMeta) -> Vec<u8> {
    let input = &doc.input;
    let totals = &doc.totals;
    let mut l = Vec::new();
    let title = match doc.kind {
        DocKind::Bill => "FACTURA ELECTRÓNICA DE VENTA",
        DocKind::CreditNote => "NOTA CRÉDITO ELECTRÓNICA",
        DocKind::SupportDocument => "DOCUMENTO SOPORTE EN ADQUISICIONES A NO OBLIGADOS A FACTURAR",
        DocKind::DebitNote => "NOTA DÉBITO ELECTRÓNICA",
    };
    line(&mut l, 16, true, title);
    line(&mut l, 12, true, format!("No. {}", doc.number));
    line(&mut l, 10, false, "");
    line(&mut l, 10, true, Company::NAME);
    line(
        &mut l,
        9,
        false,
        format!("NIT {}-{}  ·  {}  ·  {}", Company::NIT, Company::DV, Company::ADDRESS, Company::MUNICIPALITY),
    );
    if let Some(resolution) = &range.resolution_number {
        line(
            &mut l,
            8,
            false,
            format!(
                "Resolución DIAN {resolution} del {} · prefijo {} del {} al {}",
                range.start_date, range.prefix, range.from, range.to
            ),
        );
    }
    line(&mut l, 9, false, format!("Fecha de emisión: {}", timestamp(doc.created_at)));
    line(&mut l, 9, false, format!("Código de referencia: {}", doc.reference_code));
    if let Some(bill) = &doc.bill {
        line(&mut l, 9, false, format!("Factura referenciada: {} (CUFE {})", bill.number, bill.cufe));
    }
    line(&mut l, 10, false, "");
    let customer = &input.customer;
    line(&mut l, 10, true, if doc.kind == DocKind::SupportDocument { "Proveedor" } else { "Adquiriente" });
    line(&mut l, 9, false, customer.display_name());
    let dv = customer.dv.as_deref().map(|d| format!("-{d}")).unwrap_or_default();
    line(&mut l, 9, false, format!("Identificación: {}{dv}", customer.identification));
    if let Some(email) = &customer.contact.email {
        line(&mut l, 9, false, format!("Correo: {email}"));
    }
    if let Some(address) = &customer.contact.address {
        line(&mut l, 9, false, format!("Dirección: {address}"));
    }
    line(&mut l, 10, false, "");
    line(&mut l, 10, true, "Detalle");
    for (i, (item, figures)) in input.items.iter().zip(&totals.lines).enumerate() {
        line(
            &mut l,
            9,
            false,
            format!(
                "{}. [{}] {}  ·  {} x {}  ·  desc. {}%  ·  impuesto {}%  ·  total {}",
                i + 1,
                item.code_reference,
                item.name,
                item.quantity,
                money(item.price),
                money(item.discount_rate),
                money(figures.tax_rate),
                money(figures.total)
            ),
        );
    }
    line(&mut l, 10, false, "");
    line(&mut l, 10, true, "Totales");
    line(&mut l, 9, false, format!("Valor bruto: {}", money(totals.gross_value)));
    line(&mut l, 9, false, format!("Descuentos: {}", money(totals.discount_amount)));
    line(&mut l, 9, false, format!("Impuestos: {}", money(totals.tax_amount)));
    line(&mut l, 9, false, format!("Recargos: {}", money(totals.surcharge_amount)));
    for w in &totals.withholdings {
        line(&mut l, 9, false, format!("{}: {}", w.name, money(w.value)));
    }
    line(&mut l, 11, true, format!("Total: {}", money(totals.total)));
    line(&mut l, 10, false, "");
    let status = if doc.status == 1 { "Validado por la DIAN" } else { "Pendiente de validación por la DIAN" };
    line(&mut l, 9, false, format!("Estado: {status}"));
    let key_name = match doc.kind {
        DocKind::Bill => "CUFE",
        DocKind::CreditNote | DocKind::DebitNote => "CUDE",
        DocKind::SupportDocument => "CUDS",
    };
    line(&mut l, 9, true, format!("{key_name}:"));
    line(&mut l, 7, false, doc.key.clone());
    // The full QR URL is wider than the page; its host and the key above are what matter.
    line(&mut l, 7, false, "Consulte el documento en catalogo-vpfe-hab.dian.gov.co (searchqr) con el código anterior.");
    line(&mut l, 10, false, "");
    line(&mut l, 7, false, "Documento generado por factus-sandbox: simulación de pruebas sin validez legal.");
    render(&l)
}

/// Encodes text for a PDF string in WinAnsi (Latin-1 range; anything else becomes `?`).
fn pdf_string(text: &str, out: &mut Vec<u8>) {
    out.push(b'(');
    for c in text.chars() {
        let code = u32::from(c);
        let byte = match c {
            '·' => 0xB7,
            '(' | ')' | '\\' => {
                out.push(b'\\');
                c as u8
            }
            _ if (0x20..0x7F).contains(&code) || (0xA0..=0xFF).contains(&code) => code as u8,
            _ => b'?',
        };
        out.push(byte);
    }
    out.push(b')');
}

/// Lays lines out on as many Letter pages as needed and writes the file.
fn render(lines: &[Line]) -> Vec<u8> {
    // Split into pages by height.
    let mut pages: Vec<Vec<u8>> = Vec::new();
    let mut content = Vec::new();
    let mut y = PAGE_HEIGHT - MARGIN;
    for line in lines {
        let step = u32::from(line.size) + 5;
        if y < MARGIN + step {
            pages.push(std::mem::take(&mut content));
            y = PAGE_HEIGHT - MARGIN;
        }
        y -= step;
        if line.text.is_empty() {
            continue;
        }
        let font = if line.bold { "F2" } else { "F1" };
        content.extend_from_slice(format!("BT /{font} {} Tf {MARGIN} {y} Td ", line.size).as_bytes());
        pdf_string(&line.text, &mut content);
        content.extend_from_slice(b" Tj ET\n");
    }
    pages.push(content);

    // Objects: 1 catalog, 2 page tree, 3 Helvetica, 4 Helvetica-Bold, then page + content pairs.
    let page_count = pages.len();
    let kids: Vec<String> = (0..page_count).map(|i| format!("{} 0 R", 5 + 2 * i)).collect();
    let mut objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        format!("<< /Type /Pages /Kids [{}] /Count {page_count} >>", kids.join(" ")).into_bytes(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_vec(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>".to_vec(),
    ];
    for (i, stream) in pages.into_iter().enumerate() {
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] \
                 /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {} 0 R >>",
                6 + 2 * i
            )
            .into_bytes(),
        );
        let mut body = format!("<< /Length {} >>\nstream\n", stream.len()).into_bytes();
        body.extend_from_slice(&stream);
        body.extend_from_slice(b"\nendstream");
        objects.push(body);
    }

    let mut out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(object);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
        haystack.windows(needle.len()).position(|w| w == needle)
    }

    /// Checks the structure a viewer relies on: header, xref offsets, startxref, trailer.
    fn assert_well_formed(pdf: &[u8]) {
        assert!(pdf.starts_with(b"%PDF-1.4"));
        assert!(pdf.ends_with(b"%%EOF\n"));
        let marker = pdf.windows(10).rposition(|w| w == b"startxref\n").expect("startxref");
        let tail = std::str::from_utf8(&pdf[marker..]).expect("ASCII trailer");
        let startxref: usize = tail.lines().nth(1).and_then(|n| n.parse().ok()).expect("startxref");
        assert!(pdf[startxref..].starts_with(b"xref\n"));
        let table = std::str::from_utf8(&pdf[startxref..]).expect("ASCII xref");
        let mut rows = table.lines().skip(1);
        let count: usize =
            rows.next().and_then(|h| h.split(' ').nth(1)).and_then(|n| n.parse().ok()).expect("xref header");
        let rows: Vec<&str> = rows.take(count).collect();
        assert_eq!(rows[0], "0000000000 65535 f ");
        for (object, row) in rows.iter().enumerate().skip(1) {
            assert_eq!(row.len(), 19, "xref rows are 20 bytes with the newline");
            let offset: usize = row[..10].parse().unwrap();
            let expected = format!("{object} 0 obj");
            assert!(pdf[offset..].starts_with(expected.as_bytes()), "object {object} offset");
        }
        // Stream lengths match.
        let mut rest = pdf;
        while let Some(at) = find(rest, b"/Length ") {
            let tail = &rest[at + 8..];
            let digits = tail.iter().take_while(|b| b.is_ascii_digit()).count();
            let length: usize = std::str::from_utf8(&tail[..digits]).unwrap().parse().unwrap();
            let start = find(tail, b"stream\n").unwrap() + 7;
            assert_eq!(&tail[start + length..start + length + 10], b"\nendstream");
            rest = &tail[start + length..];
        }
    }

    #[test]
    fn a_short_document_is_a_well_formed_single_page_pdf() {
        let lines = vec![
            Line { text: "Hola (mundo) \\ ñandú".into(), size: 12, bold: true },
            Line { text: "segunda línea".into(), size: 9, bold: false },
        ];
        let pdf = render(&lines);
        assert_well_formed(&pdf);
        assert!(find(&pdf, b"/Count 1").is_some());
        assert!(find(&pdf, b"(Hola \\(mundo\\) \\\\ \xF1and\xFA)").is_some());
    }

    #[test]
    fn long_documents_flow_onto_more_pages() {
        let lines: Vec<Line> = (0..200).map(|i| Line { text: format!("línea {i}"), size: 9, bold: false }).collect();
        let pdf = render(&lines);
        assert_well_formed(&pdf);
        // 9 pt lines step 14 pt: 49 lines fit between the margins of a Letter page.
        assert!(find(&pdf, b"/Count 5").is_some());
    }
}
