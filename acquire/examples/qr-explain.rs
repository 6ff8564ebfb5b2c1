//! `cargo run --release -p certkiosk-acquire --example qr-explain -- PICTURE…`: what each try of
//! the QR pipeline finds in each picture (PNG or JPEG), for tuning the pipeline.

fn main() {
    if let Ok(p) = std::env::var("DUMP") {
        dump(&p);
    }
    for path in std::env::args().skip(1) {
        println!("{path}");
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                println!("  cannot read: {e}");
                continue;
            }
        };
        match acquire::picture::decode(&bytes, &acquire::Limits::default()) {
            Ok(picture) => {
                for line in acquire::qr::explain(&acquire::picture::fit(picture)) {
                    println!("  {line}");
                }
            }
            Err(e) => println!("  {e}"),
        }
    }
}

#[allow(dead_code)]
fn dump(path: &str) {
    let bytes = std::fs::read(path).unwrap();
    let g = acquire::picture::decode(&bytes, &acquire::Limits::default()).unwrap();
    let b = g.local_threshold(g.width().min(g.height()) / 8, 8);
    let px: Vec<u8> = b.dark.iter().map(|d| if *d { 0 } else { 255 }).collect();
    image::save_buffer(
        "/tmp/bits.png",
        &px,
        g.width() as u32,
        g.height() as u32,
        image::ExtendedColorType::L8,
    )
    .unwrap();
}
