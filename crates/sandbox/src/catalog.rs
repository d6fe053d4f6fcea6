//! Reference data: the published Factus catalogues (embedded from `data/*.json`) and the small
//! code tables of `docs/factus.md` §6.
//!
//! v1 ids of municipalities, countries and units are the 1-based positions in the catalogue files
//! (municipality 169 = Bogotá, unit 70 = `94` unidad, country 46 = `CO`).

use serde::Deserialize;
use serde_json::{Value, json};

const MUNICIPALITIES_JSON: &str = include_str!("../data/municipalities.json");
const COUNTRIES_JSON: &str = include_str!("../data/countries.json");
const UNITS_JSON: &str = include_str!("../data/unit-measures.json");

/// A `{code, name}` pair of a code table.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CodeName {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Municipality {
    pub code: String,
    pub name: String,
    pub department: CodeName,
}

#[derive(Deserialize)]
struct MunicipalityFile {
    municipalities: Vec<Municipality>,
}

#[derive(Deserialize)]
struct CountryFile {
    countries: Vec<CodeName>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UnitFile {
    unit_measures: Vec<CodeName>,
}

/// A v1 product tribute (`/v1/tributes/products`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tribute {
    pub id: u64,
    pub code: &'static str,
    pub name: &'static str,
    pub description: &'static str,
}

/// Product tributes, v1 id → DIAN code, as listed in `docs/factus.md` §6.4.
pub(crate) const PRODUCT_TRIBUTES: [Tribute; 17] = [
    t(1, "01", "IVA", "Impuesto sobre la Ventas"),
    t(2, "02", "IC", "Impuesto al Consumo Departamental Nominal"),
    t(3, "03", "ICA", "Impuesto de Industria, Comercio y Aviso"),
    t(4, "04", "INC", "Impuesto Nacional al Consumo"),
    t(5, "05", "ReteIVA", "Retención sobre el IVA"),
    t(6, "06", "ReteRenta", "Retención sobre la renta"),
    t(7, "07", "ReteICA", "Retención sobre el ICA"),
    t(8, "08", "IC Porcentual", "Impuesto al Consumo Departamental Porcentual"),
    t(9, "20", "FtoHorticultura", "Cuota de Fomento Hortifrutícola"),
    t(10, "21", "Timbre", "Impuesto de Timbre"),
    t(11, "22", "INC Bolsas", "Impuesto Nacional al Consumo de Bolsa Plástica"),
    t(12, "23", "INCarbono", "Impuesto Nacional del Carbono"),
    t(13, "24", "INCarbono", "Impuesto Nacional del Carbono"),
    t(14, "24", "INCombustibles", "Impuesto Nacional a los Combustibles"),
    t(15, "25", "Sobretasa Combustibles", "Sobretasa a los combustibles"),
    t(16, "26", "Sordicom", "Contribución minoristas (Combustibles)"),
    t(17, "30", "IC Datos", "Impuesto al Consumo de Datos"),
];

const fn t(id: u64, code: &'static str, name: &'static str, description: &'static str) -> Tribute {
    Tribute { id, code, name, description }
}

/// Customer tributes (v1 id, code, name): only 18 and 21 are documented.
pub(crate) const CUSTOMER_TRIBUTES: [(u64, &str, &str); 2] = [(18, "01", "IVA"), (21, "ZZ", "No aplica")];

/// Identity documents (v1 id, DIAN code, name), §6.1.
pub(crate) const IDENTITY_DOCUMENTS: [(u64, &str, &str); 11] = [
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
];

/// Legal organizations (v1 id = code), §6.2.
pub(crate) const LEGAL_ORGANIZATIONS: [(u64, &str, &str); 2] =
    [(1, "1", "Persona Jurídica"), (2, "2", "Persona Natural")];

/// Standard product codes (v1 id, code, name), §6.5.
pub(crate) const STANDARD_CODES: [(u64, &str, &str); 4] = [
    (1, "999", "Estándar de adopción del contribuyente"),
    (2, "001", "UNSPSC"),
    (3, "020", "Partida Arancelaria"),
    (4, "010", "GTIN"),
];

