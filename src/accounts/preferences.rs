//! Crafty's per-user preferences (`theme`, `hints`, `server_order`, `dashboard_columns`):
//! passgate does not use them, it stores what a Crafty client sends and returns it unchanged.

use crate::accounts::error::{Error, Result};

/// The longest text a preference may hold: the width of Crafty's `CharField` columns.
pub const MAX_LENGTH: usize = 255;

/// Crafty's defaults for a new user (its `Users` model), also the columns' defaults.
pub const DEFAULT_THEME: &str = "default";
pub const DEFAULT_HINTS: bool = true;
pub const DEFAULT_SERVER_ORDER: &str = "";
pub const DEFAULT_DASHBOARD_COLUMNS: &str = "server,actions,cpuUsage,memUsage,size,players,status";

/// Preferences given in a request; `None` leaves a preference as it is (or at Crafty's
/// default for a new user).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Preferences {
    pub theme: Option<String>,
    pub hints: Option<bool>,
    pub server_order: Option<String>,
    pub dashboard_columns: Option<String>,
}

impl Preferences {
    pub fn is_empty(&self) -> bool {
        *self == Preferences::default()
    }

    /// Crafty's schema takes any string; its columns hold up to [`MAX_LENGTH`] characters.
    pub fn validate(&self) -> Result<()> {
        let texts = [
            ("theme", &self.theme),
            ("server_order", &self.server_order),
            ("dashboard_columns", &self.dashboard_columns),
        ];
        for (field, value) in texts {
            if value
                .as_deref()
                .is_some_and(|v| v.chars().count() > MAX_LENGTH)
            {
                return Err(Error::invalid(
                    field,
                    format!("{field}: at most {MAX_LENGTH} characters"),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_up_to_the_column_width_are_kept_longer_ones_refused() {
        let fits = Preferences {
            theme: Some("t".repeat(MAX_LENGTH)),
            ..Preferences::default()
        };
        assert!(fits.validate().is_ok());
        let too_long = Preferences {
            dashboard_columns: Some("c".repeat(MAX_LENGTH + 1)),
            ..Preferences::default()
        };
        let err = too_long.validate().unwrap_err().to_string();
        assert!(err.contains("dashboard_columns"), "{err}");
        assert!(Preferences::default().is_empty());
    }
}
