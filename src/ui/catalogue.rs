//! The English texts of the self-service pages, by Kratos message id. Adding a
//! language is adding a table like this one. `{key}` is replaced by the
//! message's context value; unknown ids fall back to the server's text.

use crate::flow::text::UiText;
use serde_json::Value;

fn english(id: u32) -> Option<&'static str> {
    Some(match id {
        1010001 => "Sign in",
        1010003 => "Please confirm this action by signing in again.",
        1010022 => "Sign in",
        1040001 => "Create account",
        1040008 => "Back",
        1040009 => "Now choose a password.",
        1050001 => "Your changes have been saved.",
        1060001 => "You recovered your account. Please set a new password now.",
        1060003 => "If the address belongs to an account, we sent a recovery code to it. Enter it below.",
        1070001 => "Password",
        1070002 => "{title}",
        1070003 => "Save",
        1070004 => "ID",
        1070007 => "Email",
        1070008 => "Send a new code",
        1070009 => "Continue",
        1070010 => "Recovery code",
        1070011 => "Verification code",
        1080002 => "Your email address is verified.",
        1080003 => "If the address belongs to an account, we sent a verification code to it. Enter it below.",
        4000001 => "{reason}",
        4000002 => "Please fill in this field.",
        4000003 => "This must be at least {min_length} characters long.",
        4000004 => "This does not have the expected format.",
        4000005 => "This password cannot be used: {reason}",
        4000006 => "The email address or password is wrong.",
        4000007 => "An account with this email address exists already.",
        4000017 => "This must be at most {max_length} characters long.",
        4000026 => "This has the wrong type.",
        4000031 => "This password is too similar to your email address.",
        4000032 => "Use at least {min_length} characters for your password.",
        4000033 => "Use at most {max_length} characters for your password.",
        4000034 => "This password appeared in data breaches. Please choose another one.",
        4000039 => "The new password must differ from the current one.",
        4000040 => "Please enter a valid email address.",
        4010001 | 4040001 | 4050001 | 4060005 | 4070005 => "That took too long; please try again.",
        4010002..=4010006 => "Something went wrong with this form; please try again.",
        4010011 => "This account is disabled.",
        4060001 => "This recovery was completed already.",
        4060006 => "That code is wrong or was used already. Please try again.",
        4070002 => "This address was verified with this code already.",
        4070006 => "That code is wrong or was used already. Please try again.",
        _ => return None,
    })
}

/// The page text for a message.
pub fn render(text: &UiText) -> String {
    let Some(template) = english(text.id) else {
        return text.text.clone();
    };
    let mut out = template.to_owned();
    if let Some(Value::Object(ctx)) = &text.context {
        for (k, v) in ctx {
            let value = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out = out.replace(&format!("{{{k}}}"), &value);
        }
    }
    if out.contains('{') {
        // A placeholder without a value: the server's own text says it better.
        return text.text.clone();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::text;

    #[test]
    fn messages_render_by_id_with_their_context() {
        assert_eq!(
            render(&text::password_too_short(8, 3)),
            "Use at least 8 characters for your password."
        );
        assert_eq!(
            render(&text::schema_title("E-Mail", "traits.email")),
            "E-Mail"
        );
        assert_eq!(render(&text::generic("Custom reason")), "Custom reason");
        let unknown = UiText {
            id: 9_999_999,
            text: "As sent".into(),
            kind: text::TextType::Info,
            context: None,
        };
        assert_eq!(render(&unknown), "As sent");
    }
}
