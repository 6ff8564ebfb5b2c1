//! Compiles the .slint files into Rust, with the translations bundled into the binary.

fn main() {
    // No implicit context (Slint's default is the component's name): a message means the same
    // wherever it appears; an explicit `@tr("context" => …)` separates the few that do not.
    let config = slint_build::CompilerConfiguration::new()
        .with_bundled_translations("lang")
        .with_default_translation_context(slint_build::DefaultTranslationContext::None)
        // The tests find elements by accessible label and id, which needs the element tree's
        // debug info; release builds (the appliance's) go without.
        .with_debug_info(std::env::var("PROFILE").as_deref() == Ok("debug"));
    if let Err(e) = slint_build::compile_with_config("ui/app.slint", config) {
        eprintln!("slint: {e}");
        std::process::exit(1);
    }
}
