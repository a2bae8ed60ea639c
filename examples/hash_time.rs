//! Times one password verification, as a login does it, for the benchmark
//! suite's "hash ceiling" (`bench/run.sh`): cores ÷ this time is the most
//! logins per second the machine can do, whatever the HTTP stack around it.
//!
//! Usage: `cargo run --release --example hash_time [ITERATIONS] [SAMPLES]`
//! (defaults: 600000, 5). Prints the median time of one verification in
//! seconds, alone on standard output.

use std::time::Instant;

use toktok::auth::password::{hash_password, verify_password, HashAlgorithm};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let iterations: u32 = args.next().map_or(Ok(600_000), |a| a.parse())?;
    let samples: usize = args.next().map_or(Ok(5), |a| a.parse())?;
    let alg = HashAlgorithm::Pbkdf2Sha256 { iterations };
    let phc = hash_password(alg, "correct horse battery staple")
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
    let mut times: Vec<f64> = (0..samples.max(1))
        .map(|_| {
            let start = Instant::now();
            let verification = verify_password(&phc, "correct horse battery staple", alg);
            assert!(verification.ok, "the password verifies");
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!("{:.6}", times[times.len() / 2]);
    Ok(())
}
