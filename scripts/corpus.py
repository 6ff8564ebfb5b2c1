#!/usr/bin/python3
"""Deterministic test corpus for certkiosk's QR reader: camera frames, phone photos and PDFs.

    scripts/corpus DEMO_DIR OUT_DIR [--quick] [--with-libreoffice] [--check]
    (the wrapper installs the Debian packages, then runs /usr/bin/python3 scripts/corpus.py)

Payloads are the texts of DEMO_DIR/samples/*.txt (without the final newline) that start with
`CK1:`, duplicates dropped. Each QR code is made by python3-qrcode from the exact text, error
correction M (what the authority prints), mode chosen by the library: the credentials are
Base45, so alphanumeric, version 9-10 (53-57 modules); the demo's short `CK1:!!!NOT~BASE45`
gives a byte-mode version 2.

Images: a synthetic certificate page (cream or white paper, guilloche border, red round seal,
Chinese and English text, nested-square ornaments shaped like QR finder patterns as decoys)
with the QR printed on it, seen by a pinhole camera by ray casting (tilt, any rotation, a
page curling towards the lens, parabolic in section), then lighting (shadows: gradient or
hand, glare, low light, veiling flare), optics (lens blur, defocus, motion), a sensor (noise)
and encoding (PNG or JPEG). Module size is the geometric mean of a module's sides at the QR's
centre in the final image. File names carry it and the main degradations, e.g.
images/hard/m1.9-tilt44-curl-inv-0012.jpg.

  bucket  modules (px)  what else
  easy    3-8           near-flat (tilt <= 8 deg), sharp, clean; rotation mostly small
  medium  2-4           tilt 8-30 deg, any rotation, mild curl, moderate blur/noise/JPEG,
                        sometimes a mild shadow, dim light or glare
  hard    1.5-2.5       2-3 of: tilt 30-45 deg, curl, strong blur (scaled to the module so it
                        stays decodable), glare, shadow (gradient or hand), low light or low
                        contrast, inverted (light modules on dark), mirrored (selfie camera);
                        1-2 of them below 1.9 px/module. Meant to be decodable by a strong
                        decoder about two times in three (zxing-cpp 3.1 reads about 67 %).

Most images are 1280x720 camera frames (PNG, or JPEG when the degradation includes JPEG); about
a fifth are phone photos, 1920x1080 or 2000x1500, always JPEG.

PDFs, made by third-party tools with known payloads (OUT_DIR/pdfs/): reportlab (vector QR,
image QR plus the payload as an attachment added by qpdf), img2pdf (PNG/Flate, JPEG/DCT),
tiff2pdf (CCITT G4), ghostscript pdfwrite rewrites, qpdf (object and xref streams,
linearized, rotated, RC4-40/RC4-128/AES-128/AES-256 with an empty user password, QR on page 3),
hand-written PDFs (inverted 1-bit stencil mask without quiet zone, Flate with PNG predictors,
an incremental update replacing the QR, `re f` vector QR under a scaled CTM, /Rotate 90) and,
with --with-libreoffice, an ODT converted by LibreOffice. PDF buckets: easy = plain tool
output; medium = scans (JPEG, G4), encryption, rotation, the QR on page 3; hard = the
hand-written ones.

OUT_DIR/manifest.json lists every file: file, kind, bucket, expected, width/height (images),
tool, source (PDFs: where the credential should be found first), params.

Determinism: every image has its own numpy default_rng seeded with (SEED, bucket, index), so
--quick gives the first images of the full run byte for byte. Dates come from
SOURCE_DATE_EPOCH (the wrapper sets 2024-01-01 unless given). Byte-stable: images, reportlab
(invariant=1), img2pdf (--nodate, internal engine), tiff2pdf (-e), ghostscript (-dOmitInfoDate
-dOmitID -dOmitXMP), qpdf (--deterministic-id; --static-id and --static-aes-iv when
encrypting), hand-written PDFs. Not byte-stable: qpdf AES-256 (the R6 salts and file key are
random whatever the options) and LibreOffice (creation date and document ID).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import io
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

try:
    import cv2
except ImportError:  # the PDFs need no OpenCV (scripts/corpus --pdfs-only does not install it)
    cv2 = None
import numpy as np
import qrcode
from PIL import Image, ImageDraw, ImageFont

# ─── constants ────────────────────────────────────────────────────────────────────────────

SEED = 20241125
BUCKETS = ("easy", "medium", "hard")
FULL_COUNTS = {"easy": 120, "medium": 150, "hard": 180}
QUICK_COUNTS = {"easy": 10, "medium": 10, "hard": 15}
PDF_VARIANTS = {"full": 3, "quick": 1}
DEFAULT_EPOCH = 1704067200  # 2024-01-01T00:00:00Z

PAYLOAD_PREFIX = "CK1:"
QR_ERROR = qrcode.constants.ERROR_CORRECT_M
QUIET = 4  # quiet zone, modules

FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
PAGE_MM = (210.0, 297.0)  # A4 portrait
MM_PER_PT = 25.4 / 72
SCAN_DPI = 300

FRAME_SIZE = (1280, 720)
PHONE_SIZES = ((1920, 1080), (2000, 1500))
PHONE_SHARE = 0.2
RENDER_PX_CAP = 24_000_000  # page-crop pixels; the render scale drops above this
IMAGE_TOOL = "corpus.py (python3-qrcode, Pillow, OpenCV)"

RED_SEAL = np.array([200, 28, 36], np.float32)
PAPERS = ((250, 250, 246), (247, 241, 224), (244, 238, 218))
INKS = ((24, 24, 30), (22, 30, 64), (38, 30, 28))
BORDER_INKS = ((40, 110, 90), (50, 80, 150), (140, 90, 40), (120, 50, 60))
DESKS = ((120, 84, 52), (70, 72, 78), (150, 150, 146), (40, 44, 60), (185, 160, 120))

# QR centre and seal centre (mm from the page's top-left) for each layout.
LAYOUTS = {
    "qr-left": {"qr": (54.0, 240.0), "seal": (150.0, 222.0)},
    "qr-right": {"qr": (156.0, 240.0), "seal": (68.0, 222.0)},
    "qr-centre": {"qr": (105.0, 242.0), "seal": (160.0, 206.0)},
}

NAMES = (("张伟", "ZHANG Wei"), ("王芳", "WANG Fang"), ("李娜", "LI Na"), ("刘洋", "LIU Yang"),
         ("陈静", "CHEN Jing"), ("杨帆", "YANG Fan"), ("赵磊", "ZHAO Lei"), ("黄敏", "HUANG Min"),
         ("欧阳·晓", "OUYANG Xiao"), ("吴婷", "WU Ting"))
QUALIFICATIONS = (("注册安全工程师", "Registered Safety Engineer"),
                  ("一级建造师", "Constructor, Grade I"),
                  ("执业药师", "Licensed Pharmacist"),
                  ("社会工作者", "Social Worker"),
                  ("监理工程师", "Supervising Engineer"),
                  ("经济师（中级）", "Economist, Intermediate"))
ISSUERS = ("人力资源和社会保障部", "中国建设工程造价管理协会", "国家药品监督管理局执业药师资格认证中心")
SEAL_TEXT = "职业资格证书专用章人力资源和社会保障"
SEAL_RADIUS_MM = 19.0
FADED_INK = 0.45  # share of the ink left in a faded print


# ─── payloads and QR matrices ─────────────────────────────────────────────────────────────

def load_payloads(demo_dir: Path) -> list[tuple[str, str]]:
    """(sample name, text) for each CK1: sample, sorted by name, duplicates dropped."""
    seen, out = set(), []
    for path in sorted((demo_dir / "samples").glob("*.txt")):
        text = path.read_text(encoding="utf-8").rstrip("\r\n")
        if text.startswith(PAYLOAD_PREFIX) and text not in seen:
            seen.add(text)
            out.append((path.stem, text))
    if not out:
        sys.exit(f"corpus: no {PAYLOAD_PREFIX} samples in {demo_dir}/samples")
    return out


@functools.lru_cache(maxsize=None)
def qr_modules(text: str) -> np.ndarray:
    """The symbol's modules, True = dark, without quiet zone."""
    code = qrcode.QRCode(error_correction=QR_ERROR, border=0, box_size=1)
    code.add_data(text)
    code.make(fit=True)
    return np.array(code.get_matrix(), dtype=bool)


def with_quiet_zone(modules: np.ndarray, quiet: int = QUIET) -> np.ndarray:
    return np.pad(modules, quiet, constant_values=False)


def qr_gray(text: str, box: int, quiet: int = QUIET) -> np.ndarray:
    """8-bit gray QR image, `box` pixels per module."""
    mods = with_quiet_zone(qr_modules(text), quiet)
    return np.where(np.kron(mods, np.ones((box, box), bool)), 0, 255).astype(np.uint8)


def qr_version(text: str) -> int:
    return (qr_modules(text).shape[0] - 17) // 4


# ─── the certificate page (millimetres, origin top-left) ─────────────────────────────────

@dataclass
class Certificate:
    payload: str
    sample: str
    layout: str
    module_mm: float
    inverted: bool = False
    faded: bool = False  # QR and text printed light (low contrast)
    paper: tuple = PAPERS[0]
    ink: tuple = INKS[0]
    border_ink: tuple = BORDER_INKS[0]
    decoy_unit_mm: float = 1.0
    name: tuple = NAMES[0]
    qualification: tuple = QUALIFICATIONS[0]
    issuer: str = ISSUERS[0]
    id_number: str = "110105199003071234"
    management_no: str = "0123456789"
    approved: str = "2021-06-30"
    wave_phase: float = 0.0

    @property
    def qr_centre(self) -> tuple[float, float]:
        return LAYOUTS[self.layout]["qr"]

    @property
    def seal_centre(self) -> tuple[float, float]:
        return LAYOUTS[self.layout]["seal"]

    @property
    def qr_span_mm(self) -> float:
        """Side of the symbol with its quiet zone."""
        return (qr_modules(self.payload).shape[0] + 2 * QUIET) * self.module_mm

    @property
    def print_ink(self) -> tuple:
        """The black ink of text and QR: lighter when the print is faded."""
        return tint(self.ink, self.paper, FADED_INK) if self.faded else self.ink


