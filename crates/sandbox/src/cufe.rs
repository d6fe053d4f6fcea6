//! CUFE / CUDE: SHA-384 (96 lowercase hex) over the DIAN field chain (Anexo Técnico 1.8 §11):
//! `NumFac FecFac HorFac ValFac 01 ValImp1 04 ValImp2 03 ValImp3 ValTot NitOFE NumAdq ClTec
//! TipoAmbiente`; for a CUDE the software PIN takes the place of the technical key.

use rust_decimal::Decimal;
use sha2::{Digest, Sha384};

/// Environment code: 2 = pruebas (habilitación), as on the Factus sandbox.
pub(crate) const TEST_ENVIRONMENT: &str = "2";

/// The fields of the chain.
pub(crate) struct Chain<'a> {
    pub number: &'a str,
    /// `YYYY-MM-DD`.
    pub issue_date: &'a str,
    /// `HH:MM:SS-05:00`.
    pub issue_time: &'a str,
    pub gross_value: Decimal,
    pub iva: Decimal,
    pub inc: Decimal,
    pub ica: Decimal,
    pub total: Decimal,
    pub supplier_nit: &'a str,
    pub customer_identification: &'a str,
    /// Technical key of the range (CUFE) or software PIN (CUDE).
    pub key: &'a str,
    pub environment: &'a str,
}

fn money(value: Decimal) -> String {
    format!("{:.2}", value)
}

/// Hex SHA-384 of the chain.
pub(crate) fn compute(chain: &Chain<'_>) -> String {
    let text = format!(
        "{}{}{}{}01{}04{}03{}{}{}{}{}{}",
        chain.number,
        chain.issue_date,
        chain.issue_time,
        money(chain.gross_value),
        money(chain.iva),
        money(chain.inc),
        money(chain.ica),
        money(chain.total),
        chain.supplier_nit,
        chain.customer_identification,
        chain.key,
        chain.environment,
    );
    hex::encode(Sha384::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn reproduces_the_cufe_of_the_dian_technical_annex_example() {
        let cufe = compute(&Chain {
            number: "323200000129",
            issue_date: "2019-01-16",
            issue_time: "10:53:10-05:00",
            gross_value: dec!(1500000),
            iva: dec!(285000),
            inc: dec!(0),
            ica: dec!(0),
            total: dec!(1785000),
            supplier_nit: "700085371",
            customer_identification: "800199436",
            key: "693ff6f2a553c3646a063436fd4dd9ded0311471",
            environment: "1",
        });
        assert_eq!(
            cufe,
            "8bb918b19ba22a694f1da11c643b5e9de39adf60311cf179179e9b33381030bcd4c3c3f156c506ed5908f9276f5bd9b4"
        );
    }
}
