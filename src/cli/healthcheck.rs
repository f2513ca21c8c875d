//! `healthcheck`: asks the running bot's `/healthz` and exits 0 only on 200. The container
//! image has no curl; this is its `HEALTHCHECK`.

use std::process::ExitCode;
use std::time::Duration;

use crate::config::Config;

/// How long the whole check may take.
const TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, clap::Args)]
pub struct HealthcheckArgs {
    /// The URL to ask (default: `/healthz` on `http.listen`, on 127.0.0.1 when it listens on
    /// every address).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
}

pub async fn run(args: HealthcheckArgs, config: &Config) -> ExitCode {
    let url = match args.url {
        Some(url) if !is_http_url(&url) => {
            eprintln!(
                "unhealthy: --url `{url}` is not an http(s) URL: give it like http://127.0.0.1:8080/healthz"
            );
            return ExitCode::FAILURE;
        }
        Some(url) => url,
        None => match default_url(&config.http.listen) {
            Some(url) => url,
            None => {
                eprintln!("unhealthy: http.listen is not set, and no --url was given");
                return ExitCode::FAILURE;
            }
        },
    };
    let client = match reqwest::Client::builder().timeout(TIMEOUT).build() {
        Ok(client) => client,
        Err(e) => {
            eprintln!("unhealthy: {e}");
            return ExitCode::FAILURE;
        }
    };
    match client.get(&url).send().await {
        Ok(res) if res.status() == reqwest::StatusCode::OK => {
            println!("healthy: {url}");
            ExitCode::SUCCESS
        }
        Ok(res) => {
            let status = res.status();
            let body = res.text().await.unwrap_or_default();
            eprintln!("unhealthy: {url} answered {status}: {body}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("unhealthy: {url}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn is_http_url(text: &str) -> bool {
    url::Url::parse(text).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

/// `http://HOST:PORT/healthz` for `listen`, asking loopback when it binds every address.
fn default_url(listen: &str) -> Option<String> {
    let listen = listen.trim();
    let Ok(addr) = listen.parse::<std::net::SocketAddr>() else {
        // A name (`localhost:8080`): ask it as written.
        return (!listen.is_empty()).then(|| format!("http://{listen}/healthz"));
    };
    let host = match addr.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_owned(),
        ip if ip.is_unspecified() => "[::1]".to_owned(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    Some(format!("http://{host}:{}/healthz", addr.port()))
}

#[cfg(test)]
mod tests {
    use super::default_url;

    #[test]
    fn default_url_asks_loopback_for_every_address() {
        assert_eq!(
            default_url("0.0.0.0:8080").as_deref(),
            Some("http://127.0.0.1:8080/healthz")
        );
        assert_eq!(
            default_url("[::]:9000").as_deref(),
            Some("http://[::1]:9000/healthz")
        );
        assert_eq!(
            default_url("10.0.0.5:81").as_deref(),
            Some("http://10.0.0.5:81/healthz")
        );
        assert_eq!(
            default_url("localhost:8080").as_deref(),
            Some("http://localhost:8080/healthz")
        );
        assert_eq!(default_url(""), None);
    }
}
