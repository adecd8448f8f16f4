"""What the corpus scripts share: pydicom's comparator from SHARED_DIR/peers, and the real-world files of
SHARED_DIR/corpus/MANIFEST.tsv (outside malformed/) run through a check in parallel."""
import importlib.util
import os
from concurrent.futures import ThreadPoolExecutor


def load_comparator(shared):
    spec = importlib.util.spec_from_file_location(
        'compare_pydicom', os.path.join(shared, 'peers', 'compare_pydicom.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def well_formed_files(corpus):
    """The MANIFEST.tsv paths of `corpus`, malformed/ left out."""
    with open(os.path.join(corpus, 'MANIFEST.tsv')) as f:
        rows = [line.split('\t')[0] for line in f.read().splitlines()[1:] if line.strip()]
    return [r for r in rows if not r.startswith('malformed/')]


def run_parallel(check, items):
    """[(item, check(item))] in order, on every core."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return list(pool.map(lambda item: (item, check(item)), items))