def random_certificate(rng, payloads, module_mm: float, **overrides) -> Certificate:
    sample, payload = payloads[rng.integers(len(payloads))]
    year = int(rng.integers(2012, 2025))
    cert = Certificate(
        payload=payload, sample=sample,
        layout=str(rng.choice(list(LAYOUTS))),
        module_mm=module_mm,
        paper=PAPERS[rng.integers(len(PAPERS))],
        ink=INKS[rng.integers(len(INKS))],
        border_ink=BORDER_INKS[rng.integers(len(BORDER_INKS))],
        decoy_unit_mm=float(rng.uniform(0.7, 1.4)),
        name=NAMES[rng.integers(len(NAMES))],
        qualification=QUALIFICATIONS[rng.integers(len(QUALIFICATIONS))],
        issuer=ISSUERS[rng.integers(len(ISSUERS))],
        id_number="".join(str(d) for d in rng.integers(0, 10, 17)) + "X",
        management_no=f"{year}{rng.integers(10**9, 10**10)}",
        approved=f"{year}-{rng.integers(1, 13):02d}-{rng.integers(1, 29):02d}",
        wave_phase=float(rng.uniform(0, 2 * math.pi)),
    )
    for key, value in overrides.items():
        setattr(cert, key, value)
    return cert


def field_lines(cert: Certificate) -> list[tuple[str, str, str]]:
    return [("姓名", "Name", f"{cert.name[0]}  {cert.name[1]}"),
            ("身份证件号码", "ID No.", cert.id_number),
            ("资格名称", "Qualification", cert.qualification[0]),
            ("", "", cert.qualification[1]),
            ("批准日期", "Approved", cert.approved),
            ("管理号", "Management No.", cert.management_no),
            ("签发单位", "Issued by", cert.issuer)]


def issuer_x(cert: Certificate, size_mm: float = 3.2) -> float:
    """Centre of the issuer's line: under the seal, but inside the border."""
    half = len(cert.issuer) * size_mm / 2
    return min(max(cert.seal_centre[0], 24 + half), PAGE_MM[0] - 24 - half)


def guilloche_curves(cert: Certificate) -> list[np.ndarray]:
    """Interlaced sine waves along the four sides of the border band, as mm polylines."""
    x0, y0, x1, y1 = 14.0, 14.0, PAGE_MM[0] - 14.0, PAGE_MM[1] - 14.0
    sides = [((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)), ((x1, y1), (x0, y1)), ((x0, y1), (x0, y0))]
    curves = []
    for (ax, ay), (bx, by) in sides:
        length = math.hypot(bx - ax, by - ay)
        tx, ty = (bx - ax) / length, (by - ay) / length
        nx, ny = -ty, tx  # inward for a clockwise walk with y down
        s = np.linspace(0, length, int(length * 2) + 1)
        periods = round(length / 9.0)
        for j in range(6):
            phase = cert.wave_phase + j * math.pi / 3
            off = 3.2 * np.sin(2 * math.pi * periods * s / length + phase) \
                * np.sin(math.pi * s / length) ** 0.25
            curves.append(np.stack([ax + tx * s + nx * off, ay + ty * s + ny * off], 1))
    return curves


def rosette_curves(cert: Certificate, centre=(105.0, 150.0), radius=46.0) -> list[np.ndarray]:
    th = np.linspace(0, 2 * math.pi, 721)
    out = []
    for j in range(10):
        r = radius + 7.0 * np.sin(9 * th + cert.wave_phase + j * math.pi / 5)
        out.append(np.stack([centre[0] + r * np.cos(th), centre[1] + r * np.sin(th)], 1))
    return out


def decoy_positions(cert: Certificate) -> list[tuple[float, float, float]]:
    """Top-left corner and unit (mm) of each finder-like ornament."""
    u = cert.decoy_unit_mm
    side = 7 * u
    corners = [(14 - side / 2, 14 - side / 2), (PAGE_MM[0] - 14 - side / 2, 14 - side / 2),
               (14 - side / 2, PAGE_MM[1] - 14 - side / 2),
               (PAGE_MM[0] - 14 - side / 2, PAGE_MM[1] - 14 - side / 2)]
    out = [(x, y, u) for x, y in corners]
    # A pair flanking the title, and a pair at module scale beside the QR's lower corners.
    out += [(30.0, 36.0, u), (PAGE_MM[0] - 30.0 - side, 36.0, u)]
    qx, qy = cert.qr_centre
    half = cert.qr_span_mm / 2
    m = cert.module_mm
    out += [(qx - half - 10 * m, qy + half - 7 * m, m), (qx + half + 3 * m, qy + half - 7 * m, m)]
    return out


# ─── rendering the page with Pillow ───────────────────────────────────────────────────────

@functools.lru_cache(maxsize=64)
def font(px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONT_PATH, max(px, 1), index=0)


class Painter:
    """Draws in page millimetres onto a crop of the page rendered at `scale` px/mm."""

    def __init__(self, img: Image.Image, scale: float, origin: tuple[float, float]):
        self.s, (self.ox, self.oy) = scale, origin
        self.img, self.draw = img, ImageDraw.Draw(img)

    def px(self, x: float, y: float) -> tuple[float, float]:
        return (x - self.ox) * self.s, (y - self.oy) * self.s

    def width(self, mm: float) -> int:
        return max(1, round(mm * self.s))

    def rect(self, x0, y0, x1, y1, fill=None, outline=None, width_mm=0.3):
        self.draw.rectangle([*self.px(x0, y0), *self.px(x1, y1)], fill=fill, outline=outline,
                            width=self.width(width_mm) if outline else 0)

    def polyline(self, pts: np.ndarray, colour, width_mm: float):
        xy = (pts - (self.ox, self.oy)) * self.s
        self.draw.line(list(map(tuple, xy)), fill=colour, width=self.width(width_mm))

    def text(self, x, y, s, size_mm, colour, anchor="ls"):
        self.draw.text(self.px(x, y), s, fill=colour, font=font(round(size_mm * self.s)),
                       anchor=anchor)


def tint(colour, paper, amount: float) -> tuple:
    """`colour` mixed into `paper`: amount 0 = paper, 1 = colour."""
    return tuple(int(p + amount * (c - p)) for c, p in zip(colour, paper))


def draw_border(p: Painter, cert: Certificate):
    W, H = PAGE_MM
    for inset, width in ((8.0, 0.8), (9.6, 0.25), (19.5, 0.25), (20.5, 0.6)):
        p.rect(inset, inset, W - inset, H - inset, outline=cert.border_ink, width_mm=width)
    light = tint(cert.border_ink, cert.paper, 0.75)
    for curve in guilloche_curves(cert):
        p.polyline(curve, light, 0.14)
    watermark = tint(cert.border_ink, cert.paper, 0.16)
    for curve in rosette_curves(cert):
        p.polyline(curve, watermark, 0.2)


def draw_decoys(p: Painter, cert: Certificate):
    for x, y, u in decoy_positions(cert):
        p.rect(x, y, x + 7 * u, y + 7 * u, fill=cert.ink)
        p.rect(x + u, y + u, x + 6 * u, y + 6 * u, fill=cert.paper)
        p.rect(x + 2 * u, y + 2 * u, x + 5 * u, y + 5 * u, fill=cert.ink)


def draw_texts(p: Painter, cert: Certificate):
    ink = cert.print_ink
    cx = PAGE_MM[0] / 2
    p.text(cx, 44, "中华人民共和国", 6.5, ink, "ms")
    p.text(cx, 57, "专业技术人员职业资格证书", 8.0, ink, "ms")
    p.text(cx, 66, "Certificate of Professional Qualification", 4.2, ink, "ms")
    p.text(cx, 73, "People's Republic of China", 3.2, ink, "ms")
    # Photo box with a silhouette.
    p.rect(30, 84, 62, 126, fill=(214, 226, 238), outline=cert.ink, width_mm=0.3)
    p.draw.ellipse([*p.px(39, 92), *p.px(53, 108)], fill=(150, 160, 172))
    p.draw.chord([*p.px(33, 108), *p.px(59, 140)], 180, 360, fill=(150, 160, 172))
    y = 92.0
    for zh, en, value in field_lines(cert):
        if zh:
            p.text(70, y, zh, 3.6, ink)
            p.text(70, y + 4.2, en, 2.4, ink)
        p.text(108, y, value, 3.6 if zh else 2.8, ink)
        y += 11.0 if zh else 7.0
    p.text(cx, 190, "本证书在中华人民共和国境内有效 · Valid within the People's Republic of China",
           2.6, ink, "ms")
    sx, sy = cert.seal_centre
    p.text(issuer_x(cert), sy + 2, cert.issuer, 3.2, ink, "ms")
    p.text(sx, sy + 8, f"{cert.approved[:4]}年{cert.approved[5:7]}月{cert.approved[8:]}日", 3.2,
           ink, "ms")
    qx, qy = cert.qr_centre
    p.text(qx, qy + cert.qr_span_mm / 2 + 5 * cert.module_mm,
           "扫码查验 Scan to verify", 2.6, ink, "ma")


def paste_qr(arr: np.ndarray, cert: Certificate, scale: float, origin):
    """The symbol with its quiet zone, at an integer number of pixels per module."""
    mods = with_quiet_zone(qr_modules(cert.payload))
    box = max(1, round(cert.module_mm * scale))
    dark, light = np.array(cert.print_ink, np.uint8), np.array(cert.paper, np.uint8)
    if cert.inverted:
        dark, light = light, dark
    tile = np.where(np.kron(mods, np.ones((box, box), bool))[..., None], dark, light)
    qx, qy = cert.qr_centre
    span = mods.shape[0] * box
    left = round((qx - origin[0]) * scale - span / 2)
    top = round((qy - origin[1]) * scale - span / 2)
    h, w = arr.shape[:2]
    x0, y0, x1, y1 = max(left, 0), max(top, 0), min(left + span, w), min(top + span, h)
    if x0 < x1 and y0 < y1:
        arr[y0:y1, x0:x1] = tile[y0 - top:y1 - top, x0 - left:x1 - left]


def seal_mask(cert: Certificate, scale: float, origin, size) -> np.ndarray:
    """The seal's ink coverage in [0, 1]: ring, star, text along the upper arc."""
    mask = Image.new("L", size, 0)
    p = Painter(mask, scale, origin)
    cx, cy = cert.seal_centre
    r = SEAL_RADIUS_MM
    p.draw.ellipse([*p.px(cx - r, cy - r), *p.px(cx + r, cy + r)], outline=255,
                   width=p.width(1.1))
    star = []
    for k in range(10):
        rad = 5.2 if k % 2 == 0 else 2.1
        a = -math.pi / 2 + k * math.pi / 5
        star.append(p.px(cx + rad * math.cos(a), cy + rad * math.sin(a)))
    p.draw.polygon(star, fill=255)
    glyph_px = round(3.6 * scale)
    if glyph_px >= 4:
        chars = SEAL_TEXT[:14]
        for i, ch in enumerate(chars):
            theta = math.radians(215 - i * 250 / (len(chars) - 1))  # math angle, y up
            gx, gy = cx + 14.2 * math.cos(theta), cy - 14.2 * math.sin(theta)
            side = int(glyph_px * 1.6)
            glyph = Image.new("L", (side, side), 0)
            ImageDraw.Draw(glyph).text((side / 2, side / 2), ch, fill=255, font=font(glyph_px),
                                       anchor="mm")
            glyph = glyph.rotate(math.degrees(theta) - 90, resample=Image.BICUBIC)
            px, py = p.px(gx, gy)
            mask.paste(255, (round(px - side / 2), round(py - side / 2)), glyph)
    return np.asarray(mask, np.float32) / 255.0


