#!/usr/bin/env bash
# Builds the seed corpora of every fuzz target under fuzz/corpus/ from all the relevant inputs:
# the synthetic and charset fixtures, ../shared/edge, the real files of ../shared/corpus (malformed
# included, up to 64 KiB) and every peer's JSON under ../shared/json (up to 20 KiB), each behind the
# targets' mode byte (several modes for the real files).
#   bash fuzz/seed.sh [SHARED_DIR]
set -euo pipefail
cd "$(dirname "$0")"
shared=${1:-../../shared}
[ -d "$shared/corpus" ] || { echo "no $shared/corpus: pass the shared directory" >&2; exit 1; }
for t in dicom_read dicom_read_chunked dicom_push roundtrip dcm2json json_read json_roundtrip json_push; do mkdir -p "corpus/$t"; done
n=0
dicom_inputs() {
  ls ../corpus/synthetic/*.dcm ../corpus/charset/*.dcm "$shared"/edge/*.dcm
  find "$shared/corpus" -type f -size -64k ! -name '*.tsv' ! -name '*.txt' ! -name '*.json' ! -name '*.md'
}
while read -r f; do
  n=$((n + 1))
  for t in dicom_read dicom_read_chunked roundtrip; do cp "$f" "corpus/$t/d$n"; done
  # dcm2json: compact/pretty, IS/DS policies and the two-thread bits spread over the files.
  mode=$(printf '\\x%02x' $(( (n * 37) % 128 )))
  printf "$mode" | cat - "$f" > "corpus/dcm2json/d$n"
  # dicom_push: the first byte chooses where the input is cut.
  printf "$(printf '\\x%02x' $(( (n * 53) % 256 )))" | cat - "$f" > "corpus/dicom_push/d$n"
done < <(dicom_inputs)
m=0
while read -r f; do
  m=$((m + 1))
  mode=$(printf '\\x%02x' $(( (m * 13) % 64 )))
  printf '\0' | cat - "$f" > "corpus/json_read/j$m"
  printf "$mode" | cat - "$f" > "corpus/json_read/k$m"
  printf "$(printf '\\x%02x' $(( m % 4 )))" | cat - "$f" > "corpus/json_roundtrip/j$m"
  # json_push: the first byte chooses where the input is cut (and, in its high bit, lenient reading).
  printf "$(printf '\\x%02x' $(( (m * 53) % 256 )))" | cat - "$f" > "corpus/json_push/j$m"
done < <(find "$shared/json" -name '*.json' -size -20k)
echo "seeded: $n DICOM inputs, $m JSON inputs"
# BSON: MongoDB's corpus, the benchmark documents and tweets (pymongo encodes them when installed).
python_for_bson=python3
[ -x ../target/pyenv/bin/python ] && python_for_bson=../target/pyenv/bin/python
"$python_for_bson" seed_bson.py "$shared"
# Avro: Apache's interop container files and fastavro-written random data of every type.
"$python_for_bson" seed_avro.py "$shared"
