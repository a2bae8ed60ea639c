//! Known answers made by the libraries of other ecosystems (Python
//! `bcrypt` 4, `argon2-cffi`, passlib 1.7, Django 5.2), kept here so that a
//! plain `cargo test` checks every format; tests/import/run.sh makes fresh
//! ones with those libraries (and Node's `bcryptjs`) and signs in with them
//! over HTTP.

use super::*;

const PASSWORD: &str = "correct horse";

/// (hash, format name, weak) — each made from [`PASSWORD`], at low costs
/// to keep the test quick (so most are reported weak).
const MADE_ELSEWHERE: &[(&str, &str, bool)] = &[
    // Python bcrypt 4.x
    ("$2b$04$MAaw9k6l4VDUlbWpmDjTge9fijYK3qwZSaZdCrwy6DR9qqq.G2yNC", "bcrypt", true),
    ("$2a$05$R5E//DdPZwZXC5/nbHRoQuOQ/a8UrXylq5UVE4PqAc0iQMZvkBxaW", "bcrypt", true),
    // argon2-cffi
    ("$argon2i$v=19$m=1024,t=1,p=2$fpUZCxx2dmdEm/AWKErt+w$XPYTG+XV9tKgJsfuBuPyGHzNs+WL/rJ7QpoAI5k4TeY", "argon2", true),
    ("$argon2d$v=19$m=1024,t=1,p=2$TFa4N9o8r5OIaTRPxNOnkg$wdbUZm39ubWD6tBtYMd0Egxe7oRo1MCGtA9XYzUptxY", "argon2", true),
    ("$argon2id$v=19$m=1024,t=1,p=2$KkZEeMhoC+Y9cGvqP1ziHQ$JT+CekEOzwDWoAXCytJS+N6w4pGHpLj2n/VfqkQVtU0", "argon2", true),
    // passlib
    ("$pbkdf2$1000$rJVyrlXKOeccA8AYA4DQWg$mKxZvaxL5qXl8bkWgFaltDrkFO4", "pbkdf2-sha1", true),
    ("$pbkdf2-sha256$1000$O4ewltIag7AWQogxxljrPQ$ObIJW4nKAL5QBXI7GM6PumZq7Rx7RLLKfJuA/UlqtCc", "pbkdf2-sha256", true),
    ("$pbkdf2-sha512$1000$FeJca20NIYSQspbyPqdUag$Iczc7fqX7Lxiss06jagmXUCdDde1kUTMvQy66ON7YE50aaTJqg9nQ2BTEgvNK4W38deUcVkHzIA2CyKwm0CP0Q", "pbkdf2-sha512", true),
    ("$scrypt$ln=10,r=8,p=1$cI6xtvY+hxCitJZSqrV2zg$AhQTTgshoY6H+0EQwI9iTLW4PIEE8Py4lbSf3CTJKmQ", "scrypt", true),
    ("$5$rounds=1000$uBP4pjTKtmWLCC.U$xhlslVTZFCNM10WSuH3YBoE6MnNEwB0LZAJMdW3Anm0", "sha256-crypt", true),
    ("$6$rounds=1000$SGM4a4Hd5oNJhU4R$mNESnGI/eJgR4Tzd9MddN86P8T870vEKapvTkGtgTDi.KtKbThj4pUMfw1kdGSZ91tOqLX5Sjm9XdUxRCcYpJ0", "sha512-crypt", true),
    // Django 5.2 hashers
    ("pbkdf2_sha256$1000$Y1MijtMcu0iA4DuDxxAhXF$zOfNqQU1S9hB7Ymsa8yMMUu7Z2DvzqKuDu2Vhw/G6GM=", "pbkdf2-sha256", true),
    ("pbkdf2_sha1$1000$tbKmy6Nfe1A6636JlEUpun$lQoLzQDdA2qLX4aUQ/uUXFtGqcM=", "pbkdf2-sha1", true),
    ("argon2$argon2id$v=19$m=1024,t=1,p=1$QmVBcVh4SVBBZnpyTW9TV3o0RUw2SA$RSNcpLZ1ylrD2Th12DuBhrZg3jTkEkMqEerzoHjMOUY", "argon2", true),
    ("bcrypt_sha256$$2b$04$/OgonNgczyceaEVA4qNKUOsPz7ksj9zBgfS1pfKnRO2Et6oTJIGWa", "bcrypt", true),
    ("bcrypt$$2b$04$8/XDWn1GS31wITmRXip1HuEQWl8HFOQne4LbAOQH9io8HZ3agDvg.", "bcrypt", true),
    ("scrypt$1024$90os4hWf3LYYhblfJf1U1J$8$5$/+dU02oKzRdhB1aOidbyagBEaVkYrLGGiEEzvRB7K5satESYgaWugo4UvLJACvq9RaCld1L64cIoxxLjC+fMCQ==", "scrypt", true),
];