def render_page(cert: Certificate, scale: float, origin=(0.0, 0.0), size=None) -> np.ndarray:
    """RGB uint8 crop of the page: `origin` (mm) at pixel (0, 0), `scale` px/mm."""
    if size is None:
        size = (round(PAGE_MM[0] * scale), round(PAGE_MM[1] * scale))
    p = Painter(Image.new("RGB", size, tuple(cert.paper)), scale, origin)
    draw_border(p, cert)
    draw_decoys(p, cert)
    draw_texts(p, cert)
    arr = np.array(p.img)
    paste_qr(arr, cert, scale, origin)
    stamp_seal(arr, cert, scale, origin)
    return arr


def stamp_seal(arr: np.ndarray, cert: Certificate, scale: float, origin):
    """Red ink multiplied over what is printed, within the seal's bounding box only."""
    sx, sy = cert.seal_centre
    r = SEAL_RADIUS_MM + 1
    x0, y0 = (max(0, int((c - r - o) * scale)) for c, o in ((sx, origin[0]), (sy, origin[1])))
    x1 = min(arr.shape[1], int((sx + r - origin[0]) * scale) + 1)
    y1 = min(arr.shape[0], int((sy + r - origin[1]) * scale) + 1)
    if x0 >= x1 or y0 >= y1:
        return
    ink = 0.85 * seal_mask(cert, scale, (origin[0] + x0 / scale, origin[1] + y0 / scale),
                           (x1 - x0, y1 - y0))[..., None]
    patch = arr[y0:y1, x0:x1] * (1 - ink * (1 - RED_SEAL / 255.0))
    arr[y0:y1, x0:x1] = np.clip(patch + 0.5, 0, 255).astype(np.uint8)


# ─── the camera ───────────────────────────────────────────────────────────────────────────

@dataclass
class Shot:
    """Everything about one simulated photograph (angles in degrees, lengths in px or mm)."""
    width: int
    height: int
    hfov_deg: float
    module_px: float
    roll_deg: float = 0.0
    tilt_deg: float = 0.0
    tilt_axis_deg: float = 0.0
    qr_at: tuple = (0.5, 0.5)  # where the QR's centre falls, fractions of the frame
    curl_radius_mm: float = 0.0  # 0 = flat
    curl_axis_deg: float = 0.0
    curl_offset_mm: float = 0.0
    psf_sigma: float = 0.4
    defocus_px: float = 0.0
    motion_px: float = 0.0
    motion_deg: float = 0.0
    gain: float = 1.0
    vignette: float = 0.1
    flare: float = 0.0  # veiling glare, fraction of mean brightness added everywhere
    glare: dict | None = None
    shadow: dict | None = None
    noise_shot: float = 0.0004
    noise_read: float = 0.00002
    white_balance: tuple = (1.0, 1.0, 1.0)
    desk: int = 0
    jpeg_quality: int | None = None
    mirrored: bool = False
    supersample: int = 2
    qr_span_modules: int = 65  # symbol and quiet zone; glare and shadows scale with it
    module_px_min: float = 0.0  # measured: the shorter side of a module at the QR's centre
    distance_mm: float = 0.0

    @property
    def focal_px(self) -> float:
        return self.width / 2 / math.tan(math.radians(self.hfov_deg) / 2)


def page_rotation(shot: Shot) -> np.ndarray:
    """Page-local → camera rotation: tilt about an in-plane axis, then roll about the view."""
    t, a, r = (math.radians(v) for v in (shot.tilt_deg, shot.tilt_axis_deg, shot.roll_deg))
    axis = np.array([math.cos(a), math.sin(a), 0.0])
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    tilt = np.eye(3) + math.sin(t) * k + (1 - math.cos(t)) * k @ k
    roll = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    return roll @ tilt


def qr_ray(shot: Shot) -> np.ndarray:
    """Direction (z = 1) through the pixel where the QR's centre should appear."""
    f = shot.focal_px
    u, v = shot.qr_at[0] * shot.width, shot.qr_at[1] * shot.height
    return np.array([(u - shot.width / 2) / f, (v - shot.height / 2) / f, 1.0])


def centre_jacobian(shot: Shot, rot: np.ndarray) -> np.ndarray:
    """d(pixel)/d(page mm) at the QR's centre for a camera at distance 1 mm."""
    ray = qr_ray(shot)
    return shot.focal_px * (rot[:2, :2] - np.outer(ray[:2], rot[2, :2]))


def place_camera(shot: Shot, module_mm: float) -> tuple[np.ndarray, np.ndarray]:
    """Rotation and translation giving the wanted module size at the QR's centre."""
    rot = page_rotation(shot)
    jac = centre_jacobian(shot, rot)
    sv = np.linalg.svd(jac, compute_uv=False)
    distance = module_mm * math.sqrt(sv[0] * sv[1]) / shot.module_px
    shot.distance_mm = distance
    shot.module_px_min = module_mm * sv[1] / distance
    return rot, qr_ray(shot) * distance


def project(points: np.ndarray, rot, trans, shot: Shot) -> np.ndarray:
    """Page-local points (N, 2), flat, → pixels (N, 2); NaN behind the camera."""
    cam = points @ rot[:, :2].T + trans
    z = np.where(cam[:, 2] > 1e-6, cam[:, 2], np.nan)
    f = shot.focal_px
    return np.stack([f * cam[:, 0] / z + shot.width / 2, f * cam[:, 1] / z + shot.height / 2], 1)


def qr_fits(shot: Shot, cert: Certificate, margin_px: float) -> bool:
    rot, trans = place_camera(shot, cert.module_mm)
    h = cert.qr_span_mm / 2 + 2 * cert.module_mm
    corners = project(np.array([[-h, -h], [h, -h], [h, h], [-h, h]]), rot, trans, shot)
    if np.isnan(corners).any():
        return False
    return bool((corners[:, 0] > margin_px).all() and (corners[:, 0] < shot.width - margin_px).all()
                and (corners[:, 1] > margin_px).all()
                and (corners[:, 1] < shot.height - margin_px).all())


def fit_qr_in_frame(shot: Shot, cert: Certificate) -> None:
    """Moves the QR towards the centre, then shrinks it, until it and a margin are in view."""
    margin = 0.03 * shot.height
    for _ in range(12):
        if qr_fits(shot, cert, margin):
            return
        shot.qr_at = (0.5 + 0.6 * (shot.qr_at[0] - 0.5), 0.5 + 0.6 * (shot.qr_at[1] - 0.5))
    while not qr_fits(shot, cert, margin):
        shot.module_px *= 0.95


def cast_rays(u: np.ndarray, v: np.ndarray, shot: Shot, rot, trans, cert: Certificate,
              clip_to_page: bool = True):
    """Pixel coordinates → page mm (x, y), hit mask and curl shading, by ray casting."""
    f = shot.focal_px
    dx, dy = (u - shot.width / 2) / f, (v - shot.height / 2) / f
    # Ray in page-local coordinates: origin o, direction d (page plane z = 0, camera at z < 0).
    o = -rot.T @ trans
    d = [rot[0, i] * dx + rot[1, i] * dy + rot[2, i] for i in range(3)]
    beta = math.radians(shot.curl_axis_deg)
    cb, sb = math.cos(beta), math.sin(beta)
    w0 = shot.curl_offset_mm
    k = 1.0 / shot.curl_radius_mm if shot.curl_radius_mm else 0.0
    # Surface z = -k/2 (w - w0)^2, w along the curl direction (the page lifts towards the lens).
    wo = o[0] * cb + o[1] * sb - w0
    wd = d[0] * cb + d[1] * sb
    a, b, c = 0.5 * k * wd ** 2, k * wo * wd + d[2], 0.5 * k * wo ** 2 + o[2]
    with np.errstate(invalid="ignore", divide="ignore"):
        if k:
            disc = b * b - 4 * a * c
            q = -0.5 * (b + np.sign(b) * np.sqrt(disc))
            t1, t2 = q / a, c / q
            t = np.where((t1 > 0) & (t1 < t2), t1, t2)
            t = np.where(disc >= 0, t, np.nan)
        else:
            t = -c / b
        hit = np.isfinite(t) & (t > 0)
        hx, hy = o[0] + t * d[0], o[1] + t * d[1]
        w = hx * cb + hy * sb - w0
        across = -hx * sb + hy * cb
        if k:
            sigma = 0.5 * (w * np.sqrt(1 + (k * w) ** 2) + np.arcsinh(k * w) / k)
            shade = (1 + (k * w) ** 2) ** -0.5
        else:
            sigma, shade = w, np.ones_like(w)
    along = w0 + sigma
    x = cert.qr_centre[0] + along * cb - across * sb
    y = cert.qr_centre[1] + along * sb + across * cb
    if clip_to_page:
        hit &= (x >= 0) & (x <= PAGE_MM[0]) & (y >= 0) & (y <= PAGE_MM[1])
    return x, y, hit, shade


def visible_page_box(shot: Shot, rot, trans, cert) -> tuple[float, float, float, float]:
    """Bounding box (mm) of the part of the page in view, from a coarse grid of rays."""
    u, v = np.meshgrid(np.linspace(0, shot.width, 65), np.linspace(0, shot.height, 37))
    x, y, hit, _ = cast_rays(u, v, shot, rot, trans, cert)
    if not hit.any():
        qx, qy = cert.qr_centre
        return qx - 1, qy - 1, qx + 1, qy + 1
    pad = 4.0
    return (max(0.0, x[hit].min() - pad), max(0.0, y[hit].min() - pad),
            min(PAGE_MM[0], x[hit].max() + pad), min(PAGE_MM[1], y[hit].max() + pad))


def render_scale(shot: Shot, cert: Certificate, box) -> float:
    """px/mm for the page crop: ≈1.25 page pixels per (supersampled) frame pixel at the QR,
    an integer number of pixels per module, capped in total size."""
    per_module = max(3, math.ceil(1.25 * shot.module_px * shot.supersample))
    area = (box[2] - box[0]) * (box[3] - box[1])
    while per_module > 3 and area * (per_module / cert.module_mm) ** 2 > RENDER_PX_CAP:
        per_module -= 1
    return per_module / cert.module_mm


MAP_STEP = 4  # rays are cast every MAP_STEP (supersampled) pixels, the maps interpolated
MISS_MM = -1e4  # page coordinate given to rays that miss the page's surface


