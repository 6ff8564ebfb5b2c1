#!/usr/bin/python3
"""Peer QR decoders for the corpus of scripts/corpus, and a table of how well they read it.

    scripts/peers.py MANIFEST [--results FILE.jsonl] [--peers zbar,zxing-cpp,...] [-v]

One function per peer, each taking a file path (an image, or a PDF) and returning
(decoded texts, seconds):

  zbar          libzbar through python3-zbar (the library behind zbarimg), QR only, with
                test-inverted on (zbar does not try light-on-dark codes otherwise)
  zxing-cpp     the zxing-cpp wheel, defaults (tries rotations, downscaling, inversion), QR only
  opencv        cv2.QRCodeDetector().detectAndDecode, defaults
  opencv-aruco  cv2.QRCodeDetectorAruco().detectAndDecode (OpenCV >= 4.8), defaults

Seconds cover everything from the path: reading the image file as 8-bit gray with OpenCV, or
rasterizing the PDF with `pdftoppm -r 300 -gray` (PGM), plus the peer's decode. A file is
loaded once and its loading time charged to every peer. A PDF's pages are decoded in order
until one gives a result.

The table gives per kind and bucket: files, the share decoded to the expected text, misreads
(something decoded, none of it the expected text; not counted as decoded) and the median and
95th-percentile seconds per file.

Debian 12 has no zxing-cpp, and its OpenCV 4.6 is built without QUIRC, so QRCodeDetector finds
codes but cannot decode them. `scripts/corpus --check` makes a virtualenv from /usr/bin/python3
with pinned wheels of both ($CERTKIOSK_PEERS_VENV, default /tmp/certkiosk-peers-venv); run as a
program, peers.py re-executes itself in it when it exists. A peer that cannot work is shown n/a.
All peers run on one thread (cv2.setNumThreads(1); zbar and zxing-cpp use one anyway).
"""

from __future__ import annotations

import argparse
import functools
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

PDF_DPI = 300
DEFAULT_VENV = "/tmp/certkiosk-peers-venv"
VENV = os.environ.get("CERTKIOSK_PEERS_VENV", DEFAULT_VENV)

try:
    import zxingcpp
except ImportError:
    zxingcpp = None


def reexec_in_venv():
    """Runs this program again with the peers' virtualenv's Python, if there is one."""
    python = Path(VENV) / "bin" / "python"
    if python.exists() and Path(sys.prefix).resolve() != Path(VENV).resolve():
        os.execv(str(python), [str(python), os.path.abspath(__file__), *sys.argv[1:]])


# ─── loading: one gray image per page ─────────────────────────────────────────────────────

@functools.lru_cache(maxsize=1)
def load_pages(path: str) -> tuple[tuple[np.ndarray, ...], float]:
    """The file as gray pages and the seconds that took (cached for the next peer)."""
    start = time.perf_counter()
    if path.lower().endswith(".pdf"):
        pages = rasterize_pdf(path)
    else:
        img = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        if img is None:
            raise OSError(f"cannot read image {path}")
        pages = (img,)
    return pages, time.perf_counter() - start


