//! The manual lookup used as staff use it, on a demo world (issue 8): no QR code to read, so
//! the management number is typed on the digit pad and the holder's name on the on-screen
//! keyboard — by pinyin, by radical and strokes, by code point — then looked up; the verdict
//! is the result screen's. Every case of the world's `lookups.json` gets its verdict, and
//! nothing of a query outlives its screen. One test, because the testing backend's event loop
//! exists once per process.

mod common;

use certkiosk::App;
use certkiosk::generated::{Api, Screen, Source, Verdict};
use certkiosk_verify::{Lang, Warning, i18n};
use common::*;
use slint::{ComponentHandle, Model};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(15);

fn open_lookup(app: &App) {
    by_id(app, "scan.lookup").invoke_accessible_default_action();
    assert_eq!(screen(app), Screen::Lookup);
}

fn field(app: &App, id: &str) -> String {
    by_id(app, id).accessible_value().unwrap_or_default().to_string()
}

fn tab(app: &App, name: &str) {
    by_id(app, &format!("lookup.tab-{name}")).invoke_accessible_default_action();
}

fn type_number(app: &App, number: &str) {
    tab(app, "number");
    for digit in number.chars() {
        press(app, "lookup.digit", &digit.to_string());
    }
}

fn candidates(app: &App) -> Vec<String> {
    let model = app.global::<Api>().get_lookup().candidates;
    model.iter().map(|k| k.label.to_string()).collect()
}

/// Turns the pages of candidates until `c` is on one, and picks it.
fn pick(app: &App, c: char) {
    let c = c.to_string();
    while !candidates(app).contains(&c) {
        press(app, "lookup.next", next_label(app));
    }
    press(app, "lookup.candidate", &c);
}

fn next_label(app: &App) -> &'static str {
    if app.global::<Api>().get_language() == "en" {
        "Next"
    } else {
        "下一页"
    }
}

/// Types a syllable's letters on the QWERTY keys and picks `c` from its candidates.
fn by_pinyin(app: &App, letters: &str, c: char) {
    tab(app, "pinyin");
    for letter in letters.chars() {
        press(app, "lookup.letter", &letter.to_string());
    }
    pick(app, c);
}

/// Keys a code point in on the hex pad and adds its character.
fn by_code(app: &App, c: char) {
    tab(app, "code");
    for digit in format!("{:X}", u32::from(c)).chars() {
        press(app, "lookup.hex", &digit.to_string());
    }
    by_id(app, "lookup.code-add").invoke_accessible_default_action();
}

fn look_up(app: &App) {
    let submit = by_id(app, "lookup.submit");
    assert_eq!(submit.accessible_enabled(), Some(true), "all three fields are filled");
    submit.invoke_accessible_default_action();
    assert!(
        pump_until(app, WAIT, |a| screen(a) == Screen::Result),
        "no result for the lookup"
    );
}

fn verdict(name: &str) -> Verdict {
    match name {
        "valid" => Verdict::Valid,
        "revoked" => Verdict::Revoked,
        "not_found" => Verdict::NotFound,
        "status_unavailable" => Verdict::StatusUnavailable,
        other => panic!("a lookup does not give {other}"),
    }
}

fn seconds(n: u64) {
    for _ in 0..n {
        i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(1));
    }
}

