//! The PDF picker: PDFs on removable media and in the one configured folder, nowhere else.

use super::State;
use crate::generated::{Api, App, PdfFile, Screen};
use crate::verifier::Job;
use certkiosk_appliance::config::Config;
use slint::{ComponentHandle, ModelRc, VecModel};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Most PDFs listed on the picker.
const MAX_PDFS: usize = 200;

pub(super) fn connect(app: &App, state: &Rc<State>) {
    let api = app.global::<Api>();
    let s = state.clone();
    api.on_open_picker(move || {
        let Some(app) = s.app.upgrade() else { return };
        let places = pdf_places(&s.config);
        let files = list_pdfs(&places, MAX_PDFS);
        let model: Vec<PdfFile> = files
            .iter()
            .map(|(path, place)| PdfFile {
                name: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
                    .into(),
                place: where_in(path, place).into(),
            })
            .collect();
        *s.pdfs.borrow_mut() = files.into_iter().map(|(p, _)| p).collect();
        let api = app.global::<Api>();
        api.set_pdf_files(ModelRc::new(VecModel::from(model)));
        s.go(&app, Screen::Picker);
    });
    let s = state.clone();
    api.on_pick_pdf(move |index| {
        let Some(app) = s.app.upgrade() else { return };
        let path = usize::try_from(index)
            .ok()
            .and_then(|i| s.pdfs.borrow().get(i).cloned());
        s.go(&app, Screen::Scan);
        if let Some(path) = path {
            s.submit(&app, Job::File(path));
        }
    });
    let s = state.clone();
    api.on_close_picker(move || {
        if let Some(app) = s.app.upgrade() {
            s.go(&app, Screen::Scan);
        }
    });
}

/// Where a listed file is, as a person recognises it: its folder below the place (a stick's
/// mount point shows as its name), or the place's own name for a file right in it.
fn where_in(file: &Path, place: &Path) -> String {
    let dir = file.parent().unwrap_or(place);
    match dir.strip_prefix(place) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
        _ => place
            .file_name()
            .map_or_else(|| place.display().to_string(), |n| n.to_string_lossy().into_owned()),
    }
}

/// Where PDFs may be opened from: removable media (`run.media_dirs`) and `kiosk.pdf_dir`.
fn pdf_places(config: &Config) -> Vec<PathBuf> {
    let mut places = config.run.media_dirs.clone();
    places.extend(config.kiosk.pdf_dir.clone());
    places
}

/// PDFs under `places` (three levels deep, as a stick's mount point sits under /media/USER),
/// place by place in the order given (removable media before the configured folder: a stick
/// just plugged in is what staff look for), by name within a place as a person reads a list
/// (case aside), each with the place it was found under.
pub fn list_pdfs(places: &[PathBuf], max: usize) -> Vec<(PathBuf, PathBuf)> {
    fn walk(dir: &Path, place: &Path, depth: u32, out: &mut Vec<(String, PathBuf, PathBuf)>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten().take(10_000) {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() && depth > 0 {
                walk(&path, place, depth - 1, out);
            } else if kind.is_file() && path.extension().is_some_and(|e| e.eq_ignore_ascii_case("pdf")) {
                let name = entry.file_name().to_string_lossy().to_lowercase();
                out.push((name, path, place.to_owned()));
            }
        }
    }
    let mut listed = Vec::new();
    for place in places {
        let mut found = Vec::new();
        walk(place, place, 3, &mut found);
        found.sort();
        listed.extend(found.into_iter().map(|(_, p, place)| (p, place)));
    }
    listed.truncate(max);
    listed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_named_as_people_know_them() {
        let media = Path::new("/media");
        assert_eq!(
            where_in(Path::new("/media/kiosk/STICK/certs/a.pdf"), media),
            "kiosk/STICK/certs"
        );
        assert_eq!(
            where_in(Path::new("/srv/certificates/a.pdf"), Path::new("/srv/certificates")),
            "certificates"
        );
    }

    #[test]
    fn pdfs_are_listed_from_the_places_only_by_name() {
        let d = tempfile::tempdir().expect("tempdir");
        let stick = d.path().join("media/user/STICK");
        std::fs::create_dir_all(stick.join("certs")).expect("mkdir");
        std::fs::write(stick.join("certs/a.pdf"), b"%PDF-").expect("write");
        std::fs::write(stick.join("notes.txt"), b"x").expect("write");
        std::fs::write(d.path().join("elsewhere.pdf"), b"%PDF-").expect("write");
        std::fs::write(stick.join("B.PDF"), b"%PDF-").expect("write");
        std::fs::create_dir_all(d.path().join("folder")).expect("mkdir");
        std::fs::write(d.path().join("folder/0.pdf"), b"%PDF-").expect("write");
        let listed = list_pdfs(&[d.path().join("media"), d.path().join("folder")], 10);
        let names: Vec<_> = listed
            .iter()
            .map(|(p, _)| p.file_name().map(|n| n.to_owned()))
            .collect();
        assert_eq!(
            names,
            [Some("a.pdf".into()), Some("B.PDF".into()), Some("0.pdf".into())]
        );
    }
}
