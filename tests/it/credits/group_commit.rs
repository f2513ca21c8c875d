//! Group commit under kill -9: many writers at once share flushes, and every reserve,
//! settle, void and job-only write a child acknowledged survives the restart.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use rand::Rng;
use seedance_bot::credits::{Actor, HoldState, JobWrite, Ledger, LedgerSettings, Reserve};
use seedance_bot::ids::{GuildId, MemberId};

use super::crash::check_after_restart;
use super::jobs;
use crate::support::child::ChildTest;

const DIR_VAR: &str = "SEEDANCE_GROUP_COMMIT_CRASH_DIR";
const CHILD: &str = "credits::group_commit::concurrent_child_for_crash_test";
const GUILD: GuildId = GuildId(42);
const WRITERS: u64 = 32;
const KILLS: usize = 8;

fn job(key: &str, value: &str) -> Option<JobWrite> {
    Some(JobWrite::put(key, value.as_bytes().to_vec()))
}

/// The child: `WRITERS` tasks at once, each reserving its own holds, resolving them and
/// writing job progress (`Ledger::write_job`), printing `ACK ...` after each `Ok`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "run by concurrent_writers_acknowledged_before_kill_nine_all_survive"]
async fn concurrent_child_for_crash_test() {
    let Some(dir) = std::env::var_os(DIR_VAR) else {
        return;
    };
    let db = seedance_bot::store::open(dir.as_ref()).unwrap();
    let ledger = Ledger::open(&db, LedgerSettings::default()).unwrap();
    if ledger.balance(GUILD).unwrap().available < 1_000_000 {
        ledger
            .grant(GUILD, 1_000_000, Actor::System, "crash test")
            .await
            .unwrap();
        println!("ACK grant 1000000");
    }
    let pid = std::process::id();
    let tasks: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let ledger = ledger.clone();
            tokio::spawn(async move {
                for n in 0.. {
                    let key = format!("{pid}-{writer}-{n}");
                    let (amount, roll) = {
                        let mut rng = rand::thread_rng();
                        (rng.gen_range(1..50), rng.gen_range(0..3))
                    };
                    let req = Reserve {
                        key: key.clone(),
                        guild: GUILD,
                        member: MemberId(writer),
                        amount,
                        memo: "crash".into(),
                    };
                    ledger.reserve(req, job(&key, "pending")).await.unwrap();
                    println!("ACK reserve {key} {amount}");
                    let progress = format!("progress-{key}");
                    ledger
                        .write_job(JobWrite::put(progress.as_str(), b"seen".to_vec()))
                        .await
                        .unwrap();
                    println!("ACK progress {progress}");
                    if roll == 0 {
                        ledger
                            .settle(&key, amount, job(&key, "done"))
                            .await
                            .unwrap();
                        println!("ACK settle {key} {amount}");
                    } else if roll == 1 {
                        ledger
                            .void(&key, "crash test", job(&key, ""))
                            .await
                            .unwrap();
                        println!("ACK void {key}");
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

#[test]
fn concurrent_writers_acknowledged_before_kill_nine_all_survive() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = rand::thread_rng();
    let mut acked_grants = 0u64;
    let mut acked: BTreeMap<String, (HoldState, Option<u64>)> = BTreeMap::new();
    let mut progress: BTreeSet<String> = BTreeSet::new();
    let mut writers_seen: BTreeSet<String> = BTreeSet::new();
    for _ in 0..KILLS {
        let after = Duration::from_millis(rng.gen_range(100..400));
        let lines = ChildTest::run_killed_after(CHILD, &[(DIR_VAR, dir.path().as_os_str())], after);
        for line in lines {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["ACK", "grant", n] => acked_grants += n.parse::<u64>().unwrap(),
                ["ACK", "reserve", key, _] => {
                    // pid-writer: acknowledgements from many writers prove they ran at once.
                    writers_seen.insert(key.rsplit_once('-').unwrap().0.to_owned());
                    acked.insert(key.to_string(), (HoldState::Pending, None));
                }
                ["ACK", "progress", key] => {
                    progress.insert(key.to_string());
                }
                ["ACK", "settle", key, n] => {
                    let n = n.parse().unwrap();
                    acked.insert(key.to_string(), (HoldState::Settled, Some(n)));
                }
                ["ACK", "void", key] => {
                    acked.insert(key.to_string(), (HoldState::Voided, None));
                }
                _ => {}
            }
        }
        check_after_restart(dir.path(), acked_grants, &acked);
        let db = seedance_bot::store::open(dir.path()).unwrap();
        let ledger = Ledger::open(&db, LedgerSettings::default()).unwrap();
        let stored = jobs(&ledger);
        for key in &progress {
            assert_eq!(
                stored.get(key).map(String::as_str),
                Some("seen"),
                "acknowledged job-only write {key} lost"
            );
        }
    }
    eprintln!(
        "group commit crash test: {} holds, {} progress writes, {} writers acknowledged",
        acked.len(),
        progress.len(),
        writers_seen.len()
    );
    assert!(
        writers_seen.len() as u64 > WRITERS,
        "too few writers acknowledged anything: {}",
        writers_seen.len()
    );
}
