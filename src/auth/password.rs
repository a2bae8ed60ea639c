//! Password hashing (placeholder: being written).