def rasterize_pdf(path: str) -> tuple[np.ndarray, ...]:
    with tempfile.TemporaryDirectory(prefix="peers-") as tmp:
        subprocess.run(["pdftoppm", "-r", str(PDF_DPI), "-gray", path, f"{tmp}/page"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return tuple(cv2.imread(p, cv2.IMREAD_GRAYSCALE) for p in sorted(glob.glob(f"{tmp}/page*.pgm"),
                                                                          key=page_number))


def page_number(p: str) -> int:
    return int(Path(p).stem.rsplit("-", 1)[-1])


def decode_pages(path: str, decode_one) -> tuple[list[str], float]:
    """Runs `decode_one(gray) -> list[str]` on each page until one gives something."""
    pages, load_seconds = load_pages(path)
    start = time.perf_counter()
    texts: list[str] = []
    for page in pages:
        texts = decode_one(page)
        if texts:
            break
    return texts, load_seconds + time.perf_counter() - start


# ─── the peers ────────────────────────────────────────────────────────────────────────────

@functools.lru_cache(maxsize=1)
def _zbar_scanner():
    import zbar as zbar_module
    scanner = zbar_module.ImageScanner()
    scanner.parse_config("disable")
    scanner.parse_config("qrcode.enable")
    scanner.parse_config("test-inverted")
    return zbar_module, scanner


def zbar(path: str) -> tuple[list[str], float]:
    def one(gray: np.ndarray) -> list[str]:
        module, scanner = _zbar_scanner()
        image = module.Image(gray.shape[1], gray.shape[0], "Y800", np.ascontiguousarray(gray).tobytes())
        scanner.scan(image)
        return [symbol.data for symbol in image]
    return decode_pages(path, one)


def zxing(path: str) -> tuple[list[str], float]:
    if zxingcpp is None:
        raise RuntimeError("zxing-cpp is not installed")

    def one(gray: np.ndarray) -> list[str]:
        found = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode,
                                       text_mode=zxingcpp.TextMode.Plain)
        return [b.text for b in found if b.valid]
    return decode_pages(path, one)


@functools.lru_cache(maxsize=1)
def _opencv_detector():
    return cv2.QRCodeDetector()


def opencv(path: str) -> tuple[list[str], float]:
    def one(gray: np.ndarray) -> list[str]:
        text, _points, _ = _opencv_detector().detectAndDecode(gray)
        return [text] if text else []
    return decode_pages(path, one)


@functools.lru_cache(maxsize=1)
def _aruco_detector():
    return cv2.QRCodeDetectorAruco()


def opencv_aruco(path: str) -> tuple[list[str], float]:
    def one(gray: np.ndarray) -> list[str]:
        text, _points, _ = _aruco_detector().detectAndDecode(gray)
        return [text] if text else []
    return decode_pages(path, one)


PEERS = {"zbar": zbar, "zxing-cpp": zxing, "opencv": opencv, "opencv-aruco": opencv_aruco}


def unavailable_reason(name: str) -> str | None:
    """Why a peer cannot decode here, or None if it can (tried on a clean code)."""
    if name == "zxing-cpp" and zxingcpp is None:
        return f"zxing-cpp is not installed (see scripts/corpus --check, {VENV})"
    if name == "zbar":
        try:
            _zbar_scanner()
        except ImportError:
            return "python3-zbar is not installed"
    if name == "opencv-aruco" and not hasattr(cv2, "QRCodeDetectorAruco"):
        return f"OpenCV {cv2.__version__} has no QRCodeDetectorAruco (4.8 and later)"
    if name.startswith("opencv"):
        detector = _opencv_detector() if name == "opencv" else _aruco_detector()
        if not detector.detectAndDecode(probe_qr())[0]:
            return f"OpenCV {cv2.__version__} cannot decode (built without QUIRC)"
    return None


def probe_qr() -> np.ndarray:
    """A clean QR code, 4 px per module, to see whether a peer can decode at all."""
    import qrcode
    code = qrcode.QRCode(box_size=4, border=4)
    code.add_data("peer probe")
    return np.array(code.make_image().get_image().convert("L"))


# ─── the table ────────────────────────────────────────────────────────────────────────────

def outcome(texts: list[str], expected: str) -> str:
    if expected in texts:
        return "ok"
    return "misread" if texts else "none"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def run_manifest(manifest: Path, peers: dict, results_path: Path | None, verbose: bool) -> list[dict]:
    entries = json.loads(manifest.read_text(encoding="utf-8"))
    base = manifest.parent
    rows = []
    out = results_path.open("w", encoding="utf-8") if results_path else None
    for e in entries:
        path = str(base / e["file"])
        for name, fn in peers.items():
            try:
                texts, seconds = fn(path)
                result = outcome(texts, e["expected"])
            except Exception as err:  # a file a peer chokes on counts as not decoded
                texts, seconds, result = [f"error: {err}"], float("nan"), "error"
            row = {"file": e["file"], "kind": e["kind"], "bucket": e["bucket"], "peer": name,
                   "outcome": result, "seconds": round(seconds, 6)}
            rows.append(row)
            if out:
                out.write(json.dumps({**row, "texts": texts}, ensure_ascii=False) + "\n")
            if verbose and row["outcome"] != "ok":
                print(f"{name:10} {row['outcome']:8} {e['file']}", file=sys.stderr)
    if out:
        out.close()
    return rows


COLUMN = 28  # characters per peer's cells in the table


def peer_cells(mine: list[dict]) -> str:
    if not mine:
        return f"{'n/a':>{COLUMN}}"
    ok = sum(r["outcome"] == "ok" for r in mine)
    mis = sum(r["outcome"] == "misread" for r in mine)
    secs = [r["seconds"] for r in mine if r["seconds"] == r["seconds"]]  # without NaN (errors)
    med = 1000 * statistics.median(secs) if secs else float("nan")
    p95 = 1000 * percentile(secs, 0.95) if secs else float("nan")
    return f"{100 * ok / len(mine):6.1f}% {mis:4d} {med:7.1f} {p95:7.1f}"


def print_table(rows: list[dict], peers: list[str], frames: set[str]):
    """Decode rate, misreads and median/p95 milliseconds per (kind, bucket) and peer; then all
    images, the 1280x720 camera frames among them (`frames`, docs/design.md §6's time goal), and all."""
    groups = sorted({(r["kind"], r["bucket"]) for r in rows},
                    key=lambda g: (g[0] != "image", ["easy", "medium", "hard"].index(g[1])))
    lead = f"{'kind':5} {'bucket':6} {'files':>5}"
    print(f"{'':{len(lead)}}" + "".join(f" │ {p:^{COLUMN}}" for p in peers))
    print(lead + f" │ {'decoded':>7} {'mis':>4} {'med ms':>7} {'p95 ms':>7}" * len(peers))
    print("─" * (len(lead) + (COLUMN + 3) * len(peers)))
    selections = [((kind, bucket), lambda r, g=(kind, bucket): (r["kind"], r["bucket"]) == g)
                  for kind, bucket in groups]
    selections += [(("image", "all"), lambda r: r["kind"] == "image"),
                   (("frame", "720p"), lambda r: r["file"] in frames),
                   (("all", ""), lambda r: True)]
    for (kind, bucket), chosen in selections:
        mine = [r for r in rows if chosen(r)]
        line = f"{kind:5} {bucket:6} {len({r['file'] for r in mine}):5d}"
        print(line + "".join(f" │ {peer_cells([r for r in mine if r['peer'] == p])}" for p in peers))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("manifest", type=Path)
    ap.add_argument("--peers", default=",".join(PEERS), help="comma-separated subset of " + ", ".join(PEERS))
    ap.add_argument("--results", type=Path, help="write one JSON line per file and peer")
    ap.add_argument("--merge", type=Path, action="append", default=[],
                    help="rows of another decoder in the same format (e.g. certkiosk's corpus bench), shown first")
    ap.add_argument("-v", "--verbose", action="store_true", help="name every file a peer missed")
    args = ap.parse_args(argv)
    cv2.setNumThreads(1)
    wanted = [p for p in args.peers.split(",") if p]
    unknown = set(wanted) - set(PEERS)
    if unknown:
        ap.error(f"unknown peers: {', '.join(sorted(unknown))}")
    peers = {}
    for name in wanted:
        reason = unavailable_reason(name)
        if reason:
            print(f"peers: {name} n/a: {reason}", file=sys.stderr)
        else:
            peers[name] = PEERS[name]
    rows = run_manifest(args.manifest, peers, args.results, args.verbose)
    merged = [json.loads(line) for path in args.merge for line in path.read_text(encoding="utf-8").splitlines() if line]
    extra = list(dict.fromkeys(r["peer"] for r in merged))
    entries = json.loads(args.manifest.read_text(encoding="utf-8"))
    frames = {e["file"] for e in entries
              if e["kind"] == "image" and (e.get("width"), e.get("height")) == (1280, 720)}
    print_table(merged + rows, extra + wanted, frames)
    return 0


if __name__ == "__main__":
    reexec_in_venv()
    sys.exit(main())
