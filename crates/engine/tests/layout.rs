//! The engine is format-neutral: it depends on no codec crate, and its code names none.

use std::path::Path;

const CODEC_CRATES: [&str; 3] = ["dcmflow-core", "dcmflow-dicom", "dcmflow-json"];

#[test]
fn the_engine_depends_on_no_codec() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    for name in CODEC_CRATES {
        assert!(!manifest.contains(name), "Cargo.toml names {name}");
    }
    let mut files = vec![root.join("src")];
    let mut checked = 0;
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if path.extension().is_some_and(|e| e == "rs") {
            let code = std::fs::read_to_string(&path).unwrap();
            for name in CODEC_CRATES {
                let module = name.replace('-', "_");
                assert!(!code.contains(&module), "{} uses {module}", path.display());
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} source files");
}