def page_maps(shot: Shot, rot, trans, cert: Certificate, shape) -> tuple[np.ndarray, ...]:
    """Page mm (x, y) and shading for every (supersampled) pixel, as float32 maps.

    Rays go through the centres of MAP_STEP × MAP_STEP blocks, one block of padding around,
    and the maps are upsampled bilinearly (the mapping is smooth: perspective and a gentle
    curl), which is 16 times cheaper than a ray per pixel."""
    h, w = shape
    ss, n = shot.supersample, MAP_STEP
    gh, gw = -(-h // n) + 2, -(-w // n) + 2
    px = (np.arange(gw) - 1) * n + (n - 1) / 2  # supersampled pixel coordinates
    py = (np.arange(gh) - 1) * n + (n - 1) / 2
    u, v = np.meshgrid((px + 0.5) / ss - 0.5, (py + 0.5) / ss - 0.5)
    x, y, hit, shade = cast_rays(u, v, shot, rot, trans, cert, clip_to_page=False)
    layers = [np.where(hit, x, MISS_MM), np.where(hit, y, MISS_MM), np.where(hit, shade, 1.0)]
    return tuple(cv2.resize(layer.astype(np.float32), (gw * n, gh * n),
                            interpolation=cv2.INTER_LINEAR)[n:n + h, n:n + w] for layer in layers)


def desk_texture(shot: Shot, rng, shape) -> np.ndarray:
    """A smooth table top with a wood-like grain, made small and enlarged."""
    h, w = shape
    sh, sw = max(2, h // 8), max(2, w // 8)
    base = np.array(DESKS[shot.desk], np.float32)
    low = cv2.resize(rng.normal(size=(6, 10)).astype(np.float32), (sw, sh),
                     interpolation=cv2.INTER_CUBIC)
    yy = np.arange(sh, dtype=np.float32)[:, None]
    grain = np.sin((yy / sh * 40 + 1.5 * low) * math.pi) * 0.025
    tex = np.clip(base * (1 + 0.12 * low + grain)[..., None], 0, 255)
    return cv2.resize(tex, (w, h), interpolation=cv2.INTER_LINEAR)


def photograph_geometry(cert: Certificate, shot: Shot, rng) -> np.ndarray:
    """The page on the desk as the lens sees it: float32 RGB in [0, 1] at the output size."""
    rot, trans = place_camera(shot, cert.module_mm)
    box = visible_page_box(shot, rot, trans, cert)
    scale = render_scale(shot, cert, box)
    origin = (box[0], box[1])
    size = (max(1, math.ceil((box[2] - box[0]) * scale)), max(1, math.ceil((box[3] - box[1]) * scale)))
    page = render_page(cert, scale, origin, size)

    ss = shot.supersample
    W, H = shot.width * ss, shot.height * ss
    x, y, shade = page_maps(shot, rot, trans, cert, (H, W))
    hit = (x >= 0) & (x <= PAGE_MM[0]) & (y >= 0) & (y <= PAGE_MM[1])
    map_x = (x - origin[0]) * scale - 0.5
    map_y = (y - origin[1]) * scale - 0.5
    seen = cv2.remap(page, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    seen = seen.astype(np.float32) * shade[..., None]
    scene = np.where(hit[..., None], seen, desk_texture(shot, rng, (H, W)))
    if ss > 1:
        scene = cv2.resize(scene, (shot.width, shot.height), interpolation=cv2.INTER_AREA)
    return scene / 255.0


def hand_mask(shape, centre, size, angle_deg) -> np.ndarray:
    """A hand's silhouette (palm and five fingers) as a float mask, before softening."""
    h, w = shape
    mask = np.zeros((h, w), np.float32)
    a = math.radians(angle_deg)
    ca, sa = math.cos(a), math.sin(a)

    def at(px, py):  # hand coordinates (size units, fingers towards -y) → image
        return (int(centre[0] + size * (px * ca - py * sa)), int(centre[1] + size * (px * sa + py * ca)))

    cv2.ellipse(mask, at(0, 0.35), (int(size * 0.45), int(size * 0.5)), angle_deg, 0, 360, 1.0, -1)
    for fx, length in ((-0.33, 0.75), (-0.11, 0.95), (0.11, 0.9), (0.31, 0.7)):
        cv2.line(mask, at(fx, 0.1), at(fx * 1.15, -length), 1.0, max(1, int(size * 0.17)))
    cv2.line(mask, at(-0.35, 0.5), at(-0.85, 0.05), 1.0, max(1, int(size * 0.2)))
    return mask


def illumination(shot: Shot, qr_uv, qr_half) -> np.ndarray:
    """Multiplicative light field: vignetting, exposure, shadows."""
    h, w = shot.height, shot.width
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((xx - w / 2) ** 2 + (yy - h / 2) ** 2) / ((w / 2) ** 2 + (h / 2) ** 2)
    light = shot.gain * (1 - shot.vignette * r2)
    sh = shot.shadow
    if sh:
        if sh["type"] == "gradient":
            a = math.radians(sh["angle_deg"])
            dist = (xx - qr_uv[0]) * math.cos(a) + (yy - qr_uv[1]) * math.sin(a) - sh["offset"] * qr_half
            mask = 0.5 + 0.5 * np.tanh(dist / (2 * sh["softness"] * qr_half))
        else:
            mask = hand_mask((h, w), (qr_uv[0] + sh["dx"] * qr_half, qr_uv[1] + sh["dy"] * qr_half),
                             sh["size"] * qr_half, sh["angle_deg"])
            sigma = sh["softness"] * qr_half
            mask = cv2.GaussianBlur(mask, (0, 0), sigma)
        light = light * (1 - sh["strength"] * mask)
    return light


def glare_field(shot: Shot, qr_uv, qr_half) -> np.ndarray | None:
    g = shot.glare
    if not g:
        return None
    h, w = shot.height, shot.width
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = math.radians(g["angle_deg"])
    cx = qr_uv[0] + g["dx"] * qr_half
    cy = qr_uv[1] + g["dy"] * qr_half
    px = (xx - cx) * math.cos(a) + (yy - cy) * math.sin(a)
    py = -(xx - cx) * math.sin(a) + (yy - cy) * math.cos(a)
    sx, sy = g["sigma"] * qr_half, g["sigma"] * g["aspect"] * qr_half
    return g["amplitude"] * np.exp(-0.5 * ((px / sx) ** 2 + (py / sy) ** 2))


def disk_kernel(radius: float) -> np.ndarray:
    n = int(math.ceil(radius)) * 2 + 3
    c = n // 2
    yy, xx = np.mgrid[0:n, 0:n] - c
    # Anti-aliased disc: coverage from the distance to the rim.
    k = np.clip(radius + 0.5 - np.hypot(xx, yy), 0, 1).astype(np.float32)
    return k / k.sum()


def motion_kernel(length: float, angle_deg: float) -> np.ndarray:
    n = int(math.ceil(length)) + 3
    n += 1 - n % 2
    k = np.zeros((n * 4, n * 4), np.float32)
    a = math.radians(angle_deg)
    c = n * 2
    dx, dy = math.cos(a) * length * 2, math.sin(a) * length * 2
    cv2.line(k, (int(c - dx), int(c - dy)), (int(c + dx), int(c + dy)), 1.0, 1, cv2.LINE_AA)
    k = cv2.resize(k, (n, n), interpolation=cv2.INTER_AREA)
    return k / k.sum()


def develop(scene: np.ndarray, shot: Shot, rng) -> np.ndarray:
    """Light, optics and sensor: float scene in [0, 1] → uint8 RGB."""
    qr_uv = (shot.qr_at[0] * shot.width, shot.qr_at[1] * shot.height)
    qr_half = shot.module_px * shot.qr_span_modules / 2
    img = scene * illumination(shot, qr_uv, qr_half)[..., None]
    img = img * np.array(shot.white_balance, np.float32)
    glare = glare_field(shot, qr_uv, qr_half)
    if glare is not None:
        img = img + glare[..., None]
    if shot.flare:
        img = img * (1 - shot.flare) + shot.flare * float(img.mean())
    img = cv2.GaussianBlur(img, (0, 0), shot.psf_sigma)
    if shot.defocus_px > 0:
        img = cv2.filter2D(img, -1, disk_kernel(shot.defocus_px), borderType=cv2.BORDER_REFLECT)
    if shot.motion_px > 0:
        img = cv2.filter2D(img, -1, motion_kernel(shot.motion_px, shot.motion_deg),
                           borderType=cv2.BORDER_REFLECT)
    img = np.clip(img, 0, 1)
    sigma = np.sqrt(shot.noise_shot * img + shot.noise_read)
    img = img + sigma * rng.standard_normal(img.shape, dtype=np.float32)
    out = np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)
    return out[:, ::-1].copy() if shot.mirrored else out


# ─── bucket samplers ──────────────────────────────────────────────────────────────────────

SMALL_MODULE_PX = 1.9
HARD_FEATURES = ("tilt", "curl", "blur", "glare", "shadow", "dim", "inverted", "mirrored")


def frame_size(rng) -> tuple[tuple[int, int], bool]:
    if rng.random() < PHONE_SHARE:
        return PHONE_SIZES[rng.integers(len(PHONE_SIZES))], True
    return FRAME_SIZE, False


def base_shot(rng, module_range) -> tuple[Shot, bool]:
    (w, h), phone = frame_size(rng)
    module_px = float(rng.uniform(*module_range))
    shot = Shot(width=w, height=h, hfov_deg=float(rng.uniform(62, 75) if phone else rng.uniform(55, 72)),
                module_px=module_px,
                qr_at=(float(rng.uniform(0.3, 0.7)), float(rng.uniform(0.3, 0.7))),
                tilt_axis_deg=float(rng.uniform(0, 360)),
                psf_sigma=float(rng.uniform(0.3, 0.55)),
                vignette=float(rng.uniform(0.05, 0.3)),
                white_balance=tuple(float(x) for x in 1 + rng.uniform(-0.04, 0.04, 3)),
                desk=int(rng.integers(len(DESKS))),
                noise_shot=float(rng.uniform(0.0001, 0.0006)),
                noise_read=float(rng.uniform(0.00001, 0.00005)))
    shot.supersample = 2 if module_px < 3.5 else 1
    return shot, phone


def jpeg_quality(rng, phone: bool, share: float, low: int, high: int) -> int | None:
    if phone:
        return int(rng.integers(max(low, 75), 96))
    return int(rng.integers(low, high + 1)) if rng.random() < share else None


def sample_easy(rng) -> tuple[Shot, dict]:
    shot, phone = base_shot(rng, (3.0, 8.0))
    shot.tilt_deg = float(rng.uniform(0, 8))
    shot.roll_deg = float(rng.uniform(0, 360) if rng.random() < 0.25 else rng.uniform(-20, 20))
    shot.gain = float(rng.uniform(0.85, 1.02))
    shot.jpeg_quality = jpeg_quality(rng, phone, 0.4, 85, 95)
    return shot, {}


def sample_medium(rng) -> tuple[Shot, dict]:
    shot, phone = base_shot(rng, (2.0, 4.0))
    m = shot.module_px
    shot.tilt_deg = float(rng.uniform(8, 30))
    shot.roll_deg = float(rng.uniform(0, 360))
    if rng.random() < 0.3:
        shot.curl_radius_mm = float(rng.uniform(180, 400))
        shot.curl_axis_deg = float(rng.choice([0, 90]) + rng.uniform(-10, 10))
        shot.curl_offset_mm = float(rng.uniform(-30, 30))
    blur = rng.random()
    if blur < 0.35:
        shot.defocus_px = float(rng.uniform(0.2, 0.4) * m)
    elif blur < 0.65:
        shot.motion_px = float(rng.uniform(0.3, 0.5) * m)
        shot.motion_deg = float(rng.uniform(0, 180))
    shot.gain = float(rng.uniform(0.7, 1.0))
    shot.noise_shot = float(rng.uniform(0.0005, 0.002))
    extra = rng.random()
    if extra < 0.2:
        shot.shadow = gradient_shadow(rng, strength=(0.25, 0.45))
    elif extra < 0.35:
        shot.gain = float(rng.uniform(0.4, 0.6))
    elif extra < 0.45:
        shot.glare = glare_spot(rng, amplitude=(0.25, 0.45), distance=(0.8, 1.4))
    shot.jpeg_quality = jpeg_quality(rng, phone, 0.7, 60, 90)
    return shot, {}


def gradient_shadow(rng, strength) -> dict:
    return {"type": "gradient", "angle_deg": float(rng.uniform(0, 360)),
            "offset": float(rng.uniform(-0.6, 0.6)), "softness": float(rng.uniform(0.08, 0.3)),
            "strength": float(rng.uniform(*strength))}


def hand_shadow(rng, strength) -> dict:
    return {"type": "hand", "dx": float(rng.uniform(-1.3, 1.3)), "dy": float(rng.uniform(0.6, 1.4)),
            "size": float(rng.uniform(2.0, 3.2)), "angle_deg": float(rng.uniform(-60, 60)),
            "softness": float(rng.uniform(0.05, 0.15)), "strength": float(rng.uniform(*strength))}


def glare_spot(rng, amplitude, distance) -> dict:
    a = rng.uniform(0, 2 * math.pi)
    r = rng.uniform(*distance)
    return {"dx": float(r * math.cos(a)), "dy": float(r * math.sin(a)),
            "sigma": float(rng.uniform(0.2, 0.45)), "aspect": float(rng.uniform(0.4, 1.0)),
            "angle_deg": float(rng.uniform(0, 180)), "amplitude": float(rng.uniform(*amplitude))}


def sample_hard(rng) -> tuple[Shot, dict]:
    shot, phone = base_shot(rng, (1.5, 2.5))
    m = shot.module_px
    # Small modules are a difficulty of their own: they get fewer others, and less tilt.
    small = m < SMALL_MODULE_PX
    count = int(rng.integers(1, 3) if small else rng.integers(2, 4))
    features = set(rng.choice(HARD_FEATURES, size=count, replace=False).tolist())
    shot.roll_deg = float(rng.uniform(0, 360))
    shot.tilt_deg = float(rng.uniform(30, 38 if small else 45) if "tilt" in features
                          else rng.uniform(0, 20))
    shot.noise_shot = float(rng.uniform(0.0005, 0.002))
    if "curl" in features:
        shot.curl_radius_mm = float(rng.uniform(70, 160))
        shot.curl_axis_deg = float(rng.choice([0, 90]) + rng.uniform(-10, 10))
        shot.curl_offset_mm = float(rng.uniform(-25, 25))
    if "blur" in features:
        if rng.random() < 0.5:
            shot.defocus_px = float(rng.uniform(0.3, 0.5) * m)
        else:
            shot.motion_px = float(rng.uniform(0.4, 0.8) * m)
            shot.motion_deg = float(rng.uniform(0, 180))
    if "glare" in features:
        shot.glare = glare_spot(rng, amplitude=(0.35, 0.75), distance=(0.4, 1.0))
    if "shadow" in features:
        shot.shadow = (hand_shadow if rng.random() < 0.5 else gradient_shadow)(rng, strength=(0.35, 0.6))
    cert = {}
    if "dim" in features:
        if rng.random() < 0.5:
            shot.gain = float(rng.uniform(0.2, 0.35))
            shot.noise_shot = float(rng.uniform(0.0003, 0.001))
        else:
            shot.flare = float(rng.uniform(0.35, 0.55))
            cert["faded"] = bool(rng.random() < 0.5)
    if "inverted" in features:
        cert["inverted"] = True
    shot.mirrored = "mirrored" in features
    shot.jpeg_quality = jpeg_quality(rng, phone, 0.6, 45, 85)
    return shot, cert


SAMPLERS = {"easy": sample_easy, "medium": sample_medium, "hard": sample_hard}


def image_tags(shot: Shot, cert: Certificate) -> list[str]:
    tags = [f"m{shot.module_px:.1f}"]
    if shot.tilt_deg >= 15:
        tags.append(f"tilt{round(shot.tilt_deg)}")
    conditions = [(shot.curl_radius_mm > 0, "curl"), (shot.defocus_px > 0, "defocus"),
                  (shot.motion_px > 0, "motion"), (bool(shot.glare), "glare"),
                  (bool(shot.shadow) and shot.shadow["type"] == "hand", "hand"),
                  (bool(shot.shadow) and shot.shadow["type"] == "gradient", "shadow"),
                  (shot.gain < 0.65, "dim"), (shot.flare > 0 or cert.faded, "lowcontrast"),
                  (cert.inverted, "inv"), (shot.mirrored, "mirror"),
                  (shot.width != FRAME_SIZE[0], "phone")]
    tags += [tag for on, tag in conditions if on]
    return tags


def rounded(value):
    """Floats to 3 decimals, or 4 significant digits below 1 (noise variances are tiny)."""
    if isinstance(value, float):
        return round(value, 3) if abs(value) >= 1 else float(f"{value:.4g}")
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(v) for v in value]
    return value


def make_image(bucket: str, index: int, payloads, out_dir: Path) -> dict:
    rng = np.random.default_rng([SEED, BUCKETS.index(bucket), index])
    shot, cert_overrides = SAMPLERS[bucket](rng)
    module_mm = float(rng.uniform(0.38, 0.6))
    cert = random_certificate(rng, payloads, module_mm, **cert_overrides)
    shot.qr_span_modules = qr_modules(cert.payload).shape[0] + 2 * QUIET
    fit_qr_in_frame(shot, cert)
    image = develop(photograph_geometry(cert, shot, rng), shot, rng)
    ext = "jpg" if shot.jpeg_quality else "png"
    rel = f"images/{bucket}/{'-'.join(image_tags(shot, cert))}-{index:04d}.{ext}"
    write_image(out_dir / rel, image, shot.jpeg_quality)
    params = {k: v for k, v in asdict(shot).items()
              if k not in ("width", "height") and (v not in (None, 0.0, False) or k == "roll_deg")}
    params.update(sample=cert.sample, layout=cert.layout, module_mm=cert.module_mm,
                  qr_version=qr_version(cert.payload), inverted=cert.inverted, faded=cert.faded,
                  seed=[SEED, BUCKETS.index(bucket), index])
    return {"file": rel, "kind": "image", "bucket": bucket, "expected": cert.payload,
            "width": shot.width, "height": shot.height, "tool": IMAGE_TOOL, "source": "qr-image",
            "params": rounded(params)}


def write_image(path: Path, rgb: np.ndarray, quality: int | None):
    path.parent.mkdir(parents=True, exist_ok=True)
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    if quality:
        ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    else:
        ok, data = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 6])
    assert ok, path
    path.write_bytes(data.tobytes())


