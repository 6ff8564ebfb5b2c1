//! The rules on their own: every boundary, with no authority, database or key behind them.

use super::*;
use crate::authority::IssueRequest;
use crate::credential::Level;
use jiff::civil::date;

const TODAY: Date = date(2026, 3, 10);

fn request() -> IssueRequest {
    IssueRequest {
        qualification: "0301".into(),
        holder_name: "王䶮".into(),
        masked_id: "110***********123X".into(),
        level: Level::Intermediate,
        specialty: None,
        certificate_number: None,
        approved_on: date(2023, 4, 11),
        ecert_issued_on: date(2023, 6, 10),
    }
}

fn field_of(r: Result) -> Option<&'static str> {
    match r {
        Err(AuthorityError::Invalid { field, .. }) => Some(field),
        Ok(()) => None,
        Err(e) => panic!("unexpected refusal: {e}"),
    }
}

#[test]
fn a_name_that_could_read_as_another_is_refused_naming_the_character() {
    for (name, said) in [
        ("王\u{202E}伟明", "character 2 (U+202E)"),
        ("张三\u{200B}", "character 3 (U+200B)"),
        ("张三\nWATCHDOG=1", "character 3 (U+000A)"),
        ("李\u{1B}[8m四", "character 2 (U+001B)"),
    ] {
        let mut r = request();
        r.holder_name = name.into();
        let err = check_issue(&r, TODAY).expect_err(name);
        assert!(
            matches!(
                err,
                AuthorityError::Invalid {
                    field: "holder name",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains(said), "{name:?}: {err}");
    }
    for name in ["刘𰻝𰻝", "阿依古丽·买买提", "ئابدۇرېھىم", "བཀྲ་ཤིས་", "Zhang San"]
    {
        let mut r = request();
        r.holder_name = name.into();
        assert!(check_issue(&r, TODAY).is_ok(), "{name}");
    }
}

#[test]
fn a_request_is_refused_for_the_field_it_gets_wrong() {
    assert_eq!(field_of(check_issue(&request(), TODAY)), None);
    let with = |f: &dyn Fn(&mut IssueRequest)| {
        let mut r = request();
        f(&mut r);
        field_of(check_issue(&r, TODAY))
    };
    assert_eq!(with(&|r| r.holder_name = "䶮".repeat(50)), None);
    assert_eq!(with(&|r| r.holder_name = "䶮".repeat(51)), Some("holder name"));
    assert_eq!(with(&|r| r.holder_name = " \t".into()), Some("holder name"));
    assert_eq!(with(&|r| r.masked_id = String::new()), Some("masked ID"));
    assert_eq!(with(&|r| r.masked_id = "110***\u{202E}X".into()), Some("masked ID"));
    assert_eq!(with(&|r| r.specialty = Some("建筑\u{200B}".into())), Some("specialty"));
    assert_eq!(with(&|r| r.masked_id = "x".repeat(65)), Some("masked ID"));
    assert_eq!(with(&|r| r.specialty = Some(" ".into())), Some("specialty"));
    assert_eq!(
        with(&|r| r.certificate_number = Some("9".repeat(65))),
        Some("certificate number")
    );
    assert_eq!(
        with(&|r| r.ecert_issued_on = date(2023, 4, 10)),
        Some("e-certificate issue date")
    );
    assert_eq!(with(&|r| r.ecert_issued_on = TODAY), None);
    assert_eq!(
        with(&|r| r.ecert_issued_on = date(2026, 3, 11)),
        Some("e-certificate issue date")
    );
}

#[test]
fn management_numbers_are_year_code_and_eight_digit_serial() {
    assert_eq!(management_number(date(2023, 4, 11), "0301", 42), "2023030100000042");
}

fn annotatable() -> Annotatable<'static> {
    Annotatable {
        management_number: "2023030100000042",
        revoked: false,
        seal_kind: SealKind::Ministry,
        ecert_issued_on: date(2023, 6, 10),
        valid_in_window: 0,
    }
}

#[test]
fn an_annotation_lasts_at_most_90_days_counted_inclusively_from_today_on() {
    let check = |from, until| check_annotation(&annotatable(), from, until, TODAY);
    check(TODAY, date(2026, 6, 7)).expect("90 days, both ends counted");
    assert!(matches!(
        check(TODAY, date(2026, 6, 8)),
        Err(AuthorityError::AnnotationTooLong { days: 91 })
    ));
    assert!(matches!(
        check(date(2026, 3, 9), date(2026, 3, 20)),
        Err(AuthorityError::AnnotationBackdated { .. })
    ));
    assert_eq!(
        field_of(check(date(2026, 3, 20), date(2026, 3, 19))),
        Some("annotation validity")
    );
    check(date(2026, 3, 20), date(2026, 3, 20)).expect("one day");
    // It starts within 30 days of the day of application (TODAY is 2026-03-10).
    check(date(2026, 4, 9), date(2026, 4, 9)).expect("30 days ahead");
    assert_eq!(
        field_of(check(date(2026, 4, 10), date(2026, 4, 10))),
        Some("annotation validity")
    );
}

#[test]
fn revoked_full_and_pre_2021_association_certificates_are_not_annotated() {
    let check = |cert: Annotatable<'_>| check_annotation(&cert, TODAY, date(2026, 4, 1), TODAY);
    let revoked = Annotatable {
        revoked: true,
        ..annotatable()
    };
    assert!(matches!(check(revoked), Err(AuthorityError::Revoked(_))));
    let old_association = Annotatable {
        seal_kind: SealKind::Association,
        ecert_issued_on: date(2021, 12, 16),
        ..annotatable()
    };
    assert!(matches!(
        check(old_association),
        Err(AuthorityError::AnnotationNotNeeded(_))
    ));
    check(Annotatable {
        ecert_issued_on: date(2021, 12, 17),
        ..old_association
    })
    .expect("an association certificate from the era's first day needs its annotation");
    check(Annotatable {
        seal_kind: SealKind::Ministry,
        ..old_association
    })
    .expect("a ministry certificate is annotated whatever its date");
    check(Annotatable {
        valid_in_window: 2,
        ..annotatable()
    })
    .expect("a third annotation");
    assert!(matches!(
        check(Annotatable {
            valid_in_window: 3,
            ..annotatable()
        }),
        Err(AuthorityError::TooManyAnnotations { count: 3, .. })
    ));
}

#[test]
fn the_window_starts_89_days_before_the_day_of_application_at_midnight_in_china() {
    let start: Timestamp = "2025-12-10T16:00:00Z".parse().expect("timestamp");
    assert_eq!(annotation_window_start(TODAY), start);
    assert_eq!(calendar::date_in_china(start), date(2025, 12, 11));
}

#[test]
fn only_offered_scenarios_and_reasoned_cancellations_pass() {
    check_scenario(Scenario::SELF_USE).expect("本人调用");
    assert!(matches!(
        check_scenario(Scenario(2)),
        Err(AuthorityError::ScenarioNotOffered(2))
    ));
    assert_eq!(field_of(check_cancellation("  ")), Some("reason"));
    check_cancellation("申请人撤回").expect("a reason");
}

#[test]
fn a_revocation_without_text_takes_the_reasons_wording_and_the_issuing_body() {
    let now: Timestamp = "2026-03-10T02:00:00Z".parse().expect("timestamp");
    let r = revocation("N1", "MOHRSS", RevocationReason::Fraud, " ", None, now);
    assert_eq!((r.reason.as_str(), r.revoked_by.as_str()), ("弄虚作假取得", "MOHRSS"));
    assert_eq!(r.reason_code, "fraud");
    let r = revocation("N1", "MOHRSS", RevocationReason::Fraud, "伪造学历", Some("CIREA"), now);
    assert_eq!((r.reason.as_str(), r.revoked_by.as_str()), ("伪造学历", "CIREA"));
}
