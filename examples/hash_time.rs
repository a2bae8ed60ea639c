//! Times one password verification, as a login does it, for the benchmark
//! suite's "hash ceiling" (`bench/run.sh`): cores ÷ this time is the most
//! logins per second the machine can do, whatever the HTTP stack around it.
//!
//! Besides toktok's own verification it times the raw PBKDF2-HMAC-SHA256 of
//! each implementation at hand, on one core: `toktok-pbkdf2` (what toktok
//! uses: sha2 and hmac with the iterations specialised), the `pbkdf2` crate
//! over `sha2`, ring, and aws-lc-rs. Which is fastest depends on the CPU
//! (SHA extensions), so the suite takes the ceiling from the fastest and
//! names it. All four must derive the same bytes.
//!
//! Usage: `cargo run --release --example hash_time [ITERATIONS] [SAMPLES]`
//! (defaults: 600000, 5). Prints one line per implementation, fastest
//! first: its name and its median time in seconds, e.g.
//!
//! ```text
//! toktok-pbkdf2 0.057452
//! toktok 0.057611
//! pbkdf2+sha2 0.070932
//! aws-lc-rs 0.077162
//! ring 0.117991
//! ```
//!
//! `toktok` is the whole verification as a login runs it: `toktok-pbkdf2`
//! with the PHC parsing, NFKC and the constant-time comparison around it,
//! which cost microseconds.

use std::num::NonZeroU32;
use std::time::Instant;

use toktok::auth::password::{hash_password, verify_password, HashAlgorithm};

const PASSWORD: &str = "correct horse battery staple";
const SALT: [u8; 16] = *b"0123456789abcdef";

/// The median of `times`, in seconds.
fn median(mut times: Vec<f64>) -> f64 {
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

    // The implementations take turns, one run each per round, so a change
    // in the machine's load or clock during the measurement falls on all of
    // them alike.
    type Run = Box<dyn Fn(&mut [u8; 32])>;
    let runs: [(&str, Run); 5] = [
        (
            "toktok",
            Box::new(move |_| {
                let verification = verify_password(&phc, PASSWORD, alg);
                assert!(verification.ok, "the password verifies");
            }),
        ),
        (
            "toktok-pbkdf2",
            Box::new(move |out| toktok_pbkdf2::derive(PASSWORD.as_bytes(), &SALT, iterations, out)),
        ),
        (
            "pbkdf2+sha2",
            Box::new(move |out| {
                pbkdf2::pbkdf2_hmac::<sha2::Sha256>(PASSWORD.as_bytes(), &SALT, iterations, out)
            }),
        ),
        (
            "ring",
            Box::new(move |out| {
                ring::pbkdf2::derive(
                    ring::pbkdf2::PBKDF2_HMAC_SHA256,
                    rounds,
                    &SALT,
                    PASSWORD.as_bytes(),
                    out,
                )
            }),
        ),
        (
            "aws-lc-rs",
            Box::new(move |out| {
                aws_lc_rs::pbkdf2::derive(
                    aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
                    rounds,
                    &SALT,
                    PASSWORD.as_bytes(),
                    out,
                )
            }),
        ),
    ];
    let mut times = vec![Vec::new(); runs.len()];
    let mut outputs = vec![[0u8; 32]; runs.len()];
    for round in 0..samples.max(1) {
        // Each round starts with another one, so none always runs first
        // (after an idle moment) or right after a given other one.
        for k in 0..runs.len() {
            let i = (round + k) % runs.len();
            let start = Instant::now();
            runs[i].1(&mut outputs[i]);
            times[i].push(start.elapsed().as_secs_f64());
        }
    }
    anyhow::ensure!(
        outputs[1..].windows(2).all(|w| w[0] == w[1]),
        "the PBKDF2 implementations disagree"
    );
    let mut results: Vec<(&str, f64)> = runs
        .iter()
        .zip(times)
        .map(|((name, _), times)| (*name, median(times)))
        .collect();
    results.sort_by(|a, b| a.1.total_cmp(&b.1));
    for (name, seconds) in results {
        println!("{name} {seconds:.6}");
    }
    Ok(())
}
