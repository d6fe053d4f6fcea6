//! Factus' reference catalogues and code tables: every entry with its Factus v1 id and its DIAN
//! code (what Factus v2 takes), so an invoice can be sent to either version
//! (`docs/ARCHITECTURE.md`, "Factus v1 and v2").
//!
//! - Municipalities, countries and units of measure are Factus' published catalogues, bundled in
//!   `crates/domain/data/*.tsv` (one entry a line, in the published order). Their v1 id is the
//!   entry's 1-based position in that order: municipality 169 is Bogotá (`11001`), unit 70 is
//!   `94` unidad, country 46 is `CO`.
//! - The small tables (identity documents, legal organizations, customer and product tributes,
//!   standard product codes) are Factus' reference tables, written out here.
//!
//! A code may appear under two ids (four units, product tribute `24`): looking up by code gives
//! the first.

use std::sync::LazyLock;

use thiserror::Error;

use crate::invoice::{FieldProblem, ViolationKind};

/// One entry of a catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Entry {
    id: i64,
    code: &'static str,
    name: &'static str,
    department: Option<(&'static str, &'static str)>,
    description: Option<&'static str>,
}

impl Entry {
    /// The Factus v1 id (`municipality_id`, `unit_measure_id`, …).
    #[must_use]
    pub fn id(&self) -> i64 {
        self.id
    }

    /// The DIAN code (`municipality_code`, `unit_measure_code`, … in Factus v2).
    #[must_use]
    pub fn code(&self) -> &'static str {
        self.code
    }

    #[must_use]
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// A municipality's department, `(code, name)`; `None` in every other catalogue.
    #[must_use]
    pub fn department(&self) -> Option<(&'static str, &'static str)> {
        self.department
    }

    /// A product tribute's long name (`Impuesto sobre la Ventas`); `None` elsewhere.
    #[must_use]
    pub fn description(&self) -> Option<&'static str> {
        self.description
    }
}

/// A catalogue: its entries, looked up by v1 id or by DIAN code.
#[derive(Debug)]
pub struct Catalog {
    /// What the catalogue holds, in Spanish, for messages (`municipios`).
    label: &'static str,
    entries: Vec<Entry>,
}

impl Catalog {
    /// Every entry, in the published order.
    #[must_use]
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry with this Factus v1 id.
    #[must_use]
    pub fn by_id(&self, id: i64) -> Option<&Entry> {
        self.entries.iter().find(|entry| entry.id == id)
    }

    /// The first entry with this DIAN code (exact match).
    #[must_use]
    pub fn by_code(&self, code: &str) -> Option<&Entry> {
        self.entries.iter().find(|entry| entry.code == code)
    }

    /// What the catalogue holds, in Spanish (`municipios`, `unidades de medida`).
    #[must_use]
    pub fn label(&self) -> &'static str {
        self.label
    }

    /// The entry with this v1 id.
    ///
    /// # Errors
    /// [`UnknownEntry`] naming the value, for an id the catalogue does not hold.
    pub fn resolve_id(&self, id: i64) -> Result<Entry, UnknownEntry> {
        self.by_id(id).copied().ok_or_else(|| UnknownEntry { value: id.to_string(), catalog: self.label })
    }

    /// The entry with this DIAN code.
    ///
    /// # Errors
    /// [`UnknownEntry`] naming the value, for a code the catalogue does not hold.
    pub fn resolve_code(&self, code: &str) -> Result<Entry, UnknownEntry> {
        self.by_code(code).copied().ok_or_else(|| UnknownEntry { value: format!("'{code}'"), catalog: self.label })
    }
}

/// A value (id or code) that is not in its catalogue. The message names the field and the value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{value} no existe en el catálogo de {catalog}")]
pub struct UnknownEntry {
    /// The value as the client wrote it (codes quoted).
    pub value: String,
    pub catalog: &'static str,
}

impl FieldProblem for UnknownEntry {
    fn kind(&self) -> ViolationKind {
        ViolationKind::NotPermitted
    }

    fn message_for(&self, field: &str) -> String {
        format!("{field} {self}")
    }
}

const MUNICIPALITIES_TSV: &str = include_str!("../data/municipalities.tsv");
const COUNTRIES_TSV: &str = include_str!("../data/countries.tsv");
const UNITS_TSV: &str = include_str!("../data/unit-measures.tsv");

