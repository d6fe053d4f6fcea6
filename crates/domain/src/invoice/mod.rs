//! The DIAN invoice model (being written).
