//! Builds the character index from Debian's Unihan files (package `unicode-data`) into OUT_DIR.
//!
//! Inputs, in `$UNIHAN_DIR` (default `/usr/share/unicode`):
//! - `Unihan_Readings.txt.bz2`: the pinyin fields, kTGHZ2013 membership, kHanyuPinlu counts;
//! - `Unihan_IRGSources.txt.bz2`: kRSUnicode, kTotalStrokes, kIRG_GSource, kCompatibilityVariant;
//! - `CJKRadicals.txt`: radical number → the unified ideograph that is the radical.
//!
//! Outputs: `tables.rs` (the small tables, as Rust) and five binary tables, whose formats
//! `src/table.rs` documents and decodes. Any problem in the data stops the build with one line
//! naming the file and line, never a guess.

#[path = "src/tones.rs"]
mod tones;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tones::{COMBINING_TONES, MARKED_VOWELS, OTHER_MARKED};

const READINGS: &str = "Unihan_Readings.txt.bz2";
const IRG_SOURCES: &str = "Unihan_IRGSources.txt.bz2";
const RADICALS: &str = "CJKRadicals.txt";
const INSTALL: &str = "it comes with Debian's unicode-data (apt install unicode-data), or set UNIHAN_DIR";

/// The fields that give pinyin, in order of preference: `readings()` lists a character's
/// kMandarin readings first, in their order, then those only the dictionaries give.
const READING_FIELDS: [&str; 5] = ["kMandarin", "kTGHZ2013", "kHanyuPinyin", "kXHC1983", "kHanyuPinlu"];

/// Also in src/block.rs: the two blocks the candidate order treats apart.
const URO: RangeInclusive<u32> = 0x4E00..=0x9FFF;
const EXT_A: RangeInclusive<u32> = 0x3400..=0x4DBF;

/// Pinyin entries hold the code point in 18 bits, the tone set in the 5 above.
const CODE_POINT_BITS: u32 = 18;

type Result<T, E = String> = std::result::Result<T, E>;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            println!("cargo::error={message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=src/tones.rs");
    println!("cargo::rerun-if-env-changed=UNIHAN_DIR");
    let dir = PathBuf::from(std::env::var_os("UNIHAN_DIR").unwrap_or_else(|| "/usr/share/unicode".into()));
    for name in [READINGS, IRG_SOURCES, RADICALS] {
        println!("cargo::rerun-if-changed={}", dir.join(name).display());
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?);

    let mut hans = read_irg_sources(&Input::read(&dir, IRG_SOURCES)?)?;
    let version = read_readings(&Input::read(&dir, READINGS)?, &mut hans)?;
    let radicals = read_radicals(&Input::read(&dir, RADICALS)?, &hans)?;
    Index::build(version, hans, radicals)?.write(&out)
}

/// One input file, decompressed, with the name its errors carry.
struct Input {
    name: &'static str,
    text: String,
}

impl Input {
    fn read(dir: &Path, name: &'static str) -> Result<Input> {
        let path = dir.join(name);
        let file = std::fs::File::open(&path).map_err(|e| format!("cannot read {}: {e}; {INSTALL}", path.display()))?;
        let mut text = String::new();
        let read = if name.ends_with(".bz2") {
            bzip2::read::MultiBzDecoder::new(file).read_to_string(&mut text)
        } else {
            std::io::BufReader::new(file).read_to_string(&mut text)
        };
        read.map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Ok(Input { name, text })
    }

    /// An error at a line (1-based) of this file.
    fn at(&self, line: usize, message: impl std::fmt::Display) -> String {
        format!("{} line {line}: {message}", self.name)
    }

    /// The non-comment, non-blank lines, numbered from 1.
    fn lines(&self) -> impl Iterator<Item = (usize, &str)> {
        let numbered = self.text.lines().enumerate().map(|(i, line)| (i + 1, line));
        numbered.filter(|(_, line)| !line.starts_with('#') && !line.trim().is_empty())
    }

