//! Server settings on both backends: changes are read-modify-write transactions, so two
//! handles changing one server at once (two processes on PostgreSQL) lose nothing.

use std::time::Duration;

use seedance_bot::guild_settings::{CommandRate, GuildSettings};
use seedance_bot::ids::{ChannelId, GuildId};

use super::Backend;

async fn concurrent_changes_to_one_server_are_all_kept(backend: Backend) {
    let (store, _dir) = match backend {
        Backend::Sled => {
            let dir = tempfile::tempdir().unwrap();
            let db = seedance_bot::store::open(dir.path()).unwrap();
            (seedance_bot::store::Store::from(db), Some(dir))
        }
        Backend::Postgres => match crate::support::postgres::store() {
            Some(store) => (store, None),
            None => return,
        },
    };
    let rate = || CommandRate::new(5, Duration::from_secs(10));
    // Two handles on one store, as two processes would have.
    let (a, b) = (
        GuildSettings::open(&store, rate()).unwrap(),
        GuildSettings::open(&store, rate()).unwrap(),
    );
    let guild = GuildId(77);
    let tasks: Vec<_> = (0..24u64)
        .map(|i| {
            let settings = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move {
                settings
                    .update(guild, move |s| s.allowed_channels.push(ChannelId(1000 + i)))
                    .await
                    .unwrap()
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let mut channels = b.get(guild).unwrap().allowed_channels;
    channels.sort();
    assert_eq!(
        channels,
        (0..24).map(|i| ChannelId(1000 + i)).collect::<Vec<_>>()
    );
    assert_eq!(a.get(GuildId(78)).unwrap().allowed_channels, vec![]);
}

on_both_backends!(multi_thread: concurrent_changes_to_one_server_are_all_kept);
