//! Seals over their life: put out of service and replaced (rotation), or published as
//! compromised from a day. Both reach verifiers with the next publication's seal list.

use super::{Authority, AuthorityError, Result, date_text, sqlite_error};
use crate::calendar;
use crate::keys;
use crate::trust::KeyId;
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

/// How long a new seal may seal, from its first day.
const SEAL_YEARS: i16 = 10;

/// A seal in service, as `seal_keys` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct InService {
    pub key_id: String,
    pub kind: String,
    pub file: String,
}

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
    /// Replaces the seal of `body` in service from the day `from` (China; tomorrow if `None`,
    /// and never today or earlier: the new seal must reach the appliances with a publication
    /// before it seals anything). Until then the old seal stays in service; from then on it
    /// is retired (credentials it sealed before stay genuine) and annotations are sealed with
    /// the new one, valid for ten years. A body with a rotation already scheduled is refused.
    pub fn rotate_seal(&mut self, body: &str, now: Timestamp, from: Option<Date>) -> Result<Rotation> {
        let today = calendar::date_in_china(now);
        let from = from.unwrap_or_else(|| today.tomorrow().unwrap_or(today));
        if from <= today {
            return Err(AuthorityError::Invalid {
                field: "rotation day",
                problem: format!(
                    "{from} is not after today ({today}): a new seal starts once a publication can carry it \
                     (a seal that must stop at once: compromise-seal)"
                ),
            });
        }
        self.replace_seal(body, now, calendar::start_of_day(from))
    }

    /// Retires the seal of `body` in service at `now`, if any, at `starts`, and puts a new one
    /// of the same kind in service from then.
    fn replace_seal(&mut self, body: &str, now: Timestamp, starts: Timestamp) -> Result<Rotation> {
        let e = sqlite_error(&self.dir);
        let from = calendar::date_in_china(starts);
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
        let scheduled: Option<String> = self
            .db
            .query_row(
                "SELECT valid_from FROM seal_keys WHERE owner = ?1 AND valid_from > ?2 LIMIT 1",
                params![body, date_text(calendar::date_in_china(now))],
                |r| r.get(0),
            )
            .optional()
            .map_err(e)?;
        if let Some(day) = scheduled {
            return Err(AuthorityError::Invalid {
                field: "rotation",
                problem: format!("a new seal of {body} is already scheduled from {day}"),
            });
        }
        let current = self.in_service(body, calendar::date_in_china(now), now)?;
        let kind = match &current {
            Some(seal) => seal.kind.clone(),
            None => super::catalogue::first_seal(body).0.as_str().to_owned(),
        };
        let until = from
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
        if let Some(old) = &current {
            tx.execute(
                "UPDATE seal_keys SET retired_at = ?2 WHERE key_id = ?1",
                params![old.key_id, starts.as_second()],
            )
            .map_err(e)?;
        }
        tx.execute(
            "INSERT INTO seal_keys (key_id, owner, kind, valid_from, valid_until, file) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![id.to_string(), body, kind, date_text(from), date_text(until), file],
        )
        .map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(Rotation {
            retired: current.and_then(|old| KeyId::from_hex(&old.key_id)),
            new: id,
            from,
        })
    }

    /// The seal of `body` in service at `now` (not retired by then, not compromised) that is
    /// valid on the day `day`: its key id, kind and key file. The one rule for which seal
    /// seals, used for issuing, annotating and rotating.
    pub(super) fn in_service(&self, body: &str, day: Date, now: Timestamp) -> Result<Option<InService>> {
        self.db
            .query_row(
                "SELECT key_id, kind, file FROM seal_keys WHERE owner = ?1 AND valid_from <= ?2 AND valid_until >= ?2
                 AND (retired_at IS NULL OR retired_at > ?3) AND compromised_from IS NULL
                 ORDER BY valid_from DESC LIMIT 1",
                params![body, date_text(day), now.as_second()],
                |r| {
                    Ok(InService {
                        key_id: r.get(0)?,
                        kind: r.get(1)?,
                        file: r.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(self.sqlite())
    }

    /// Publishes seal `key` as compromised from `from`: verifiers take nothing it sealed on or
    /// after that day (in China) as genuine. A seal still in service is replaced at `now`, so
    /// the body can go on sealing (publish at once: until the appliances have the new seal,
    /// what it seals is unknown to them). A compromise date is never moved later; the date in
    /// force is returned with the rotation, if any.
    pub fn compromise_seal(
        &mut self,
        key: KeyId,
        from: Timestamp,
        now: Timestamp,
    ) -> Result<(Timestamp, Option<Rotation>)> {
        let dir = self.dir.clone();
        let e = sqlite_error(&dir);
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
        let serving = self.in_service(&owner, calendar::date_in_china(now), now)?;
        let rotation = if serving.is_some_and(|seal| seal.key_id == key.to_string()) {
            Some(self.replace_seal(&owner, now, now)?)
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
        let from = Timestamp::from_second(from).map_err(|_| AuthorityError::Invalid {
            field: "compromise date",
            problem: format!("{from} seconds is no time"),
        })?;
        Ok((from, rotation))
    }
}
