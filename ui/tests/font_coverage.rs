//! The font chain (`certkiosk::fonts::CHAIN`) draws every character the kiosk can be asked to
//! show: every holder name of the demo world — 䶮 (Ext A), 𠇔 𡟣 (B), 𫍯 (C), 𬱖 (E), 𰻝 (G) and
//! the middle dot of minority names — and every Chinese string of the screens. The fonts are
//! the installed system fonts (Debian's fonts-noto-cjk, fonts-hanazono, fonts-babelstone-han,
//! which the kiosk's package depends on), found through fontconfig as Slint finds them. And
//! the manual lookup offers only characters the chain draws (`certkiosk::fonts::Coverage`).

use certkiosk::fonts::CHAIN;
use skrifa::MetadataProvider;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The files and face indices fontconfig has for `family` (exact family match).
fn faces(family: &str) -> Vec<(PathBuf, u32)> {
    let out = std::process::Command::new("fc-list")
        .args(["-f", "%{file}:%{index}\n", &format!(":family={family}")])
        .output()
        .expect("fc-list (fontconfig) runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (file, index) = l.rsplit_once(':')?;
            Some((PathBuf::from(file), index.parse().ok()?))
        })
        .collect()
}

/// Every character of the demo world's holder names and of the Chinese translations.
fn characters() -> BTreeSet<char> {
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let summary = runtime
        .block_on(certsync::demo::build(dir.path(), jiff::Timestamp::now()))
        .expect("demo world");
    let mut chars = BTreeSet::new();
    for e in &summary.expectations {
        let text =
            std::fs::read_to_string(dir.path().join("samples").join(format!("{}.txt", e.sample))).expect("sample");
        // Forged and unreadable samples carry no readable claims, or no name worth showing.
        let Ok(envelope) = certkiosk_formats::credential::Envelope::parse(text.trim()) else {
            continue;
        };
        if let Ok(claims) = envelope.claims() {
            chars.extend(claims.holder_name.chars());
        }
    }
    for name in certsync::demo::RARE_NAMES {
        chars.extend(name.chars());
    }
    // Both Chinese catalogues: 繁體中文's Traditional forms are drawn by the same chain.
    for locale in ["zh_CN", "zh_TW"] {
        let po = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("lang/{locale}/LC_MESSAGES/certkiosk.po"));
        for line in std::fs::read_to_string(po).expect("po").lines() {
            if let Some(s) = line.strip_prefix("msgstr") {
                chars.extend(s.chars());
            }
        }
    }
    chars.retain(|c| !c.is_ascii() && !c.is_whitespace());
    chars
}

#[test]
fn the_chain_draws_every_name_and_string() {
    let mut fonts = Vec::new();
    for family in CHAIN {
        let found = faces(family);
        assert!(
            !found.is_empty(),
            "font family {family:?} is not installed (scripts/install-deps)"
        );
        for (file, index) in found {
            fonts.push((family, std::fs::read(&file).expect("font file"), index));
        }
    }
    let chars = characters();
    assert!(chars.contains(&'\u{30EDD}') && chars.contains(&'\u{217E3}') && chars.contains(&'·'));
    let mut missing = Vec::new();
    let mut used = BTreeSet::new();
    for c in &chars {
        let by = fonts.iter().find(|(_, data, index)| {
            skrifa::FontRef::from_index(data, *index).is_ok_and(|f| f.charmap().map(*c).is_some())
        });
        match by {
            Some((family, _, _)) => {
                used.insert(*family);
            }
            None => missing.push(format!("U+{:04X} {c}", u32::from(*c))),
        }
    }
    assert!(missing.is_empty(), "no font of the chain has: {}", missing.join(", "));
    // Noto alone is not enough: the chain is needed, not decoration.
    assert!(used.len() > 1, "only {used:?} used");
}

#[test]
fn the_lookup_leaves_out_exactly_what_the_chain_cannot_draw() {
    use slint::fontique_011::fontique::{Collection, CollectionOptions};
    // The faces as Slint's font collection finds them, read through fontique's character maps;
    // checked against skrifa's reading of the files fontconfig lists.
    let mut collection = Collection::new(CollectionOptions {
        shared: false,
        system_fonts: true,
    });
    let slint_faces: Vec<_> = CHAIN
        .iter()
        .filter_map(|name| collection.family_by_name(name))
        .flat_map(|family| family.fonts().to_vec())
        .collect();
    let coverage = certkiosk::fonts::Coverage::measure(slint_faces);
    let fonts: Vec<_> = CHAIN
        .iter()
        .flat_map(|family| faces(family))
        .map(|(file, index)| (std::fs::read(&file).expect("font file"), index))
        .collect();
    let drawn = |c: char| {
        fonts
            .iter()
            .any(|(data, index)| skrifa::FontRef::from_index(data, *index).is_ok_and(|f| f.charmap().map(c).is_some()))
    };
    let ideographs: Vec<char> = (0..0x32400)
        .filter_map(char::from_u32)
        .filter(|&c| hanzi::block(c).is_some())
        .collect();
    let left_out: Vec<char> = ideographs.iter().copied().filter(|&c| !coverage.draws(c)).collect();
    assert_eq!(left_out.len() as u32, coverage.lacking());
    let drawable_after_all: Vec<_> = left_out.iter().filter(|&&c| drawn(c)).collect();
    assert!(
        drawable_after_all.is_empty(),
        "left out, yet drawn: {drawable_after_all:?}"
    );
    // Every 97th kept ideograph, and every character of the demo names: drawn.
    let kept = ideographs.iter().copied().filter(|&c| coverage.draws(c)).step_by(97);
    let names = certsync::demo::RARE_NAMES
        .iter()
        .flat_map(|n| n.chars())
        .filter(|&c| hanzi::block(c).is_some());
    let boxes: Vec<_> = kept.chain(names).filter(|&c| !drawn(c)).collect();
    assert!(boxes.is_empty(), "offered, yet no face draws: {boxes:?}");
}
