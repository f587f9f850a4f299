//! Fuzzes the SCIM filter parser and checker: no input may panic, and any
//! filter that parses must print as canonical text that parses back to the
//! same canonical text.

#![no_main]

use libfuzzer_sys::fuzz_target;
use roster_domain::user::filter::{parse, parse_expr};

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    let _ = parse(input);
    if let Ok(expr) = parse_expr(input) {
        let text = expr.to_string();
        match parse_expr(&text) {
            Ok(again) => assert_eq!(again.to_string(), text, "canonical text changed for {input:?}"),
            Err(e) => panic!("canonical text {text:?} of {input:?} does not parse: {e}"),
        }
    }
});