pub(crate) const PAYMENT_FORMS: [(&str, &str); 2] = [("1", "Pago de contado"), ("2", "Pago a crédito")];

pub(crate) const PAYMENT_METHODS: [(&str, &str); 10] = [
    ("10", "Efectivo"),
    ("42", "Consignación"),
    ("20", "Cheque"),
    ("47", "Transferencia"),
    ("71", "Bonos"),
    ("72", "Vales"),
    ("1", "Medio de pago no definido"),
    ("49", "Tarjeta Débito"),
    ("48", "Tarjeta Crédito"),
    ("ZZZ", "Otro"),
];

pub(crate) const INVOICE_DOCUMENTS: [(&str, &str); 2] =
    [("01", "Factura electrónica de Venta"), ("03", "Instrumento electrónico de transmisión - tipo 03")];

pub(crate) const OPERATION_TYPES: [(&str, &str); 3] = [("10", "Estándar"), ("11", "Mandatos"), ("12", "Transporte")];

pub(crate) const CORRECTION_CONCEPTS: [(&str, &str); 6] = [
    ("1", "Devolución parcial de los bienes y/o no aceptación parcial del servicio"),
    ("2", "Anulación de factura electrónica"),
    ("3", "Rebaja o descuento parcial o total"),
    ("4", "Ajuste de precio"),
    ("5", "Descuento comercial por pronto pago"),
    ("6", "Descuento comercial por volumen de ventas"),
];

pub(crate) const CREDIT_NOTE_CUSTOMIZATIONS: [(&str, &str); 2] =
    [("20", "Nota Crédito que referencia una factura electrónica"), ("22", "Nota Crédito sin referencia a facturas")];

/// Withholdings an item may declare (code, name), in v1 and v2 (`items.*.withholding_taxes.*.code`:
/// v2 documents `05` and `06`; `07` ReteICA is kept from v1).
pub(crate) const WITHHOLDINGS: [(&str, &str); 3] = [("05", "ReteIVA"), ("06", "ReteRenta"), ("07", "ReteICA")];

/// RADIAN events (§6.11).
pub(crate) const RADIAN_EVENTS: [(&str, &str); 5] = [
    ("030", "Acuse de recibo de Factura Electrónica de Venta"),
    ("031", "Reclamo de la Factura Electrónica de Venta"),
    ("032", "Recibo del bien y/o prestación del servicio"),
    ("033", "Aceptación expresa"),
    ("034", "Aceptación Tácita"),
];

/// The only allowance/charge concept Factus enables (`03`).
pub(crate) const SURCHARGE_CONCEPT: (&str, &str) = ("03", "Recargo condicionado");

/// Looks a `(code, name)` table up by code.
pub(crate) fn name_of(table: &[(&'static str, &'static str)], code: &str) -> Option<&'static str> {
    table.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// Looks an `(id, code, name)` table up by id.
pub(crate) fn by_id(table: &[(u64, &'static str, &'static str)], id: u64) -> Option<(u64, &'static str, &'static str)> {
    table.iter().copied().find(|(i, _, _)| *i == id)
}

/// The three large catalogues, parsed once.
#[derive(Debug)]
pub(crate) struct Catalog {
    pub municipalities: Vec<Municipality>,
    pub countries: Vec<CodeName>,
    pub units: Vec<CodeName>,
}

impl Catalog {
    /// Parses the embedded catalogue files.
    ///
    /// # Panics
    /// Never at run time: the files are compiled in and a unit test parses them.
    pub fn load() -> Self {
        let municipalities: MunicipalityFile =
            serde_json::from_str(MUNICIPALITIES_JSON).expect("embedded municipalities.json");
        let countries: CountryFile = serde_json::from_str(COUNTRIES_JSON).expect("embedded countries.json");
        let units: UnitFile = serde_json::from_str(UNITS_JSON).expect("embedded unit-measures.json");
        Self {
            municipalities: municipalities.municipalities,
            countries: countries.countries,
            units: units.unit_measures,
        }
    }

