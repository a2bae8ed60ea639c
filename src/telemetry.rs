//! Tracing set-up (placeholder: being written).
