//! The credit ledger: properties, concurrency, crash safety, CLI.
