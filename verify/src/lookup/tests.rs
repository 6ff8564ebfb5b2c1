use super::*;

/// GB 11643's example ID number, masked 110***********002X.
const ID: &str = "11010519491231002X";

#[test]
fn a_query_keeps_the_name_as_typed_except_for_middle_dots_and_surrounding_spaces() {
    let q = ManualQuery::new(" 2023030100000011 ", " 阿依古丽•买买提 ", " 11010519491231002x ").expect("query");
    assert_eq!(q.management_number, "2023030100000011");
    assert_eq!(q.name, "阿依古丽·买买提");
    assert_eq!(q.masked_id, "110***********002X", "only the masked form is kept");
    // Rare characters and compatibility ideographs pass through untouched (no NFC).
    for name in ["王䶮", "李𠇔", "刘𰻝𰻝", "\u{FA10}"] {
        assert_eq!(ManualQuery::new("1", name, ID).expect("query").name, name);
    }
}

#[test]
fn a_query_that_cannot_be_one_says_why_in_one_line() {
    for (number, name, id, why) in [
        ("", "王䶮", ID, "management number"),
        ("   ", "王䶮", ID, "management number"),
        (&"9".repeat(65), "王䶮", ID, "management number"),
        ("20\n23", "王䶮", ID, "management number"),
        ("2023", "", ID, "1 to 50"),
        ("2023", "  ", ID, "1 to 50"),
        ("2023", &"䶮".repeat(51), ID, "1 to 50"),
        ("2023", "王\u{7}䶮", ID, "1 to 50"),
        ("2023", "王䶮", "110105194912310021", "should be X"),
        ("2023", "王䶮", "1101051949123100", "18 characters"),
        ("2023", "王䶮", "", "18 characters"),
    ] {
        let err = ManualQuery::new(number, name, id).expect_err(name).to_string();
        assert!(
            err.contains(why) && !err.contains('\n'),
            "{number:?} {name:?} {id:?}: {err}"
        );
    }
    assert!(ManualQuery::new("2023", &"䶮".repeat(50), ID).is_ok());
}
