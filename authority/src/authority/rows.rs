//! Reading the authority's own rows back. Whatever is read here is signed into credentials or
//! published to every appliance, so a value that cannot be read exactly is an error naming
//! its table, row and column — never a default such as `Date::MIN`, "association" or 1970.

use crate::credential::Level;
use crate::trust::SealKind;
use jiff::Timestamp;
use jiff::civil::Date;

/// A value in the authority's state that does not read back as what was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{table} row {key:?}: {column} {value:?} cannot be read")]
pub struct CorruptValue {
    pub table: &'static str,
    /// The row's primary key.
    pub key: String,
    pub column: &'static str,
    pub value: String,
}

/// One row of `table`, identified by `key`, whose columns are decoded strictly.
pub(super) struct Row<'a> {
    pub table: &'static str,
    pub key: &'a str,
}

impl Row<'_> {
    pub fn corrupt(&self, column: &'static str, value: impl ToString) -> CorruptValue {
        CorruptValue {
            table: self.table,
            key: self.key.to_owned(),
            column,
            value: value.to_string(),
        }
    }

    /// A civil date written as `YYYY-MM-DD`; any other spelling is refused, because the
    /// authority's queries compare dates as text.
    pub fn date(&self, column: &'static str, text: &str) -> Result<Date, CorruptValue> {
        text.parse::<Date>()
            .ok()
            .filter(|d| d.to_string() == text)
            .ok_or_else(|| self.corrupt(column, text))
    }

    pub fn seal_kind(&self, column: &'static str, text: &str) -> Result<SealKind, CorruptValue> {
        SealKind::parse(text).ok_or_else(|| self.corrupt(column, text))
    }

    pub fn level(&self, column: &'static str, code: i64) -> Result<Level, CorruptValue> {
        u64::try_from(code)
            .ok()
            .and_then(Level::from_code)
            .ok_or_else(|| self.corrupt(column, code))
    }

    /// Whole seconds since the epoch, within the range the formats carry.
    pub fn timestamp(&self, column: &'static str, seconds: i64) -> Result<Timestamp, CorruptValue> {
        Timestamp::from_second(seconds).map_err(|_| self.corrupt(column, seconds))
    }

    /// An identifier or version: never negative.
    pub fn count(&self, column: &'static str, value: i64) -> Result<u64, CorruptValue> {
        u64::try_from(value).map_err(|_| self.corrupt(column, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROW: Row<'static> = Row {
        table: "certificates",
        key: "2023030100000001",
    };

    #[test]
    fn only_the_exact_spelling_reads_back() {
        assert_eq!(
            ROW.date("approved_on", "2023-04-11"),
            Ok(jiff::civil::date(2023, 4, 11))
        );
        for bad in [
            "",
            "2023-4-11",
            "2023-04-11T00:00",
            "2023-02-30",
            " 2023-04-11",
            "-009999-01-01x",
        ] {
            let e = ROW.date("approved_on", bad).expect_err(bad);
            assert_eq!((e.column, e.value.as_str()), ("approved_on", bad));
        }
        assert!(ROW.seal_kind("kind", "ministry").is_ok());
        assert!(ROW.seal_kind("kind", "Ministry").is_err());
        assert_eq!(ROW.level("level", 2), Ok(Level::Intermediate));
        assert!(ROW.level("level", 99).is_err() && ROW.level("level", -1).is_err());
        assert!(ROW.timestamp("revoked_at", 9_000_000_000_000_000).is_err());
        assert!(ROW.count("id", -1).is_err());
        let e = ROW.level("level", 99).expect_err("level 99");
        assert_eq!(
            e.to_string(),
            "certificates row \"2023030100000001\": level \"99\" cannot be read"
        );
    }
}
