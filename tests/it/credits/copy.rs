//! `seedance-bot store copy`: an installation moved from its sled data directory to
//! PostgreSQL loses no row, and both sides verify.

use std::process::Command;

use secrecy::ExposeSecret;
use seedance_bot::credits::{Actor, JobWrite, Ledger, LedgerSettings, PoolId, Reserve};
use seedance_bot::ids::{GuildId, MemberId};
use seedance_bot::store::Store;
use seedance_bot::store::postgres::PgStore;

fn store_copy(work: &std::path::Path, from: &str, to: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_seedance-bot"))
        .args(["store", "copy", "--from", from, "--to", to])
        .current_dir(work)
        .env_remove("RUST_LOG")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sled_installation_moves_to_postgres_row_for_row() {
    let Some(url) = crate::support::postgres::database_url() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    {
        let db = seedance_bot::store::open(&data).unwrap();
        let ledger = Ledger::open(&db, LedgerSettings::default()).unwrap();
        ledger
            .grant(GuildId(1), 5_000, Actor::Cli, "top-up")
            .await
            .unwrap();
        ledger
            .link(GuildId(2), GuildId(1), Actor::Cli)
            .await
            .unwrap();
        for i in 0..30u64 {
            let req = Reserve {
                key: format!("job-{i}"),
                guild: GuildId(1 + i % 2),
                member: MemberId(10 + i % 4),
                amount: 50,
                memo: "video".into(),
            };
            let job = JobWrite::put(format!("job-{i}"), format!("{{\"n\":{i}}}").into_bytes());
            ledger.reserve(req, Some(job)).await.unwrap();
            match i % 3 {
                0 => drop(ledger.settle(&format!("job-{i}"), 40, None).await.unwrap()),
                1 => drop(
                    ledger
                        .void(&format!("job-{i}"), "failed", None)
                        .await
                        .unwrap(),
                ),
                _ => {}
            }
        }
        ledger
            .set_member_cap(GuildId(1), MemberId(10), Some(900), Actor::Cli)
            .await
            .unwrap();
        db.flush().unwrap();
    }
    let url = url.expose_secret().to_owned();
    let out = store_copy(
        dir.path(),
        &format!("sled:{}", data.display()),
        &format!("postgres:{url}"),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("both stores verify"), "{stdout}");

    // Every tree holds the same pairs on both sides, and the ledger reads the same.
    let sled_store = Store::from(seedance_bot::store::open(&data).unwrap());
    let pg = PgStore::connect(&secrecy::SecretString::from(url.clone())).unwrap();
    let pg_store = Store::Postgres(pg);
    let names = sled_store.tree_names().unwrap();
    assert!(names.iter().any(|n| n == "credits.journal"), "{names:?}");
    for name in &names {
        let name: &'static str = Box::leak(name.clone().into_boxed_str());
        let pairs = |s: &Store| -> Vec<(Vec<u8>, Vec<u8>)> {
            s.tree(name)
                .unwrap()
                .iter()
                .map(|p| {
                    let (k, v) = p.unwrap();
                    (k.to_vec(), v.to_vec())
                })
                .collect()
        };
        assert_eq!(pairs(&sled_store), pairs(&pg_store), "tree {name}");
    }
    let (a, b) = (
        Ledger::open(sled_store, LedgerSettings::default()).unwrap(),
        Ledger::open(pg_store, LedgerSettings::default()).unwrap(),
    );
    assert_eq!(
        a.pool_balance(PoolId(1)).unwrap(),
        b.pool_balance(PoolId(1)).unwrap()
    );
    assert_eq!(
        a.pool_history(PoolId(1), None, usize::MAX).unwrap(),
        b.pool_history(PoolId(1), None, usize::MAX).unwrap()
    );
    assert_eq!(
        a.member_usage(GuildId(1), MemberId(10), &[]).unwrap(),
        b.member_usage(GuildId(1), MemberId(10), &[]).unwrap()
    );
    assert!(b.verify().unwrap().is_empty());
    drop(a);

    // A second copy into the now full database is refused and changes nothing.
    let again = store_copy(
        dir.path(),
        &format!("sled:{}", data.display()),
        &format!("postgres:{url}"),
    );
    assert!(!again.status.success());
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(said.contains("already holds records"), "{said}");
    assert!(
        !said.contains("postgres://postgres@"),
        "the URL is not echoed: {said}"
    );
}
