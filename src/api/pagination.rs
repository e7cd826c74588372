//! Keyset pagination as Kratos does it: `page_size` + opaque `page_token`, and a
//! `Link` header with `rel="first"` and, unless on the last page, `rel="next"`.

use crate::crypto;
use crate::error::ApiError;
use actix_web::HttpRequest;
use serde::Deserialize;
use uuid::Uuid;

pub const DEFAULT_PAGE_SIZE: u32 = 250;
pub const MAX_PAGE_SIZE: u32 = 1000;

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    pub page_size: Option<u32>,
    pub page_token: Option<String>,
    /// Legacy name; treated as `page_size` when that is absent.
    pub per_page: Option<u32>,
}

impl PageQuery {
    pub fn size(&self) -> Result<u32, ApiError> {
        let size = self
            .page_size
            .or(self.per_page)
            .unwrap_or(DEFAULT_PAGE_SIZE);
        if size == 0 {
            return Err(ApiError::bad_request("page_size must be at least 1"));
        }
        Ok(size.min(MAX_PAGE_SIZE))
    }

    /// The id the page starts after.
    pub fn after(&self) -> Result<Option<Uuid>, ApiError> {
        self.page_token.as_deref().map(decode_token).transpose()
    }
}

pub fn encode_token(last: Uuid) -> String {
    crypto::b64_url_nopad(last.as_bytes())
}

fn decode_token(token: &str) -> Result<Uuid, ApiError> {
    crypto::b64_url_nopad_decode(token)
        .and_then(|b| Uuid::from_slice(&b).ok())
        .ok_or_else(|| ApiError::bad_request("page_token is not a valid page token"))
}

/// The `Link` header for a page; `next` is the last id when more pages follow.
pub fn link_header(req: &HttpRequest, size: u32, next: Option<Uuid>) -> String {
    link_header_with(req, size, next.map(encode_token))
}

/// The `Link` header with an already encoded `next` page token.
pub fn link_header_with(req: &HttpRequest, size: u32, next: Option<String>) -> String {
    let info = req.connection_info();
    let base = format!("{}://{}{}", info.scheme(), info.host(), req.path());
    let mut link = format!("<{base}?page_size={size}>; rel=\"first\"");
    if let Some(token) = next {
        link.push_str(&format!(
            ",<{base}?page_size={size}&page_token={token}>; rel=\"next\""
        ));
    }
    link
}

/// All values of a repeatable query parameter (`?include_credential=a&include_credential=b`).
pub fn query_values(req: &HttpRequest, key: &str) -> Vec<String> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .collect()
}
