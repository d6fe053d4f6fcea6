//! Numbering ranges and the issuing company: the fixed part of the sandbox account.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A numbering range of the account; its `current` counter lives in the store. Ranges can be
/// created, moved and deleted at run time (deleted ones stay, marked, so their documents still
/// render).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RangeMeta {
    pub id: u64,
    /// Range document code (§6.10): `21` invoices, `22` credit notes, `24` support documents…
    pub document_code: String,
    pub document_name: String,
    pub prefix: String,
    pub from: u64,
    pub to: u64,
    /// Number the first document takes.
    pub first: u64,
    pub resolution_number: Option<String>,
    pub start_date: String,
    pub end_date: String,
    pub technical_key: Option<String>,
    pub is_active: bool,
    pub created_at: String,
    pub updated_at: String,
    /// Set when the range was deleted: it is no longer listed, shown or usable.
    #[serde(default)]
    pub deleted_at: Option<String>,
}

/// DIAN's public test technical key of the habilitation range `SETP` 990000000–995000000.
pub(crate) const TECHNICAL_KEY: &str = "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c";

/// Software PIN used for CUDE (credit notes) and CUDS (support documents) in the sandbox.
pub(crate) const SOFTWARE_PIN: &str = "12345";

const RANGE_TIMESTAMP: &str = "2023-06-01T08:00:38Z";

/// Numbering-range document codes and names (§6.10).
pub(crate) const RANGE_DOCUMENTS: [(&str, &str); 9] = [
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

/// A range DIAN authorised for the software (`GET /v1/numbering-ranges/dian`): what a new range
/// with a resolution number is created from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DianRange {
    pub resolution_number: &'static str,
    pub prefix: &'static str,
    pub from: u64,
    pub to: u64,
    pub start_date: &'static str,
    pub end_date: &'static str,
    pub technical_key: &'static str,
}

/// The software's DIAN ranges: the two in use, a new resolution nobody loaded yet (`FE`) and an
/// expired one (`SETT`), so clients can load a resolution and see an expired range.
pub(crate) const DIAN_RANGES: [DianRange; 4] = [
    DianRange {
        resolution_number: "18760000001",
        prefix: "SETP",
        from: 990_000_000,
        to: 995_000_000,
        start_date: "2019-01-19",
        end_date: "2030-01-19",
        technical_key: TECHNICAL_KEY,
    },
    DianRange {
        resolution_number: "18760000002",
        prefix: "SEDS",
        from: 984_000_000,
        to: 985_000_000,
        start_date: "2019-01-19",
        end_date: "2030-01-19",
        technical_key: "6d1e3c2b4a5f60718293a4b5c6d7e8f901a2b3c4",
    },
    DianRange {
        resolution_number: "18764000001",
        prefix: "FE",
        from: 1,
        to: 5000,
        start_date: "2026-01-01",
        end_date: "2036-01-01",
        technical_key: "0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c",
    },
    DianRange {
        resolution_number: "18760000003",
        prefix: "SETT",
        from: 1,
        to: 1000,
        start_date: "2020-01-01",
        end_date: "2021-01-01",
        technical_key: "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432",
    },
];

impl DianRange {
    /// Item of `GET /v1/numbering-ranges/dian` (`from`/`to` are strings there).
    pub fn json(&self) -> Value {
        json!({
            "resolution_number": self.resolution_number,
            "prefix": self.prefix,
            "from": self.from.to_string(),
            "to": self.to.to_string(),
            "start_date": self.start_date,
            "end_date": self.end_date,
            "technical_key": self.technical_key,
        })
    }
}

fn fixed(
    id: u64,
    code: &str,
    prefix: &str,
    (from, to, first): (u64, u64, u64),
    resolution_number: Option<&str>,
    technical_key: Option<&str>,
) -> RangeMeta {
    RangeMeta {
        id,
        document_code: code.into(),
        document_name: range_document_name(code).unwrap_or_default().into(),
        prefix: prefix.into(),
        from,
        to,
        first,
        resolution_number: resolution_number.map(Into::into),
        start_date: "2019-01-19".into(),
        end_date: "2030-01-19".into(),
        technical_key: technical_key.map(Into::into),
        is_active: true,
        created_at: RANGE_TIMESTAMP.into(),
        updated_at: RANGE_TIMESTAMP.into(),
        deleted_at: None,
    }
}

/// The name of a range document code.
pub(crate) fn range_document_name(code: &str) -> Option<&'static str> {
    RANGE_DOCUMENTS.iter().find(|(c, _)| *c == code).map(|(_, name)| *name)
}

/// The ranges of the sandbox account (ids as in the v1 challenge account: 8 and 9; 10 for support
/// documents).
pub(crate) fn default_ranges() -> Vec<RangeMeta> {
    vec![
        fixed(8, "21", "SETP", (990_000_000, 995_000_000, 990_000_001), Some("18760000001"), Some(TECHNICAL_KEY)),
        fixed(9, "22", "NC", (1, 99_999_999, 1), None, None),
        fixed(
            10,
            "24",
            "SEDS",
            (984_000_000, 985_000_000, 984_000_001),
            Some("18760000002"),
            Some(DIAN_RANGES[1].technical_key),
        ),
    ]
}

/// Today in Colombia, `YYYY-MM-DD`.
pub(crate) fn today() -> String {
    time::OffsetDateTime::now_utc().to_offset(crate::render::COLOMBIA).date().to_string()
}

