//! The buyer of an invoice (`customer`).

use super::accessors::party_accessors;
use super::codes::IdentificationDocumentType;
use super::text::EmailAddress;
use super::violation::{Path, Violation, collect};
use crate::catalog::{self, Entry};

/// A customer as the client sent it, every field already of the right JSON type.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CustomerDraft {
    pub identification_document_id: i64,
    pub identification: String,
    pub dv: Option<String>,
    pub company: Option<String>,
    pub trade_name: Option<String>,
    pub names: Option<String>,
    pub address: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub municipality_id: Option<i64>,
    pub legal_organization_id: i64,
    pub tribute_id: i64,
}

/// A customer that satisfies the reference's rules: a legal entity with a non-blank company
/// name, or a natural person with names; a NIT with its verification digit.
///
/// Optional texts that are empty are held as absent (`None`), and a municipality id of 0 as no
/// municipality: the reference drops exactly those when it builds the Factus payload, so they
/// carry no information.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    identification_document: IdentificationDocumentType,
    identification: String,
    dv: Option<String>,
    company: Option<String>,
    trade_name: Option<String>,
    names: Option<String>,
    address: Option<String>,
    email: Option<EmailAddress>,
    phone: Option<String>,
    municipality: Option<Entry>,
    legal_organization: Entry,
    tribute: Entry,
}

fn non_empty(text: Option<String>) -> Option<String> {
    text.filter(|text| !text.is_empty())
}

impl Customer {
    /// Builds the customer at `path`, recording every violation in `out`.
    pub(crate) fn collect(draft: CustomerDraft, path: &Path, out: &mut Vec<Violation>) -> Option<Self> {
        let before = out.len();
        let document = collect(
            IdentificationDocumentType::from_id(draft.identification_document_id),
            path.key("identification_document_id"),
            out,
        );
        let legal_organization = collect(
            catalog::legal_organizations().resolve_id(draft.legal_organization_id),
            path.key("legal_organization_id"),
            out,
        );
        let tribute = collect(catalog::customer_tributes().resolve_id(draft.tribute_id), path.key("tribute_id"), out);
        let municipality = match draft.municipality_id.filter(|id| *id != 0) {
            None => Some(None),
            Some(id) => collect(catalog::municipalities().resolve_id(id), path.key("municipality_id"), out).map(Some),
        };
        let email = match draft.email {
            Some(email) => collect(EmailAddress::parse(&email), path.key("email"), out).map(Some),
            None => Some(None),
        };

        // The reference's customer validator, with both of its checks reported when both fail.
        match &draft.company {
            Some(company) if company.trim().is_empty() => {
                out.push(Violation::rule(path.clone(), "Company name cannot be empty"));
            }
            None if draft.names.as_deref().is_none_or(str::is_empty) => {
                out.push(Violation::rule(path.clone(), "Names is required for natural persons"));
            }
            _ => {}
        }
        if document.is_some_and(IdentificationDocumentType::requires_dv)
            && draft.dv.as_deref().is_none_or(str::is_empty)
        {
            out.push(Violation::rule(path.clone(), "DV is required for NIT"));
        }

        if out.len() > before {
            return None;
        }
        Some(Self {
            identification_document: document?,
            identification: draft.identification,
            dv: non_empty(draft.dv),
            company: draft.company,
            trade_name: non_empty(draft.trade_name),
            names: non_empty(draft.names),
            address: non_empty(draft.address),
            email: email?,
            phone: non_empty(draft.phone),
            municipality: municipality?,
            legal_organization: legal_organization?,
            tribute: tribute?,
        })
    }

    party_accessors!();

    /// The legal entity's name; never blank when present.
    #[must_use]
    pub fn company(&self) -> Option<&str> {
        self.company.as_deref()
    }

    /// The natural person's name; present whenever [`Customer::company`] is absent.
    #[must_use]
    pub fn names(&self) -> Option<&str> {
        self.names.as_deref()
    }

    /// The Factus municipality id; never 0.
    #[must_use]
    pub fn municipality_id(&self) -> Option<i64> {
        self.municipality.map(|entry| entry.id())
    }

    /// The municipality, with its DIAN code.
    #[must_use]
    pub fn municipality(&self) -> Option<Entry> {
        self.municipality
    }

    /// 1 persona jurídica, 2 persona natural.
    #[must_use]
    pub fn legal_organization_id(&self) -> i64 {
        self.legal_organization.id()
    }

    /// The legal organization, with its DIAN code.
    #[must_use]
    pub fn legal_organization(&self) -> Entry {
        self.legal_organization
    }

    /// 18 IVA, 21 no aplica.
    #[must_use]
    pub fn tribute_id(&self) -> i64 {
        self.tribute.id()
    }

    /// The customer's tribute, with its DIAN code (`01`, `ZZ`).
    #[must_use]
    pub fn tribute(&self) -> Entry {
        self.tribute
    }
}
