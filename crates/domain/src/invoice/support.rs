//! Support documents (documento soporte): a purchase from a provider who cannot invoice
//! (`docs/factus.md`, "Notes and support documents"). The body names a `provider` instead of a
//! customer, and its items carry no taxes (the provider charges none): each line is held as an
//! item excluded from IVA, so the invoice's totals give tax 0 as Factus' answers show.

use rust_decimal::Decimal;

use super::accessors::{document_accessors, party_accessors};
use super::codes::IdentificationDocumentType;
use super::invoice::{collect_list, priced, reference_and_observation};
use super::item::{Item, ItemDraft, WithholdingTaxDraft};
use super::net::NetPricing;
use super::text::{EmailAddress, Observation, ReferenceCode};
use super::totals::Totals;
use super::violation::{Path, Violation, ViolationKind, collect};
use crate::catalog::{self, Entry};

/// The v1 ids of the identity documents Factus accepts for a provider: 4 tarjeta de extranjería,
/// 5 cédula de extranjería, 6 NIT, 7 pasaporte, 8 documento extranjero, 9 PEP, 10 NIT de otro
/// país (`docs/factus.md`).
pub const PROVIDER_DOCUMENT_IDS: std::ops::RangeInclusive<i64> = 4..=10;

/// The country code of Colombia, where a provider needs a municipality.
pub const COLOMBIA: &str = "CO";

/// v1 id of IVA, the tribute every support-document line is excluded from.
const IVA_TRIBUTE_ID: i64 = 1;

/// A provider as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProviderDraft {
    pub identification_document_id: i64,
    pub identification: String,
    pub dv: Option<String>,
    pub trade_name: Option<String>,
    pub names: String,
    pub address: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// `true` (resident in Colombia) by default.
    pub is_resident: bool,
    /// `CO` by default.
    pub country_code: String,
    pub municipality_id: Option<i64>,
}

/// One line of a support document as the client sent it: an invoice item without taxes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SupportItemDraft {
    pub code_reference: String,
    pub name: String,
    pub quantity: i64,
    pub price: Decimal,
    pub discount_rate: Decimal,
    pub unit_measure_id: i64,
    pub standard_code_id: i64,
    pub withholding_taxes: Option<Vec<WithholdingTaxDraft>>,
}

/// A support document as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SupportDocumentDraft {
    pub reference_code: String,
    pub payment_method_code: String,
    pub numbering_range_id: Option<i64>,
    pub observation: Option<String>,
    pub provider: ProviderDraft,
    pub items: Vec<SupportItemDraft>,
}

/// The seller of a support document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    identification_document: IdentificationDocumentType,
    identification: String,
    dv: Option<String>,
    trade_name: Option<String>,
    names: String,
    address: Option<String>,
    email: Option<EmailAddress>,
    phone: Option<String>,
    is_resident: bool,
    country: Entry,
    municipality: Option<Entry>,
}

impl Provider {
    fn collect(draft: ProviderDraft, path: &Path, out: &mut Vec<Violation>) -> Option<Self> {
        let before = out.len();
        let document = if PROVIDER_DOCUMENT_IDS.contains(&draft.identification_document_id) {
            collect(
                IdentificationDocumentType::from_id(draft.identification_document_id),
                path.key("identification_document_id"),
                out,
            )
        } else {
            out.push(Violation::new(
                path.key("identification_document_id"),
                ViolationKind::NotPermitted,
                format!(
                    "Factus solo admite proveedores con identification_document_id de {} a {} \
                     (extranjería, NIT, pasaporte, documento extranjero, PEP, NIT de otro país); se recibió {}",
                    PROVIDER_DOCUMENT_IDS.start(),
                    PROVIDER_DOCUMENT_IDS.end(),
                    draft.identification_document_id
                ),
            ));
            None
        };
        let email = match draft.email.filter(|email| !email.is_empty()) {
            None => Some(None),
            Some(email) => collect(EmailAddress::parse(&email), path.key("email"), out).map(Some),
        };
        let country = collect(catalog::countries().resolve_code(&draft.country_code), path.key("country_code"), out);
        let municipality = match draft.municipality_id {
            None => Some(None),
            Some(id) => collect(catalog::municipalities().resolve_id(id), path.key("municipality_id"), out).map(Some),
        };
        if draft.names.trim().is_empty() {
            out.push(Violation::rule(path.key("names"), "El proveedor necesita names"));
        }
        if draft.country_code == COLOMBIA && draft.municipality_id.is_none() {
            out.push(Violation::rule(
                path.clone(),
                "municipality_id es obligatorio para un proveedor en Colombia (country_code CO)",
            ));
        }
        let non_empty = |text: Option<String>| text.filter(|text| !text.is_empty());
        let provider = Self {
            identification_document: document?,
            identification: draft.identification,
            dv: non_empty(draft.dv),
            trade_name: non_empty(draft.trade_name),
            names: draft.names,
            address: non_empty(draft.address),
            email: email?,
            phone: non_empty(draft.phone),
            is_resident: draft.is_resident,
            country: country?,
            // A municipality only means something in Colombia.
            municipality: municipality?.filter(|_| draft.country_code == COLOMBIA),
        };
        (out.len() == before).then_some(provider)
    }

