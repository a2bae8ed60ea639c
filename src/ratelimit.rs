//! Per-IP rate limits (placeholder: being written).
