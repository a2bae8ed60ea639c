#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| toktok_fuzz::surface::import_line(data));