/// Reads a bundled catalogue: `code<TAB>name[<TAB>department code<TAB>department name]` a line,
/// the v1 id being the line number.
fn positional(label: &'static str, text: &'static str) -> Catalog {
    let entries = text
        .lines()
        .filter(|line| !line.is_empty())
        .zip(1_i64..)
        .map(|(line, id)| {
            let mut columns = line.split('\t');
            let code = columns.next().unwrap_or_default();
            let name = columns.next().unwrap_or_default();
            let department = columns.next().zip(columns.next());
            Entry { id, code, name, department, description: None }
        })
        .collect();
    Catalog { label, entries }
}

fn table(label: &'static str, rows: &[(i64, &'static str, &'static str)]) -> Catalog {
    Catalog {
        label,
        entries: rows
            .iter()
            .map(|&(id, code, name)| Entry { id, code, name, department: None, description: None })
            .collect(),
    }
}

static MUNICIPALITIES: LazyLock<Catalog> = LazyLock::new(|| positional("municipios", MUNICIPALITIES_TSV));
static COUNTRIES: LazyLock<Catalog> = LazyLock::new(|| positional("países", COUNTRIES_TSV));
static UNIT_MEASURES: LazyLock<Catalog> = LazyLock::new(|| positional("unidades de medida", UNITS_TSV));
static IDENTIFICATION_DOCUMENTS: LazyLock<Catalog> = LazyLock::new(|| {
    table(
        "tipos de documento de identidad",
        &[
            (1, "11", "Registro civil"),
            (2, "12", "Tarjeta de identidad"),
            (3, "13", "Cédula de ciudadanía"),
            (4, "21", "Tarjeta de extranjería"),
            (5, "22", "Cédula de extranjería"),
            (6, "31", "NIT"),
            (7, "41", "Pasaporte"),
            (8, "42", "Documento de identificación extranjero"),
            (9, "47", "PEP"),
            (10, "50", "NIT otro país"),
            (11, "91", "NUIP"),
        ],
    )
});
static LEGAL_ORGANIZATIONS: LazyLock<Catalog> =
    LazyLock::new(|| table("tipos de organización", &[(1, "1", "Persona Jurídica"), (2, "2", "Persona Natural")]));
static CUSTOMER_TRIBUTES: LazyLock<Catalog> =
    LazyLock::new(|| table("tributos del cliente", &[(18, "01", "IVA"), (21, "ZZ", "No aplica")]));
static PRODUCT_TRIBUTES: LazyLock<Catalog> = LazyLock::new(|| Catalog {
    label: "tributos de productos",
    entries: [
        (1, "01", "IVA", "Impuesto sobre la Ventas"),
        (2, "02", "IC", "Impuesto al Consumo Departamental Nominal"),
        (3, "03", "ICA", "Impuesto de Industria, Comercio y Aviso"),
        (4, "04", "INC", "Impuesto Nacional al Consumo"),
        (5, "05", "ReteIVA", "Retención sobre el IVA"),
        (6, "06", "ReteRenta", "Retención sobre la renta"),
        (7, "07", "ReteICA", "Retención sobre el ICA"),
        (8, "08", "IC Porcentual", "Impuesto al Consumo Departamental Porcentual"),
        (9, "20", "FtoHorticultura", "Cuota de Fomento Hortifrutícola"),
        (10, "21", "Timbre", "Impuesto de Timbre"),
        (11, "22", "INC Bolsas", "Impuesto Nacional al Consumo de Bolsa Plástica"),
        (12, "23", "INCarbono", "Impuesto Nacional del Carbono"),
        (13, "24", "INCarbono", "Impuesto Nacional del Carbono"),
        (14, "24", "INCombustibles", "Impuesto Nacional a los Combustibles"),
        (15, "25", "Sobretasa Combustibles", "Sobretasa a los combustibles"),
        (16, "26", "Sordicom", "Contribución minoristas (Combustibles)"),
        (17, "30", "IC Datos", "Impuesto al Consumo de Datos"),
    ]
    .into_iter()
    .map(|(id, code, name, description)| Entry { id, code, name, department: None, description: Some(description) })
    .collect(),
});
static STANDARD_CODES: LazyLock<Catalog> = LazyLock::new(|| {
    table(
        "estándares de identificación del producto",
        &[
            (1, "999", "Estándar de adopción del contribuyente"),
            (2, "001", "UNSPSC"),
            (3, "020", "Partida Arancelaria"),
            (4, "010", "GTIN"),
        ],
    )
});