#[test]
fn certificates_are_looked_up_by_number_and_name() {
    init_platform();
    let world = World::new();
    let kiosk = world.kiosk(no_camera());
    let app = kiosk.app();
    let case_of = |name: &str| {
        world
            .lookups
            .iter()
            .find(|l| l.name == name && l.verdict != "not_found")
            .unwrap_or_else(|| panic!("{name} is not in lookups.json"))
    };
    let number_of = |name: &str| case_of(name).number.clone();
    let id_of = |name: &str| case_of(name).id_number.clone();
    let result = || app.global::<Api>().get_result();

    // 1. 王䶮: 王 by "wang", the rare 䶮 by "yan" in the third tone. Valid, but a lookup sees
    //    no annotation and the certificate (issued 2023) needs one: never plain green.
    open_lookup(app);
    assert!(
        !scanner_types(app, "123"),
        "the handheld scanner does not type into the form"
    );
    assert_eq!(field(app, "lookup.number"), "");
    type_number(app, &number_of("王䶮"));
    assert_eq!(field(app, "lookup.number"), number_of("王䶮"));
    by_pinyin(app, "wang", '王');
    for letter in ["y", "a", "n"] {
        press(app, "lookup.letter", letter);
    }
    press(app, "lookup.tone", "yǎn");
    assert!(
        candidates(app).contains(&"䶮".to_owned()),
        "yǎn brings 䶮 to the first page: {:?}",
        candidates(app)
    );
    pick(app, '䶮');
    assert_eq!(field(app, "lookup.name"), "王䶮");
    // The ID number, its last character mistyped: said at once, and nothing is looked up.
    let id = id_of("王䶮");
    let wrong = format!("{}{}", &id[..17], if id.ends_with('0') { '1' } else { '0' });
    type_id_number(app, &wrong);
    assert_eq!(field(app, "lookup.id-number"), wrong);
    let says = format!(
        "身份证号码的最后一位应为 {}：有一位输错了，请对照身份证核对。",
        &id[17..]
    );
    assert!(shows(app, &says), "the check digit is named");
    assert_eq!(by_id(app, "lookup.submit").accessible_enabled(), Some(false));
    by_id(app, "lookup.erase").invoke_accessible_default_action();
    type_id_number(app, &id[17..]);
    look_up(app);
    assert!(
        shows(app, "有效，但请注意"),
        "valid, with a caution: the annotation was not checked"
    );
    assert!(shows(
        app,
        i18n::explanation_manual(certkiosk_verify::VerdictCode::Valid, Lang::Zh)
    ));
    assert!(
        shows(app, i18n::warning(Warning::AnnotationNotChecked, Lang::Zh)),
        "the annotation cannot be checked"
    );
    assert!(shows(app, "王䶮") && shows(app, "—"), "the holder, and no ID number");
    assert_eq!(result().source, Source::Manual);
    click(app, "下一位");

    // 2. 李𠇔: 𠇔 has no reading; radical 人 (two strokes) and four strokes more find it.
    open_lookup(app);
    type_number(app, &number_of("李𠇔"));
    by_pinyin(app, "li", '李');
    tab(app, "radical");
    press(app, "lookup.group", "2");
    press(app, "lookup.radical", "人");
    press(app, "lookup.residual", "4");
    pick(app, '\u{201D4}');
    assert_eq!(field(app, "lookup.name"), "李𠇔");
    type_id_number(app, &id_of("李𠇔"));
    look_up(app);
    assert_eq!(result().verdict, Verdict::Valid);
    assert!(!result().annotation_not_checked, "issued in 2019: no annotation needed");
    click(app, "下一位");

    // 3. The same 𠇔 by its code point; a compatibility ideograph is refused with the reason.
    open_lookup(app);
    type_number(app, &number_of("李𠇔"));
    by_pinyin(app, "li", '李');
    tab(app, "code");
    for digit in ["F", "9", "0", "0"] {
        press(app, "lookup.hex", digit);
    }
    assert!(shows(
        app,
        "U+F900 是兼容表意文字，NFC 规范化会改变它；请改用统一表意文字 U+8C48 豈"
    ));
    by_id(app, "lookup.clear").invoke_accessible_default_action();
    assert_eq!(field(app, "lookup.name"), "", "clear empties the name");
    by_pinyin(app, "li", '李');
    tab(app, "code");
    for digit in ["2", "0", "1", "D", "4"] {
        press(app, "lookup.hex", digit);
    }
    assert_eq!(
        by_id(app, "lookup.code-char").accessible_label().as_deref(),
        Some("𠇔"),
        "the character is shown before it is added"
    );
    by_id(app, "lookup.code-add").invoke_accessible_default_action();
    assert_eq!(field(app, "lookup.name"), "李𠇔");
    type_id_number(app, &id_of("李𠇔"));
    look_up(app);
    assert_eq!(result().verdict, Verdict::Valid);
    click(app, "下一位");

    // 4. A name that is not the holder's: not found, with what the data covers.
    open_lookup(app);
    type_number(app, &number_of("王䶮"));
    by_pinyin(app, "wang", '王');
    by_pinyin(app, "yan", '严');
    type_id_number(app, &id_of("王䶮"));
    look_up(app);
    assert!(shows(app, "未查到"));
    assert!(shows(app, "证书查询验证范围"), "the scope's heading");
    assert!(shows(app, "经济专业技术资格：2017年起"), "a line of the scope");
    assert!(shows(app, i18n::scope_still_loading(Lang::Zh)));
    click(app, "下一位");

    // 5. A minority name, its middle dot from the dot key.
    open_lookup(app);
    let minority = world
        .lookups
        .iter()
        .find(|l| l.name.contains('•'))
        .expect("a name with a middle dot");
    type_number(app, &minority.number);
    for (letters, c) in [("a", '阿'), ("yi", '依'), ("gu", '古'), ("li", '丽')] {
        by_pinyin(app, letters, c);
    }
    by_id(app, "lookup.dot").invoke_accessible_default_action();
    for (letters, c) in [("mai", '买'), ("mai", '买'), ("ti", '提')] {
        by_pinyin(app, letters, c);
    }
    assert_eq!(field(app, "lookup.name"), "阿依古丽·买买提");
    type_id_number(app, &minority.id_number);
    look_up(app);
    assert_eq!(result().verdict, Verdict::Valid, "the dot typed is the dot recorded");
    click(app, "下一位");

    // 6. Every lookup of the world gets its verdict: each character by its code point, the
    //    middle dot by its key.
    for case in &world.lookups {
        open_lookup(app);
        type_number(app, &case.number);
        for c in case.name.chars() {
            if matches!(c, '·' | '•' | '・' | '．') {
                by_id(app, "lookup.dot").invoke_accessible_default_action();
            } else {
                by_code(app, c);
            }
        }
        type_id_number(app, &case.id_number);
        look_up(app);
        assert_eq!(
            result().verdict,
            verdict(&case.verdict),
            "{} {}: {}",
            case.number,
            case.name,
            case.case
        );
        click(app, "下一位");
    }

    // The audit log has every lookup, and neither a number nor a name in the clear.
    let records = certkiosk_appliance::audit::verify_log(&world.audit_dir()).expect("audit chain");
    assert_eq!(records.records, 5 + world.lookups.len() as u64);
    for file in std::fs::read_dir(world.audit_dir()).expect("audit dir").flatten() {
        let text = std::fs::read_to_string(file.path()).unwrap_or_default();
        for case in &world.lookups {
            assert!(
                !text.contains(&case.number) && !text.contains(&case.name) && !text.contains(&case.id_number),
                "{} holds {} {}",
                file.path().display(),
                case.number,
                case.name
            );
        }
    }

    // 7. Nothing of a query outlives its screen. Left by "Back": empty when opened again.
    open_lookup(app);
    type_number(app, "2023");
    by_pinyin(app, "wang", '王');
    by_id(app, "lookup.back").invoke_accessible_default_action();
    assert_eq!(screen(app), Screen::Scan);
    assert_eq!(
        app.global::<Api>().get_lookup().name,
        "",
        "the screen's copy is emptied"
    );
    open_lookup(app);
    assert_eq!(
        (field(app, "lookup.number"), field(app, "lookup.name")),
        (String::new(), String::new())
    );

    // 8. Left alone: every key restarts the idle countdown; after the timeout (30 s) the
    //    screen is gone and, opened again, empty.
    type_number(app, "2023");
    seconds(20);
    by_pinyin(app, "wang", '王');
    seconds(29);
    assert_eq!(screen(app), Screen::Lookup, "a key restarted the countdown");
    assert_eq!(field(app, "lookup.name"), "王");
    seconds(1);
    assert_eq!(screen(app), Screen::Scan, "timed out");
    let view = app.global::<Api>().get_lookup();
    assert_eq!((view.number.as_str(), view.name.as_str()), ("", ""));
    open_lookup(app);
    assert_eq!(
        (field(app, "lookup.number"), field(app, "lookup.name")),
        (String::new(), String::new())
    );

    // 9. A lookup's result clears like any result, and the lookup screen is in English too.
    app.global::<Api>().invoke_choose_language("en".into());
    type_number(app, &number_of("陈𬱖"));
    by_code(app, '陈');
    by_code(app, '\u{2CC56}');
    type_id_number(app, &id_of("陈𬱖"));
    look_up(app);
    assert!(shows(app, "Revoked"));
    seconds(30);
    assert_eq!(screen(app), Screen::Scan);
    assert_eq!(result().holder, "", "the last holder is not kept");
}
