//! Closed code tables of the Factus v1 invoice (`docs/factus.md` §6).
//!
//! Only the codes the rules depend on are closed sets here: the payment form (credit needs a due
//! date) and the identification document type (NIT needs a DV). Open catalogues that Factus owns
//! and may extend (municipalities, units, tributes, payment methods) stay plain numbers or text.

use std::fmt;

use thiserror::Error;

use super::violation::{FieldProblem, ViolationKind};

/// How the invoice is paid (`payment_form`): at once, or on credit with a due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentForm {
    /// `"1"`, pago de contado (the default).
    Cash,
    /// `"2"`, pago a crédito: the invoice must say when it is due.
    Credit,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("value is not a valid enumeration member; permitted: '1', '2'")]
pub struct PaymentFormError;

impl FieldProblem for PaymentFormError {
    fn kind(&self) -> ViolationKind {
        ViolationKind::NotPermitted
    }
}

impl PaymentForm {
    /// # Errors
    /// [`PaymentFormError`] for anything but `"1"` or `"2"`. The reference forwards any text and
    /// lets Factus refuse it; refusing it here gives the client a field-level error instead.
    pub fn parse(code: &str) -> Result<Self, PaymentFormError> {
        match code {
            "1" => Ok(Self::Cash),
            "2" => Ok(Self::Credit),
            _ => Err(PaymentFormError),
        }
    }

    /// The code Factus takes.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::Cash => "1",
            Self::Credit => "2",
        }
    }
}

impl fmt::Display for PaymentForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The kind of identity document of a customer or mandate, by Factus v1 id (`docs/factus.md`
/// §6.1). The v2 DIAN code is kept too, for whoever talks to v2 or prints the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentificationDocumentType {
    /// 1, Registro civil.
    CivilRegistry,
    /// 2, Tarjeta de identidad.
    IdentityCard,
    /// 3, Cédula de ciudadanía.
    CitizenshipCard,
    /// 4, Tarjeta de extranjería.
    ForeignerCard,
    /// 5, Cédula de extranjería.
    ForeignerId,
    /// 6, NIT: a tax id, which needs its verification digit (`dv`).
    Nit,
    /// 7, Pasaporte.
    Passport,
    /// 8, Documento de identificación extranjero.
    ForeignDocument,
    /// 9, PEP (Permiso Especial de Permanencia).
    Pep,
    /// 10, NIT de otro país.
    ForeignNit,
    /// 11, NUIP.
    Nuip,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("value is not a valid enumeration member; permitted: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11")]
pub struct IdentificationDocumentTypeError;

impl FieldProblem for IdentificationDocumentTypeError {
    fn kind(&self) -> ViolationKind {
        ViolationKind::NotPermitted
    }
}

impl IdentificationDocumentType {
    const ALL: [Self; 11] = [
        Self::CivilRegistry,
        Self::IdentityCard,
        Self::CitizenshipCard,
        Self::ForeignerCard,
        Self::ForeignerId,
        Self::Nit,
        Self::Passport,
        Self::ForeignDocument,
        Self::Pep,
        Self::ForeignNit,
        Self::Nuip,
    ];

    /// # Errors
    /// [`IdentificationDocumentTypeError`] for an id outside Factus' table (1 to 11).
    pub fn from_id(id: i64) -> Result<Self, IdentificationDocumentTypeError> {
        Self::ALL.into_iter().find(|kind| kind.id() == id).ok_or(IdentificationDocumentTypeError)
    }

    /// The Factus v1 id (`identification_document_id`).
    #[must_use]
    pub fn id(self) -> i64 {
        match self {
            Self::CivilRegistry => 1,
            Self::IdentityCard => 2,
            Self::CitizenshipCard => 3,
            Self::ForeignerCard => 4,
            Self::ForeignerId => 5,
            Self::Nit => 6,
            Self::Passport => 7,
            Self::ForeignDocument => 8,
            Self::Pep => 9,
            Self::ForeignNit => 10,
            Self::Nuip => 11,
        }
    }

    /// The DIAN code (`identification_document_code` in Factus v2).
    #[must_use]
    pub fn dian_code(self) -> &'static str {
        match self {
            Self::CivilRegistry => "11",
            Self::IdentityCard => "12",
            Self::CitizenshipCard => "13",
            Self::ForeignerCard => "21",
            Self::ForeignerId => "22",
            Self::Nit => "31",
            Self::Passport => "41",
            Self::ForeignDocument => "42",
            Self::Pep => "47",
            Self::ForeignNit => "50",
            Self::Nuip => "91",
        }
    }

    /// Whether a customer with this document must give a verification digit. Only the Colombian
    /// NIT has one (the reference checks id 6 only).
    #[must_use]
    pub fn requires_dv(self) -> bool {
        self == Self::Nit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_forms_are_one_for_cash_and_two_for_credit() {
        assert_eq!(PaymentForm::parse("1"), Ok(PaymentForm::Cash));
        assert_eq!(PaymentForm::parse("2"), Ok(PaymentForm::Credit));
        assert_eq!(PaymentForm::parse("3"), Err(PaymentFormError));
        assert_eq!(PaymentForm::Credit.to_string(), "2");
    }

    #[test]
    fn identification_document_ids_round_trip_through_the_table() {
        for id in 1..=11 {
            assert_eq!(IdentificationDocumentType::from_id(id).unwrap().id(), id);
        }
        assert!(IdentificationDocumentType::from_id(0).is_err());
        assert!(IdentificationDocumentType::from_id(12).is_err());
    }

    #[test]
    fn only_the_nit_requires_a_verification_digit() {
        assert!(IdentificationDocumentType::Nit.requires_dv());
        assert_eq!(IdentificationDocumentType::Nit.dian_code(), "31");
        assert!(!IdentificationDocumentType::CitizenshipCard.requires_dv());
        assert!(!IdentificationDocumentType::ForeignNit.requires_dv());
    }
}
