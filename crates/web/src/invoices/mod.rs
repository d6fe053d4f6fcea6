//! The invoice endpoints' wire formats: reading a create-invoice body into the domain.

pub mod request;