# ─── PDFs: shared helpers ─────────────────────────────────────────────────────────────────

def run(*cmd, **kw):
    subprocess.run([str(c) for c in cmd], check=True, stdout=subprocess.DEVNULL, **kw)


def pdf_date(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("D:%Y%m%d%H%M%SZ")


@dataclass
class PdfJob:
    """What a PDF maker gets: its payload(s), a seeded rng, a scratch dir and the output path."""
    kind: str
    variant: int
    payloads: list
    rng: np.random.Generator
    work: Path
    out: Path
    epoch: int
    params: dict = field(default_factory=dict)

    def payload(self, n: int = 0) -> tuple[str, str]:
        return self.payloads[(self.variant * 7 + n * 3 + PDF_KINDS_ORDER.index(self.kind)) % len(self.payloads)]

    def certificate(self, module_mm: float, n: int = 0) -> Certificate:
        cert = random_certificate(self.rng, self.payloads, module_mm)
        cert.sample, cert.payload = self.payload(n)
        return cert

    def scratch(self, name: str) -> Path:
        return self.work / f"{self.kind}-{self.variant}-{name}"


def scan_certificate(job: PdfJob, dpi: int = SCAN_DPI, box_px: int = 5) -> tuple[Image.Image, Certificate]:
    """A flat page scan at `dpi` with `box_px` pixels per module."""
    cert = job.certificate(module_mm=box_px * 25.4 / dpi)
    page = render_page(cert, dpi / 25.4)
    return Image.fromarray(page), cert


def qr_pil(text: str, box: int = 4) -> Image.Image:
    return Image.fromarray(qr_gray(text, box))


# ─── PDFs: reportlab ──────────────────────────────────────────────────────────────────────

def rl_setup():
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    if "WQY" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("WQY", FONT_PATH, subfontIndex=0))


def rl_canvas(path: Path, title: str):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas
    rl_setup()
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1, pageCompression=1)
    c.setTitle(title)
    c.setAuthor("certkiosk test corpus")
    return c


def rl_pt(x_mm: float, y_mm: float) -> tuple[float, float]:
    """Page mm (origin top-left) → reportlab points (origin bottom-left)."""
    return x_mm / MM_PER_PT, (PAGE_MM[1] - y_mm) / MM_PER_PT


def rl_rgb(colour) -> tuple:
    return tuple(c / 255 for c in colour)


