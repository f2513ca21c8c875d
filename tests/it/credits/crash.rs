//! kill -9 at random moments: every operation a child acknowledged survives the restart,
//! and the invariants hold (the way sled's own crash tests work: re-exec this binary).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rand::Rng;
use seedance_bot::credits::{Actor, HoldState, JobWrite, Ledger, LedgerSettings, PoolId, Reserve};
use seedance_bot::ids::{GuildId, MemberId};

use super::{assert_consistent, jobs};
use crate::support::child::ChildTest;

const DIR_VAR: &str = "SEEDANCE_CREDITS_CRASH_DIR";
/// Set instead of `DIR_VAR`: the child runs on this PostgreSQL database.
const URL_VAR: &str = "SEEDANCE_CREDITS_CRASH_URL";
const CHILD: &str = "credits::crash::child_loop_for_crash_test";
const GUILD: GuildId = GuildId(42);
const KILLS: usize = 15;

fn job(key: &str, value: &str) -> Option<JobWrite> {
    Some(JobWrite::put(key, value.as_bytes().to_vec()))
}

/// The child: loops reserve/settle/void and prints `ACK ...` after each call returns Ok.
#[tokio::test]
#[ignore = "run by kill_nine_at_random_moments_loses_no_acknowledged_operation"]
async fn child_loop_for_crash_test() {
    let ledger = if let Some(dir) = std::env::var_os(DIR_VAR) {
        let db = seedance_bot::store::open(dir.as_ref()).unwrap();
        Ledger::open(&db, LedgerSettings::default()).unwrap()
    } else if let Ok(url) = std::env::var(URL_VAR) {
        postgres_ledger(&url)
    } else {
        return;
    };
    let pid = std::process::id();
    let mut rng = rand::thread_rng();
    for n in 0.. {
        if ledger.balance(GUILD).unwrap().available < 100 {
            ledger
                .grant(GUILD, 1000, Actor::System, "crash test")
                .await
                .unwrap();
            println!("ACK grant 1000");
        }
        let pending = ledger.pending_holds().unwrap();
        let roll = rng.gen_range(0..4);
        if roll < 2 || pending.is_empty() {
            let key = format!("{pid}-{n}");
            let amount = rng.gen_range(1..50);
            let req = Reserve {
                key: key.clone(),
                guild: GUILD,
                member: MemberId(rng.gen_range(1..4)),
                amount,
                memo: "crash".into(),
            };
            ledger.reserve(req, job(&key, "pending")).await.unwrap();
            println!("ACK reserve {key} {amount}");
        } else {
            let hold = &pending[rng.gen_range(0..pending.len())];
            if roll == 2 {
                let amount = rng.gen_range(0..=hold.amount);
                ledger
                    .settle(&hold.key, amount, job(&hold.key, "done"))
                    .await
                    .unwrap();
                println!("ACK settle {} {amount}", hold.key);
            } else {
                ledger
                    .void(&hold.key, "crash test", job(&hold.key, ""))
                    .await
                    .unwrap();
                println!("ACK void {}", hold.key);
            }
        }
    }
}

fn postgres_ledger(url: &str) -> Ledger {
    let store = seedance_bot::store::postgres::PgStore::connect(&secrecy::SecretString::from(
        url.to_owned(),
    ))
    .unwrap();
    Ledger::open(
        seedance_bot::store::Store::Postgres(store),
        LedgerSettings::default(),
    )
    .unwrap()
}

/// The same on PostgreSQL: a killed child's open transaction is rolled back by the server,
/// every acknowledged commit stays.
#[test]
fn kill_nine_at_random_moments_loses_no_acknowledged_operation_postgres() {
    use secrecy::ExposeSecret;
    let Some(url) = crate::support::postgres::database_url() else {
        return;
    };
    let url = url.expose_secret().to_owned();
    let mut rng = rand::thread_rng();
    let mut acked_grants = 0u64;
    let mut acked: BTreeMap<String, (HoldState, Option<u64>)> = BTreeMap::new();
    let mut total_ops = 0;
    for _ in 0..KILLS {
        let after = Duration::from_millis(rng.gen_range(50..400));
        let env = [(URL_VAR, std::ffi::OsStr::new(url.as_str()))];
        for line in ChildTest::run_killed_after(CHILD, &env, after) {
            total_ops += record_ack(&line, &mut acked_grants, &mut acked);
        }
        check_ledger(&postgres_ledger(&url), acked_grants, &acked);
    }
    eprintln!("crash test (postgres): {total_ops} acknowledged operations over {KILLS} kills");
    assert!(
        total_ops > KILLS,
        "the child acknowledged only {total_ops} operations"
    );
}

