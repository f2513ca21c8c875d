//! The money-moving operations, each one transaction body (see `tx.rs` for the rules).

use super::records::{ActorRecord, DAY_MS, GuildRecord, HoldRecord, HoldStateRecord, KindRecord};
use super::tx::{Row, Tx, TxResult, abort, add_total, available, check_amount, sub_total};
use super::{JobWrite, LedgerError, MAX_AMOUNT, MemberRules, Reserve};
use crate::store::SCHEMA_VERSION;

/// What a reserve/settle/void returns: the hold under its key.
pub(crate) struct Outcome {
    pub key: String,
    pub hold: HoldRecord,
}

pub(crate) fn grant(
    tx: &Tx,
    guild: u64,
    amount: i64,
    actor: ActorRecord,
    reason: &str,
    now: i64,
) -> TxResult<u64> {
    check_amount("a grant", amount.unsigned_abs())?;
    let pool = tx.pool_of(guild)?;
    let mut p = tx.pool(pool)?;
    let magnitude = amount.unsigned_abs();
    if amount > 0 {
        p.granted = add_total(p.granted, magnitude)?;
    } else {
        let available = available(&p)?;
        if available < magnitude {
            return abort(LedgerError::InvalidAmount(format!(
                "cannot take back {magnitude} credits: the pool has only {available} available"
            )));
        }
        p.granted -= magnitude;
    }
    let row = Row {
        at: now,
        guild,
        member: None,
        actor,
        kind: KindRecord::Grant,
        amount,
        released: 0,
        hold: None,
        reason,
    };
    tx.journal(pool, p, row)?;
    Ok(pool)
}

pub(crate) fn set_default_cap(
    tx: &Tx,
    guild: u64,
    cap: u64,
    actor: ActorRecord,
    now: i64,
) -> TxResult<()> {
    check_cap(cap)?;
    let mut g = tx.guild(guild)?;
    g.default_cap = Some(cap);
    g.v = SCHEMA_VERSION;
    tx.put_guild(guild, &g)?;
    let reason = "default daily cap (0 = none)";
    let change = CapChange {
        guild,
        member: None,
        kind: KindRecord::DefaultCap,
        cap,
        reason,
    };
    journal_cap(tx, change, actor, now)
}

/// A change of a daily cap, as its journal row says it.
struct CapChange<'a> {
    guild: u64,
    member: Option<u64>,
    kind: KindRecord,
    /// The new cap; 0 for "none" or "cleared".
    cap: u64,
    reason: &'a str,
}

/// Journals a cap change in the pool the guild spends from now.
fn journal_cap(tx: &Tx, change: CapChange<'_>, actor: ActorRecord, now: i64) -> TxResult<()> {
    let pool = tx.pool_of(change.guild)?;
    let row = Row {
        at: now,
        guild: change.guild,
        member: change.member,
        actor,
        kind: change.kind,
        amount: change.cap as i64,
        released: 0,
        hold: None,
        reason: change.reason,
    };
    tx.journal(pool, tx.pool(pool)?, row)
}

pub(crate) fn set_member_cap(
    tx: &Tx,
    guild: u64,
    member: u64,
    cap: Option<u64>,
    actor: ActorRecord,
    now: i64,
) -> TxResult<()> {
    check_optional_cap(cap)?;
    tx.set_member_cap(guild, member, cap)?;
    let (kind, reason) = match cap {
        Some(_) => (KindRecord::MemberCap, "member daily cap (0 = none)"),
        None => (
            KindRecord::MemberCapCleared,
            "member back to the default cap",
        ),
    };
    let change = CapChange {
        guild,
        member: Some(member),
        kind,
        cap: cap.unwrap_or(0),
        reason,
    };
    journal_cap(tx, change, actor, now)
}

pub(crate) fn set_role_cap(
    tx: &Tx,
    guild: u64,
    role: u64,
    cap: Option<u64>,
    actor: ActorRecord,
    now: i64,
) -> TxResult<()> {
    check_optional_cap(cap)?;
    tx.set_role_cap(guild, role, cap)?;
    let (kind, reason) = match cap {
        Some(_) => (
            KindRecord::RoleCap,
            format!("daily cap of role {role} (0 = none)"),
        ),
        None => (
            KindRecord::RoleCapCleared,
            format!("role {role} has no cap of its own"),
        ),
    };
    let change = CapChange {
        guild,
        member: None,
        kind,
        cap: cap.unwrap_or(0),
        reason: &reason,
    };
    journal_cap(tx, change, actor, now)
}

/// [`check_cap`] for a cap that may be cleared (`None`).
fn check_optional_cap(cap: Option<u64>) -> TxResult<()> {
    cap.map_or(Ok(()), check_cap)
}

fn check_cap(cap: u64) -> TxResult<()> {
    if cap > MAX_AMOUNT {
        return abort(LedgerError::InvalidAmount(format!(
            "a daily cap must be at most {MAX_AMOUNT} credits (0 = none), not {cap}"
        )));
    }
    Ok(())
}

