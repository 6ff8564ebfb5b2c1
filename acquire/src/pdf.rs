//! Credential texts out of a PDF, best source first: an embedded file (the authority's PDFs
//! attach the credential), then QR codes in the images of each page, then a QR code drawn as
//! vector shapes. Loaded with lopdf under a decompression limit; lopdf's quiet "successes" on
//! broken files (no pages, a ZIP that contains a PDF) are refused here (docs/design.md §7).

mod content;
mod image;
mod raster;

use crate::gray::Gray;
use crate::{Found, Goal, Limits, Source, Unreadable, qr};
use content::{Matrix, Paint};
use lopdf::{Dictionary, Document, LoadOptions, Object, ObjectId};
use raster::Fill;
use std::collections::HashSet;
use std::panic::catch_unwind;
use std::time::Instant;

/// An attached credential is a few hundred bytes; anything much larger is something else.
const MAX_EMBEDDED_BYTES: usize = 16 * 1024;
/// References followed in a row before giving up (a cycle of references).
const MAX_HOPS: usize = 32;
/// Form XObjects entered per document.
const MAX_FORMS: usize = 256;

/// A loaded document and the lookups the search needs, all bounded.
pub struct Pdf<'d> {
    doc: &'d Document,
}

impl<'d> Pdf<'d> {
    /// `object`, with references followed (at most [`MAX_HOPS`]).
    pub fn resolve<'a>(&'a self, mut object: &'a Object) -> Option<&'a Object> {
        for _ in 0..MAX_HOPS {
            match object {
                Object::Reference(id) => object = self.doc.get_object(*id).ok()?,
                other => return Some(other),
            }
        }
        None
    }

    fn dict<'a>(&'a self, object: &'a Object) -> Option<&'a Dictionary> {
        match self.resolve(object)? {
            Object::Dictionary(d) => Some(d),
            Object::Stream(s) => Some(&s.dict),
            _ => None,
        }
    }

    fn get<'a>(&'a self, dict: &'a Dictionary, key: &[u8]) -> Option<&'a Object> {
        self.resolve(dict.get(key).ok()?)
    }
}

impl std::fmt::Debug for Pdf<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pdf")
    }
}

