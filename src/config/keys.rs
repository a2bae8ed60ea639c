//! [`KEYS`]: every section and key toktok knows, with the kind of value
//! each takes.

// ---------------------------------------------------------------------------
// The list of keys
// ---------------------------------------------------------------------------

/// What kind of value a key takes, which decides how the file's value is
/// checked and how an environment variable's text is converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Str,
    Int,
    Bool,
    /// `"15m"`-style string or an integer number of seconds.
    Duration,
    /// A list of strings; comma-separated in the environment.
    List,
}

pub(super) type SectionKeys = &'static [(&'static str, Kind)];

/// Every section and key toktok knows, in the order `toktok.toml` lists
/// them. The raw structs below must match (a test checks both directions).
pub(super) const KEYS: &[(&str, SectionKeys)] = &[
    (
        "server",
        &[
            ("listen", Kind::Str),
            ("public_url", Kind::Str),
            ("max_body_bytes", Kind::Int),
            ("cors_origins", Kind::List),
            ("trusted_proxies", Kind::List),
            ("request_timeout", Kind::Duration),
            ("demo", Kind::Bool),
            ("idle_timeout", Kind::Duration),
            ("max_connections_per_ip", Kind::Int),
            ("docs", Kind::Bool),
        ],
    ),
    ("accounts", &[("registration_open", Kind::Bool)]),
    ("database", &[("path", Kind::Str), ("url", Kind::Str)]),
    (
        "jwt",
        &[
            ("algorithm", Kind::Str),
            ("secret", Kind::Str),
            ("issuer", Kind::Str),
            ("audience", Kind::Str),
            ("access_ttl", Kind::Duration),
            ("refresh_ttl", Kind::Duration),
            ("refresh_idle_ttl", Kind::Duration),
            ("reuse_grace", Kind::Duration),
            ("key_reload", Kind::Duration),
        ],
    ),
    (
        "password",
        &[
            ("algorithm", Kind::Str),
            ("pbkdf2_iterations", Kind::Int),
            ("min_length", Kind::Int),
            ("max_length", Kind::Int),
        ],
    ),
    (
        "anonymous",
        &[
            ("enabled", Kind::Bool),
            ("required", Kind::Bool),
            ("ttl", Kind::Duration),
        ],
    ),
    (
        "rsa",
        &[
            ("enabled", Kind::Bool),
            ("required", Kind::Bool),
            ("key_bits", Kind::Int),
        ],
    ),
    (
        "email",
        &[
            ("mode", Kind::Str),
            ("confirmation_required", Kind::Bool),
            ("from", Kind::Str),
            ("app_name", Kind::Str),
            ("outbox_dir", Kind::Str),
            ("templates_dir", Kind::Str),
            ("link_ttl", Kind::Duration),
            ("give_up_after", Kind::Duration),
            ("confirm_redirect_url", Kind::Str),
            ("reset_redirect_url", Kind::Str),
        ],
    ),
    (
        "smtp",
        &[
            ("host", Kind::Str),
            ("port", Kind::Int),
            ("tls", Kind::Str),
            ("username", Kind::Str),
            ("password", Kind::Str),
            ("timeout", Kind::Duration),
        ],
    ),
    (
        "challenges",
        &[
            ("max_attempts", Kind::Int),
            ("sweep_interval", Kind::Duration),
        ],
    ),
    ("audit", &[("retention", Kind::Duration)]),
    (
        "rate_limit",
        &[
            ("enabled", Kind::Bool),
            ("per_ip_per_minute", Kind::Int),
            ("per_ip_burst", Kind::Int),
        ],
    ),
    ("log", &[("format", Kind::Str), ("level", Kind::Str)]),
    ("metrics", &[("enabled", Kind::Bool), ("listen", Kind::Str)]),
];

pub(super) fn section_keys(section: &str) -> Option<SectionKeys> {
    KEYS.iter()
        .find(|(name, _)| *name == section)
        .map(|(_, keys)| *keys)
}

pub(super) fn key_kind(keys: SectionKeys, key: &str) -> Option<Kind> {
    keys.iter()
        .find(|(name, _)| *name == key)
        .map(|(_, kind)| *kind)
}

pub(super) fn known_sections() -> String {
    let names: Vec<&str> = KEYS.iter().map(|(name, _)| *name).collect();
    names.join(", ")
}

pub(super) fn known_keys(keys: SectionKeys) -> String {
    let names: Vec<&str> = keys.iter().map(|(name, _)| *name).collect();
    names.join(", ")
}
