//! Domain and store errors, converted to `ApiError` in exactly one place each.

use crate::error::ApiError;
use crate::identity::manage::IdentityError;
use crate::identity::schema::Violation;
use crate::password::HashError;
use crate::store::StoreError;

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            ApiError::unavailable(e.into())
        } else {
            ApiError::internal(e)
        }
    }
}

impl From<HashError> for ApiError {
    fn from(e: HashError) -> Self {
        ApiError::internal(e)
    }
}

impl From<IdentityError> for ApiError {
    fn from(e: IdentityError) -> Self {
        match e {
            IdentityError::UnknownSchema(_)
            | IdentityError::NoIdentifier
            | IdentityError::InvalidHash(_)
            | IdentityError::InvalidPatch(_)
            | IdentityError::LastCredential => ApiError::bad_request(e.to_string()),

            IdentityError::Invalid(violations) => schema_violation(&violations),
            IdentityError::Conflict(_) => ApiError::conflict(e.to_string()),
            IdentityError::NotFound => ApiError::not_found("Unable to locate the resource"),
            IdentityError::Store(s) => s.into(),
            IdentityError::Hash(h) => h.into(),
        }
    }
}

/// 400 naming each field that failed the schema and why.
fn schema_violation(violations: &[Violation]) -> ApiError {
    let reason = violations
        .iter()
        .map(|v| {
            if v.field.is_empty() {
                v.message.clone()
            } else {
                format!("{}: {}", v.field, v.message)
            }
        })
        .collect::<Vec<_>>()
        .join("; ");
    let list: Vec<serde_json::Value> = violations
        .iter()
        .map(|v| serde_json::json!({ "field": v.field, "message": v.message }))
        .collect();
    ApiError::bad_request(format!(
        "The traits do not match the identity schema: {reason}"
    ))
    .with_detail("validation_errors", list)
}
