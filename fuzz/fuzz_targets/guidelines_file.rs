//! The guidelines file parser and checker, on any text: no panic, no overflow, and whatever the
//! compile-time check accepts the runtime accepts and builds the same way.
//!
//! ```text
//! cargo fuzz run guidelines_file -s none -- -max_total_time=600
//! ```
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        privacy_fuzz::oracle::check(text);
    }
});