    /// The `U+XXXX<TAB>kField<TAB>value` lines of a Unihan file.
    fn properties(&self) -> impl Iterator<Item = Result<Property<'_>>> {
        self.lines().map(|(line, text)| {
            let mut fields = text.split('\t');
            let (Some(code), Some(field), Some(value), None) =
                (fields.next(), fields.next(), fields.next(), fields.next())
            else {
                return Err(self.at(line, "not three tab-separated fields"));
            };
            let code_point = parse_unihan_code_point(code).map_err(|e| self.at(line, e))?;
            Ok(Property {
                line,
                code_point,
                field,
                value,
            })
        })
    }
}

struct Property<'a> {
    line: usize,
    code_point: u32,
    field: &'a str,
    value: &'a str,
}

/// A radical as kRSUnicode names it: number, and whether it is the simplified form (`'`).
type RadicalKey = (u8, bool);

/// What the index keeps of one ideograph.
#[derive(Default)]
struct Han {
    total_strokes: u8,
    radical_strokes: Vec<(RadicalKey, i8)>,
    /// kIRG_GSource is `G0-…`: the character is in GB 2312.
    gb2312: bool,
    /// kCompatibilityVariant: the unified ideograph NFC turns this one into.
    unified: Option<u32>,
    /// In kTGHZ2013, the 通用规范汉字表 (2013).
    common: bool,
    readings: Vec<Reading>,
}

/// One toneless syllable of a character, with its tones and kHanyuPinlu count.
struct Reading {
    syllable: String,
    /// Bit t-1 set for tone t (1..=5, 5 = neutral).
    tones: u8,
    /// Sum of the kHanyuPinlu counts of this syllable's toned readings.
    count: u32,
    /// (field in READING_FIELDS, position in the field's value): lowest first.
    preference: (usize, usize),
}

impl Han {
    fn add_reading(&mut self, syllable: String, tone: u8, count: u32, preference: (usize, usize)) {
        match self.readings.iter_mut().find(|r| r.syllable == syllable) {
            Some(reading) => {
                reading.tones |= 1 << (tone - 1);
                reading.count += count;
                reading.preference = reading.preference.min(preference);
            }
            None => self.readings.push(Reading {
                syllable,
                tones: 1 << (tone - 1),
                count,
                preference,
            }),
        }
    }

    fn count_for(&self, syllable: &str) -> u32 {
        self.readings
            .iter()
            .find(|r| r.syllable == syllable)
            .map_or(0, |r| r.count)
    }
}

fn read_irg_sources(input: &Input) -> Result<BTreeMap<u32, Han>> {
    let mut hans = BTreeMap::<u32, Han>::new();
    for property in input.properties() {
        let Property {
            line,
            code_point,
            field,
            value,
        } = property?;
        let han = hans.entry(code_point).or_default();
        let at = |e: String| input.at(line, format!("{field} {value:?}: {e}"));
        match field {
            "kRSUnicode" => han.radical_strokes = parse_radical_strokes(value).map_err(at)?,
            "kTotalStrokes" => han.total_strokes = parse_total_strokes(value).map_err(at)?,
            "kIRG_GSource" => han.gb2312 = value.starts_with("G0-"),
            "kCompatibilityVariant" => han.unified = Some(parse_unihan_code_point(value).map_err(at)?),
            _ => {}
        }
    }
    for (code_point, han) in &hans {
        if han.radical_strokes.is_empty() || han.total_strokes == 0 {
            return Err(format!(
                "{}: U+{code_point:04X} has no kRSUnicode or kTotalStrokes",
                input.name
            ));
        }
    }
    Ok(hans)
}

