//! Where errors become HTTP answers.

#[cfg(test)]
mod tests;
