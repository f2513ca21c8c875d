//! Random operation sequences against a plain in-memory model; every invariant of the
//! ledger is checked after every step.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;

use proptest::prelude::*;
use seedance_bot::credits::{
    Actor, Hold, HoldState, JobWrite, Ledger, LedgerError, PoolId, Reserve,
};
use seedance_bot::ids::{GuildId, MemberId};

use super::{Backend, START_MILLIS, assert_consistent, jobs, test_ledger_on};

const DAY: i64 = 86_400_000;
const DEFAULT_CAP: u64 = 300;
const GUILDS: [u64; 3] = [1, 2, 3];

#[derive(Debug, Clone)]
enum Op {
    Grant {
        guild: u64,
        amount: i64,
    },
    Reserve {
        key: u8,
        guild: u64,
        member: u64,
        amount: u64,
    },
    /// Settle `percent` of the hold; over 100 asks for more than was held.
    /// `key` picks one of the holds made so far, or now and then an unknown key.
    Settle {
        key: u8,
        percent: u64,
    },
    Void {
        key: u8,
    },
    Link {
        guild: u64,
        with: u64,
    },
    Unlink {
        guild: u64,
    },
    DefaultCap {
        guild: u64,
        cap: u64,
    },
    MemberCap {
        guild: u64,
        member: u64,
        cap: Option<u64>,
    },
    /// Moves the clock forward, often across midnight UTC.
    Advance {
        minutes: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let guild = proptest::sample::select(GUILDS.to_vec());
    let member = 10u64..12;
    let key = 0u8..24;
    prop_oneof![
        3 => (guild.clone(), -200i64..1500).prop_map(|(guild, amount)| Op::Grant { guild, amount }),
        6 => (key.clone(), guild.clone(), member.clone(), 1u64..250)
            .prop_map(|(key, guild, member, amount)| Op::Reserve { key, guild, member, amount }),
        4 => (any::<u8>(), 0u64..=110).prop_map(|(key, percent)| Op::Settle { key, percent }),
        2 => any::<u8>().prop_map(|key| Op::Void { key }),
        1 => (guild.clone(), guild.clone()).prop_map(|(guild, with)| Op::Link { guild, with }),
        1 => guild.clone().prop_map(|guild| Op::Unlink { guild }),
        1 => (guild.clone(), prop_oneof![Just(0u64), 100u64..600])
            .prop_map(|(guild, cap)| Op::DefaultCap { guild, cap }),
        1 => (guild, member, proptest::option::of(prop_oneof![Just(0u64), 50u64..500]))
            .prop_map(|(guild, member, cap)| Op::MemberCap { guild, member, cap }),
        1 => prop_oneof![1i64..90, 600i64..1500].prop_map(|minutes| Op::Advance { minutes }),
    ]
}

#[derive(Debug, Clone, Default)]
struct Pool {
    granted: u64,
    pending: u64,
    settled: u64,
    rows: u64,
}

/// What the ledger should be, computed the obvious way.
#[derive(Debug, Default)]
struct Model {
    now: i64,
    pools: BTreeMap<u64, Pool>,
    linked: BTreeMap<u64, u64>,
    default_caps: BTreeMap<u64, u64>,
    member_caps: BTreeMap<(u64, u64), u64>,
    holds: BTreeMap<String, Hold>,
    usage: BTreeMap<(u64, u64, i64), u64>,
    jobs: BTreeMap<String, String>,
}

impl Model {
    fn pool_of(&self, guild: u64) -> u64 {
        self.linked.get(&guild).copied().unwrap_or(guild)
    }

    fn pool(&mut self, pool: u64) -> &mut Pool {
        self.pools.entry(pool).or_default()
    }

    fn available(&self, pool: u64) -> u64 {
        self.pools
            .get(&pool)
            .map_or(0, |p| p.granted - p.pending - p.settled)
    }

