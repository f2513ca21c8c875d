//! Credits: the shared-pool ledger (two-phase holds in sled). Knows nothing of Discord.