    /// Municipality by v1 id (1-based position).
    pub fn municipality(&self, id: u64) -> Option<&Municipality> {
        position(id).and_then(|i| self.municipalities.get(i))
    }

    /// Unit of measure by v1 id.
    pub fn unit(&self, id: u64) -> Option<&CodeName> {
        position(id).and_then(|i| self.units.get(i))
    }

    /// `/v1/municipalities` items whose name contains `filter` (accent- and case-insensitive).
    pub fn municipalities_json(&self, filter: Option<&str>) -> Value {
        let wanted = filter.map(fold);
        Value::Array(
            self.municipalities
                .iter()
                .enumerate()
                .filter(|(_, m)| wanted.as_deref().is_none_or(|w| fold(&m.name).contains(w)))
                .map(|(i, m)| json!({"id": i + 1, "code": m.code, "name": m.name, "department": m.department.name}))
                .collect(),
        )
    }

    /// `/v1/countries` items.
    pub fn countries_json(&self, filter: Option<&str>) -> Value {
        code_name_json(&self.countries, filter)
    }

    /// `/v1/measurement-units` items.
    pub fn units_json(&self, filter: Option<&str>) -> Value {
        code_name_json(&self.units, filter)
    }
}

/// `/v1/tributes/products` items.
pub(crate) fn tributes_json(filter: Option<&str>) -> Value {
    let wanted = filter.map(fold);
    Value::Array(
        PRODUCT_TRIBUTES
            .iter()
            .filter(|t| wanted.as_deref().is_none_or(|w| fold(t.name).contains(w)))
            .map(|t| json!({"id": t.id, "code": t.code, "name": t.name, "description": t.description}))
            .collect(),
    )
}

fn code_name_json(items: &[CodeName], filter: Option<&str>) -> Value {
    let wanted = filter.map(fold);
    Value::Array(
        items
            .iter()
            .enumerate()
            .filter(|(_, c)| wanted.as_deref().is_none_or(|w| fold(&c.name).contains(w)))
            .map(|(i, c)| json!({"id": i + 1, "code": c.code, "name": c.name}))
            .collect(),
    )
}

fn position(id: u64) -> Option<usize> {
    usize::try_from(id).ok()?.checked_sub(1)
}

/// Lower-cases and strips Spanish accents, like MySQL's `utf8mb4_unicode_ci` comparison does.
pub(crate) fn fold(text: &str) -> String {
    text.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'á' | 'à' | 'ä' | 'â' => 'a',
            'é' | 'è' | 'ë' | 'ê' => 'e',
            'í' | 'ì' | 'ï' | 'î' => 'i',
            'ó' | 'ò' | 'ö' | 'ô' => 'o',
            'ú' | 'ù' | 'ü' | 'û' => 'u',
            'ñ' => 'n',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalogues_have_the_published_sizes_and_positional_ids() {
        let catalog = Catalog::load();
        assert_eq!(catalog.municipalities.len(), 1122);
        assert_eq!(catalog.countries.len(), 249);
        assert_eq!(catalog.units.len(), 1093);
        assert_eq!(catalog.municipality(169).unwrap().code, "11001");
        assert_eq!(catalog.municipality(980).unwrap().code, "68679");
        assert_eq!(catalog.unit(70).unwrap().code, "94");
        assert_eq!(catalog.unit(414).unwrap().code, "KGM");
        assert_eq!(catalog.countries[45].code, "CO");
        assert!(catalog.municipality(0).is_none());
        assert!(catalog.municipality(1123).is_none());
    }

    #[test]
    fn name_filters_ignore_case_and_accents() {
        let catalog = Catalog::load();
        let found = catalog.municipalities_json(Some("BOGOTA"));
        assert_eq!(found.as_array().unwrap().len(), 1);
        assert_eq!(found[0]["id"], 169);
    }
}