/// Loads `bytes` as a PDF, refusing what is not one.
pub fn load(bytes: &[u8], limits: &Limits) -> Result<Document, Unreadable> {
    if crate::sniff(bytes) != Some(crate::Kind::Pdf) {
        return Err(Unreadable::new("not a PDF (it does not start with %PDF-)"));
    }
    let options = LoadOptions {
        max_decompressed_size: Some(limits.max_decompressed),
        ..LoadOptions::default()
    };
    let doc = catch_unwind(|| Document::load_mem_with_options(bytes, options))
        .map_err(|_| Unreadable::new("the PDF reader failed on this file"))?
        .map_err(|e| match e {
            lopdf::Error::Decryption(_) | lopdf::Error::InvalidPassword => {
                Unreadable::new("PDF is encrypted with a password")
            }
            other => Unreadable::new(format!("PDF cannot be read: {}", one_line(&other.to_string()))),
        })?;
    if doc.get_pages().is_empty() {
        return Err(Unreadable::new("PDF has no readable pages"));
    }
    Ok(doc)
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Searches the document; see the module documentation for the order.
pub fn search(bytes: &[u8], limits: &Limits, goal: &Goal<'_>, deadline: Instant) -> Result<Vec<Found>, Unreadable> {
    let doc = load(bytes, limits)?;
    let pdf = Pdf { doc: &doc };
    let mut search = Search {
        pdf: &pdf,
        limits,
        goal,
        deadline,
        found: Vec::new(),
        done: false,
        images_seen: HashSet::new(),
        pictures: 0,
        forms: 0,
        skipped: Vec::new(),
    };
    search.embedded_files();
    let pages: Vec<ObjectId> = doc.get_pages().into_values().take(limits.max_pages).collect();
    for page in pages {
        if search.done || Instant::now() >= deadline {
            break;
        }
        search.page(page);
    }
    if search.found.is_empty() && !search.skipped.is_empty() {
        return Err(Unreadable::new(format!(
            "nothing readable in the PDF ({})",
            search.skipped.join("; ")
        )));
    }
    Ok(search.found)
}

/// Reasons kept for the message.
const MAX_SKIPPED: usize = 3;

struct Search<'a, 'd> {
    pdf: &'a Pdf<'d>,
    limits: &'a Limits,
    goal: &'a Goal<'a>,
    deadline: Instant,
    found: Vec<Found>,
    done: bool,
    images_seen: HashSet<ObjectId>,
    pictures: usize,
    /// Form XObjects entered so far: a form drawn many times, or drawing itself, is bounded.
    forms: usize,
    /// What was skipped and why, for the reason when nothing is found.
    skipped: Vec<String>,
}

impl Search<'_, '_> {
    fn skip(&mut self, what: impl std::fmt::Display) {
        let what = one_line(&what.to_string());
        if self.skipped.len() < MAX_SKIPPED && !self.skipped.contains(&what) {
            self.skipped.push(what);
        }
    }

    fn offer(&mut self, text: String, source: Source) {
        if self.found.iter().any(|f| f.text == text) {
            return;
        }
        if let Goal::Credential(accept) = self.goal
            && accept(&text)
        {
            self.done = true;
        }
        self.found.push(Found { text, source });
    }

    fn scan(&mut self, picture: Gray, source: Source) {
        if self.pictures >= self.limits.max_pictures {
            return;
        }
        self.pictures += 1;
        let picture = crate::picture::fit(picture);
        let budget = self.deadline.saturating_duration_since(Instant::now());
        let scan = qr::scan(&picture, budget, &|t| self.goal.accepts(t));
        for text in scan.texts {
            self.offer(text, source);
        }
    }

    /// Files attached through the document's name tree or a page's file-attachment annotations.
    fn embedded_files(&mut self) {
        let pdf = self.pdf;
        let mut specs = Vec::new();
        if let Ok(catalog) = pdf.doc.catalog()
            && let Some(names) = pdf.get(catalog, b"Names").and_then(|o| pdf.dict(o))
            && let Some(tree) = pdf.get(names, b"EmbeddedFiles")
        {
            self.name_tree(tree, 0, &mut specs);
        }
        for page in pdf.doc.get_pages().into_values().take(self.limits.max_pages) {
            let Some(page) = pdf.doc.get_object(page).ok().and_then(|o| pdf.dict(o)) else {
                continue;
            };
            let Some(Object::Array(annots)) = pdf.get(page, b"Annots") else {
                continue;
            };
            for annot in annots.iter().take(1000).filter_map(|a| pdf.dict(a)) {
                if pdf.get(annot, b"Subtype").and_then(|o| o.as_name().ok()) == Some(b"FileAttachment")
                    && let Some(spec) = pdf.get(annot, b"FS")
                {
                    specs.push(spec);
                }
            }
        }
        for spec in specs {
            if self.done {
                return;
            }
            if let Some(text) = self.embedded_text(spec) {
                self.offer(text, Source::PdfEmbedded);
            }
        }
    }

    fn name_tree<'o>(&self, node: &'o Object, depth: usize, out: &mut Vec<&'o Object>)
    where
        Self: 'o,
    {
        let pdf = self.pdf;
        if depth > self.limits.max_depth || out.len() > 1000 {
            return;
        }
        let Some(node) = pdf.dict(node) else { return };
        if let Some(Object::Array(pairs)) = pdf.get(node, b"Names") {
            out.extend(pairs.iter().skip(1).step_by(2));
        }
        if let Some(Object::Array(kids)) = pdf.get(node, b"Kids") {
            for kid in kids {
                self.name_tree(kid, depth + 1, out);
            }
        }
    }

    /// The attached file's content, when it is a short UTF-8 text.
    fn embedded_text(&self, spec: &Object) -> Option<String> {
        let pdf = self.pdf;
        let spec = pdf.dict(spec)?;
        let ef = pdf.get(spec, b"EF").and_then(|o| pdf.dict(o))?;
        let stream = pdf.get(ef, b"F").or_else(|| pdf.get(ef, b"UF"))?.as_stream().ok()?;
        let bytes = stream.decompressed_content_with_limit(MAX_EMBEDDED_BYTES).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let text = text.trim();
        (!text.is_empty() && !text.contains('\n')).then(|| text.to_owned())
    }

    fn page(&mut self, page_id: ObjectId) {
        let pdf = self.pdf;
        let Ok(content) = pdf
            .doc
            .get_page_content_with_limit(page_id, self.limits.max_decompressed)
        else {
            return;
        };
        let resources = page_resources(pdf, page_id);
        let mut fills = Vec::new();
        self.content(&content, Matrix::IDENTITY, &resources, 0, &mut fills);
        if self.done || Instant::now() >= self.deadline {
            return;
        }
        if let Some(picture) = raster::rasterise(&fills) {
            self.scan(picture, Source::PdfVector);
        }
    }

    /// Interprets one content stream: images are scanned as they are met, forms are entered,
    /// fills are collected for the vector pass.
    fn content(&mut self, content: &[u8], ctm: Matrix, resources: &[&Dictionary], depth: usize, fills: &mut Vec<Fill>) {
        let mut draws = Vec::new();
        let result = content::interpret(content, ctm, self.limits.max_operations, &mut |paint| match paint {
            Paint::Draw { name, ctm } => draws.push((name, ctm)),
            fill => fills.extend(Fill::from_paint(fill)),
        });
        // A content stream that breaks a limit still had its earlier paints.
        if let Err(e) = result {
            self.skip(e);
        }
        let pdf = self.pdf;
        for (name, ctm) in draws {
            if self.done || Instant::now() >= self.deadline {
                return;
            }
            let Some((id, stream)) = xobject(pdf, resources, &name) else {
                continue;
            };
            match pdf.get(&stream.dict, b"Subtype").and_then(|o| o.as_name().ok()) {
                Some(b"Image") => {
                    if id.is_some_and(|id| !self.images_seen.insert(id)) {
                        continue;
                    }
                    match image::to_gray(pdf, stream, self.limits) {
                        Ok(picture) => self.scan(picture, Source::PdfImage),
                        Err(e) => self.skip(e),
                    }
                }
                Some(b"Form") if depth < self.limits.max_depth && self.forms < MAX_FORMS => {
                    self.forms += 1;
                    let inner = match stream.decompressed_content_with_limit(self.limits.max_decompressed) {
                        Ok(inner) => inner,
                        Err(e) => {
                            self.skip(format_args!("form content: {e}"));
                            continue;
                        }
                    };
                    let matrix = form_matrix(pdf, &stream.dict).then(&ctm);
                    let mut inner_resources: Vec<&Dictionary> = Vec::new();
                    if let Some(own) = pdf.get(&stream.dict, b"Resources").and_then(|o| pdf.dict(o)) {
                        inner_resources.push(own);
                    }
                    inner_resources.extend(resources.iter().copied());
                    self.content(&inner, matrix, &inner_resources, depth + 1, fills);
                }
                _ => {}
            }
        }
    }
}

fn page_resources<'a>(pdf: &'a Pdf<'_>, page_id: ObjectId) -> Vec<&'a Dictionary> {
    let Ok((direct, ids)) = pdf.doc.get_page_resources(page_id) else {
        return Vec::new();
    };
    let mut out: Vec<&Dictionary> = direct.into_iter().collect();
    out.extend(ids.into_iter().filter_map(|id| pdf.doc.get_dictionary(id).ok()));
    out
}

fn xobject<'a>(
    pdf: &'a Pdf<'_>,
    resources: &[&'a Dictionary],
    name: &[u8],
) -> Option<(Option<ObjectId>, &'a lopdf::Stream)> {
    resources.iter().find_map(|res| {
        let xobjects = pdf.get(res, b"XObject").and_then(|o| pdf.dict(o))?;
        let entry = xobjects.get(name).ok()?;
        let id = entry.as_reference().ok();
        Some((id, pdf.resolve(entry)?.as_stream().ok()?))
    })
}

fn form_matrix(pdf: &Pdf<'_>, dict: &Dictionary) -> Matrix {
    let Some(Object::Array(m)) = pdf.get(dict, b"Matrix") else {
        return Matrix::IDENTITY;
    };
    let v: Vec<f64> = m.iter().filter_map(|o| o.as_float().ok()).map(f64::from).collect();
    match v.as_slice() {
        [a, b, c, d, e, f] => Matrix([*a, *b, *c, *d, *e, *f]),
        _ => Matrix::IDENTITY,
    }
}