def rl_draw_certificate(c, cert: Certificate, qr: str | None, note: str = ""):
    """The certificate page in vectors; qr = "vector", "image" or None."""
    from reportlab.lib.units import mm
    W, H = PAGE_MM
    c.setFillColorRGB(*rl_rgb(cert.paper))
    c.rect(0, 0, W * mm, H * mm, stroke=0, fill=1)
    c.setStrokeColorRGB(*rl_rgb(cert.border_ink))
    for inset, width in ((8.0, 0.8), (9.6, 0.25), (19.5, 0.25), (20.5, 0.6)):
        c.setLineWidth(width / MM_PER_PT)
        c.rect(inset * mm, inset * mm, (W - 2 * inset) * mm, (H - 2 * inset) * mm, stroke=1, fill=0)
    c.setStrokeColorRGB(*rl_rgb(tint(cert.border_ink, cert.paper, 0.75)))
    c.setLineWidth(0.14 / MM_PER_PT)
    for curve in guilloche_curves(cert):
        path = c.beginPath()
        path.moveTo(*rl_pt(*curve[0]))
        for x, y in curve[1::4]:
            path.lineTo(*rl_pt(x, y))
        c.drawPath(path, stroke=1, fill=0)
    c.setFillColorRGB(*rl_rgb(cert.ink))
    for x, y, u in decoy_positions(cert):
        for k, colour in ((0, cert.ink), (1, cert.paper), (2, cert.ink)):
            c.setFillColorRGB(*rl_rgb(colour))
            c.rect(*rl_pt(x + k * u, y + (7 - k) * u), (7 - 2 * k) * u * mm, (7 - 2 * k) * u * mm,
                   stroke=0, fill=1)
    c.setFillColorRGB(*rl_rgb(cert.ink))
    cx = W / 2
    for y, text, size in ((44, "中华人民共和国", 6.5), (57, "专业技术人员职业资格证书", 8.0),
                          (66, "Certificate of Professional Qualification", 4.2)):
        c.setFont("WQY", size / MM_PER_PT)
        c.drawCentredString(*rl_pt(cx, y), text)
    y = 92.0
    for zh, en, value in field_lines(cert):
        c.setFont("WQY", 3.6 / MM_PER_PT)
        if zh:
            c.drawString(*rl_pt(70, y), zh)
            c.setFont("WQY", 2.4 / MM_PER_PT)
            c.drawString(*rl_pt(70, y + 4.2), en)
            c.setFont("WQY", 3.6 / MM_PER_PT)
        c.drawString(*rl_pt(108, y), value)
        y += 11.0 if zh else 7.0
    if note:
        c.setFont("WQY", 2.6 / MM_PER_PT)
        c.drawCentredString(*rl_pt(cx, 190), note)
    rl_seal(c, cert)
    qx, qy = cert.qr_centre
    span = cert.qr_span_mm
    if qr == "vector":
        rl_vector_qr(c, cert.payload, qx - span / 2, qy + span / 2, span)
    elif qr == "image":
        c.drawImage(rl_image(qr_pil(cert.payload)), *rl_pt(qx - span / 2, qy + span / 2),
                    span * mm, span * mm)
    if qr:
        c.setFillColorRGB(*rl_rgb(cert.ink))
        c.setFont("WQY", 2.6 / MM_PER_PT)
        c.drawCentredString(*rl_pt(qx, qy + span / 2 + 5 * cert.module_mm + 2.6), "扫码查验 Scan to verify")


def rl_image(img: Image.Image):
    from reportlab.lib.utils import ImageReader
    return ImageReader(img)


def rl_vector_qr(c, text: str, x_mm: float, y_mm_bottom: float, span_mm: float):
    """reportlab's own QR widget (rectangles), error correction M, 4-module quiet zone."""
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib.units import mm
    widget = QrCodeWidget(text, barLevel="M", barBorder=4)
    x0, y0, x1, y1 = widget.getBounds()
    size = span_mm * mm
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, c, *rl_pt(x_mm, y_mm_bottom))


def rl_seal(c, cert: Certificate):
    from reportlab.lib.units import mm
    sx, sy = cert.seal_centre
    c.setFillColorRGB(*rl_rgb(cert.ink))
    c.setFont("WQY", 3.2 / MM_PER_PT)
    c.drawCentredString(*rl_pt(issuer_x(cert), sy + 2), cert.issuer)
    c.saveState()
    red = rl_rgb(RED_SEAL)
    c.setStrokeColorRGB(*red, alpha=0.85)
    c.setFillColorRGB(*red, alpha=0.85)
    c.setLineWidth(1.1 * mm)
    c.circle(*rl_pt(sx, sy), 18.45 * mm, stroke=1, fill=0)
    star = c.beginPath()
    for k in range(10):
        rad = 5.2 if k % 2 == 0 else 2.1
        a = -math.pi / 2 + k * math.pi / 5
        point = rl_pt(sx + rad * math.cos(a), sy + rad * math.sin(a))
        if k == 0:
            star.moveTo(*point)
        else:
            star.lineTo(*point)
    star.close()
    c.drawPath(star, stroke=0, fill=1)
    chars = SEAL_TEXT[:14]
    c.setFont("WQY", 3.6 / MM_PER_PT)
    for i, ch in enumerate(chars):
        theta = math.radians(215 - i * 250 / (len(chars) - 1))
        c.saveState()
        c.translate(*rl_pt(sx + 14.2 * math.cos(theta), sy - 14.2 * math.sin(theta)))
        c.rotate(math.degrees(theta) - 90)
        c.drawCentredString(0, -1.2 * mm, ch)
        c.restoreState()
    c.restoreState()


def pdf_reportlab_vector(job: PdfJob) -> dict:
    cert = job.certificate(module_mm=float(job.rng.uniform(0.4, 0.55)))
    c = rl_canvas(job.out, "职业资格证书")
    rl_draw_certificate(c, cert, "vector")
    c.showPage()
    c.save()
    return entry(job, cert.payload, "reportlab", "pdf-vector", "easy",
                 qr="QrCodeWidget rectangles", module_mm=cert.module_mm, sample=cert.sample)


def reportlab_image_pdf(job: PdfJob, path: Path, cert: Certificate):
    c = rl_canvas(path, "职业资格证书")
    rl_draw_certificate(c, cert, "image")
    c.showPage()
    c.save()


def pdf_reportlab_attachment(job: PdfJob) -> dict:
    cert = job.certificate(module_mm=float(job.rng.uniform(0.4, 0.55)))
    base = job.scratch("no-attachment.pdf")
    reportlab_image_pdf(job, base, cert)
    attach_credential(job, base, job.out, cert.payload)
    return entry(job, cert.payload, "reportlab+qpdf", "pdf-embedded", "easy",
                 qr="PNG image", attachment="credential.txt", module_mm=cert.module_mm,
                 sample=cert.sample)


def attach_credential(job: PdfJob, src: Path, dst: Path, payload: str):
    text = job.scratch("credential.txt")
    text.write_text(payload, encoding="ascii")
    date = pdf_date(job.epoch)
    run("qpdf", src, dst, "--deterministic-id", "--add-attachment", text, "--key=credential.txt",
        "--filename=credential.txt", "--mimetype=text/plain", f"--creationdate={date}",
        f"--moddate={date}", "--description=certificate credential", "--")


# ─── PDFs: img2pdf, tiff2pdf, ghostscript ─────────────────────────────────────────────────

def pdf_img2pdf_png(job: PdfJob) -> dict:
    page, cert = scan_certificate(job, box_px=int(job.rng.integers(4, 7)))
    png = job.scratch("scan.png")
    page.convert("L").save(png, dpi=(SCAN_DPI, SCAN_DPI))
    run("img2pdf", "--nodate", "--engine", "internal", "-o", job.out, png)
    return entry(job, cert.payload, "img2pdf", "pdf-image", "easy",
                 image="PNG gray, Flate with PNG predictors", dpi=SCAN_DPI, sample=cert.sample,
                 module_mm=cert.module_mm)


def jpeg_scan(job: PdfJob) -> tuple[Path, Certificate]:
    page, cert = scan_certificate(job, box_px=int(job.rng.integers(5, 8)))
    skew = float(job.rng.uniform(-1.5, 1.5))
    page = page.rotate(skew, resample=Image.BILINEAR, fillcolor=cert.paper)
    arr = np.asarray(page, np.float32) + job.rng.normal(0, 3.0, (page.height, page.width, 3))
    jpg = job.scratch("scan.jpg")
    quality = int(job.rng.integers(70, 92))
    Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8)).save(
        jpg, quality=quality, dpi=(SCAN_DPI, SCAN_DPI))
    job.params.update(skew_deg=round(skew, 3), jpeg_quality=quality)
    return jpg, cert


def pdf_img2pdf_jpeg(job: PdfJob) -> dict:
    jpg, cert = jpeg_scan(job)
    run("img2pdf", "--nodate", "--engine", "internal", "-o", job.out, jpg)
    return entry(job, cert.payload, "img2pdf", "pdf-image", "medium",
                 image="JPEG RGB, DCT", dpi=SCAN_DPI, sample=cert.sample, module_mm=cert.module_mm)


def pdf_tiff2pdf_g4(job: PdfJob) -> dict:
    page, cert = scan_certificate(job, box_px=int(job.rng.integers(4, 7)))
    threshold = int(job.rng.integers(120, 170))
    bilevel = page.convert("L").point(lambda v: 255 if v > threshold else 0).convert("1")
    tif = job.scratch("scan.tif")
    bilevel.save(tif, compression="group4", dpi=(SCAN_DPI, SCAN_DPI))
    date = dt.datetime.fromtimestamp(job.epoch, dt.timezone.utc).strftime("%Y%m%d%H%M%S")
    run("tiff2pdf", "-e", date, "-c", "certkiosk test corpus", "-o", job.out, tif)
    return entry(job, cert.payload, "tiff2pdf", "pdf-image", "medium",
                 image="1-bit TIFF Group 4 → CCITTFax", threshold=threshold, dpi=SCAN_DPI,
                 sample=cert.sample, module_mm=cert.module_mm)


GS_ARGS = ("-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite", "-dOmitInfoDate",
           "-dOmitID", "-dOmitXMP", "-dAutoFilterGrayImages=false", "-dAutoFilterColorImages=false",
           "-dGrayImageFilter=/FlateEncode", "-dColorImageFilter=/FlateEncode",
           "-dDownsampleGrayImages=false", "-dDownsampleColorImages=false",
           "-dDownsampleMonoImages=false")


def pdf_gs_vector(job: PdfJob) -> dict:
    base = job.scratch("reportlab.pdf")
    inner = pdf_reportlab_vector(PdfJob(**{**asdict_shallow(job), "out": base}))
    run("gs", *GS_ARGS, "-o", job.out, base)
    return entry(job, inner["expected"], "ghostscript", "pdf-vector", "easy",
                 rewritten="reportlab vector QR", **inner["params"])


def pdf_gs_image(job: PdfJob) -> dict:
    jpg, cert = jpeg_scan(job)
    base = job.scratch("img2pdf.pdf")
    run("img2pdf", "--nodate", "--engine", "internal", "-o", base, jpg)
    run("gs", *GS_ARGS, "-o", job.out, base)
    return entry(job, cert.payload, "ghostscript", "pdf-image", "medium",
                 rewritten="img2pdf JPEG scan", sample=cert.sample, module_mm=cert.module_mm)


def asdict_shallow(job: PdfJob) -> dict:
    return {f: getattr(job, f) for f in job.__dataclass_fields__}


# ─── PDFs: qpdf ───────────────────────────────────────────────────────────────────────────

