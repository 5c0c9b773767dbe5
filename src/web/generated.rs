//! Passwords the Generate button produced, remembered in the session per form, so that a
//! submitted password can be audited as generated only when the server really made it.

use std::collections::BTreeMap;

use subtle::ConstantTimeEq;
use tower_sessions::Session;

use crate::auth::session::session_error;
use crate::error::Result;

const KEY: &str = "generated";
/// Forms remembered at once per session.
const MAX_FORMS: usize = 8;

/// The form key of the reset dialog for one user.
pub fn reset_form(user_id: i32) -> String {
    format!("reset:{user_id}")
}

/// Remembers the last password generated for `form` (replacing an earlier one).
pub async fn remember(session: &Session, form: &str, password: &str) -> Result<()> {
    let mut forms = session
        .get::<BTreeMap<String, String>>(KEY)
        .await
        .map_err(session_error)?
        .unwrap_or_default();
    forms.insert(form.to_string(), password.to_string());
    // A few forms at a time are plenty; drop the others rather than let the session grow.
    while forms.len() > MAX_FORMS {
        let Some(other) = forms.keys().find(|k| k.as_str() != form).cloned() else {
            break;
        };
        forms.remove(&other);
    }
    session.insert(KEY, &forms).await.map_err(session_error)
}

/// Whether `password` is the one last generated for `form`; forgets it either way.
pub async fn was_generated(session: &Session, form: &str, password: &str) -> Result<bool> {
    let Some(mut forms) = session
        .get::<BTreeMap<String, String>>(KEY)
        .await
        .map_err(session_error)?
    else {
        return Ok(false);
    };
    let Some(remembered) = forms.remove(form) else {
        return Ok(false);
    };
    if forms.is_empty() {
        session.remove_value(KEY).await.map_err(session_error)?;
    } else {
        session.insert(KEY, &forms).await.map_err(session_error)?;
    }
    Ok(remembered.as_bytes().ct_eq(password.as_bytes()).into())
}