/// How long a member's last acceptance in a server is remembered (past any cooldown).
const LAST_KEPT_MS: i64 = 30 * DAY_MS;

pub(crate) fn reserve(
    tx: &Tx,
    req: &Reserve,
    job: Option<&JobWrite>,
    rules: Option<&MemberRules>,
    default_cap: u64,
    now: i64,
) -> TxResult<Outcome> {
    if let Some(hold) = tx.hold(&req.key)? {
        return Ok(Outcome {
            key: req.key.clone(),
            hold,
        });
    }
    check_amount("a video's price", req.amount)?;
    let (guild, member) = (req.guild.0, req.member.0);
    let mut activity = tx.member(member)?;
    if let Some(rules) = rules {
        let last = activity
            .last
            .iter()
            .find(|(g, _)| *g == guild)
            .map(|(_, at)| *at);
        if let Some(last) = last
            && rules.cooldown_ms > 0
            && now < last.saturating_add(rules.cooldown_ms)
        {
            return abort(LedgerError::Cooldown {
                ready_at: last.saturating_add(rules.cooldown_ms),
            });
        }
        if activity.active.len() >= rules.max_active {
            let latest = activity
                .active
                .iter()
                .max_by_key(|(_, created)| *created)
                .map(|(key, _)| key.clone())
                .unwrap_or_default();
            return abort(LedgerError::TooManyActive {
                active: activity.active.len(),
                latest,
            });
        }
    }
    let pool = tx.pool_of(guild)?;
    let mut p = tx.pool(pool)?;
    let available = available(&p)?;
    if available < req.amount {
        return abort(LedgerError::InsufficientCredits {
            available,
            needed: req.amount,
        });
    }
    let day = now.div_euclid(DAY_MS);
    let used = tx.usage(pool, member, day)?;
    let roles = rules.map_or(&[][..], |r| r.roles.as_slice());
    let (cap, _) = tx.effective_cap(guild, member, roles, default_cap)?;
    // used <= MAX_POOL_TOTAL and amount <= MAX_AMOUNT, so this cannot overflow.
    if cap > 0 && used + req.amount > cap {
        return abort(LedgerError::DailyCapReached {
            cap,
            used_today: used,
            needed: req.amount,
            resets_at: (day + 1) * DAY_MS,
        });
    }
    p.pending = add_total(p.pending, req.amount)?;
    tx.put_usage(pool, member, day, used + req.amount)?;
    activity.active.push((req.key.clone(), now));
    activity
        .last
        .retain(|(g, at)| *g != guild && now - *at < LAST_KEPT_MS);
    activity.last.push((guild, now));
    tx.put_member(member, activity)?;
    let hold = HoldRecord {
        v: SCHEMA_VERSION,
        pool,
        guild,
        member,
        amount: req.amount,
        settled: None,
        state: HoldStateRecord::Pending,
        created_at: now,
        resolved_at: None,
        memo: req.memo.clone(),
    };
    tx.put_hold(&req.key, &hold)?;
    tx.write_job(job)?;
    let row = Row {
        at: now,
        guild,
        member: Some(member),
        actor: ActorRecord::Member(member),
        kind: KindRecord::Reserve,
        amount: req.amount as i64,
        released: 0,
        hold: Some(&req.key),
        reason: &req.memo,
    };
    tx.journal(pool, p, row)?;
    Ok(Outcome {
        key: req.key.clone(),
        hold,
    })
}

/// How a pending hold ends: settled for `amount`, or voided for `reason`.
pub(crate) enum Resolution<'a> {
    Settle(u64),
    Void(&'a str),
}

