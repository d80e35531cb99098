//! `spec/bytecode.md` carries the instruction table generated from `isa.rs`; this test
//! fails when they drift. Run with `UPDATE_SPEC=1` to rewrite the table in the spec.

const START: &str = "<!-- isa-table:start -->\n";
const END: &str = "<!-- isa-table:end -->";

#[test]
fn spec_instruction_table_matches_isa() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/bytecode.md");
    let spec = std::fs::read_to_string(path).expect("spec/bytecode.md exists");
    let start = spec.find(START).expect("start marker") + START.len();
    let end = spec.find(END).expect("end marker");
    let table = kiln_bytecode::isa::markdown_table();
    if std::env::var_os("UPDATE_SPEC").is_some() {
        let updated = format!("{}{}{}", &spec[..start], table, &spec[end..]);
        std::fs::write(path, updated).expect("write spec");
        return;
    }
    assert_eq!(
        &spec[start..end],
        table,
        "spec/bytecode.md is out of date: run `UPDATE_SPEC=1 cargo test -p kiln-bytecode --test spec_table`"
    );
}
