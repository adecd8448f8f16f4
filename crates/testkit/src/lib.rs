//! Test support shared by the crates' integration tests: where the repository's fixtures and the shared
//! real-world material are, the files in them, and deterministic ways to cut an input into pieces.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

/// An `io::Read` that hands out at most `step` bytes per call, like a slow pipe: the reads a streaming
/// parser must give the same result at.
#[derive(Debug)]
pub struct Trickle<'a> {
    /// What is left to read.
    pub data: &'a [u8],
    /// The most bytes one read returns (at least 1).
    pub step: usize,
}

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.max(1).min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// The repository's root.
pub fn repo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A folder of the repository's `corpus/` (`synthetic`, `charset`, `regressions`).
pub fn corpus_dir(name: &str) -> PathBuf {
    repo_dir().join("corpus").join(name)
}

/// `../shared` beside the repository (or `$DCMFLOW_SHARED`), when it holds the real-world corpus.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("DCMFLOW_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_dir().join("../shared"));
    dir.join("corpus").is_dir().then_some(dir)
}

/// Every file below `dir` that may be DICOM (the listings under `expected/` and the manifest, scripts,
/// notes and JSON left out), sorted.
pub fn dicom_files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                if !p.ends_with("expected") {
                    stack.push(p);
                }
            } else if !p
                .extension()
                .is_some_and(|e| matches!(e.to_str(), Some("tsv" | "py" | "md" | "json")))
            {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

/// The `.dcm` files of a folder of the repository's `corpus/`, sorted.
pub fn corpus_files(name: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = dicom_files_under(&corpus_dir(name))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "dcm"))
        .collect();
    files.sort();
    files
}

/// Positions that cut `len` bytes into pieces of 1 to `max_piece` bytes, the same for the same seed
/// (a 64-bit linear congruential generator).
pub fn random_cuts(len: usize, seed: u64, max_piece: usize) -> Vec<usize> {
    let mut state = seed ^ 0x9E37_79B9_7F4A_7C15;
    let mut cuts = Vec::new();
    let mut at = 0;
    while at < len {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        at += 1 + (state >> 33) as usize % max_piece.max(1);
        cuts.push(at.min(len));
    }
    cuts
}

/// Positions that cut `len` bytes into pieces of `size` bytes.
pub fn even_cuts(len: usize, size: usize) -> Vec<usize> {
    (size.max(1)..len).step_by(size.max(1)).collect()
}

/// Calls `check` with every permutation of `items` (Heap's algorithm), the identity first.
pub fn for_each_permutation<T: Clone>(items: &[T], mut check: impl FnMut(&[T])) {
    let mut perm = items.to_vec();
    let mut c = vec![0usize; perm.len()];
    check(&perm);
    let mut i = 0;
    while i < perm.len() {
        if c[i] < i {
            perm.swap(if i % 2 == 0 { 0 } else { c[i] }, i);
            check(&perm);
            c[i] += 1;
            i = 0;
        } else {
            c[i] = 0;
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_cover_the_input_in_order() {
        for seed in 0..10 {
            let cuts = random_cuts(1000, seed, 37);
            assert!(cuts.windows(2).all(|w| w[0] < w[1]));
            assert_eq!(cuts.last(), Some(&1000));
            assert!(cuts.first().is_some_and(|&c| (1..=37).contains(&c)));
        }
        assert_eq!(even_cuts(10, 4), vec![4, 8]);
    }

    #[test]
    fn the_synthetic_corpus_is_found() {
        assert!(corpus_files("synthetic").len() >= 10);
    }
}