pub(crate) fn resolve(
    tx: &Tx,
    key: &str,
    how: &Resolution<'_>,
    job: Option<&JobWrite>,
    now: i64,
) -> TxResult<Outcome> {
    let Some(mut hold) = tx.hold(key)? else {
        return abort(LedgerError::UnknownHold(key.to_owned()));
    };
    let outcome = |hold| {
        Ok(Outcome {
            key: key.to_owned(),
            hold,
        })
    };
    match (hold.state, how) {
        (HoldStateRecord::Pending, _) => {}
        // The same resolution again is a replay: return the hold, change nothing.
        (HoldStateRecord::Settled, Resolution::Settle(a)) if hold.settled == Some(*a) => {
            return outcome(hold);
        }
        (HoldStateRecord::Voided, Resolution::Void(_)) => return outcome(hold),
        (state, _) => {
            return abort(LedgerError::AlreadyResolved {
                key: key.to_owned(),
                state: state.into(),
            });
        }
    }
    let (settled, released) = match *how {
        Resolution::Settle(amount) if amount > hold.amount => {
            return abort(LedgerError::SettleExceedsHold {
                held: hold.amount,
                requested: amount,
            });
        }
        Resolution::Settle(amount) => (amount, hold.amount - amount),
        Resolution::Void(_) => (0, hold.amount),
    };
    let mut p = tx.pool(hold.pool)?;
    p.pending = sub_total("pending", p.pending, hold.amount)?;
    p.settled = add_total(p.settled, settled)?;
    let day = hold.created_at.div_euclid(DAY_MS);
    let used = tx.usage(hold.pool, hold.member, day)?;
    tx.put_usage(
        hold.pool,
        hold.member,
        day,
        sub_total("usage", used, released)?,
    )?;
    let (kind, amount, reason) = match *how {
        Resolution::Settle(amount) => {
            hold.state = HoldStateRecord::Settled;
            hold.settled = Some(amount);
            (KindRecord::Settle, amount, "video delivered")
        }
        Resolution::Void(reason) => {
            hold.state = HoldStateRecord::Voided;
            (KindRecord::Void, hold.amount, reason)
        }
    };
    hold.resolved_at = Some(now);
    hold.v = SCHEMA_VERSION;
    tx.put_hold(key, &hold)?;
    let mut activity = tx.member(hold.member)?;
    activity.active.retain(|(k, _)| k != key);
    tx.put_member(hold.member, activity)?;
    tx.write_job(job)?;
    let row = Row {
        at: now,
        guild: hold.guild,
        member: Some(hold.member),
        actor: ActorRecord::System,
        kind,
        amount: amount as i64,
        released: if kind == KindRecord::Settle {
            released
        } else {
            0
        },
        hold: Some(key),
        reason,
    };
    tx.journal(hold.pool, p, row)?;
    outcome(hold)
}

/// Points `guild` at the pool of `with` (its own pool when `with == guild`). Journals the
/// move in the pool it leaves and the pool it joins.
pub(crate) fn link(tx: &Tx, guild: u64, with: u64, actor: ActorRecord, now: i64) -> TxResult<u64> {
    let old = tx.pool_of(guild)?;
    let new = if with == guild {
        guild
    } else {
        tx.pool_of(with)?
    };
    let mut g: GuildRecord = tx.guild(guild)?;
    g.pool = (new != guild).then_some(new);
    g.v = SCHEMA_VERSION;
    tx.put_guild(guild, &g)?;
    let (kind, reason) = if new == guild {
        (
            KindRecord::Unlink,
            format!("guild {guild} spends from its own pool {new}"),
        )
    } else {
        (
            KindRecord::Link,
            format!("guild {guild} spends from pool {new}"),
        )
    };
    let pools = if old == new {
        vec![new]
    } else {
        vec![old, new]
    };
    for pool in pools {
        let row = Row {
            at: now,
            guild,
            member: None,
            actor,
            kind,
            amount: 0,
            released: 0,
            hold: None,
            reason: &reason,
        };
        tx.journal(pool, tx.pool(pool)?, row)?;
    }
    Ok(new)
}

/// A decision on a job held for approval, journalled as a zero-amount row.
pub(crate) enum Decided<'a> {
    /// The hold stays pending: the job joins the queue.
    Approved { by: u64 },
    /// The hold is voided for `reason` in the same transaction.
    Rejected { by: u64, reason: &'a str },
    /// Nobody decided in time: voided for `reason`.
    Expired { reason: &'a str },
}

/// Records a decision on the pending hold `key` and its job (`job`'s guard says whether the
/// job may take it): a zero-amount journal row naming who decided, and for a rejection or
/// an expiry the hold voided, all in one transaction.
pub(crate) fn decide(
    tx: &Tx,
    key: &str,
    decided: &Decided<'_>,
    job: Option<&JobWrite>,
    now: i64,
) -> TxResult<Outcome> {
    let Some(hold) = tx.hold(key)? else {
        return abort(LedgerError::UnknownHold(key.to_owned()));
    };
    if hold.state != HoldStateRecord::Pending {
        return abort(LedgerError::AlreadyResolved {
            key: key.to_owned(),
            state: hold.state.into(),
        });
    }
    let (kind, actor, reason) = match decided {
        Decided::Approved { by } => (
            KindRecord::Approved,
            ActorRecord::Member(*by),
            "approved: the job joins the queue",
        ),
        Decided::Rejected { by, .. } => (
            KindRecord::Rejected,
            ActorRecord::Member(*by),
            "rejected: the held credits go back to the pool",
        ),
        Decided::Expired { .. } => (
            KindRecord::ApprovalExpired,
            ActorRecord::System,
            "nobody decided in time: the held credits go back to the pool",
        ),
    };
    let row = Row {
        at: now,
        guild: hold.guild,
        member: Some(hold.member),
        actor,
        kind,
        amount: 0,
        released: 0,
        hold: Some(key),
        reason,
    };
    tx.journal(hold.pool, tx.pool(hold.pool)?, row)?;
    match decided {
        Decided::Approved { .. } => {
            tx.write_job(job)?;
            Ok(Outcome {
                key: key.to_owned(),
                hold,
            })
        }
        Decided::Rejected { reason, .. } | Decided::Expired { reason } => {
            resolve(tx, key, &Resolution::Void(reason), job, now)
        }
    }
}
