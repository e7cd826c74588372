//! Reading the admin listener's Prometheus metrics.

use super::TestApp;

impl TestApp {
    /// Every sample of `GET /metrics/prometheus`: (name with labels, value).
    pub async fn metrics(&self) -> Vec<(String, f64)> {
        let resp = self
            .http
            .get(self.admin_url("/metrics/prometheus"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert!(resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain"));
        parse_prometheus(&resp.text().await.unwrap())
    }
}

fn parse_prometheus(text: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (name, value) = l.rsplit_once(' ').unwrap_or_else(|| panic!("bad line {l}"));
            (
                name.to_owned(),
                value
                    .parse::<f64>()
                    .unwrap_or_else(|_| panic!("bad value in {l}")),
            )
        })
        .collect()
}

/// The sum of the samples named exactly `name` (0 when there are none).
pub fn metric(samples: &[(String, f64)], name: &str) -> f64 {
    samples
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v)
        .sum()
}
