//! Kratos's three public rate-limit buckets (contract §1.0), per client IP, with
//! actix-governor's limiter (GCRA). Every limited response carries
//! `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`; a refusal
//! is 429 in the Kratos envelope with `Retry-After`.

use crate::error::{ApiError, ErrorId};
use actix_governor::governor::clock::{Clock, DefaultClock};
use actix_governor::governor::middleware::StateInformationMiddleware;
use actix_governor::governor::state::keyed::DefaultKeyedStateStore;
use actix_governor::governor::RateLimiter;
use actix_governor::{GovernorConfigBuilder, PeerIpKeyExtractor};
use actix_web::http::{header, Method, StatusCode};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

type Limiter =
    RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock, StateInformationMiddleware>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bucket {
    /// Sensitive operations: every self-service submit, revoking sessions.
    Low,
    /// Regular operations: creating flows, listing sessions.
    Medium,
    /// High-frequency operations: fetching flows, whoami, errors.
    High,
}

impl Bucket {
    pub fn name(self) -> &'static str {
        match self {
            Bucket::Low => "kratos-public-low",
            Bucket::Medium => "kratos-public-medium",
            Bucket::High => "kratos-public-high",
        }
    }
}

/// Which bucket a public request falls in; `None` is never limited.
pub fn bucket_for(method: &Method, path: &str) -> Option<Bucket> {
    let path = path.trim_end_matches('/');
    if matches!(path, "/health/alive" | "/health/ready" | "/version") || *method == Method::OPTIONS
    {
        return None;
    }
    let submit = path.strip_prefix("/self-service/").is_some_and(|f| {
        matches!(
            f,
            "login" | "registration" | "settings" | "recovery" | "verification"
        )
    });
    Some(match (method.as_str(), path) {
        ("POST", _) if submit => Bucket::Low,
        ("DELETE", p)
            if p == "/sessions" || (p.starts_with("/sessions/") && p != "/sessions/whoami") =>
        {
            Bucket::Low
        }
        (_, p) if p.ends_with("/browser") || p.ends_with("/api") => Bucket::Medium,
        ("GET", "/sessions") => Bucket::Medium,
        (_, p) if p.starts_with("/schemas") || p.starts_with("/ui") => Bucket::Medium,
        _ => Bucket::High,
    })
}

struct BucketLimiter {
    limiter: Arc<Limiter>,
    per_minute: u32,
    burst: u32,
}

impl BucketLimiter {
    fn new(per_minute: u32, burst: u32) -> Option<BucketLimiter> {
        if per_minute == 0 {
            return None;
        }
        let burst = if burst == 0 { per_minute } else { burst };
        let config = GovernorConfigBuilder::default()
            .key_extractor(PeerIpKeyExtractor)
            .requests_per_minute(u64::from(per_minute))
            .burst_size(burst)
            .use_headers()
            .finish()?;
        Some(BucketLimiter {
            limiter: config.limiter(),
            per_minute,
            burst,
        })
    }

    fn period(&self) -> Duration {
        Duration::from_secs(60) / self.per_minute.max(1)
    }
}

/// The three buckets, shared by every worker.
#[derive(Clone)]
pub struct RateLimits {
    low: Arc<Option<BucketLimiter>>,
    medium: Arc<Option<BucketLimiter>>,
    high: Arc<Option<BucketLimiter>>,
}

/// What the limiter decided for one request.
pub enum Decision {
    Unlimited,
    Allowed {
        limit: u32,
        remaining: u32,
        reset_secs: u64,
    },
    Refused {
        limit: u32,
        retry_after_secs: u64,
        bucket: Bucket,
    },
}

impl RateLimits {
    /// Limits per minute for low, medium and high (0 disables one); `burst` 0
    /// means "the bucket's per-minute limit".
    pub fn new(low: u32, medium: u32, high: u32, burst: u32) -> RateLimits {
        RateLimits {
            low: Arc::new(BucketLimiter::new(low, burst)),
            medium: Arc::new(BucketLimiter::new(medium, burst)),
            high: Arc::new(BucketLimiter::new(high, burst)),
        }
    }