/// Adds the readings to `hans` and returns the Unicode version the file's header names.
fn read_readings(input: &Input, hans: &mut BTreeMap<u32, Han>) -> Result<String> {
    const VERSION: &str = "# Unicode version: ";
    let version = input.text.lines().find_map(|line| line.strip_prefix(VERSION));
    let version = version.ok_or_else(|| format!("{}: no {VERSION:?} line", input.name))?;
    for property in input.properties() {
        let Property {
            line,
            code_point,
            field,
            value,
        } = property?;
        let Some(rank) = READING_FIELDS.iter().position(|f| *f == field) else {
            continue;
        };
        let han = hans
            .get_mut(&code_point)
            .ok_or_else(|| input.at(line, format!("U+{code_point:04X} is not in {IRG_SOURCES}")))?;
        han.common |= field == "kTGHZ2013";
        let readings = reading_texts(field, value).map_err(|e| input.at(line, format!("{field} {value:?}: {e}")))?;
        for (position, (text, count)) in readings.into_iter().enumerate() {
            let (syllable, tone) = parse_pinyin(text).map_err(|e| input.at(line, format!("{field} {text:?}: {e}")))?;
            han.add_reading(syllable, tone, count, (rank, position));
        }
    }
    Ok(version.trim().to_owned())
}

/// The toned readings in a pinyin field's value, each with its kHanyuPinlu count (0 elsewhere).
fn reading_texts<'a>(field: &str, value: &'a str) -> Result<Vec<(&'a str, u32)>> {
    let mut readings = Vec::new();
    for item in value.split(' ') {
        match field {
            "kMandarin" => readings.push((item, 0)),
            // `yī(32747)`
            "kHanyuPinlu" => {
                let (reading, count) = item
                    .strip_suffix(')')
                    .and_then(|s| s.split_once('('))
                    .ok_or("not reading(count)")?;
                let count = count.parse().map_err(|e| format!("count {count:?}: {e}"))?;
                readings.push((reading, count));
            }
            // kHanyuPinyin, kTGHZ2013, kXHC1983: `location,location:reading,reading`
            _ => {
                let (_, list) = item.split_once(':').ok_or("not location:reading")?;
                readings.extend(list.split(',').map(|reading| (reading, 0)));
            }
        }
    }
    Ok(readings)
}

/// `"lǘ"` → `("lv", 2)`; no tone mark is the neutral tone, 5.
fn parse_pinyin(text: &str) -> Result<(String, u8)> {
    let mut syllable = String::new();
    let mut tone = None;
    for c in text.chars() {
        let (letter, marked) = pinyin_letter(c).ok_or_else(|| format!("{c:?} is not a pinyin letter"))?;
        syllable.extend(letter);
        if let Some(marked) = marked
            && tone.replace(marked).is_some()
        {
            return Err("two tone marks".into());
        }
    }
    if syllable.is_empty() {
        return Err("empty".into());
    }
    Ok((syllable, tone.unwrap_or(5)))
}

/// A character of a toned reading → its toneless ASCII letter (none for a combining mark) and
/// its tone, if it marks one.
fn pinyin_letter(c: char) -> Option<(Option<char>, Option<u8>)> {
    let tone = |i: usize| Some(i as u8 + 1);
    match c {
        'a'..='z' => Some((Some(c), None)),
        'ü' => Some((Some('v'), None)),
        'ê' => Some((Some('e'), None)),
        _ if c.is_ascii() => None,
        _ => match COMBINING_TONES.iter().position(|m| *m == c) {
            Some(i) => Some((None, tone(i))),
            None => MARKED_VOWELS
                .iter()
                .chain(&OTHER_MARKED)
                .find_map(|(letter, marked)| marked.iter().position(|m| *m == c).map(|i| (Some(*letter), tone(i)))),
        },
    }
}

/// `U+4DAE` → 0x4DAE.
fn parse_unihan_code_point(text: &str) -> Result<u32> {
    let hex = text
        .strip_prefix("U+")
        .ok_or_else(|| format!("{text:?} is not U+XXXX"))?;
    u32::from_str_radix(hex, 16).map_err(|e| format!("{text:?}: {e}"))
}