#[test]
fn hashes_made_elsewhere_verify_and_are_described() {
    for (hash, format, weak) in MADE_ELSEWHERE {
        assert!(verify(hash, PASSWORD.as_bytes(), None), "{hash}");
        assert!(!verify(hash, b"correct horse!", None), "{hash}");
        assert!(!verify(hash, b"", None), "{hash}");
        let inspected = inspect(hash, None).unwrap();
        assert_eq!(inspected.format, *format, "{hash}");
        assert_eq!(inspected.weak.is_some(), *weak, "{hash}: {inspected:?}");
    }
}

/// Firebase's published example (github.com/firebase/scrypt README): the
/// project's parameters, one exported user's salt and hash, its password.
#[test]
fn firebase_scrypt_matches_the_published_vector() {
    let keys = FirebaseKeys::new(
        "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==",
        "Bw==",
        8,
        14,
    )
    .unwrap();
    let hash = "$firebase-scrypt$42xEC+ixf3L2lw==$lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==";
    assert!(verify(hash, b"user1password", Some(&keys)));
    assert!(!verify(hash, b"user1password ", Some(&keys)));
    assert!(!verify(hash, b"user1password", None), "no keys, no match");
    assert_eq!(
        inspect(hash, Some(&keys)),
        Ok(Inspected {
            format: "firebase-scrypt",
            weak: None
        })
    );
    assert_eq!(inspect(hash, None), Err(Rejected::FirebaseNotConfigured));
    let other = FirebaseKeys::new("AAAA", "Bw==", 8, 14).unwrap();
    assert!(!verify(hash, b"user1password", Some(&other)));
}

#[test]
fn firebase_keys_are_checked_when_configured() {
    for (signer, separator, rounds, mem_cost) in [
        ("not base64!", "Bw==", 8, 14),
        ("", "Bw==", 8, 14),
        ("AAAA", "%%", 8, 14),
        ("AAAA", "Bw==", 0, 14),
        ("AAAA", "Bw==", 8, 0),
        ("AAAA", "Bw==", 8, 40),
        ("AAAA", "Bw==", 32, 24),
    ] {
        assert!(
            FirebaseKeys::new(signer, separator, rounds, mem_cost).is_err(),
            "{signer} {separator} {rounds} {mem_cost}"
        );
    }
    let keys = FirebaseKeys::new("AAAA", "Bw==", 8, 14).unwrap();
    assert!(
        !format!("{keys:?}").contains("AAAA"),
        "the signer key is not logged"
    );
}

#[test]
fn toktoks_own_formats_are_accepted_for_import() {
    let own = crate::auth::password::hash_password(
        crate::auth::password::HashAlgorithm::Pbkdf2Sha256 { iterations: 1000 },
        PASSWORD,
    )
    .unwrap();
    assert!(is_own(&own));
    assert_eq!(inspect(&own, None).unwrap().format, "pbkdf2-sha256");
    let argon = "$argon2id$v=19$m=1024,t=1,p=2$KkZEeMhoC+Y9cGvqP1ziHQ$JT+CekEOzwDWoAXCytJS+N6w4pGHpLj2n/VfqkQVtU0";
    assert!(is_own(argon));
    assert!(!is_own(MADE_ELSEWHERE[0].0));
}

