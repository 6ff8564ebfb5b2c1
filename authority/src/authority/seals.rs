//! Seals over their life: put out of service and replaced (rotation), or published as
//! compromised from a day. Both reach verifiers with the next publication's seal list.

use super::{Authority, AuthorityError, Result, date_text};
use crate::calendar;
use crate::keys;
use crate::trust::KeyId;
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

/// How long a new seal may seal, from its first day.
const SEAL_YEARS: i16 = 10;

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The seal put out of service, if one was in service.
    pub retired: Option<KeyId>,
    /// The seal now in service.
    pub new: KeyId,
    /// Its first day.
    pub from: Date,
}

impl Authority {
    /// Retires the seal of `body` in service at `now`, if any, and puts a new one of the same
    /// kind in its place, valid from today for ten years. The retired seal seals nothing from
    /// today on (credentials it sealed before stay genuine); annotations applied for from now
    /// on are sealed with the new one.
    pub fn rotate_seal(&mut self, body: &str, now: Timestamp) -> Result<Rotation> {
        let today = calendar::date_in_china(now);
        let path = Authority::db_path(&self.dir);
        let e = |cause| AuthorityError::Sqlite {
            path: path.clone(),
            cause,
        };
        let known: bool = self
            .db
            .query_row("SELECT count(*) > 0 FROM bodies WHERE code = ?1", [body], |r| r.get(0))
            .map_err(e)?;
        if !known {
            return Err(AuthorityError::Invalid {
                field: "body",
                problem: format!("{body:?} is not an issuing body of the catalogue"),
            });
        }
        let current = self.in_service(body, today)?;
        let kind = match &current {
            Some((_, kind)) => kind.clone(),
            None => super::catalogue::first_seal(body).0.as_str().to_owned(),
        };
        let until = today
            .checked_add(SEAL_YEARS.years())
            .and_then(|d| d.checked_sub(1.day()))
            .unwrap_or(Date::MAX);
        let key = keys::generate();
        let id = KeyId::of(&key.verifying_key());
        let file = format!("seal-{body}-{id}.pem");
        keys::write_key(&Authority::keys_dir(&self.dir).join(&file), &key)?;
        let tx = self
            .db
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(e)?;
        if let Some((old, _)) = &current {
            tx.execute(
                "UPDATE seal_keys SET retired_at = ?2 WHERE key_id = ?1",
                params![old, now.as_second()],
            )
            .map_err(e)?;
        }
        tx.execute(
            "INSERT INTO seal_keys (key_id, owner, kind, valid_from, valid_until, file) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![id.to_string(), body, kind, date_text(today), date_text(until), file],
        )
        .map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(Rotation {
            retired: current.and_then(|(old, _)| KeyId::from_hex(&old)),
            new: id,
            from: today,
        })
    }

    /// The key id and kind of the seal of `body` in service on `day`.
    fn in_service(&self, body: &str, day: Date) -> Result<Option<(String, String)>> {
        self.db
            .query_row(
                "SELECT key_id, kind FROM seal_keys WHERE owner = ?1 AND valid_from <= ?2 AND valid_until >= ?2
                 AND retired_at IS NULL AND compromised_from IS NULL ORDER BY valid_from DESC LIMIT 1",
                params![body, date_text(day)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(self.sqlite())
    }

    /// Publishes seal `key` as compromised from `from`: verifiers take nothing it sealed on
    /// or after that day (in China) as genuine. A seal still in service is rotated out at
    /// `now` first, so the body can go on sealing. A compromise date is never moved later.
    pub fn compromise_seal(&mut self, key: KeyId, from: Timestamp, now: Timestamp) -> Result<Option<Rotation>> {
        let path = Authority::db_path(&self.dir);
        let e = |cause| AuthorityError::Sqlite {
            path: path.clone(),
            cause,
        };
        let row: Option<(String, Option<i64>)> = self
            .db
            .query_row(
                "SELECT owner, compromised_from FROM seal_keys WHERE key_id = ?1",
                [key.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(e)?;
        let Some((owner, compromised)) = row else {
            return Err(AuthorityError::Invalid {
                field: "seal",
                problem: format!("{key} is not a seal of this authority"),
            });
        };
        if from > now {
            return Err(AuthorityError::Invalid {
                field: "compromise date",
                problem: format!("{from} is in the future"),
            });
        }
        let serving = self.in_service(&owner, calendar::date_in_china(now))?;
        let rotation = if serving.is_some_and(|(id, _)| id == key.to_string()) {
            Some(self.rotate_seal(&owner, now)?)
        } else {
            None
        };
        // The earlier of the two dates, if one was published already.
        let from = compromised.map_or(from.as_second(), |c| c.min(from.as_second()));
        self.db
            .execute(
                "UPDATE seal_keys SET compromised_from = ?2 WHERE key_id = ?1",
                params![key.to_string(), from],
            )
            .map_err(e)?;
        Ok(rotation)
    }
}
