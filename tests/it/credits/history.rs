//! History reads through the indexes: a pool's journal and a server's jobs, newest first,
//! paged, per member (on both backends); a sled store written before the indexes gets them
//! at open; `verify` notices an index that disagrees with its rows.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use seedance_bot::credits::{
    Actor, IndexedJob, JobIndex, JobWrite, JournalEntry, Ledger, LedgerSettings, PoolId, Reserve,
};
use seedance_bot::ids::{GuildId, MemberId};

use super::{Backend, START_MILLIS, TestLedger, test_ledger_on};

const GUILD: GuildId = GuildId(10);
const OTHER_GUILD: GuildId = GuildId(20);
const ALICE: MemberId = MemberId(1);
const BOB: MemberId = MemberId(2);

struct Store {
    db: sled::Db,
    clock: Arc<AtomicI64>,
    _dir: tempfile::TempDir,
}

impl Store {
    fn new() -> Store {
        let dir = tempfile::tempdir().unwrap();
        Store {
            db: seedance_bot::store::open(dir.path()).unwrap(),
            clock: Arc::new(AtomicI64::new(START_MILLIS)),
            _dir: dir,
        }
    }

    fn ledger(&self) -> Ledger {
        let read = self.clock.clone();
        Ledger::open(&self.db, LedgerSettings::default())
            .unwrap()
            .with_clock(Arc::new(move || read.load(Ordering::SeqCst)))
    }
}

/// Reserves 10 credits for `member` in `guild` with a job record made now, as the job
/// queue writes it (the fields the index orders by, and the index).
async fn job(clock: &AtomicI64, ledger: &Ledger, guild: GuildId, member: MemberId, id: &str) {
    let created_at = clock.fetch_add(1000, Ordering::SeqCst) + 1000;
    let record = serde_json::json!({
        "id": id,
        "created_at": created_at,
        "request": { "guild": guild.0, "member": member.0, "prompt": "a boat" },
    });
    let write = JobWrite::put(id, serde_json::to_vec(&record).unwrap()).indexed(JobIndex {
        guild,
        member,
        created_at,
    });
    let reserve = Reserve {
        key: id.to_owned(),
        guild,
        member,
        amount: 10,
        memo: "video".into(),
    };
    ledger.reserve(reserve, Some(write)).await.unwrap();
}

/// Jobs for Alice and Bob in GUILD (ids a0.., b0..) and one in OTHER_GUILD, interleaved.
async fn some_jobs(clock: &AtomicI64, ledger: &Ledger) {
    for guild in [GUILD, OTHER_GUILD] {
        ledger
            .grant(guild, 1000, Actor::Cli, "top-up")
            .await
            .unwrap();
    }
    for i in 0..4 {
        job(clock, ledger, GUILD, ALICE, &format!("a{i}")).await;
        if i < 3 {
            job(clock, ledger, GUILD, BOB, &format!("b{i}")).await;
        }
    }
    job(clock, ledger, OTHER_GUILD, ALICE, "elsewhere").await;
    ledger.settle("a1", 10, None).await.unwrap();
    ledger.void("b0", "failed", None).await.unwrap();
}

fn ids(jobs: &[IndexedJob]) -> Vec<&str> {
    jobs.iter().map(|j| j.id.as_str()).collect()
}

/// Every page of `read` (given the previous page's last item), concatenated.
fn all_pages<T: Clone>(size: usize, read: impl Fn(Option<&T>, usize) -> Vec<T>) -> Vec<T> {
    let (mut all, mut last) = (Vec::new(), None::<T>);
    loop {
        let page = read(last.as_ref(), size);
        assert!(page.len() <= size);
        all.extend(page.iter().cloned());
        match page.last() {
            Some(l) if page.len() == size => last = Some(l.clone()),
            _ => return all,
        }
    }
}

