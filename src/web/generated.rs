//! Passwords the Generate button produced, remembered per form until the form is submitted,
//! so that a submitted password can be audited as generated only when the server really made
//! it. Kept like a one-time result (`auth::one_time`: sealed, bound to this session, taken
//! once), under the form's slot.

use subtle::ConstantTimeEq;

use crate::auth::one_time::{self as store, Owner};
use crate::error::Result;
use crate::state::AppState;
use crate::web::Viewer;

/// The form key of the reset dialog for one user.
pub fn reset_form(user_id: i32) -> String {
    format!("reset:{user_id}")
}

fn slot(form: &str) -> String {
    format!("generated:{form}")
}

/// Remembers the last password generated for `form` (replacing an earlier one).
pub async fn remember(state: &AppState, viewer: &Viewer, form: &str, password: &str) -> Result<()> {
    let owner = Owner::of(&viewer.session, viewer.user.user_id).await?;
    store::put_at(
        &state.db,
        &state.mfa.cipher,
        &owner,
        &slot(form),
        password.as_bytes(),
    )
    .await
}

/// Whether `password` is the one last generated for `form`; forgets it either way.
pub async fn was_generated(
    state: &AppState,
    viewer: &Viewer,
    form: &str,
    password: &str,
) -> Result<bool> {
    let owner = Owner::of(&viewer.session, viewer.user.user_id).await?;
    Ok(
        match store::take_at(&state.db, &state.mfa.cipher, &owner, &slot(form)).await? {
            Some(remembered) => remembered.as_slice().ct_eq(password.as_bytes()).into(),
            None => false,
        },
    )
}