    fn cap(&self, guild: u64, member: u64) -> u64 {
        self.member_caps
            .get(&(guild, member))
            .or(self.default_caps.get(&guild))
            .copied()
            .unwrap_or(DEFAULT_CAP)
    }

    fn day(&self) -> i64 {
        self.now.div_euclid(DAY)
    }
}

fn key_name(key: u8) -> String {
    format!("interaction-{key}")
}

/// Mostly a hold that exists (pending or resolved), sometimes one that does not.
fn pick_hold(m: &Model, pick: u8) -> String {
    let keys: Vec<&String> = m.holds.keys().collect();
    if keys.is_empty() || pick.is_multiple_of(8) {
        return format!("unknown-{pick}");
    }
    keys[usize::from(pick) % keys.len()].clone()
}

fn job(key: &str, value: &str) -> JobWrite {
    JobWrite::put(format!("job:{key}"), value.as_bytes().to_vec())
}

/// Errors compare by their Debug text: the refusals carry every number that matters.
fn same<T: std::fmt::Debug>(got: &Result<T, LedgerError>, want: &Result<T, LedgerError>) {
    assert_eq!(format!("{got:?}"), format!("{want:?}"));
}

async fn step(ledger: &Ledger, m: &mut Model, op: &Op, n: usize) {
    match *op {
        Op::Grant { guild, amount } => {
            let pool = m.pool_of(guild);
            let available = m.available(pool);
            let got = ledger
                .grant(GuildId(guild), amount, Actor::Cli, "prop")
                .await;
            // Zero, or taking back more than is available, is refused.
            if amount == 0 || (amount < 0 && amount.unsigned_abs() > available) {
                assert!(matches!(got, Err(LedgerError::InvalidAmount(_))), "{got:?}");
            } else {
                let p = m.pool(pool);
                p.granted = p.granted.checked_add_signed(amount).unwrap();
                p.rows += 1;
                let b = got.unwrap();
                assert_eq!((b.pool, b.granted), (PoolId(pool), m.pools[&pool].granted));
            }
        }
        Op::Reserve {
            key,
            guild,
            member,
            amount,
        } => {
            let key = key_name(key);
            let value = format!("pending@{n}");
            let req = Reserve {
                key: key.clone(),
                guild: GuildId(guild),
                member: MemberId(member),
                amount,
                memo: "video 720p 5s".into(),
            };
            let got = ledger.reserve(req, Some(job(&key, &value))).await;
            let want = expect_reserve(m, &key, guild, member, amount, &value);
            same(&got, &want);
        }
        Op::Settle { key, percent } => {
            let key = pick_hold(m, key);
            let held = m.holds.get(&key).map_or(100, |h| h.amount);
            let amount = held * percent / 100 + u64::from(percent > 100);
            let value = format!("done@{n}");
            let got = ledger.settle(&key, amount, Some(job(&key, &value))).await;
            let want = expect_resolve(m, &key, Some(amount), &value);
            same(&got, &want);
        }
        Op::Void { key } => {
            let key = pick_hold(m, key);
            let got = ledger.void(&key, "task failed", Some(job(&key, ""))).await;
            let want = expect_resolve(m, &key, None, "");
            same(&got, &want);
        }
        Op::Link { guild, with } => {
            let got = ledger.link(GuildId(guild), GuildId(with), Actor::Cli).await;
            let new = if guild == with {
                guild
            } else {
                m.pool_of(with)
            };
            move_guild(m, guild, new);
            assert_eq!(got.unwrap(), PoolId(new));
        }
        Op::Unlink { guild } => {
            let got = ledger.unlink(GuildId(guild), Actor::Cli).await;
            move_guild(m, guild, guild);
            assert_eq!(got.unwrap(), PoolId(guild));
        }
        Op::DefaultCap { guild, cap } => {
            ledger
                .set_default_cap(GuildId(guild), cap, Actor::Cli)
                .await
                .unwrap();
            m.default_caps.insert(guild, cap);
            let pool = m.pool_of(guild);
            m.pool(pool).rows += 1;
        }
        Op::MemberCap { guild, member, cap } => {
            let actor = Actor::Operator(MemberId(99));
            ledger
                .set_member_cap(GuildId(guild), MemberId(member), cap, actor)
                .await
                .unwrap();
            match cap {
                Some(cap) => m.member_caps.insert((guild, member), cap),
                None => m.member_caps.remove(&(guild, member)),
            };
            let pool = m.pool_of(guild);
            m.pool(pool).rows += 1;
        }
        Op::Advance { minutes } => m.now += minutes * 60_000,
    }
}

fn move_guild(m: &mut Model, guild: u64, new: u64) {
    let old = m.pool_of(guild);
    if new == guild {
        m.linked.remove(&guild);
    } else {
        m.linked.insert(guild, new);
    }
    m.pool(old).rows += 1;
    if old != new {
        m.pool(new).rows += 1;
    }
}

fn expect_reserve(
    m: &mut Model,
    key: &str,
    guild: u64,
    member: u64,
    amount: u64,
    job_value: &str,
) -> Result<Hold, LedgerError> {
    if let Some(hold) = m.holds.get(key) {
        return Ok(hold.clone());
    }
    let pool = m.pool_of(guild);
    let available = m.available(pool);
    if available < amount {
        return Err(LedgerError::InsufficientCredits {
            available,
            needed: amount,
        });
    }
    let (cap, day) = (m.cap(guild, member), m.day());
    let used = m.usage.get(&(pool, member, day)).copied().unwrap_or(0);
    if cap > 0 && used + amount > cap {
        return Err(LedgerError::DailyCapReached {
            cap,
            used_today: used,
            needed: amount,
            resets_at: (day + 1) * DAY,
        });
    }
    *m.usage.entry((pool, member, day)).or_default() += amount;
    let p = m.pool(pool);
    p.pending += amount;
    p.rows += 1;
    m.jobs.insert(format!("job:{key}"), job_value.to_owned());
    let hold = Hold {
        key: key.to_owned(),
        pool: PoolId(pool),
        guild: GuildId(guild),
        member: MemberId(member),
        amount,
        settled: None,
        state: HoldState::Pending,
        created_at: m.now,
        resolved_at: None,
        memo: "video 720p 5s".into(),
    };
    m.holds.insert(key.to_owned(), hold.clone());
    Ok(hold)
}

/// `settle`: Some(amount); `void`: None.
fn expect_resolve(
    m: &mut Model,
    key: &str,
    settle: Option<u64>,
    job_value: &str,
) -> Result<Hold, LedgerError> {
    let Some(hold) = m.holds.get(key).cloned() else {
        return Err(LedgerError::UnknownHold(key.to_owned()));
    };
    match (hold.state, settle) {
        (HoldState::Pending, _) => {}
        (HoldState::Settled, Some(a)) if hold.settled == Some(a) => return Ok(hold),
        (HoldState::Voided, None) => return Ok(hold),
        (state, _) => {
            return Err(LedgerError::AlreadyResolved {
                key: key.to_owned(),
                state,
            });
        }
    }
    if let Some(a) = settle.filter(|a| *a > hold.amount) {
        return Err(LedgerError::SettleExceedsHold {
            held: hold.amount,
            requested: a,
        });
    }
    let spent = settle.unwrap_or(0);
    let day = hold.created_at.div_euclid(DAY);
    *m.usage.get_mut(&(hold.pool.0, hold.member.0, day)).unwrap() -= hold.amount - spent;
    let p = m.pool(hold.pool.0);
    p.pending -= hold.amount;
    p.settled += spent;
    p.rows += 1;
    if job_value.is_empty() {
        m.jobs.remove(&format!("job:{key}"));
    } else {
        m.jobs.insert(format!("job:{key}"), job_value.to_owned());
    }
    let h = m.holds.get_mut(key).unwrap();
    h.state = if settle.is_some() {
        HoldState::Settled
    } else {
        HoldState::Voided
    };
    h.settled = settle;
    h.resolved_at = Some(m.now);
    Ok(h.clone())
}

/// Every invariant, after every step.
fn check(ledger: &Ledger, m: &Model) {
    for (&id, p) in &m.pools {
        let b = ledger.pool_balance(PoolId(id)).unwrap();
        // Invariant 1 and 2: totals add up, nothing below zero (u64), equal to the model.
        assert_eq!(
            (b.granted, b.pending, b.settled),
            (p.granted, p.pending, p.settled)
        );
        assert_eq!(b.available, b.granted - b.pending - b.settled);
        // Replays and refusals wrote no journal row.
        let rows = ledger
            .pool_history(PoolId(id), None, usize::MAX)
            .unwrap()
            .len();
        assert_eq!(rows as u64, p.rows, "journal rows of pool {id}");
    }
    // Invariant 3: each hold as the model says (resolved once, settled <= held).
    for (key, want) in &m.holds {
        let got = ledger.hold(key).unwrap().unwrap();
        assert_eq!(&got, want);
        assert!(got.settled.unwrap_or(0) <= got.amount);
    }
    // Invariant 2: no member above the cap in force today (caps only refuse new holds, so
    // a cap lowered later may sit below earlier usage; compare usage with the model).
    for guild in GUILDS {
        for member in 10..13 {
            let u = ledger
                .member_usage(GuildId(guild), MemberId(member), &[])
                .unwrap();
            let pool = m.pool_of(guild);
            let used = m.usage.get(&(pool, member, m.day())).copied().unwrap_or(0);
            assert_eq!(u.used_today, used, "usage of {member} via guild {guild}");
            let cap = m.cap(guild, member);
            assert_eq!(u.cap, (cap > 0).then_some(cap));
            assert_eq!(u.resets_at, (m.day() + 1) * DAY);
        }
    }
    // Invariant 6: one live job per pending hold and one pending hold per live job; the
    // job records are exactly the writes of the ledger calls that succeeded.
    assert_eq!(jobs(ledger), m.jobs);
    let pending: BTreeSet<String> = ledger
        .pending_holds()
        .unwrap()
        .into_iter()
        .map(|h| h.key)
        .collect();
    let live: BTreeSet<String> = m
        .jobs
        .iter()
        .filter(|(_, v)| v.starts_with("pending@"))
        .map(|(k, _)| k.trim_start_matches("job:").to_owned())
        .collect();
    assert_eq!(pending, live);
    // Invariant 5: balances equal a replay of the journal.
    assert_consistent(ledger, m.pools.keys().map(|&p| PoolId(p)));
}

/// One random sequence on a fresh ledger of `backend`, checked after every step.
fn run_sequence(backend: Backend, ops: &[Op]) {
    let Some(t) = test_ledger_on(backend, DEFAULT_CAP) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut m = Model {
        now: START_MILLIS,
        ..Model::default()
    };
    // Start with money in every pool so most reserves get past the balance check.
    let opening = GUILDS.map(|guild| Op::Grant { guild, amount: 400 });
    for (n, op) in opening.iter().chain(ops).enumerate() {
        runtime.block_on(step(&t.ledger, &mut m, op, n));
        t.clock.store(m.now, Ordering::SeqCst);
        check(&t.ledger, &m);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_operations_keep_every_invariant_sled(ops in proptest::collection::vec(op(), 1..45)) {
        run_sequence(Backend::Sled, &ops);
    }
}

proptest! {
    // Each case is a database of its own on the test server: fewer cases, same rules.
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn random_operations_keep_every_invariant_postgres(ops in proptest::collection::vec(op(), 1..45)) {
        run_sequence(Backend::Postgres, &ops);
    }
}