async fn recent_jobs_are_newest_first_per_server_and_member_and_paged(backend: Backend) {
    let Some(TestLedger { ledger, clock, .. }) = test_ledger_on(backend, 0) else {
        return;
    };
    some_jobs(&clock, &ledger).await;

    let recent = |member: Option<MemberId>, before: Option<&IndexedJob>, limit: usize| {
        ledger.recent_jobs(GUILD, member, before, limit).unwrap()
    };
    assert_eq!(
        ids(&recent(None, None, 100)),
        ["a3", "b2", "a2", "b1", "a1", "b0", "a0"]
    );
    assert_eq!(ids(&recent(None, None, 3)), ["a3", "b2", "a2"]);
    let first = recent(None, None, 3);
    assert_eq!(ids(&recent(None, first.last(), 3)), ["b1", "a1", "b0"]);
    assert_eq!(
        ids(&recent(Some(ALICE), None, 100)),
        ["a3", "a2", "a1", "a0"]
    );
    assert_eq!(ids(&recent(Some(BOB), None, 100)), ["b2", "b1", "b0"]);
    let paged = all_pages(2, |before, n| recent(Some(ALICE), before, n));
    assert_eq!(ids(&paged), ["a3", "a2", "a1", "a0"]);
    assert_eq!(
        ids(&ledger.recent_jobs(OTHER_GUILD, None, None, 100).unwrap()),
        ["elsewhere"]
    );
    assert!(recent(Some(MemberId(99)), None, 100).is_empty());
    assert!(ledger.verify().unwrap().is_empty());
}

fn seqs(rows: &[JournalEntry]) -> Vec<u64> {
    rows.iter().map(|r| r.seq).collect()
}

async fn the_journal_is_newest_first_per_pool_and_member_and_paged(backend: Backend) {
    let Some(TestLedger { ledger, clock, .. }) = test_ledger_on(backend, 0) else {
        return;
    };
    some_jobs(&clock, &ledger).await;
    let pool = PoolId(GUILD.0);

    let whole = ledger.pool_history(pool, None, usize::MAX).unwrap();
    // A grant, seven reserves, a settle and a void.
    assert_eq!(seqs(&whole), (0..10).rev().collect::<Vec<_>>());
    let page = |member: Option<MemberId>, before: Option<&JournalEntry>, n: usize| {
        ledger
            .pool_history_page(pool, member, before.map(|r| r.seq), n)
            .unwrap()
    };
    assert_eq!(seqs(&all_pages(3, |b, n| page(None, b, n))), seqs(&whole));
    for member in [ALICE, BOB] {
        let mine: Vec<u64> = whole
            .iter()
            .filter(|r| r.member == Some(member))
            .map(|r| r.seq)
            .collect();
        assert!(mine.len() >= 3, "{mine:?}");
        assert_eq!(
            seqs(&ledger.pool_history(pool, Some(member), 100).unwrap()),
            mine
        );
        assert_eq!(seqs(&all_pages(2, |b, n| page(Some(member), b, n))), mine);
    }
    // The newest of Bob's rows is the refund of his first job.
    let bob = ledger.history(GUILD, Some(BOB), 1).unwrap();
    assert_eq!(bob[0].hold.as_deref(), Some("b0"));
}

#[tokio::test]
async fn a_store_without_indexes_gets_them_at_open() {
    let store = Store::new();
    let ledger = store.ledger();
    some_jobs(&store.clock, &ledger).await;
    let before_jobs = ids(&ledger.recent_jobs(GUILD, Some(BOB), None, 100).unwrap()).join(",");
    let before_rows = seqs(
        &ledger
            .pool_history(PoolId(GUILD.0), Some(ALICE), 100)
            .unwrap(),
    );

    // What a store written before the indexes has: neither the index rows nor their marks.
    for tree in [
        "credits.journal_by_member",
        "jobs.by_member",
        "credits.indexes",
    ] {
        store.db.open_tree(tree).unwrap().clear().unwrap();
    }
    // The reads go through the indexes, not a scan of every row.
    assert!(
        ledger
            .recent_jobs(GUILD, Some(BOB), None, 100)
            .unwrap()
            .is_empty()
    );
    let pool = PoolId(GUILD.0);
    assert!(
        ledger
            .pool_history(pool, Some(ALICE), 100)
            .unwrap()
            .is_empty()
    );
    assert!(!ledger.verify().unwrap().is_empty());
    drop(ledger);
    let ledger = store.ledger();
    assert_eq!(
        ids(&ledger.recent_jobs(GUILD, Some(BOB), None, 100).unwrap()).join(","),
        before_jobs
    );
    assert_eq!(
        seqs(
            &ledger
                .pool_history(PoolId(GUILD.0), Some(ALICE), 100)
                .unwrap()
        ),
        before_rows
    );
    assert!(ledger.verify().unwrap().is_empty());
    // New writes keep the rebuilt index in step.
    job(&store.clock, &ledger, GUILD, BOB, "b9").await;
    assert_eq!(
        ids(&ledger.recent_jobs(GUILD, Some(BOB), None, 1).unwrap()),
        ["b9"]
    );
    assert!(ledger.verify().unwrap().is_empty());
}

