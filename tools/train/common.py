"""Shared helpers for the seek-tiny-v3 training pipeline: data paths and the deterministic split."""
import os
import sys

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_DATA = os.path.abspath(os.path.join(REPO_ROOT, "..", "shared", "data"))
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")

CORPORA = ["war-and-peace.txt", "jargon-file-4.4.7.txt", "devils-dictionary.dict.txt"]
HELDOUT_FRACTION = 0.05


def data_dir(path):
    path = os.path.abspath(path or DEFAULT_DATA)
    missing = [c for c in CORPORA if not os.path.isfile(os.path.join(path, "corpora", c))]
    if missing:
        sys.exit(f"error: data directory {path!r} lacks corpora/{', corpora/'.join(missing)} "
                 f"(pass --data /path/to/shared/data)")
    return path


def split_text(text):
    """Deterministic split: the held-out part is the last 5% of the file, starting at a line boundary."""
    cut = int(len(text) * (1.0 - HELDOUT_FRACTION))
    nl = text.find("\n", cut)
    cut = len(text) if nl < 0 else nl + 1
    return text[:cut], text[cut:]


def load_splits(data):
    """Returns ([(name, train_text)], [(name, heldout_text)])."""
    train, held = [], []
    for c in CORPORA:
        with open(os.path.join(data, "corpora", c), "r", encoding="utf-8") as f:
            text = f.read()
        a, b = split_text(text)
        train.append((c, a))
        held.append((c, b))
    return train, held


def heldout_text(data):
    """The held-out evaluation text: the three held-out tails concatenated (in CORPORA order)."""
    _, held = load_splits(data)
    return "".join(t for _, t in held)