/// Reads one line of the child's; counts it (1) when it acknowledged an operation.
fn record_ack(
    line: &str,
    acked_grants: &mut u64,
    acked: &mut BTreeMap<String, (HoldState, Option<u64>)>,
) -> usize {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        ["ACK", "grant", n] => *acked_grants += n.parse::<u64>().unwrap(),
        ["ACK", "reserve", key, _] => {
            acked.insert(key.to_string(), (HoldState::Pending, None));
        }
        ["ACK", "settle", key, n] => {
            let n = n.parse().unwrap();
            acked.insert(key.to_string(), (HoldState::Settled, Some(n)));
        }
        ["ACK", "void", key] => {
            acked.insert(key.to_string(), (HoldState::Voided, None));
        }
        _ => return 0,
    }
    1
}

#[test]
fn kill_nine_at_random_moments_loses_no_acknowledged_operation() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let mut rng = rand::thread_rng();
    let mut acked_grants = 0u64;
    // key -> the last acknowledged state and settled amount.
    let mut acked: BTreeMap<String, (HoldState, Option<u64>)> = BTreeMap::new();
    let mut total_ops = 0;
    for _ in 0..KILLS {
        let after = Duration::from_millis(rng.gen_range(20..300));
        let lines = ChildTest::run_killed_after(CHILD, &[(DIR_VAR, dir.path().as_os_str())], after);
        for line in lines {
            total_ops += record_ack(&line, &mut acked_grants, &mut acked);
        }
        check_after_restart(dir.path(), acked_grants, &acked);
    }
    eprintln!("crash test: {total_ops} acknowledged operations over {KILLS} kills");
    assert!(
        total_ops > KILLS,
        "the child acknowledged only {total_ops} operations"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

/// Reopens the store and checks every acknowledged hold, the invariants, and that live
/// jobs and pending holds agree.
pub(super) fn check_after_restart(
    dir: &std::path::Path,
    acked_grants: u64,
    acked: &BTreeMap<String, (HoldState, Option<u64>)>,
) {
    let db = seedance_bot::store::open(dir).unwrap();
    let ledger = Ledger::open(&db, LedgerSettings::default()).unwrap();
    check_ledger(&ledger, acked_grants, acked);
}

/// Every acknowledged hold, the invariants, and live jobs agreeing with pending holds.
fn check_ledger(
    ledger: &Ledger,
    acked_grants: u64,
    acked: &BTreeMap<String, (HoldState, Option<u64>)>,
) {
    // One consistent view: on PostgreSQL a killed child's last COMMIT may still land while
    // these reads run, and separate reads would see half of the ledger before it.
    let ledger = ledger.snapshot().unwrap();
    assert!(ledger.balance(GUILD).unwrap().granted >= acked_grants);
    for (key, (state, settled)) in acked {
        let hold = ledger
            .hold(key)
            .unwrap()
            .unwrap_or_else(|| panic!("acknowledged hold {key} lost"));
        // A later resolution may have committed without its acknowledgement being seen.
        match state {
            HoldState::Pending => {}
            _ => assert_eq!((hold.state, hold.settled), (*state, *settled), "{key}"),
        }
    }
    assert_consistent(&ledger, [PoolId(GUILD.0)]);
    let live: Vec<String> = jobs(&ledger)
        .into_iter()
        .filter(|(_, v)| v == "pending")
        .map(|(k, _)| k)
        .collect();
    let pending: Vec<String> = ledger
        .pending_holds()
        .unwrap()
        .into_iter()
        .map(|h| h.key)
        .collect();
    assert_eq!(
        live, pending,
        "live jobs and pending holds differ after a crash"
    );
}
