//! `cargo run --release -p certkiosk-acquire --example qr-explain -- PICTURE…`: what each try of
//! the QR pipeline finds in each picture (PNG or JPEG), for tuning the pipeline.

fn main() {
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