QPDF_TRANSFORMS = {
    "qpdf-objstm": (["--deterministic-id", "--object-streams=generate"], "easy"),
    "qpdf-linearized": (["--deterministic-id", "--linearize"], "easy"),
    "qpdf-rotated": (["--deterministic-id", "--rotate=+90:1"], "medium"),
    "qpdf-rc4-40": (["--allow-weak-crypto", "--static-id", "--encrypt", "", "owner", "40", "--"], "medium"),
    "qpdf-rc4-128": (["--allow-weak-crypto", "--static-id", "--encrypt", "", "owner", "128",
                      "--use-aes=n", "--"], "medium"),
    "qpdf-aes-128": (["--static-id", "--static-aes-iv", "--encrypt", "", "owner", "128",
                      "--use-aes=y", "--"], "medium"),
    "qpdf-aes-256": (["--static-id", "--static-aes-iv", "--encrypt", "", "owner", "256", "--"], "medium"),
}


def qpdf_transform(kind: str):
    def make(job: PdfJob) -> dict:
        """Variant 0: reportlab with a QR image; 1: with the attachment too; 2: vector QR."""
        args, bucket = QPDF_TRANSFORMS[kind]
        base = job.scratch("qpdf-input.pdf")
        sub = PdfJob(**{**asdict_shallow(job), "out": base, "params": {}})
        inner = [pdf_reportlab_image, pdf_reportlab_attachment, pdf_reportlab_vector][job.variant % 3](sub)
        run("qpdf", base, job.out, *args)
        return entry(job, inner["expected"], "qpdf", inner["source"], bucket,
                     qpdf=" ".join(a if a else '""' for a in args), base=inner["tool"], **inner["params"])
    make.__name__ = f"pdf_{kind.replace('-', '_')}"
    return make


def pdf_reportlab_image(job: PdfJob) -> dict:
    cert = job.certificate(module_mm=float(job.rng.uniform(0.4, 0.55)))
    reportlab_image_pdf(job, job.out, cert)
    return entry(job, cert.payload, "reportlab", "pdf-image", "easy", qr="PNG image",
                 module_mm=cert.module_mm, sample=cert.sample)


def pdf_qpdf_multipage(job: PdfJob) -> dict:
    """Three reportlab pages joined by qpdf; only page 3 has the QR."""
    pages = []
    for n, (qr, note) in enumerate(((None, "第 1 页 封面 Cover"), (None, "第 2 页 说明 Notes"),
                                    ("image", "第 3 页 Page 3"))):
        cert = job.certificate(module_mm=float(job.rng.uniform(0.4, 0.55)))
        path = job.scratch(f"page{n + 1}.pdf")
        c = rl_canvas(path, "职业资格证书")
        rl_draw_certificate(c, cert, qr, note)
        c.showPage()
        c.save()
        pages.append(path)
    run("qpdf", "--deterministic-id", "--empty", "--pages", *pages, "--", job.out)
    return entry(job, cert.payload, "qpdf", "pdf-image", "medium", pages=3, qr_page=3,
                 module_mm=cert.module_mm, sample=cert.sample)


# ─── PDFs: hand-written ───────────────────────────────────────────────────────────────────

A4_PT = (595.28, 841.89)


class RawPdf:
    """Minimal PDF writer: numbered objects, a classic xref table, optional incremental updates."""

    def __init__(self):
        self.objects: dict[int, bytes] = {}

    def add(self, body: bytes | str, num: int | None = None) -> int:
        num = num or (max(self.objects, default=0) + 1)
        self.objects[num] = body.encode("latin-1") if isinstance(body, str) else body
        return num

    @staticmethod
    def stream(dictionary: str, data: bytes) -> bytes:
        return (f"<< {dictionary} /Length {len(data)} >>\nstream\n".encode("latin-1")
                + data + b"\nendstream")

    def write(self, root: int, base: bytes = b"", prev: int | None = None,
              size: int | None = None) -> tuple[bytes, int]:
        """Serializes all objects (as an update to `base` when given); returns bytes, startxref."""
        out = bytearray(base or b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
        offsets = {}
        for num in sorted(self.objects):
            offsets[num] = len(out)
            out += f"{num} 0 obj\n".encode() + self.objects[num] + b"\nendobj\n"
        startxref = len(out)
        out += b"xref\n"
        if base:
            out += b"0 1\n0000000000 65535 f \n"
            for num in sorted(offsets):
                out += f"{num} 1\n{offsets[num]:010d} 00000 n \n".encode()
        else:
            out += f"0 {max(offsets) + 1}\n0000000000 65535 f \n".encode()
            for num in range(1, max(offsets) + 1):
                out += f"{offsets[num]:010d} 00000 n \n".encode() if num in offsets \
                    else b"0000000000 65535 f \n"
        size = size or max(offsets) + 1
        trailer = f"/Size {size} /Root {root} 0 R" + (f" /Prev {prev}" if prev is not None else "")
        out += f"trailer\n<< {trailer} >>\nstartxref\n{startxref}\n%%EOF\n".encode()
        return bytes(out), startxref


def pdf_text_ops(lines: list[tuple[float, float, float, str]]) -> str:
    ops = []
    for x, y, size, text in lines:
        esc = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(f"BT /F1 {size} Tf {x:.2f} {y:.2f} Td ({esc}) Tj ET")
    return "\n".join(ops)


def raw_page_decor(cert: Certificate) -> str:
    """Border, finder-like ornaments in the corners and English text, as content operators."""
    W, H = A4_PT
    ops = ["q 0.2 0.35 0.3 RG 2 w 24 24 %.2f %.2f re S 0.5 w 30 30 %.2f %.2f re S Q"
           % (W - 48, H - 48, W - 60, H - 60)]
    u = 3.0
    for x, y in ((40, H - 61), (W - 61, H - 61), (40, 40), (W - 61, 40)):
        ops.append(f"q 0 g {x} {y} {7 * u} {7 * u} re f 1 g {x + u} {y + u} {5 * u} {5 * u} re f "
                   f"0 g {x + 2 * u} {y + 2 * u} {3 * u} {3 * u} re f Q")
    ops.append("0 g")
    ops.append(pdf_text_ops([
        (150, H - 110, 18, "Certificate of Professional Qualification"),
        (110, H - 170, 12, f"Name: {cert.name[1]}"),
        (110, H - 190, 12, f"Qualification: {cert.qualification[1]}"),
        (110, H - 210, 12, f"Management No.: {cert.management_no}"),
        (110, H - 230, 12, f"Approved: {cert.approved}"),
        (110, 300, 10, "Scan the QR code to verify this certificate."),
    ]))
    return "\n".join(ops)


def raw_single_page(has_image: bool, content: str, rotate: int = 0) -> RawPdf:
    pdf = RawPdf()
    pdf.add("<< /Type /Catalog /Pages 2 0 R >>", 1)
    resources = "/Font << /F1 4 0 R >>" + (" /XObject << /Im1 5 0 R >>" if has_image else "")
    rot = f" /Rotate {rotate}" if rotate else ""
    pdf.add("<< /Type /Pages /Kids [3 0 R] /Count 1 >>", 2)
    pdf.add(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {A4_PT[0]} {A4_PT[1]}]{rot} "
            f"/Resources << {resources} >> /Contents 6 0 R >>", 3)
    pdf.add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>", 4)
    pdf.add(RawPdf.stream("/Filter /FlateDecode", zlib.compress(content.encode("latin-1"), 9)), 6)
    return pdf


def stencil_image(text: str) -> bytes:
    """1 sample per module, no quiet zone, bit 1 = dark; painted where 1 via /Decode [1 0]."""
    mods = qr_modules(text)
    data = zlib.compress(np.packbits(mods, axis=1).tobytes(), 9)
    n = mods.shape[0]
    return RawPdf.stream(f"/Type /XObject /Subtype /Image /Width {n} /Height {n} /ImageMask true "
                         f"/BitsPerComponent 1 /Decode [1 0] /Filter /FlateDecode", data)