/// kRSUnicode: `212'.4`, or several: `2.3 169.-4`.
fn parse_radical_strokes(value: &str) -> Result<Vec<(RadicalKey, i8)>> {
    let mut all = Vec::new();
    for item in value.split(' ') {
        let (radical, residual) = item.split_once('.').ok_or("not radical.residual")?;
        let residual = residual.parse().map_err(|e| format!("residual {residual:?}: {e}"))?;
        let entry = (parse_radical_number(radical)?, residual);
        if !all.contains(&entry) {
            all.push(entry);
        }
    }
    Ok(all)
}

/// `212'` → (212, true). A radical number is 1..=214, with one `'` for the simplified form.
fn parse_radical_number(text: &str) -> Result<RadicalKey> {
    let (number, simplified) = match text.strip_suffix('\'') {
        Some(number) => (number, true),
        None => (text, false),
    };
    match number.parse() {
        Ok(n @ 1..=214) => Ok((n, simplified)),
        _ => Err(format!("radical {text:?} is not 1..=214 with at most one '")),
    }
}

/// kTotalStrokes: one count, or two (`8 9`: the mainland count first, UAX #38); the first.
fn parse_total_strokes(value: &str) -> Result<u8> {
    let first = value.split(' ').next().unwrap_or(value);
    match first.parse() {
        Ok(n @ 1..=u8::MAX) => Ok(n),
        _ => Err("not a stroke count of 1..=255".into()),
    }
}

/// One line of CJKRadicals.txt, with the radical's own stroke count.
struct RadicalRow {
    key: RadicalKey,
    glyph: char,
    strokes: u8,
}

/// The radicals, ordered by (strokes, number, simplified), as the picker shows them.
fn read_radicals(input: &Input, hans: &BTreeMap<u32, Han>) -> Result<Vec<RadicalRow>> {
    let mut rows = Vec::new();
    for (line, text) in input.lines() {
        let fields: Vec<&str> = text.split(';').map(str::trim).collect();
        let [number, _, glyph] = fields[..] else {
            return Err(input.at(line, "not three ;-separated fields"));
        };
        let key = parse_radical_number(number).map_err(|e| input.at(line, e))?;
        let code_point = u32::from_str_radix(glyph, 16).map_err(|e| input.at(line, format!("{glyph:?}: {e}")))?;
        let han = hans.get(&code_point).filter(|h| h.unified.is_none());
        let han = han.ok_or_else(|| {
            input.at(
                line,
                format!("U+{code_point:04X} is not a unified ideograph in {IRG_SOURCES}"),
            )
        })?;
        let glyph = char::from_u32(code_point).ok_or_else(|| input.at(line, "not a character"))?;
        rows.push(RadicalRow {
            key,
            glyph,
            strokes: han.total_strokes,
        });
    }
    rows.sort_by_key(|r| (r.strokes, r.key));
    Ok(rows)
}

/// The order of a syllable's candidates (research note A.3): 通用规范汉字表 characters with a
/// kHanyuPinlu count for this syllable, by count; the table's others, GB 2312 first, by code
/// point; the rest of the URO, those with a count (traditional forms) first; Ext A; the rest.
fn candidate_rank(code_point: u32, han: &Han, syllable: &str) -> (u8, Reverse<u32>, bool, u32) {
    let count = han.count_for(syllable);
    let tier = if han.common {
        if count > 0 { 0 } else { 1 }
    } else if URO.contains(&code_point) {
        2
    } else if EXT_A.contains(&code_point) {
        3
    } else {
        4
    };
    (tier, Reverse(count), tier == 1 && !han.gb2312, code_point)
}

/// The whole index, in the order it is written.
struct Index {
    version: String,
    /// The unified ideographs, by code point.
    hans: BTreeMap<u32, Han>,
    /// (compatibility ideograph, its unified ideograph), by code point.
    compatibility: Vec<(u32, u32)>,
    radicals: Vec<RadicalRow>,
}

