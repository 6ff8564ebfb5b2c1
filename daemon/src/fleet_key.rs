//! `certd fleet-key`: this appliance's fleet key pair (`certkiosk_formats::fleet`), made once at
//! install; its public half is what the authority enrolls so that the appliance can open the
//! sealed targets (the lookup index, revocations, cancellations).

use crate::exit;
use certkiosk_formats::escape::line;
use certkiosk_formats::fleet::ApplianceKey;
use certkiosk_sync::repo::read_fleet_key;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Print the public key of the key at `path` on stdout; with `init`, make the key first when
/// there is none (an existing key is never replaced: the authority enrolled it).
pub fn fleet_key(path: &Path, init: bool) -> u8 {
    let shown = path.display().to_string();
    let shown = line(&shown);
    let key = match read_fleet_key(path) {
        Ok(Some(k)) => k,
        Ok(None) if init => match make(path) {
            Ok(k) => {
                eprintln!("certd: made the fleet key {shown}; have the authority enroll it:");
                eprintln!("certd:   certsync enroll --name <this kiosk> --key {}", k.public_hex());
                k
            }
            Err(e) => {
                eprintln!("certd: cannot make the fleet key {shown}: {}", line(&e.to_string()));
                return exit::INPUT;
            }
        },
        Ok(None) => {
            eprintln!("certd: no fleet key at {shown}: `certd fleet-key --init` makes one");
            return exit::INPUT;
        }
        Err(e) => {
            eprintln!("certd: fleet key {shown}: {}", line(&e));
            return exit::INPUT;
        }
    };
    println!("{}", key.public_hex());
    exit::OK
}

/// A new key, written to a file that did not exist, readable by its owner only (the package
/// then gives it to certd's user: 0400 certkiosk:root), synced with its directory.
fn make(path: &Path) -> std::io::Result<ApplianceKey> {
    let key = ApplianceKey::generate();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    let written = f.write_all(key.to_file_text().as_bytes()).and_then(|()| f.sync_all());
    if let Err(e) = written {
        let _ = std::fs::remove_file(path);
        return Err(e);
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(key)
}