def png_filter_rows(img: np.ndarray, rng) -> bytes:
    """PNG row filters (None, Sub, Up, Average, Paeth, chosen per row) for /Predictor 15."""
    a = img.astype(np.int16)
    left = np.pad(a, ((0, 0), (1, 0)))[:, :-1]
    up = np.pad(a, ((1, 0), (0, 0)))[:-1]
    upleft = np.pad(a, ((1, 0), (1, 0)))[:-1, :-1]
    p = left + up - upleft
    pa, pb, pc = np.abs(p - left), np.abs(p - up), np.abs(p - upleft)
    paeth = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, upleft))
    predictions = [np.zeros_like(a), left, up, (left + up) // 2, paeth]
    kinds = rng.integers(0, 5, img.shape[0])
    rows = [bytes([k]) + ((a[r] - predictions[k][r]) % 256).astype(np.uint8).tobytes()
            for r, k in enumerate(kinds)]
    return b"".join(rows)


def flate_image(text: str, box: int, rng, predictor: bool) -> bytes:
    img = qr_gray(text, box)
    h, w = img.shape
    if predictor:
        data = zlib.compress(png_filter_rows(img, rng), 9)
        parms = f" /DecodeParms << /Predictor 15 /Colors 1 /BitsPerComponent 8 /Columns {w} >>"
    else:
        data, parms = zlib.compress(img.tobytes(), 9), ""
    return RawPdf.stream(f"/Type /XObject /Subtype /Image /Width {w} /Height {h} "
                         f"/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode{parms}", data)


def image_placement(size_pt: float, x: float = 330.0, y: float = 90.0) -> str:
    return f"q {size_pt:.2f} 0 0 {size_pt:.2f} {x:.2f} {y:.2f} cm /Im1 Do Q"


def raw_entry(job: PdfJob, payload, sample, source, **params) -> dict:
    return entry(job, payload, "hand-written", source, "hard", sample=sample, **params)


def pdf_raw_imagemask(job: PdfJob) -> dict:
    cert = job.certificate(0.5)
    n = qr_modules(cert.payload).shape[0]
    size = n * float(job.rng.uniform(1.3, 1.7))  # pt; about 0.5 mm per module
    content = raw_page_decor(cert) + "\n0.05 0.05 0.2 rg\n" + image_placement(size)
    pdf = raw_single_page(True, content)
    pdf.add(stencil_image(cert.payload), 5)
    job.out.write_bytes(pdf.write(1)[0])
    return raw_entry(job, cert.payload, cert.sample, "pdf-image", image="1-bit /ImageMask, /Decode [1 0]",
                     quiet_zone=0, size_pt=round(size, 2))


def pdf_raw_predictor(job: PdfJob) -> dict:
    cert = job.certificate(0.5)
    box = int(job.rng.integers(2, 5))
    n = qr_modules(cert.payload).shape[0] + 2 * QUIET
    size = n * 1.5
    pdf = raw_single_page(True, raw_page_decor(cert) + "\n" + image_placement(size))
    pdf.add(flate_image(cert.payload, box, job.rng, predictor=True), 5)
    job.out.write_bytes(pdf.write(1)[0])
    return raw_entry(job, cert.payload, cert.sample, "pdf-image",
                     image="8-bit gray, Flate, /Predictor 15 (mixed PNG row filters)",
                     pixels_per_module=box, size_pt=size)


def pdf_raw_incremental(job: PdfJob) -> dict:
    """Revision 1 shows payload A; an appended update replaces the image with payload B."""
    first = job.certificate(0.5, n=0)
    second_sample, second = job.payload(n=1)
    n = qr_modules(first.payload).shape[0] + 2 * QUIET
    size = n * 1.5
    pdf = raw_single_page(True, raw_page_decor(first) + "\n" + image_placement(size))
    pdf.add(flate_image(first.payload, 3, job.rng, predictor=False), 5)
    base, startxref = pdf.write(1)
    update = RawPdf()
    update.add(flate_image(second, 3, job.rng, predictor=False), 5)
    data, _ = update.write(1, base=base, prev=startxref, size=7)
    job.out.write_bytes(data)
    return raw_entry(job, second, second_sample, "pdf-image", revisions=2,
                     superseded=first.payload, superseded_sample=first.sample)


def pdf_raw_vector(job: PdfJob) -> dict:
    """`re f` per run of dark modules, in module units under a scaling CTM with y flipped."""
    cert = job.certificate(0.5)
    mods = qr_modules(cert.payload)
    n = mods.shape[0]
    scale = float(job.rng.uniform(1.3, 1.8))
    x0, top = 330.0, 90.0 + (n + 2 * QUIET) * scale - QUIET * scale
    rects = []
    for r, row in enumerate(mods):
        c = 0
        while c < n:
            if row[c]:
                start = c
                while c < n and row[c]:
                    c += 1
                rects.append(f"{start} {r} {c - start} 1 re")
            else:
                c += 1
    qr = f"q 0 g {scale:.4f} 0 0 {-scale:.4f} {x0 + QUIET * scale:.2f} {top:.2f} cm\n" \
         + "\n".join(rects) + "\nf Q"
    pdf = raw_single_page(False, raw_page_decor(cert) + "\n" + qr)
    job.out.write_bytes(pdf.write(1)[0])
    return raw_entry(job, cert.payload, cert.sample, "pdf-vector", ctm_scale=round(scale, 4),
                     rectangles=len(rects))


def pdf_raw_rotate90(job: PdfJob) -> dict:
    cert = job.certificate(0.5)
    n = qr_modules(cert.payload).shape[0] + 2 * QUIET
    size = n * 1.5
    pdf = raw_single_page(True, raw_page_decor(cert) + "\n" + image_placement(size), rotate=90)
    pdf.add(flate_image(cert.payload, 4, job.rng, predictor=False), 5)
    job.out.write_bytes(pdf.write(1)[0])
    return raw_entry(job, cert.payload, cert.sample, "pdf-image", rotate=90)


# ─── PDFs: LibreOffice ────────────────────────────────────────────────────────────────────

ODT_MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
 <manifest:file-entry manifest:full-path="Pictures/qr.png" manifest:media-type="image/png"/>
</manifest:manifest>
"""

ODT_CONTENT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
 xmlns:xlink="http://www.w3.org/1999/xlink"
 xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" office:version="1.2">
<office:body><office:text>
<text:h text:outline-level="1">专业技术人员职业资格证书</text:h>
<text:p>Certificate of Professional Qualification</text:p>
<text:p>姓名 Name: {name}</text:p>
<text:p>资格名称 Qualification: {qualification}</text:p>
<text:p>管理号 Management No.: {number}</text:p>
<text:p><draw:frame draw:name="qr" text:anchor-type="as-char" svg:width="{size}mm" svg:height="{size}mm"><draw:image xlink:href="Pictures/qr.png" xlink:type="simple" xlink:show="embed" xlink:actuate="onLoad"/></draw:frame></text:p>
<text:p>扫码查验 Scan to verify</text:p>
</office:text></office:body></office:document-content>
"""

LO_FILTER = ('pdf:writer_pdf_Export:{"UseLosslessCompression":{"type":"boolean","value":"true"},'
             '"ReduceImageResolution":{"type":"boolean","value":"false"}}')


def write_odt(path: Path, cert: Certificate, size_mm: float):
    png = png_bytes(qr_pil(cert.payload, 8))
    stamp = (1980, 1, 1, 0, 0, 0)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype", stamp), "application/vnd.oasis.opendocument.text",
                   compress_type=zipfile.ZIP_STORED)
        for name, data in (("META-INF/manifest.xml", ODT_MANIFEST),
                           ("content.xml", ODT_CONTENT.format(
                               name=f"{cert.name[0]} {cert.name[1]}",
                               qualification=cert.qualification[1], number=cert.management_no,
                               size=f"{size_mm:.1f}")),
                           ("Pictures/qr.png", png)):
            z.writestr(zipfile.ZipInfo(name, stamp), data, compress_type=zipfile.ZIP_DEFLATED)


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def pdf_libreoffice(job: PdfJob) -> dict:
    cert = job.certificate(0.5)
    size = (qr_modules(cert.payload).shape[0] + 2 * QUIET) * 0.5
    odt = job.scratch("certificate.odt")
    write_odt(odt, cert, size)
    profile = job.work / "lo-profile"
    run("soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
        "--convert-to", LO_FILTER, "--outdir", job.work, odt, stderr=subprocess.DEVNULL)
    shutil.move(odt.with_suffix(".pdf"), job.out)
    return entry(job, cert.payload, "libreoffice", "pdf-image", "easy", document="ODT (zipfile)",
                 sample=cert.sample, deterministic=False)


# ─── PDFs: the list ───────────────────────────────────────────────────────────────────────

def entry(job: PdfJob, expected: str, tool: str, source: str, bucket: str, **params) -> dict:
    return {"file": f"pdfs/{job.out.name}", "kind": "pdf", "bucket": bucket, "expected": expected, "tool": tool,
            "source": source, "params": rounded({"variant": job.variant, **params, **job.params})}


PDF_MAKERS = {
    "reportlab-vector": pdf_reportlab_vector,
    "reportlab-attachment": pdf_reportlab_attachment,
    "img2pdf-png": pdf_img2pdf_png,
    "img2pdf-jpeg": pdf_img2pdf_jpeg,
    "tiff2pdf-g4": pdf_tiff2pdf_g4,
    "gs-vector": pdf_gs_vector,
    "gs-image": pdf_gs_image,
    **{kind: qpdf_transform(kind) for kind in QPDF_TRANSFORMS},
    "qpdf-multipage": pdf_qpdf_multipage,
    "raw-imagemask": pdf_raw_imagemask,
    "raw-predictor": pdf_raw_predictor,
    "raw-incremental": pdf_raw_incremental,
    "raw-vector": pdf_raw_vector,
    "raw-rotate90": pdf_raw_rotate90,
    "libreoffice": pdf_libreoffice,
}
PDF_KINDS_ORDER = list(PDF_MAKERS)


def make_pdfs(payloads, out_dir: Path, variants: int, epoch: int, libreoffice: bool) -> list[dict]:
    entries = []
    (out_dir / "pdfs").mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="corpus-pdf-") as tmp:
        for kind, maker in PDF_MAKERS.items():
            if kind == "libreoffice" and not libreoffice:
                continue
            for variant in range(variants):
                rng = np.random.default_rng([SEED, 100 + PDF_KINDS_ORDER.index(kind), variant])
                job = PdfJob(kind, variant, payloads, rng, Path(tmp),
                             out_dir / "pdfs" / f"{kind}-{variant}.pdf", epoch)
                entries.append(maker(job))
    return entries


# ─── main ─────────────────────────────────────────────────────────────────────────────────

def prepare_out_dir(out_dir: Path):
    """Removes what an earlier run wrote (only that), so a rerun gives the same tree."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for sub in ("images", "pdfs"):
        shutil.rmtree(out_dir / sub, ignore_errors=True)
    for name in ("manifest.json", "README.txt"):
        (out_dir / name).unlink(missing_ok=True)


def refuse_git_work_tree(out_dir: Path):
    """Generated files must not go into git: OUT_DIR must be outside a work tree, or ignored."""
    if shutil.which("git") is None:  # no git, no work tree to protect (a fresh machine)
        return
    where = out_dir if out_dir.exists() else out_dir.parent
    probe = subprocess.run(["git", "-C", str(where), "rev-parse", "--is-inside-work-tree"],
                           capture_output=True, text=True)
    if probe.returncode == 0 and probe.stdout.strip() == "true":
        ignored = subprocess.run(["git", "-C", str(where), "check-ignore", "-q", str(out_dir)])
        if ignored.returncode != 0:
            sys.exit(f"corpus: {out_dir} is inside a git work tree and not ignored; "
                     "the corpus must not go into git")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("demo_dir", type=Path)
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--quick", action="store_true", help="about 10/10/15 images, one PDF of each kind")
    ap.add_argument("--with-libreoffice", action="store_true", help="also an ODT → PDF by LibreOffice")
    ap.add_argument("--images-only", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--pdfs-only", action="store_true", help="only the PDFs (no OpenCV needed)")
    args = ap.parse_args(argv)

    if not args.pdfs_only:
        if cv2 is None:
            sys.exit("corpus: the images need OpenCV (python3-opencv); --pdfs-only makes only the PDFs")
        cv2.setNumThreads(1)
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", DEFAULT_EPOCH))
    os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
    payloads = load_payloads(args.demo_dir)
    out_dir = args.out_dir.resolve()
    refuse_git_work_tree(out_dir)
    prepare_out_dir(out_dir)

    counts = QUICK_COUNTS if args.quick else FULL_COUNTS
    manifest = []
    if not args.pdfs_only:
        for bucket in BUCKETS:
            for i in range(counts[bucket]):
                manifest.append(make_image(bucket, i, payloads, out_dir))
            print(f"corpus: {counts[bucket]} {bucket} images", file=sys.stderr)
    if not args.images_only:
        variants = PDF_VARIANTS["quick" if args.quick else "full"]
        pdfs = make_pdfs(payloads, out_dir, variants, epoch, args.with_libreoffice)
        manifest += pdfs
        print(f"corpus: {len(pdfs)} PDFs", file=sys.stderr)

    (out_dir / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    mode = "--quick" if args.quick else "full"
    (out_dir / "README.txt").write_text(
        f"Made by scripts/corpus ({mode}{', with LibreOffice' if args.with_libreoffice else ''}) from "
        f"the {len(payloads)} CK1: samples of {args.demo_dir.resolve()}, seed {SEED}, "
        f"SOURCE_DATE_EPOCH={epoch}; see manifest.json and the docstring of scripts/corpus.py.\n",
        encoding="utf-8")
    print(f"corpus: {len(manifest)} files in {out_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
