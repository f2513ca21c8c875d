//! Many members reserving at once against one pool: never more than it holds.

use seedance_bot::credits::{Actor, LedgerError, PoolId, Reserve};
use seedance_bot::ids::{GuildId, MemberId};

use super::{Backend, assert_consistent, reserve_outcomes, spawn_reserve, test_ledger_on};

async fn sixty_four_reserves_against_305_credits_make_exactly_thirty_holds(backend: Backend) {
    let Some(t) = test_ledger_on(backend, 0) else {
        return;
    };
    let guild = GuildId(7);
    t.ledger
        .grant(guild, 305, Actor::Cli, "top-up")
        .await
        .unwrap();
    let tasks: Vec<_> = (0..64u64)
        .map(|i| spawn_reserve(&t.ledger, guild, i, 10))
        .collect();
    let (ok, refused) = reserve_outcomes(tasks, 10, 5).await;
    assert_eq!((ok, refused), (30, 34));
    let b = t.ledger.balance(guild).unwrap();
    assert_eq!(
        (b.available, b.pending, b.settled, b.granted),
        (5, 300, 0, 305)
    );
    assert_eq!(t.ledger.pending_holds().unwrap().len(), 30);
    assert_consistent(&t.ledger, [PoolId(7)]);
}

async fn concurrent_repeats_of_one_key_make_one_hold(backend: Backend) {
    let Some(t) = test_ledger_on(backend, 0) else {
        return;
    };
    let guild = GuildId(8);
    t.ledger
        .grant(guild, 1000, Actor::Cli, "top-up")
        .await
        .unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let ledger = t.ledger.clone();
            tokio::spawn(async move {
                let req = Reserve {
                    key: "same-interaction".into(),
                    guild,
                    member: MemberId(1),
                    amount: 40,
                    memo: "video".into(),
                };
                ledger.reserve(req, None).await.unwrap()
            })
        })
        .collect();
    let mut holds = Vec::new();
    for task in tasks {
        holds.push(task.await.unwrap());
    }
    assert!(holds.windows(2).all(|w| w[0] == w[1]));
    let b = t.ledger.balance(guild).unwrap();
    assert_eq!((b.available, b.pending), (960, 40));
    assert_consistent(&t.ledger, [PoolId(8)]);
}

/// The member rules are the admit transaction's, not a process's: two ledgers on one
/// PostgreSQL database (as two bot processes) racing one member's submissions admit at
/// most `max_active` of them, and the cooldown holds across both.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn member_limit_and_cooldown_hold_across_two_processes_postgres() {
    use seedance_bot::credits::{Ledger, LedgerSettings, MemberRules};
    let Some(url) = crate::support::postgres::database_url() else {
        return;
    };
    let open = |url: secrecy::SecretString| {
        let store = seedance_bot::store::postgres::PgStore::connect(&url).unwrap();
        Ledger::open(
            seedance_bot::store::Store::Postgres(store),
            LedgerSettings::default(),
        )
        .unwrap()
    };
    let (a, b) = (open(url.clone()), open(url));
    let guild = GuildId(9);
    a.grant(guild, 10_000, Actor::Cli, "top-up").await.unwrap();
    let rules = MemberRules {
        max_active: 2,
        cooldown_ms: 0,
        ..MemberRules::default()
    };
    let tasks: Vec<_> = (0..12u64)
        .map(|i| {
            let ledger = if i % 2 == 0 { a.clone() } else { b.clone() };
            let rules = rules.clone();
            tokio::spawn(async move {
                let req = Reserve {
                    key: format!("press-{i}"),
                    guild,
                    member: MemberId(5),
                    amount: 10,
                    memo: "video".into(),
                };
                ledger.admit(req, None, Some(rules)).await
            })
        })
        .collect();
    let mut admitted = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(hold) => admitted.push(hold.key),
            Err(LedgerError::TooManyActive { active, .. }) => assert_eq!(active, 2),
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!(admitted.len(), 2, "{admitted:?}");
    // Ending one job frees a place, seen by the other process.
    a.void(&admitted[0], "test", None).await.unwrap();
    let again = Reserve {
        key: "press-after".into(),
        guild,
        member: MemberId(5),
        amount: 10,
        memo: "video".into(),
    };
    b.admit(again, None, Some(rules.clone())).await.unwrap();
    // A cooldown set on one process's admission refuses the next on the other.
    let cooled = MemberRules {
        max_active: 10,
        cooldown_ms: 60_000,
        ..MemberRules::default()
    };
    let req = |key: &str| Reserve {
        key: key.into(),
        guild,
        member: MemberId(6),
        amount: 10,
        memo: "video".into(),
    };
    a.admit(req("cool-1"), None, Some(cooled.clone()))
        .await
        .unwrap();
    let refused = b.admit(req("cool-2"), None, Some(cooled)).await;
    assert!(
        matches!(refused, Err(LedgerError::Cooldown { .. })),
        "{refused:?}"
    );
    assert_consistent(&a, [PoolId(9)]);
}

/// `verify` reads one consistent snapshot, so it reports nothing while another process
/// keeps moving money (as `credits verify` runs beside the bots on PostgreSQL).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn verify_agrees_with_itself_while_another_process_writes_postgres() {
    use seedance_bot::credits::{Ledger, LedgerSettings};
    let Some(url) = crate::support::postgres::database_url() else {
        return;
    };
    let open = |url: secrecy::SecretString| {
        let store = seedance_bot::store::postgres::PgStore::connect(&url).unwrap();
        Ledger::open(
            seedance_bot::store::Store::Postgres(store),
            LedgerSettings::default(),
        )
        .unwrap()
    };
    let (writer, checker) = (open(url.clone()), open(url));
    let guild = GuildId(11);
    writer
        .grant(guild, 1_000_000, Actor::Cli, "top-up")
        .await
        .unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writing = {
        let (writer, stop) = (writer.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let key = format!("w-{n}");
                let req = Reserve {
                    key: key.clone(),
                    guild,
                    member: MemberId(1 + n % 5),
                    amount: 10,
                    memo: "video".into(),
                };
                writer.reserve(req, None).await.unwrap();
                writer.settle(&key, 7, None).await.unwrap();
                n += 1;
            }
            n
        })
    };
    for _ in 0..15 {
        let checker = checker.clone();
        let problems = tokio::task::spawn_blocking(move || checker.verify().unwrap())
            .await
            .unwrap();
        assert!(problems.is_empty(), "{problems:#?}");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let pairs = writing.await.unwrap();
    assert!(pairs > 0, "the writer wrote nothing while verify ran");
    assert_consistent(&checker, [PoolId(11)]);
}

on_both_backends!(multi_thread: sixty_four_reserves_against_305_credits_make_exactly_thirty_holds, concurrent_repeats_of_one_key_make_one_hold);
