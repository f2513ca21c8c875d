//! The Seedance client against the fake provider, and the generate/status commands.

mod cli;
mod client;
mod errors;

use std::time::Duration;

use seedance_bot::config::Config;
use seedance_bot::seedance::SeedanceClient;

use crate::support::fake_provider::FakeProvider;

/// A key easy to spot should it ever leak into output.
pub const KEY: &str = "sk-TEST-SECRET-123";

/// A client for the fake with [`KEY`] and the given per-call timeout.
pub fn client_with_timeout(fake: &FakeProvider, timeout: Duration) -> SeedanceClient {
    let config = Config::from_toml(&format!(
        "[seedance]\nbase_url = \"{}\"\napi_key = \"{KEY}\"\nrequest_timeout = \"{}ms\"\n",
        fake.base_url(),
        timeout.as_millis()
    ))
    .expect("test config");
    SeedanceClient::new(&config.seedance).expect("client")
}

pub fn client(fake: &FakeProvider) -> SeedanceClient {
    client_with_timeout(fake, Duration::from_secs(5))
}
