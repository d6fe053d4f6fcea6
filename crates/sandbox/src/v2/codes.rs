//! Code tables only v2 uses (the rest are shared with v1 in `catalog`).

/// Identity documents by DIAN code: v1's table plus `48` PPT, which has no v1 id.
pub(crate) const IDENTITY_DOCUMENTS: [(&str, &str); 12] = [
    ("11", "Registro civil"),
    ("12", "Tarjeta de identidad"),
    ("13", "Cédula de ciudadanía"),
    ("21", "Tarjeta de extranjería"),
    ("22", "Cédula de extranjería"),
    ("31", "NIT"),
    ("41", "Pasaporte"),
    ("42", "Documento de identificación extranjero"),
    ("47", "PEP"),
    ("48", "PPT (Permiso Protección Temporal)"),
    ("50", "NIT otro país"),
    ("91", "NUIP"),
];

/// Identity documents a support-document provider may have (foreign ids, NIT, passport, PEP).
pub(crate) const PROVIDER_DOCUMENTS: [&str; 7] = ["21", "22", "31", "41", "42", "47", "50"];

pub(crate) const LEGAL_ORGANIZATIONS: [(&str, &str); 2] = [("1", "Persona Jurídica"), ("2", "Persona Natural")];

pub(crate) const CUSTOMER_TRIBUTES: [(&str, &str); 2] = [("01", "IVA"), ("ZZ", "No aplica")];

/// `items.*.taxes.*.code`.
pub(crate) const TAXES: [(&str, &str); 3] =
    [("01", "IVA"), ("04", "INC"), ("35", "Impuesto a los productos comestibles ultraprocesados")];

pub(crate) const RESPONSIBILITIES: [(&str, &str); 5] = [
    ("O-13", "Gran contribuyente"),
    ("O-15", "Autorretenedor"),
    ("O-23", "Agente de retención de IVA"),
    ("O-47", "Régimen simple de tributación"),
    ("R-99-PN", "No responsable"),
];

pub(crate) const OPERATION_TYPES: [(&str, &str); 7] = [
    ("10", "Estándar"),
    ("11", "Mandatos"),
    ("12", "Transporte"),
    ("SS-CUFE", "Sector Salud - CUFE"),
    ("SS-Reporte", "Sector Salud - Reporte"),
    ("SS-SinAporte", "Sector Salud - Sin Aporte"),
    ("SS-Recaudo", "Sector Salud - Recaudo de cuotas moderadoras o copagos"),
];

pub(crate) const DEBIT_CONCEPTS: [(&str, &str); 4] =
    [("1", "Intereses"), ("2", "Gastos por cobrar"), ("3", "Cambio del valor"), ("4", "Otros")];

pub(crate) const DEBIT_NOTE_CUSTOMIZATIONS: [(&str, &str); 2] = [
    ("30", "Nota Débito que referencia una factura electrónica"),
    ("32", "Nota Débito sin referencia a una factura electrónica"),
];

/// The v1 id of a DIAN identity-document code (`48` has none: 0).
pub(crate) fn identity_id(code: &str) -> u64 {
    crate::catalog::IDENTITY_DOCUMENTS.iter().find(|(_, c, _)| *c == code).map_or(0, |(id, _, _)| *id)
}

/// The DIAN code of a v1 identity-document id.
pub(crate) fn identity_code(id: u64) -> &'static str {
    crate::catalog::by_id(&crate::catalog::IDENTITY_DOCUMENTS, id).map_or("", |(_, code, _)| code)
}
