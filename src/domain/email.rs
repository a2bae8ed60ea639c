//! Email addresses (placeholder: being written).
