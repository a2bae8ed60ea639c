//! TEMPORARY stand-in until the ssrf branch lands.
use std::net::SocketAddr;
use std::time::Duration;

pub struct Target(url::Url);
impl Target {
    pub fn origin(&self) -> String {
        self.0.origin().ascii_serialization()
    }
}
pub fn parse_target(url: &str) -> Result<Target, String> {
    url::Url::parse(url).map(Target).map_err(|e| e.to_string())
}
pub async fn vet(t: &Target, _allow: bool) -> Result<Vec<SocketAddr>, String> {
    t.0.socket_addrs(|| None).map_err(|e| e.to_string())
}
pub fn client_for(
    _t: &Target,
    _a: &[SocketAddr],
    timeout: Duration,
) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())
}
