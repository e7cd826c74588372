//! Kratos's UI message catalogue (`text/id.go`): numeric ids, English text and the
//! `context` keys UIs substitute. UIs translate by id, so ids and context keys are
//! the contract; the English here is ours.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TextType {
    Info,
    Error,
    Success,
}

/// A UI message (`uiText`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UiText {
    pub id: u32,
    pub text: String,
    #[serde(rename = "type")]
    pub kind: TextType,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub context: Option<Value>,
}

fn info(id: u32, text: impl Into<String>) -> UiText {
    UiText {
        id,
        text: text.into(),
        kind: TextType::Info,
        context: None,
    }
}

fn error(id: u32, text: impl Into<String>, context: Option<Value>) -> UiText {
    UiText {
        id,
        text: text.into(),
        kind: TextType::Error,
        context,
    }
}

// Labels and informational messages.
pub fn sign_in_refresh() -> UiText {
    info(1010001, "Sign in")
}
pub fn login_refresh_requested() -> UiText {
    info(
        1010003,
        "Please confirm this action by verifying that it is you.",
    )
}
pub fn sign_in_with_password() -> UiText {
    info(1010022, "Sign in with password")
}
pub fn sign_up() -> UiText {
    info(1040001, "Sign up")
}
pub fn back() -> UiText {
    info(1040008, "Back")
}
pub fn choose_credentials() -> UiText {
    info(
        1040009,
        "Please choose a credential to authenticate yourself with.",
    )
}
pub fn password_label() -> UiText {
    info(1070001, "Password")
}
/// A label taken from the identity schema's `title`.
pub fn schema_title(title: &str, name: &str) -> UiText {
    let mut t = info(1070002, title);
    t.context = Some(json!({ "title": title, "name": name }));
    t
}
pub fn identifier_label() -> UiText {
    info(1070004, "ID")
}

// Validation errors (they land on a node, or on the flow for `#/`).
pub fn generic(reason: &str) -> UiText {
    error(4000001, reason, Some(json!({ "reason": reason })))
}
pub fn missing_property(property: &str) -> UiText {
    error(
        4000002,
        format!("Property {property} is missing."),
        Some(json!({ "property": property })),
    )
}
pub fn too_short(min: u64, actual: u64) -> UiText {
    error(
        4000003,
        format!("Length must be >= {min}, but got {actual}."),
        Some(json!({ "min_length": min, "actual_length": actual })),
    )
}
pub fn pattern_mismatch(pattern: &str) -> UiText {
    error(
        4000004,
        format!("does not match pattern \"{pattern}\""),
        Some(json!({ "pattern": pattern })),
    )
}
pub fn invalid_credentials() -> UiText {
    error(
        4000006,
        "The provided credentials are invalid, check for spelling mistakes in your password or username, email address, or phone number.",
        None,
    )
}
pub fn duplicate_identifier() -> UiText {
    error(
        4000007,
        "An account with the same identifier (email, phone, username, ...) exists already.",
        None,
    )
}
pub fn no_identifier() -> UiText {
    error(
        4000009,
        "Could not find any login identifiers. Did you forget to set them? This could also be caused by a server misconfiguration.",
        None,
    )
}
pub fn too_long(max: u64, actual: u64) -> UiText {
    error(
        4000017,
        format!("Length must be <= {max}, but got {actual}."),
        Some(json!({ "max_length": max, "actual_length": actual })),
    )
}
pub fn wrong_type(expected: &str, actual: &str) -> UiText {
    error(
        4000026,
        format!("Expected {expected}, but got {actual}."),
        Some(json!({ "allowed_types": [expected], "actual_type": actual })),
    )
}
pub fn password_too_similar() -> UiText {
    error(
        4000031,
        "The password can not be used because it is too similar to the identifier.",
        None,
    )
}
pub fn password_too_short(min: usize, actual: usize) -> UiText {
    error(
        4000032,
        format!("The password must be at least {min} characters long, but got {actual}."),
        Some(json!({ "min_length": min, "actual_length": actual })),
    )
}
pub fn password_too_long(max: usize, actual: usize) -> UiText {
    error(
        4000033,
        format!("The password must be at most {max} characters long, but got {actual}."),
        Some(json!({ "max_length": max, "actual_length": actual })),
    )
}
pub fn password_breached() -> UiText {
    error(
        4000034,
        "The password has been found in data breaches and must no longer be used.",
        Some(json!({ "breaches": 1 })),
    )
}
pub fn invalid_email(value: &str) -> UiText {
    error(
        4000040,
        format!("\"{value}\" is not valid \"email\""),
        Some(json!({ "value": value })),
    )
}
pub fn flow_expired(
    kind_id: u32,
    expired_at: time::OffsetDateTime,
    now: time::OffsetDateTime,
) -> UiText {
    let minutes = ((now - expired_at).whole_minutes()).max(0);
    error(
        kind_id,
        format!("The flow expired {minutes:.2} minutes ago, please try again."),
        Some(json!({
            "expired_at": crate::timefmt::rfc3339(expired_at),
            "expired_at_unix": expired_at.unix_timestamp(),
        })),
    )
}
pub fn no_strategy(kind_id: u32) -> UiText {
    error(
        kind_id,
        "Could not find a strategy to handle this request. Is the `method` field set to a supported value?",
        None,
    )
}
pub fn account_disabled() -> UiText {
    error(4010011, "Your account has been disabled.", None)
}