#[tokio::test]
async fn verify_reports_an_index_that_disagrees_with_its_rows() {
    let store = Store::new();
    let ledger = store.ledger();
    some_jobs(&store.clock, &ledger).await;
    let index = store.db.open_tree("jobs.by_member").unwrap();
    let (key, _) = index.first().unwrap().unwrap();
    index.remove(&key).unwrap();
    let journal_index = store.db.open_tree("credits.journal_by_member").unwrap();
    journal_index
        .insert(
            [
                GUILD.0.to_be_bytes(),
                7u64.to_be_bytes(),
                999u64.to_be_bytes(),
            ]
            .concat(),
            &[],
        )
        .unwrap();

    let problems = ledger.verify().unwrap();
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("jobs.by_member") && p.contains("is missing")),
        "{problems:#?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("member 7, seq 999") && p.contains("indexes nothing")),
        "{problems:#?}"
    );
}

/// Jobs submitted through the real job queue are listed by `Jobs::recent` from the index,
/// and the index agrees with the stored job records (also when rebuilt at open).
#[tokio::test]
async fn submitted_jobs_are_listed_newest_first_from_the_index() {
    use crate::jobs::{Bot, config_with, request};

    let dir = tempfile::tempdir().unwrap();
    // Never driven: nothing reaches the provider.
    let config = config_with("http://127.0.0.1:9", |c| c.jobs.max_active_per_user = 5);
    let bot = Bot::open(dir.path(), config, Arc::default()).await;
    bot.grant(1, 10_000).await;
    bot.grant(2, 10_000).await;
    for (key, guild, member) in [("j1", 1, 11), ("j2", 1, 12), ("j3", 2, 11), ("j4", 1, 11)] {
        bot.jobs.submit(request(key, guild, member)).await.unwrap();
    }
    let keys = |jobs: Vec<seedance_bot::jobs::JobRecord>| -> Vec<String> {
        jobs.into_iter().map(|j| j.id.0).collect()
    };
    assert_eq!(
        keys(bot.jobs.recent(GuildId(1), None, 10)),
        ["j4", "j2", "j1"]
    );
    assert_eq!(keys(bot.jobs.recent(GuildId(1), None, 2)), ["j4", "j2"]);
    assert_eq!(
        keys(bot.jobs.recent(GuildId(1), Some(MemberId(11)), 10)),
        ["j4", "j1"]
    );
    assert_eq!(keys(bot.jobs.recent(GuildId(2), None, 10)), ["j3"]);
    assert!(bot.ledger.verify().unwrap().is_empty());

    for tree in ["jobs.by_member", "credits.indexes"] {
        bot.ledger
            .store()
            .sled()
            .unwrap()
            .open_tree(tree)
            .unwrap()
            .clear()
            .unwrap();
    }
    assert!(bot.jobs.recent(GuildId(1), None, 10).is_empty());
    let reopened = Ledger::open(bot.ledger.store(), LedgerSettings::default()).unwrap();
    let listed = reopened.recent_jobs(GuildId(1), None, None, 10).unwrap();
    assert_eq!(ids(&listed), ["j4", "j2", "j1"]);
    assert!(reopened.verify().unwrap().is_empty());
}

crate::on_both_backends!(
    recent_jobs_are_newest_first_per_server_and_member_and_paged,
    the_journal_is_newest_first_per_pool_and_member_and_paged
);