    party_accessors!();

    #[must_use]
    pub fn names(&self) -> &str {
        &self.names
    }

    #[must_use]
    pub fn is_resident(&self) -> bool {
        self.is_resident
    }

    #[must_use]
    pub fn country(&self) -> Entry {
        self.country
    }

    /// Only for a provider in Colombia.
    #[must_use]
    pub fn municipality(&self) -> Option<Entry> {
        self.municipality
    }
}

/// A support document that satisfies its rules, with its totals (tax 0: every line is excluded
/// from IVA).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportDocument {
    reference_code: ReferenceCode,
    payment_method_code: String,
    numbering_range_id: Option<i64>,
    observation: Option<Observation>,
    provider: Provider,
    items: Vec<Item>,
    totals: Totals,
    net_pricing: NetPricing,
}

impl SupportDocument {
    /// Checks a draft and builds the document, or returns **every** violation (fields first, then
    /// the rules about the whole document), as [`super::Invoice::parse`] does.
    ///
    /// # Errors
    /// Every [`Violation`] found, never an empty list.
    pub fn parse(draft: SupportDocumentDraft) -> Result<Self, Vec<Violation>> {
        let mut out = Vec::new();
        let root = Path::root();
        let (reference_code, observation) =
            reference_and_observation(&draft.reference_code, draft.observation.as_deref(), &mut out);
        let provider = Provider::collect(draft.provider, &root.key("provider"), &mut out);
        let has_items = !draft.items.is_empty();
        let items = collect_list(
            Some(draft.items.into_iter().map(untaxed).collect()),
            &root.key("items"),
            &mut out,
            Item::collect,
        );
        if !has_items {
            out.push(Violation::rule(root.clone(), "El documento soporte debe contener al menos un ítem"));
        }
        let (Some(reference_code), Some(observation), Some(provider), Some(items)) =
            (reference_code, observation, provider, items)
        else {
            return Err(out);
        };
        let (totals, net_pricing) =
            priced(&items, &[], out, "Los valores del documento soporte son demasiado grandes para calcular el total")?;
        Ok(Self {
            reference_code,
            payment_method_code: draft.payment_method_code,
            numbering_range_id: draft.numbering_range_id,
            observation,
            provider,
            items,
            totals,
            net_pricing,
        })
    }

    document_accessors!();

    #[must_use]
    pub fn provider(&self) -> &Provider {
        &self.provider
    }
}

/// A support-document line as an invoice item excluded from IVA (tax 0).
fn untaxed(item: SupportItemDraft) -> ItemDraft {
    ItemDraft {
        code_reference: item.code_reference,
        name: item.name,
        quantity: item.quantity,
        price: item.price,
        discount_rate: item.discount_rate,
        tax_rate: Decimal::ZERO,
        unit_measure_id: item.unit_measure_id,
        standard_code_id: item.standard_code_id,
        is_excluded: 1,
        tribute_id: IVA_TRIBUTE_ID,
        scheme_id: None,
        note: None,
        withholding_taxes: item.withholding_taxes,
        mandate: None,
    }
}