pub fn settings_saved() -> UiText {
    UiText {
        id: 1050001,
        text: "Your changes have been saved!".into(),
        kind: TextType::Success,
        context: None,
    }
}
pub fn recovery_successful(
    privileged_until: time::OffsetDateTime,
    now: time::OffsetDateTime,
) -> UiText {
    let minutes = (privileged_until - now).whole_minutes().max(0);
    UiText {
        id: 1060001,
        text: format!("You successfully recovered your account. Please change your password or set up an alternative login method (e.g. social sign in) within the next {minutes} minutes."),
        kind: TextType::Success,
        context: Some(json!({
            "privileged_session_expires_at": crate::timefmt::rfc3339(privileged_until),
            "privilegedSessionExpiresAt": crate::timefmt::rfc3339(privileged_until),
            "privileged_session_expires_at_unix": privileged_until.unix_timestamp(),
        })),
    }
}
pub fn recovery_code_sent() -> UiText {
    info(1060003, "An email containing a recovery code has been sent to the email address you provided. If you have not received an email, check the spelling of the address and make sure to use the address you registered with.")
}
pub fn save() -> UiText {
    info(1070003, "Save")
}
pub fn email_label() -> UiText {
    info(1070007, "Email")
}
pub fn resend_code() -> UiText {
    info(1070008, "Resend code")
}
pub fn continue_label() -> UiText {
    info(1070009, "Continue")
}
pub fn recovery_code_label() -> UiText {
    info(1070010, "Recovery code")
}
pub fn verification_code_label() -> UiText {
    info(1070011, "Verification code")
}
pub fn address_verified() -> UiText {
    UiText {
        id: 1080002,
        text: "You successfully verified your email address.".into(),
        kind: TextType::Success,
        context: None,
    }
}
pub fn verification_code_sent() -> UiText {
    info(1080003, "An email containing a verification code has been sent to the email address you provided. If you have not received an email, check the spelling of the address and make sure to use the address you registered with.")
}
pub fn recovery_code_invalid() -> UiText {
    error(
        4060006,
        "The recovery code is invalid or has already been used. Please try again.",
        None,
    )
}
pub fn verification_code_invalid() -> UiText {
    error(
        4070006,
        "The verification code is invalid or has already been used. Please try again.",
        None,
    )
}
pub fn recovery_already_done() -> UiText {
    error(4060001, "You successfully recovered your account. Please change your password or set up an alternative login method (e.g. social sign in) within the next minutes.", None)
}
pub fn verification_already_done() -> UiText {
    error(
        4070002,
        "This email address was already verified with this flow.",
        None,
    )
}
pub fn too_many_attempts() -> UiText {
    generic("The request was submitted too often. Please request another code.")
}
pub fn no_changes() -> UiText {
    generic("You did not make any changes.")
}
pub fn same_password() -> UiText {
    error(
        4000039,
        "The new password must be different from the old password.",
        None,
    )
}

/// Kratos ids of "flow expired" and "no strategy" per flow kind.
pub const LOGIN_EXPIRED: u32 = 4010001;
pub const REGISTRATION_EXPIRED: u32 = 4040001;
pub const SETTINGS_EXPIRED: u32 = 4050001;
pub const RECOVERY_EXPIRED: u32 = 4060005;
pub const VERIFICATION_EXPIRED: u32 = 4070005;
pub const LOGIN_NO_STRATEGY: u32 = 4010002;
pub const REGISTRATION_NO_STRATEGY: u32 = 4010003;
pub const SETTINGS_NO_STRATEGY: u32 = 4010004;
pub const RECOVERY_NO_STRATEGY: u32 = 4010005;
pub const VERIFICATION_NO_STRATEGY: u32 = 4010006;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_ui_text() {
        let v = serde_json::to_value(missing_property("email")).unwrap();
        assert_eq!(
            v,
            json!({"id": 4000002, "text": "Property email is missing.", "type": "error", "context": {"property": "email"}})
        );
        let v = serde_json::to_value(password_label()).unwrap();
        assert!(v.get("context").is_none());
    }
}
