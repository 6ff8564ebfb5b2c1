use super::*;

#[test]
fn a_query_keeps_the_name_as_typed_except_for_middle_dots_and_surrounding_spaces() {
    let q = ManualQuery::new(" 2023030100000011 ", " 阿依古丽•买买提 ").expect("query");
    assert_eq!(q.management_number, "2023030100000011");
    assert_eq!(q.name, "阿依古丽·买买提");
    // Rare characters and compatibility ideographs pass through untouched (no NFC).
    for name in ["王䶮", "李𠇔", "刘𰻝𰻝", "\u{FA10}"] {
        assert_eq!(ManualQuery::new("1", name).expect("query").name, name);
    }
}

#[test]
fn a_query_that_cannot_be_one_says_why_in_one_line() {
    for (number, name, why) in [
        ("", "王䶮", "management number"),
        ("   ", "王䶮", "management number"),
        (&"9".repeat(65), "王䶮", "management number"),
        ("20\n23", "王䶮", "management number"),
        ("2023", "", "1 to 50"),
        ("2023", "  ", "1 to 50"),
        ("2023", &"䶮".repeat(51), "1 to 50"),
        ("2023", "王\u{7}䶮", "1 to 50"),
    ] {
        let err = ManualQuery::new(number, name).expect_err(name);
        assert!(err.contains(why) && !err.contains('\n'), "{number:?} {name:?}: {err}");
    }
    assert!(ManualQuery::new("2023", &"䶮".repeat(50)).is_ok());
}
