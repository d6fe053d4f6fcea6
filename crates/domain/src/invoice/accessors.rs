//! The accessors that several types of this module share, written once: the parts of a document
//! body that every kind has (invoice, note, support document) and the identity and contact of the
//! people named in them (customer, provider, mandate). Each macro is expanded inside the type's
//! `impl` block, over fields of the same names.

/// `numbering_range_id`, `reference_code`, `payment_method_code`, `observation`, `items`,
/// `totals` and `net_pricing` of an invoice, a note or a support document.
macro_rules! document_accessors {
    () => {
        /// The numbering range to number the document from; `None` lets Factus use the single
        /// active one.
        #[must_use]
        pub fn numbering_range_id(&self) -> Option<i64> {
            self.numbering_range_id
        }

        #[must_use]
        pub fn reference_code(&self) -> &$crate::invoice::ReferenceCode {
            &self.reference_code
        }

        /// Never empty when present.
        #[must_use]
        pub fn observation(&self) -> Option<&$crate::invoice::Observation> {
            self.observation.as_ref()
        }

        /// The payment method code (`10` efectivo, `42` consignación, `48` tarjeta crédito, …).
        #[must_use]
        pub fn payment_method_code(&self) -> &str {
            &self.payment_method_code
        }

        /// Never empty.
        #[must_use]
        pub fn items(&self) -> &[$crate::invoice::Item] {
            &self.items
        }

        /// The amounts as Factus v1 computes them (tax-inclusive prices).
        #[must_use]
        pub fn totals(&self) -> &$crate::invoice::Totals {
            &self.totals
        }

        /// The document priced for Factus v2: net prices, cash rounding, the payable amount.
        #[must_use]
        pub fn net_pricing(&self) -> &$crate::invoice::NetPricing {
            &self.net_pricing
        }
    };
}

/// `identification_document` and `identification` of a customer, a provider or a mandate.
macro_rules! identity_accessors {
    () => {
        #[must_use]
        pub fn identification_document(&self) -> $crate::invoice::IdentificationDocumentType {
            self.identification_document
        }

        /// The document number (for a NIT: digits only, without the DV).
        #[must_use]
        pub fn identification(&self) -> &str {
            &self.identification
        }
    };
}

/// The identity and the optional contact texts (`dv`, `trade_name`, `address`, `email`, `phone`,
/// never empty when present) of a customer or a provider.
macro_rules! party_accessors {
    () => {
        $crate::invoice::accessors::identity_accessors!();

        /// The verification digit of a NIT.
        #[must_use]
        pub fn dv(&self) -> Option<&str> {
            self.dv.as_deref()
        }

        #[must_use]
        pub fn trade_name(&self) -> Option<&str> {
            self.trade_name.as_deref()
        }

        #[must_use]
        pub fn address(&self) -> Option<&str> {
            self.address.as_deref()
        }

        #[must_use]
        pub fn email(&self) -> Option<&$crate::invoice::EmailAddress> {
            self.email.as_ref()
        }

        #[must_use]
        pub fn phone(&self) -> Option<&str> {
            self.phone.as_deref()
        }
    };
}

pub(super) use {document_accessors, identity_accessors, party_accessors};
