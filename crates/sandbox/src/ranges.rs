//! Numbering ranges and the issuing company: the fixed part of the sandbox account.

use serde_json::{Value, json};

/// The static description of a numbering range; its `current` counter lives in the store.
#[derive(Debug, Clone)]
pub(crate) struct RangeMeta {
    pub id: u64,
    /// Range document code (§6.10): `21` invoices, `22` credit notes.
    pub document_code: &'static str,
    pub document_name: &'static str,
    pub prefix: &'static str,
    pub from: u64,
    pub to: u64,
    /// Number the first document takes.
    pub first: u64,
    pub resolution_number: Option<&'static str>,
    pub start_date: &'static str,
    pub end_date: &'static str,
    pub technical_key: Option<&'static str>,
    pub is_active: bool,
}

/// DIAN's public test technical key of the habilitation range `SETP` 990000000–995000000.
pub(crate) const TECHNICAL_KEY: &str = "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c";

/// Software PIN used for CUDE (credit notes) in the sandbox.
pub(crate) const SOFTWARE_PIN: &str = "12345";

/// The ranges of the sandbox account (ids as in the v1 challenge account: 8 and 9; 10 for support
/// documents).
pub(crate) fn default_ranges() -> Vec<RangeMeta> {
    vec![
        RangeMeta {
            id: 8,
            document_code: "21",
            document_name: "Factura de Venta",
            prefix: "SETP",
            from: 990_000_000,
            to: 995_000_000,
            first: 990_000_001,
            resolution_number: Some("18760000001"),
            start_date: "2019-01-19",
            end_date: "2030-01-19",
            technical_key: Some(TECHNICAL_KEY),
            is_active: true,
        },
        RangeMeta {
            id: 9,
            document_code: "22",
            document_name: "Nota Crédito",
            prefix: "NC",
            from: 1,
            to: 99_999_999,
            first: 1,
            resolution_number: None,
            start_date: "2019-01-19",
            end_date: "2030-01-19",
            technical_key: None,
            is_active: true,
        },
        RangeMeta {
            id: 10,
            document_code: "24",
            document_name: "Documento Soporte",
            prefix: "SEDS",
            from: 984_000_000,
            to: 985_000_000,
            first: 984_000_001,
            resolution_number: Some("18760000002"),
            start_date: "2019-01-19",
            end_date: "2030-01-19",
            technical_key: None,
            is_active: true,
        },
    ]
}

const RANGE_TIMESTAMP: &str = "2023-06-01T08:00:38Z";

impl RangeMeta {
    /// Item of `GET /v1/numbering-ranges` (`document` is the name).
    pub fn list_json(&self, current: u64) -> Value {
        json!({
            "id": self.id,
            "document": self.document_name,
            "prefix": self.prefix,
            "from": self.from,
            "to": self.to,
            "current": current,
            "resolution_number": self.resolution_number,
            "start_date": self.start_date,
            "end_date": self.end_date,
            "technical_key": self.technical_key,
            "is_expired": false,
            "is_active": i32::from(self.is_active),
            "deleted_at": null,
            "created_at": RANGE_TIMESTAMP,
            "updated_at": RANGE_TIMESTAMP,
        })
    }

    /// `GET /v1/numbering-ranges/{id}` (`document` is the code, plus `document_name`).
    pub fn show_json(&self, current: u64) -> Value {
        json!({
            "id": self.id,
            "document": self.document_code,
            "document_name": self.document_name,
            "prefix": self.prefix,
            "from": self.from,
            "to": self.to,
            "current": current,
            "resolution_number": self.resolution_number,
            "start_date": self.start_date,
            "end_date": self.end_date,
            "technical_key": self.technical_key,
            "is_expired": false,
            "is_active": i32::from(self.is_active),
            "created_at": RANGE_TIMESTAMP,
            "updated_at": RANGE_TIMESTAMP,
        })
    }

    /// The `numbering_range` block inside a document (dates `DD-MM-YYYY`).
    pub fn document_json(&self) -> Value {
        json!({
            "prefix": self.prefix,
            "from": self.from,
            "to": self.to,
            "resolution_number": self.resolution_number,
            "start_date": dmy(self.start_date),
            "end_date": dmy(self.end_date),
            "months": months_between(self.start_date, self.end_date),
        })
    }
}

/// `YYYY-MM-DD` → `DD-MM-YYYY`.
fn dmy(iso: &str) -> String {
    let mut parts = iso.split('-');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(y), Some(m), Some(d)) => format!("{d}-{m}-{y}"),
        _ => iso.to_owned(),
    }
}

fn months_between(start: &str, end: &str) -> i64 {
    let ym = |s: &str| -> i64 {
        let mut parts = s.split('-').map(|p| p.parse::<i64>().unwrap_or(0));
        let year = parts.next().unwrap_or(0);
        let month = parts.next().unwrap_or(0);
        year * 12 + month
    };
    ym(end) - ym(start)
}

/// The issuing company of the sandbox account.
pub(crate) struct Company;

impl Company {
    pub const NIT: &'static str = "900825759";
    pub const DV: &'static str = "7";
    pub const NAME: &'static str = "FACTUS SANDBOX S.A.S.";
    pub const ADDRESS: &'static str = "Calle 00 # 00-00";
    pub const PHONE: &'static str = "6010000000";
    pub const EMAIL: &'static str = "sandbox@factus.com.co";
    pub const MUNICIPALITY_ID: u64 = 169;
    pub const MUNICIPALITY: &'static str = "Bogotá, D.c.";

    /// The `company` block of a document.
    pub fn document_json() -> Value {
        json!({
            "url_logo": null,
            "nit": Self::NIT,
            "dv": Self::DV,
            "company": Self::NAME,
            "name": Self::NAME,
            "graphic_representation_name": Self::NAME,
            "registration_code": "0000000",
            "economic_activity": "6201",
            "phone": Self::PHONE,
            "email": Self::EMAIL,
            "direction": Self::ADDRESS,
            "municipality": Self::MUNICIPALITY,
        })
    }

    /// `GET /v1/company`.
    pub fn show_json() -> Value {
        json!({
            "url_logo": null,
            "nit": Self::NIT,
            "dv": Self::DV,
            "company": Self::NAME,
            "trade_name": "FACTUS SANDBOX",
            "names": null,
            "surnames": null,
            "graphic_representation_name": Self::NAME,
            "registration_code": "0000000",
            "economic_activity": "6201",
            "phone": Self::PHONE,
            "email": Self::EMAIL,
            "address": Self::ADDRESS,
            "tribute": {"code": "01", "name": "IVA"},
            "legal_organization": {"code": "1", "name": "Persona Jurídica"},
            "municipality": {"code": "11001", "name": Self::MUNICIPALITY,
                             "department": {"code": "11", "name": "Bogota- D.c."}},
            "responsibilities": [{"code": "O-13", "name": "Gran contribuyente"}],
            "created_at": RANGE_TIMESTAMP,
            "updated_at": RANGE_TIMESTAMP,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_range_block_uses_day_first_dates_and_counts_months() {
        let range = &default_ranges()[0];
        let block = range.document_json();
        assert_eq!(block["start_date"], "19-01-2019");
        assert_eq!(block["months"], 132);
    }

    #[test]
    fn company_dv_is_the_check_digit_of_its_nit() {
        assert_eq!(crate::validate::nit_check_digit(Company::NIT).map(|d| d.to_string()).as_deref(), Some(Company::DV));
    }
}