#[test]
fn costs_above_the_caps_are_refused_at_once() {
    let salt = "cI6xtvY+hxCitJZSqrV2zg";
    let hash = "AhQTTgshoY6H+0EQwI9iTLW4PIEE8Py4lbSf3CTJKmQ";
    let cases = [
        "$2b$17$MAaw9k6l4VDUlbWpmDjTge9fijYK3qwZSaZdCrwy6DR9qqq.G2yNC".to_owned(),
        format!("$pbkdf2-sha512$10000001${salt}${hash}"),
        format!("$scrypt$ln=22,r=8,p=1${salt}${hash}"),
        format!("$scrypt$ln=14,r=8,p=17${salt}${hash}"),
        format!("$argon2id$v=19$m=4194304,t=1,p=1${salt}${hash}"),
        "$6$rounds=999999999$SGM4a4Hd5oNJhU4R$mNESnGI/eJgR4Tzd9MddN86P8T870vEKapvTkGtgTDi.KtKbThj4pUMfw1kdGSZ91tOqLX5Sjm9XdUxRCcYpJ0".to_owned(),
    ];
    let started = std::time::Instant::now();
    for case in &cases {
        assert!(
            matches!(inspect(case, None), Err(Rejected::TooCostly(_))),
            "{case}: {:?}",
            inspect(case, None)
        );
        assert!(!verify(case, PASSWORD.as_bytes(), None), "{case}");
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
}

#[test]
fn malformed_and_unknown_strings_are_told_apart() {
    for unknown in [
        "",
        "plain text",
        "$1$abc$def",
        "$md5$x",
        "{SSHA}abc",
        "$2x$10$abc",
    ] {
        assert_eq!(inspect(unknown, None), Err(Rejected::Unknown), "{unknown}");
    }
    for malformed in [
        "$2b$10$short",
        "$2b$xx$MAaw9k6l4VDUlbWpmDjTge9fijYK3qwZSaZdCrwy6DR9qqq.G2yNC",
        "$argon2id$v=19$m=1024,t=1,p=2$KkZEeMhoC+Y9cGvqP1ziHQ",
        "$argon2id$m=oops",
        "$pbkdf2-sha256$1000$O4ewltIag7AWQogxxljrPQ",
        "$pbkdf2-sha256$-1$O4ewltIag7AWQogxxljrPQ$ObIJW4nKAL5QBXI7GM6PumZq7Rx7RLLKfJuA/UlqtCc",
        "$pbkdf2-sha256$0$O4ewltIag7AWQogxxljrPQ$ObIJW4nKAL5QBXI7GM6PumZq7Rx7RLLKfJuA/UlqtCc",
        "$pbkdf2-sha256$1000$O4ewltIag7AWQogxxljrPQ$!!",
        "$pbkdf2-sha256$1000$$ObIJW4nKAL5QBXI7GM6PumZq7Rx7RLLKfJuA/UlqtCc",
        "pbkdf2_sha256$1000$salt",
        "pbkdf2_sha256$1000$salt$AAAA$extra",
        "$scrypt$ln=10,r=8$cI6xtvY+hxCitJZSqrV2zg$AhQTTgshoY6H+0EQwI9iTLW4PIEE8Py4lbSf3CTJKmQ",
        "$scrypt$ln=0,r=8,p=1$cI6xtvY+hxCitJZSqrV2zg$AhQTTgshoY6H+0EQwI9iTLW4PIEE8Py4lbSf3CTJKmQ",
        "scrypt$1000$salt$8$1$AAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$6$rounds=1000$salt",
        "$6$rounds=abc$salt$hash",
        "$6$rounds=1000$SGM4a4Hd5oNJhU4R$tooshort",
        "$5$salt$with$dollars",
        "$firebase-scrypt$onlysalt",
        "$firebase-scrypt$!!$AAAA",
    ] {
        assert!(
            matches!(inspect(malformed, None), Err(Rejected::Malformed(_))),
            "{malformed}: {:?}",
            inspect(malformed, None)
        );
        assert!(!verify(malformed, PASSWORD.as_bytes(), None), "{malformed}");
    }
}

#[test]
fn the_cheap_threshold_is_where_the_issue_puts_it() {
    // bcrypt 8 and PBKDF2 10,000 are fine; one less is flagged.
    let at = |hash: &str| inspect(hash, None).unwrap().weak;
    let salt = "O4ewltIag7AWQogxxljrPQ";
    let hash = "ObIJW4nKAL5QBXI7GM6PumZq7Rx7RLLKfJuA/UlqtCc";
    assert!(at(&format!("$pbkdf2-sha256$9999${salt}${hash}")).is_some());
    assert!(at(&format!("$pbkdf2-sha256$10000${salt}${hash}")).is_none());
    assert!(at("$2b$07$MAaw9k6l4VDUlbWpmDjTge9fijYK3qwZSaZdCrwy6DR9qqq.G2yNC").is_some());
    assert!(at("$2b$08$MAaw9k6l4VDUlbWpmDjTge9fijYK3qwZSaZdCrwy6DR9qqq.G2yNC").is_none());
}