impl RangeMeta {
    /// Its authorisation has ended.
    pub fn is_expired(&self) -> bool {
        self.end_date < today()
    }

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
            "is_expired": self.is_expired(),
            "is_active": i32::from(self.is_active),
            "deleted_at": self.deleted_at,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
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
            "is_expired": self.is_expired(),
            "is_active": i32::from(self.is_active),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }

    /// The `numbering_range` block inside a document (dates `DD-MM-YYYY`).
    pub fn document_json(&self) -> Value {
        json!({
            "prefix": self.prefix,
            "from": self.from,
            "to": self.to,
            "resolution_number": self.resolution_number,
            "start_date": dmy(&self.start_date),
            "end_date": dmy(&self.end_date),
            "months": months_between(&self.start_date, &self.end_date),
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
}

/// Fiscal responsibilities (v1 ids are the 1-based positions).
pub(crate) const RESPONSIBILITIES: [(&str, &str); 5] = [
    ("O-13", "Gran contribuyente"),
    ("O-15", "Autorretenedor"),
    ("O-23", "Agente de retención IVA"),
    ("O-47", "Régimen simple de tributación"),
    ("R-99-PN", "No aplica - Otros"),
];

/// A logo uploaded with `POST /v1/company/logo`, served at its `url_logo`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Logo {
    pub file: String,
    pub content_type: &'static str,
    pub bytes: axum::body::Bytes,
}

/// The editable profile of the issuing company (`GET`/`PUT /v1/company`). The NIT and DV are the
/// account's identity and never change; documents keep printing the fixed [`Company`] block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CompanyProfile {
    pub url_logo: Option<String>,
    pub company: Option<String>,
    pub trade_name: Option<String>,
    pub names: Option<String>,
    pub surnames: Option<String>,
    pub registration_code: Option<String>,
    pub economic_activity: String,
    pub phone: String,
    pub email: String,
    pub address: String,
    pub tribute_code: String,
    pub legal_organization_code: String,
    /// DANE code of the municipality.
    pub municipality_code: String,
    /// Fiscal responsibility codes (`O-13`, …).
    pub responsibilities: Vec<String>,
    pub updated_at: String,
    /// Not saved in the state file: after a restart `url_logo` still names it but it is not served.
    #[serde(skip)]
    pub logo: Option<Logo>,
}

impl Default for CompanyProfile {
    fn default() -> Self {
        Self {
            url_logo: None,
            company: Some(Company::NAME.into()),
            trade_name: Some("FACTUS SANDBOX".into()),
            names: None,
            surnames: None,
            registration_code: Some("0000000".into()),
            economic_activity: "6201".into(),
            phone: Company::PHONE.into(),
            email: Company::EMAIL.into(),
            address: Company::ADDRESS.into(),
            tribute_code: "01".into(),
            legal_organization_code: "1".into(),
            municipality_code: "11001".into(),
            responsibilities: vec!["O-13".into()],
            updated_at: RANGE_TIMESTAMP.into(),
            logo: None,
        }
    }
}

impl CompanyProfile {
    /// The name the company is printed with.
    pub fn display_name(&self) -> String {
        match (&self.company, &self.names) {
            (Some(company), _) => company.clone(),
            (None, Some(names)) => {
                format!("{names} {}", self.surnames.as_deref().unwrap_or_default()).trim().to_owned()
            }
            (None, None) => Company::NAME.into(),
        }
    }

    /// `GET /v1/company`.
    pub fn show_json(&self, catalog: &crate::catalog::Catalog) -> Value {
        let municipality = catalog.municipalities.iter().find(|m| m.code == self.municipality_code).map_or(
            Value::Null,
            |m| json!({"code": m.code, "name": m.name, "department": {"code": m.department.code, "name": m.department.name}}),
        );
        let code_name = |table: &[(&str, &str)], code: &str| {
            table.iter().find(|(c, _)| *c == code).map_or(Value::Null, |(c, n)| json!({"code": c, "name": n}))
        };
        json!({
            "url_logo": self.url_logo,
            "nit": Company::NIT,
            "dv": Company::DV,
            "company": self.company,
            "trade_name": self.trade_name,
            "names": self.names,
            "surnames": self.surnames,
            "graphic_representation_name": self.display_name(),
            "registration_code": self.registration_code,
            "economic_activity": self.economic_activity,
            "phone": self.phone,
            "email": self.email,
            "address": self.address,
            "tribute": code_name(&[("01", "IVA"), ("ZZ", "No aplica")], &self.tribute_code),
            "legal_organization": code_name(&[("1", "Persona Jurídica"), ("2", "Persona Natural")],
                                            &self.legal_organization_code),
            "municipality": municipality,
            "responsibilities": self.responsibilities.iter().map(|c| code_name(&RESPONSIBILITIES, c)).collect::<Vec<_>>(),
            "created_at": RANGE_TIMESTAMP,
            "updated_at": self.updated_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_range_block_uses_day_first_dates_and_counts_months() {
        let range = &default_ranges()[0];
        assert!(!range.is_expired());
        let block = range.document_json();
        assert_eq!(block["start_date"], "19-01-2019");
        assert_eq!(block["months"], 132);
    }

    #[test]
    fn company_dv_is_the_check_digit_of_its_nit() {
        assert_eq!(crate::validate::nit_check_digit(Company::NIT).map(|d| d.to_string()).as_deref(), Some(Company::DV));
    }
}
