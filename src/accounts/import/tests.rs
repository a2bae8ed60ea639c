//! The line parser's refusals; the importer end to end is in
//! tests/api/import.rs.

use super::line::{parse, UserLine};

const NOW: i64 = 1_790_000_000;

fn reason(text: &str) -> &'static str {
    match parse(text.as_bytes(), NOW, None) {
        Ok(_) => "ok",
        Err(refusal) => refusal.reason,
    }
}

#[test]
fn each_kind_of_bad_line_has_its_reason() {
    let cases = [
        (r#"{"email":"a@example.com"}"#, "ok"),
        (r#"not json"#, "invalid_json"),
        (r#"["a@example.com"]"#, "invalid_line"),
        (
            r#"{"email":"a@example.com","passwordHash":"x"}"#,
            "invalid_line",
        ),
        (r#"{"email":7}"#, "invalid_line"),
        (r#"{"name":"no address"}"#, "invalid_line"),
        (r#"{"email":"not an address"}"#, "invalid_email"),
        (r#"{"email":"a@example.com","id":"42"}"#, "invalid_id"),
        (
            r#"{"email":"a@example.com","password_hash":""}"#,
            "invalid_hash",
        ),
        (
            r#"{"email":"a@example.com","password_hash":"hunter2"}"#,
            "unknown_hash_format",
        ),
        (
            r#"{"email":"a@example.com","password_hash":"$2b$10$short"}"#,
            "invalid_hash",
        ),
        (
            r#"{"email":"a@example.com","password_hash":"$2b$31$MAaw9k6l4VDUlbWpmDjTge9fijYK3qwZSaZdCrwy6DR9qqq.G2yNC"}"#,
            "hash_too_costly",
        ),
        (
            r#"{"email":"a@example.com","password_hash":"$firebase-scrypt$AAAA$AAAA"}"#,
            "firebase_not_configured",
        ),
        (
            r#"{"email":"a@example.com","role":"ad min"}"#,
            "invalid_role",
        ),
        (
            r#"{"email":"a@example.com","metadata":[1]}"#,
            "invalid_metadata",
        ),
        (
            r#"{"email":"a@example.com","app_metadata":"x"}"#,
            "invalid_app_metadata",
        ),
        (
            r#"{"email":"a@example.com","created_at":"yesterday"}"#,
            "invalid_created_at",
        ),
        (
            r#"{"email":"a@example.com","created_at":99999999999}"#,
            "invalid_created_at",
        ),
        (
            r#"{"email":"a@example.com","created_at":-1}"#,
            "invalid_created_at",
        ),
    ];
    for (line, expected) in cases {
        assert_eq!(reason(line), expected, "{line}");
    }
}

#[test]
fn a_full_line_becomes_the_user_it_describes() {
    let text = r#"{"id":"0192F1D2-0000-7000-8000-00000000ABCD","email":"Ada@Example.com",
        "password_hash":"$2b$04$MAaw9k6l4VDUlbWpmDjTge9fijYK3qwZSaZdCrwy6DR9qqq.G2yNC",
        "email_confirmed":true,"name":"Ada","role":"admin","metadata":{"a":1},
        "app_metadata":{"plan":"pro"},"created_at":"2024-02-03T04:05:06Z","disabled":true}"#
        .replace('\n', "");
    let parsed = parse(text.as_bytes(), NOW, None).unwrap();
    let user = &parsed.row.user;
    assert_eq!(user.id, "0192f1d2-0000-7000-8000-00000000abcd");
    assert_eq!(parsed.row.email_key, "ada@example.com");
    assert_eq!(user.created_at, 1_706_933_106);
    assert_eq!(user.email_confirmed_at, Some(1_706_933_106));
    assert!(user.disabled);
    assert_eq!(user.role, "admin");
    assert!(parsed.weak.as_deref().unwrap().contains("bcrypt cost 4"));
    // What the export writes reads back as the same user.
    let exported = serde_json::to_string(&UserLine::export(user, true)).unwrap();
    let again = parse(exported.as_bytes(), NOW, None).unwrap().row.user;
    assert_eq!(again, *user);
    let without = UserLine::export(user, false);
    assert_eq!(without.password_hash, None);
}

#[test]
fn the_splitter_cuts_lines_and_skips_long_ones_without_holding_them() {
    use super::line::{Piece, Splitter, MAX_LINE_BYTES};
    let mut s = Splitter::default();
    let mut pieces = s.feed(b"one\ntw");
    pieces.extend(s.feed(b"o\n\nthree"));
    pieces.extend(s.finish());
    let line = |t: &str| Piece::Line(t.as_bytes().to_vec());
    assert_eq!(
        pieces,
        vec![line("one"), line("two"), line(""), line("three")]
    );

    let mut s = Splitter::default();
    let long = vec![b'x'; MAX_LINE_BYTES / 2 + 1];
    let mut pieces = s.feed(&long);
    pieces.extend(s.feed(&long));
    assert_eq!(pieces, vec![Piece::TooLong]);
    pieces.extend(s.feed(&long));
    pieces.extend(s.feed(b"tail\nnext\n"));
    assert_eq!(pieces, vec![Piece::TooLong, line("next")]);
    assert_eq!(s.finish(), None);
}