/// Colombian municipalities (1,122; DANE DIVIPOLA codes).
#[must_use]
pub fn municipalities() -> &'static Catalog {
    &MUNICIPALITIES
}

/// Countries (249; ISO 3166 alpha-2 codes).
#[must_use]
pub fn countries() -> &'static Catalog {
    &COUNTRIES
}

/// Units of measure (1,093; DIAN codes, `94` unidad).
#[must_use]
pub fn unit_measures() -> &'static Catalog {
    &UNIT_MEASURES
}

/// Identity document types (v1 3 = `13` cédula, 6 = `31` NIT).
#[must_use]
pub fn identification_documents() -> &'static Catalog {
    &IDENTIFICATION_DOCUMENTS
}

/// Legal organizations (1 jurídica, 2 natural; id and code are the same digit).
#[must_use]
pub fn legal_organizations() -> &'static Catalog {
    &LEGAL_ORGANIZATIONS
}

/// The customer's tribute (18 = `01` IVA, 21 = `ZZ` no aplica).
#[must_use]
pub fn customer_tributes() -> &'static Catalog {
    &CUSTOMER_TRIBUTES
}

/// A product's tribute (1 = `01` IVA, 4 = `04` INC, …); v2 writes the code in `taxes[].code`.
#[must_use]
pub fn product_tributes() -> &'static Catalog {
    &PRODUCT_TRIBUTES
}

/// Product identification standards (1 = `999` estándar del contribuyente).
#[must_use]
pub fn standard_codes() -> &'static Catalog {
    &STANDARD_CODES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_catalogues_hold_every_published_entry() {
        assert_eq!(municipalities().entries().len(), 1122);
        assert_eq!(countries().entries().len(), 249);
        assert_eq!(unit_measures().entries().len(), 1093);
        for catalog in [municipalities(), countries(), unit_measures()] {
            assert!(catalog.entries().iter().all(|entry| !entry.code().is_empty() && !entry.name().is_empty()));
        }
    }

    #[test]
    fn v1_ids_are_positions_in_the_published_lists() {
        let bogota = municipalities().by_id(169).unwrap();
        assert_eq!((bogota.code(), bogota.department().map(|(code, _)| code)), ("11001", Some("11")));
        assert_eq!(municipalities().by_id(980).unwrap().code(), "68679");
        assert_eq!(municipalities().by_id(80).unwrap().code(), "05001");
        assert_eq!(unit_measures().by_id(70).unwrap().code(), "94");
        assert_eq!(unit_measures().by_id(414).unwrap().code(), "KGM");
        assert_eq!(unit_measures().by_id(874).unwrap().code(), "GLL");
        assert_eq!(countries().by_id(46).unwrap().code(), "CO");
        assert_eq!(municipalities().by_code("68679").unwrap().id(), 980);
    }

    #[test]
    fn the_small_tables_pair_ids_with_dian_codes() {
        assert_eq!(identification_documents().by_id(6).unwrap().code(), "31");
        assert_eq!(identification_documents().by_code("13").unwrap().id(), 3);
        assert_eq!(customer_tributes().by_id(21).unwrap().code(), "ZZ");
        assert_eq!(product_tributes().by_id(4).unwrap().code(), "04");
        assert_eq!(standard_codes().by_code("999").unwrap().id(), 1);
        assert_eq!(legal_organizations().by_code("2").unwrap().id(), 2);
    }

    #[test]
    fn a_code_listed_twice_resolves_to_its_first_entry() {
        let first = unit_measures().by_code("MGM").unwrap();
        let twins: Vec<i64> =
            unit_measures().entries().iter().filter(|entry| entry.code() == "MGM").map(Entry::id).collect();
        assert_eq!(twins.len(), 2);
        assert_eq!(first.id(), twins[0]);
    }

    #[test]
    fn unknown_values_name_the_field_the_value_and_the_catalogue() {
        let error = municipalities().resolve_id(5000).unwrap_err();
        assert_eq!(error.message_for("municipality_id"), "municipality_id 5000 no existe en el catálogo de municipios");
        let error = unit_measures().resolve_code("70").unwrap_err();
        assert_eq!(
            error.message_for("unit_measure_code"),
            "unit_measure_code '70' no existe en el catálogo de unidades de medida"
        );
    }
}