impl Index {
    fn build(version: String, mut hans: BTreeMap<u32, Han>, radicals: Vec<RadicalRow>) -> Result<Index> {
        // NFC turns a compatibility ideograph into its unified one: a name holding one could
        // never match the record, so the index offers only unified ideographs.
        let compatibility: Vec<(u32, u32)> = hans.iter().filter_map(|(&c, h)| h.unified.map(|u| (c, u))).collect();
        hans.retain(|_, h| h.unified.is_none());
        if let Some(&(c, u)) = compatibility.iter().find(|(_, u)| !hans.contains_key(u)) {
            return Err(format!(
                "{IRG_SOURCES}: U+{c:04X}'s unified ideograph U+{u:04X} has no kRSUnicode"
            ));
        }
        if let Some(&c) = hans.keys().find(|&&c| c >> CODE_POINT_BITS != 0) {
            return Err(format!(
                "U+{c:04X} is beyond the index's {CODE_POINT_BITS}-bit code points"
            ));
        }
        Ok(Index {
            version,
            hans,
            compatibility,
            radicals,
        })
    }

    fn write(&self, out: &Path) -> Result<()> {
        let version = &self.version;
        let rust = [
            format!("// Generated by build.rs from Unihan {version}. Do not edit.\n\n"),
            format!("pub(crate) const VERSION: &str = {version:?};\n\n"),
            self.write_strokes(out)?,
            self.write_pinyin(out)?,
            self.write_radicals(out)?,
        ];
        self.write_compatibility(out)?;
        write_file(&out.join("tables.rs"), rust.concat().as_bytes())
    }

    /// `strokes.bin`: u8 total strokes per ordinal; RUNS: the runs of consecutive code points.
    fn write_strokes(&self, out: &Path) -> Result<String> {
        let mut runs: Vec<(u32, u32, usize)> = Vec::new();
        for (ordinal, &code_point) in self.hans.keys().enumerate() {
            match runs.last_mut() {
                Some((first, len, _)) if *first + *len == code_point => *len += 1,
                _ => runs.push((code_point, 1, ordinal)),
            }
        }
        let strokes: Vec<u8> = self.hans.values().map(|h| h.total_strokes).collect();
        write_file(&out.join("strokes.bin"), &strokes)?;
        Ok(rust_array(
            "(first code point, count, ordinal of the first): the indexed ideographs.",
            "RUNS: [(u32, u32, u32)",
            runs.iter()
                .map(|(first, len, ordinal)| format!("(0x{first:04X}, {len}, {ordinal})")),
        ))
    }

    /// `pinyin.bin`: per syllable, its candidates in display order, 3 bytes each (code point,
    /// tone set << 18); `readings.bin`: u16 indexes into it, by (code point, preference).
    fn write_pinyin(&self, out: &Path) -> Result<String> {
        let mut by_syllable = BTreeMap::<&str, Vec<(u32, &Reading)>>::new();
        for (&code_point, han) in &self.hans {
            for reading in &han.readings {
                by_syllable
                    .entry(&reading.syllable)
                    .or_default()
                    .push((code_point, reading));
            }
        }
        let mut pinyin = Vec::new();
        let mut syllable_ends = Vec::new();
        // (code point, preference, entry index)
        let mut order = Vec::new();
        for (syllable, mut candidates) in by_syllable {
            candidates.sort_by_key(|(c, _)| candidate_rank(*c, &self.hans[c], syllable));
            for (code_point, reading) in candidates {
                order.push((code_point, reading.preference, pinyin.len() / 3));
                push_u24(&mut pinyin, code_point | u32::from(reading.tones) << CODE_POINT_BITS)?;
            }
            syllable_ends.push((syllable, pinyin.len() / 3));
        }
        order.sort();
        let mut readings = Vec::new();
        for (_, _, entry) in order {
            let entry = u16::try_from(entry).map_err(|_| "more pinyin entries than readings.bin's u16 indexes hold")?;
            readings.extend(entry.to_le_bytes());
        }
        write_file(&out.join("pinyin.bin"), &pinyin)?;
        write_file(&out.join("readings.bin"), &readings)?;
        Ok(rust_array(
            "(syllable, end of its entries in PINYIN), by syllable.",
            "SYLLABLES: [(&str, u32)",
            syllable_ends
                .iter()
                .map(|(syllable, end)| format!("({syllable:?}, {end})")),
        ))
    }

