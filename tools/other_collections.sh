#!/usr/bin/env bash
# DICOM → JSON → DICOM with default options over DICOM test files that ship inside two PyPI packages the
# shared corpus does not draw from (nibabel's and dicompyler-core's test data): a collection the
# project was not built against. Files are downloaded into target/other-collections/, never committed.
#   bash tools/other_collections.sh DCMFLOW_BINARY PYTHON SHARED_DIR
set -euo pipefail
binary=$1 python=$2 shared=$3
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/target/other-collections"
files="$dir/files"
if [ ! -d "$files" ] || [ -z "$(ls -A "$files" 2>/dev/null)" ]; then
  rm -rf "$dir" && mkdir -p "$files"
  if ! "$python" -m pip download --quiet --disable-pip-version-check --no-deps -d "$dir" \
        nibabel==5.4.2 >/dev/null 2>&1 \
     || ! "$python" -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
        -d "$dir" dicompyler-core==0.5.6 >/dev/null 2>&1; then
    echo "SKIPPED: other collections not downloadable from PyPI (no network?)"
    exit 0
  fi
  "$python" - "$dir" "$files" <<'PY'
import gzip, io, os, sys, tarfile, zipfile
src, out = sys.argv[1], sys.argv[2]
for name in os.listdir(src):
    path = os.path.join(src, name)
    if name.endswith('.whl'):
        with zipfile.ZipFile(path) as z:
            for member in z.namelist():
                if '/nicom/tests/data/' in member and member.endswith(('.dcm', '.dcm.gz')):
                    data = z.read(member)
                    base = os.path.basename(member)
                    if base.endswith('.gz'):
                        data, base = gzip.decompress(data), base[:-3]
                    open(os.path.join(out, 'nibabel-' + base), 'wb').write(data)
    elif name.endswith('.tar.gz'):
        with tarfile.open(path) as t:
            for member in t.getmembers():
                if '/testdata/' in member.name and member.name.endswith('.dcm'):
                    data = t.extractfile(member).read()
                    open(os.path.join(out, 'dicompyler-' + os.path.basename(member.name)), 'wb').write(data)
PY
fi
echo "other collections: $(ls "$files" | wc -l) files (nibabel 5.4.2, dicompyler-core 0.5.6)"
"$python" "$root/tools/roundtrip_corpus.py" "$binary" "$shared" --dir "$files"
