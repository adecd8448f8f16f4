//! The real-world suites (corpus conformance, listings, peers' JSON, round trips) read `../shared`,
//! which is not part of the repository. Without it they pass without checking anything, so this test
//! fails instead, saying so, unless the absence is acknowledged with `DCMFLOW_SKIP_SHARED=1`.

use std::path::PathBuf;

#[test]
fn shared_test_material_is_present_or_its_absence_acknowledged() {
    let dir = std::env::var_os("DCMFLOW_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let present = dir.join("corpus").is_dir() && dir.join("json").is_dir();
    let acknowledged = std::env::var("DCMFLOW_SKIP_SHARED").is_ok_and(|v| v == "1");
    assert!(
        present || acknowledged,
        "{} not found: the real-world corpus suites (crates/dicom/tests/corpus_conformance.rs, \
         listing.rs, streaming_equivalence.rs; crates/dcmflow/tests/json_corpus.rs, roundtrip.rs, \
         json_pipelined.rs) would check nothing. Set DCMFLOW_SHARED=DIR to the shared material, or \
         DCMFLOW_SKIP_SHARED=1 to run without them.",
        dir.display()
    );
    if !present {
        println!("SKIPPED (DCMFLOW_SKIP_SHARED=1): real-world corpus suites");
    }
}
