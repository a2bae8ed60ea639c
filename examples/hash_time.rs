//! Times one password verification, as a login does it, for the benchmark
//! suite's "hash ceiling" (`bench/run.sh`): cores ÷ this time is the most
//! logins per second the machine can do, whatever the HTTP stack around it.
//!
//! Besides toktok's own verification it times the raw PBKDF2-HMAC-SHA256 of
//! each implementation at hand, on one core: the `pbkdf2` crate over `sha2`
//! (what toktok uses), ring, and aws-lc-rs. Which is fastest depends on the
//! CPU (SHA extensions), so the suite takes the ceiling from the fastest and
//! names it.
//!
//! Usage: `cargo run --release --example hash_time [ITERATIONS] [SAMPLES]`
//! (defaults: 600000, 5). Prints one line per implementation, fastest
//! first: its name and its median time in seconds, e.g.
//!
//! ```text
//! toktok 0.061234
//! pbkdf2+sha2 0.061002
//! aws-lc-rs 0.066871
//! ring 0.104113
//! ```
//!
//! (`toktok` is the whole verification: PHC parsing, NFKC and the
//! constant-time comparison around `pbkdf2+sha2`; it is listed for the
//! login ceiling and is never "the fastest implementation".)

use std::num::NonZeroU32;
use std::time::Instant;

use toktok::auth::password::{hash_password, verify_password, HashAlgorithm};

const PASSWORD: &str = "correct horse battery staple";
const SALT: [u8; 16] = *b"0123456789abcdef";

/// The median of `samples` runs of `f`, in seconds.
fn median(samples: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..samples.max(1))
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let iterations: u32 = args.next().map_or(Ok(600_000), |a| a.parse())?;
    let samples: usize = args.next().map_or(Ok(5), |a| a.parse())?;
    let rounds = NonZeroU32::new(iterations).ok_or_else(|| anyhow::anyhow!("ITERATIONS is 0"))?;
    let alg = HashAlgorithm::Pbkdf2Sha256 { iterations };
    let phc = hash_password(alg, PASSWORD).map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;

    let mut results = vec![(
        "toktok",
        median(samples, || {
            let verification = verify_password(&phc, PASSWORD, alg);
            assert!(verification.ok, "the password verifies");
        }),
    )];
    let mut outputs: Vec<[u8; 32]> = Vec::new();
    let mut out = [0u8; 32];
    let t = median(samples, || {
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(PASSWORD.as_bytes(), &SALT, iterations, &mut out)
    });
    results.push(("pbkdf2+sha2", t));
    outputs.push(out);
    let t = median(samples, || {
        ring::pbkdf2::derive(
            ring::pbkdf2::PBKDF2_HMAC_SHA256,
            rounds,
            &SALT,
            PASSWORD.as_bytes(),
            &mut out,
        )
    });
    results.push(("ring", t));
    outputs.push(out);
    let t = median(samples, || {
        aws_lc_rs::pbkdf2::derive(
            aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
            rounds,
            &SALT,
            PASSWORD.as_bytes(),
            &mut out,
        )
    });
    results.push(("aws-lc-rs", t));
    outputs.push(out);
    anyhow::ensure!(
        outputs.windows(2).all(|w| w[0] == w[1]),
        "the PBKDF2 implementations disagree"
    );

    results.sort_by(|a, b| a.1.total_cmp(&b.1));
    for (name, seconds) in results {
        println!("{name} {seconds:.6}");
    }
    Ok(())
}