    pub fn check(&self, bucket: Option<Bucket>, ip: Option<IpAddr>) -> Decision {
        let (Some(bucket), Some(ip)) = (bucket, ip) else {
            return Decision::Unlimited;
        };
        let slot = match bucket {
            Bucket::Low => &self.low,
            Bucket::Medium => &self.medium,
            Bucket::High => &self.high,
        };
        let Some(b) = slot.as_ref() else {
            return Decision::Unlimited;
        };
        if b.limiter.len() > 100_000 {
            b.limiter.retain_recent();
        }
        match b.limiter.check_key(&ip) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                let used = b.burst.saturating_sub(remaining);
                Decision::Allowed {
                    limit: b.burst,
                    remaining,
                    reset_secs: (b.period() * used).as_secs_f64().ceil() as u64,
                }
            }
            Err(not_until) => Decision::Refused {
                limit: b.burst,
                retry_after_secs: not_until
                    .wait_time_from(DefaultClock::default().now())
                    .as_secs()
                    .max(1),
                bucket,
            },
        }
    }
}

/// The 429 answer: Kratos envelope, `Retry-After` and the rate-limit headers.
pub fn refusal(limit: u32, retry_after_secs: u64, bucket: Bucket) -> actix_web::HttpResponse {
    let err = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        format!(
            "Too many requests from this address for the {} bucket; retry in {retry_after_secs} seconds.",
            bucket.name()
        ),
    )
    .with_id(ErrorId::RateLimitExceeded);
    let mut resp = actix_web::ResponseError::error_response(&err);
    let h = resp.headers_mut();
    for (name, value) in [
        (header::RETRY_AFTER, retry_after_secs.to_string()),
        (
            header::HeaderName::from_static("x-ratelimit-limit"),
            limit.to_string(),
        ),
        (
            header::HeaderName::from_static("x-ratelimit-remaining"),
            "0".to_owned(),
        ),
        (
            header::HeaderName::from_static("x-ratelimit-reset"),
            retry_after_secs.to_string(),
        ),
    ] {
        if let Ok(v) = header::HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
    resp
}

/// Adds the rate-limit headers to an allowed response.
pub fn add_headers(headers: &mut header::HeaderMap, limit: u32, remaining: u32, reset_secs: u64) {
    for (name, value) in [
        ("x-ratelimit-limit", limit.to_string()),
        ("x-ratelimit-remaining", remaining.to_string()),
        ("x-ratelimit-reset", reset_secs.to_string()),
    ] {
        if let Ok(v) = header::HeaderValue::from_str(&value) {
            headers.insert(header::HeaderName::from_static(name), v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_map_to_kratos_buckets() {
        let cases = [
            (Method::POST, "/self-service/login", Some(Bucket::Low)),
            (Method::POST, "/self-service/settings", Some(Bucket::Low)),
            (Method::DELETE, "/sessions", Some(Bucket::Low)),
            (Method::DELETE, "/sessions/abc", Some(Bucket::Low)),
            (
                Method::GET,
                "/self-service/login/browser",
                Some(Bucket::Medium),
            ),
            (
                Method::GET,
                "/self-service/recovery/api",
                Some(Bucket::Medium),
            ),
            (
                Method::DELETE,
                "/self-service/logout/api",
                Some(Bucket::Medium),
            ),
            (Method::GET, "/sessions", Some(Bucket::Medium)),
            (Method::GET, "/self-service/login/flows", Some(Bucket::High)),
            (Method::GET, "/sessions/whoami", Some(Bucket::High)),
            (Method::DELETE, "/sessions/whoami", Some(Bucket::High)),
            (Method::GET, "/self-service/errors", Some(Bucket::High)),
            (Method::GET, "/self-service/logout", Some(Bucket::High)),
            (Method::GET, "/health/ready", None),
            (Method::GET, "/version", None),
            (Method::OPTIONS, "/self-service/login", None),
        ];
        for (m, p, b) in cases {
            assert_eq!(bucket_for(&m, p), b, "{m} {p}");
        }
    }

    #[test]
    fn a_bucket_refuses_past_its_burst_per_ip() {
        let limits = RateLimits::new(3, 0, 0, 0);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for expected in [2, 1, 0] {
            match limits.check(Some(Bucket::Low), Some(a)) {
                Decision::Allowed {
                    remaining, limit, ..
                } => assert_eq!((remaining, limit), (expected, 3)),
                _ => panic!("allowed expected"),
            }
        }
        assert!(
            matches!(limits.check(Some(Bucket::Low), Some(a)), Decision::Refused { retry_after_secs, .. } if retry_after_secs >= 1)
        );
        assert!(
            matches!(
                limits.check(Some(Bucket::Low), Some(b)),
                Decision::Allowed { .. }
            ),
            "per IP"
        );
        assert!(
            matches!(
                limits.check(Some(Bucket::Medium), Some(a)),
                Decision::Unlimited
            ),
            "0 disables"
        );
    }
}
