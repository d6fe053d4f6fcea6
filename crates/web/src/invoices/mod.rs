//! The invoice endpoints' wire formats: reading a create-invoice body into the domain, and the
//! body of the credit note that annuls an invoice (the console's annulment).

pub mod annulment;
pub mod request;