    /// `radicals.bin`: per (radical, residual) bucket, its characters, 3-byte code points,
    /// 通用规范汉字表 first, then by code point; `buckets.bin`: per bucket, the residual (i8) and
    /// the end of its characters (u24), grouped by radical in RADICALS order.
    fn write_radicals(&self, out: &Path) -> Result<String> {
        let mut buckets = BTreeMap::<(RadicalKey, i8), BTreeSet<(bool, u32)>>::new();
        for (&code_point, han) in &self.hans {
            for &(radical, residual) in &han.radical_strokes {
                buckets
                    .entry((radical, residual))
                    .or_default()
                    .insert((!han.common, code_point));
            }
        }
        let listed: BTreeSet<RadicalKey> = self.radicals.iter().map(|r| r.key).collect();
        if let Some(((radical, _), _)) = buckets.iter().find(|((r, _), _)| !listed.contains(r)) {
            return Err(format!(
                "{IRG_SOURCES}: kRSUnicode radical {radical:?} is not in {RADICALS}"
            ));
        }
        let (mut entries, mut table, mut radical_ends) = (Vec::new(), Vec::new(), Vec::new());
        for row in &self.radicals {
            for ((_, residual), chars) in buckets.range((row.key, i8::MIN)..=(row.key, i8::MAX)) {
                for &(_, code_point) in chars {
                    push_u24(&mut entries, code_point)?;
                }
                table.push(*residual as u8);
                push_u24(&mut table, (entries.len() / 3) as u32)?;
            }
            radical_ends.push(table.len() / 4);
        }
        write_file(&out.join("radicals.bin"), &entries)?;
        write_file(&out.join("buckets.bin"), &table)?;
        let radicals = self.radicals.iter().map(
            |RadicalRow {
                 key: (number, simplified),
                 glyph,
                 strokes,
             }| {
                format!(
                    "Radical {{ number: {number}, simplified: {simplified}, glyph: '{glyph}', strokes: {strokes} }}"
                )
            },
        );
        Ok(rust_array(
            "Ordered by (strokes, number, simplified).",
            "RADICALS: [Radical",
            radicals,
        ) + &rust_array(
            "The end of each radical's buckets in BUCKETS, parallel to RADICALS.",
            "RADICAL_BUCKETS: [u16",
            radical_ends.iter().map(usize::to_string),
        ))
    }

    /// `compatibility.bin`: (compatibility ideograph, its unified ideograph), 3 bytes each.
    fn write_compatibility(&self, out: &Path) -> Result<()> {
        let mut table = Vec::new();
        for &(compatibility, unified) in &self.compatibility {
            push_u24(&mut table, compatibility)?;
            push_u24(&mut table, unified)?;
        }
        write_file(&out.join("compatibility.bin"), &table)
    }
}

/// A documented `pub(crate) static` array, one item per line; `head` is `NAME: [TYPE`.
fn rust_array(doc: &str, head: &str, items: impl ExactSizeIterator<Item = String>) -> String {
    let len = items.len();
    let items: String = items.map(|item| format!("    {item},\n")).collect();
    format!("/// {doc}\npub(crate) static {head}; {len}] = [\n{items}];\n\n")
}

fn push_u24(buffer: &mut Vec<u8>, value: u32) -> Result<()> {
    if value >> 24 != 0 {
        return Err(format!("{value:#X} does not fit in 3 bytes"));
    }
    buffer.extend(&value.to_le_bytes()[..3]);
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
