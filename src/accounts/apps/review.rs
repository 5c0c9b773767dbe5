//! An edit that ends what relying parties hold (SPEC §16): turning an application's OpenID
//! Connect off ends every sign-in made through it (its users' tokens stop working), turning a
//! confidential client public drops its secret (the relying party's secret stops working, and
//! the tokens issued to it end with it). The panel shows such an edit before it applies it; the
//! confirmed submission carries the application's version it was reviewed against and what
//! the administrator agreed to end, and [`check`] refuses it when either no longer holds —
//! nothing else is applied silently. The API and the CLI send no review: their callers say
//! exactly what they change, and the same grants end (`apps::update`, `apps::delete`).

use sha2::{Digest, Sha256};

use crate::accounts::apps::App;

/// What an edit ends for the relying parties of an application.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ends {
    /// The application stops being an OpenID Connect client: its client id, its secret and
    /// every token issued to it stop working.
    pub client: bool,
    /// The confidential client becomes public: its secret stops working, and the tokens
    /// issued to it end.
    pub secret: bool,
}

impl Ends {
    /// Nothing ends.
    pub const NOTHING: Ends = Ends {
        client: false,
        secret: false,
    };

    /// What changing `current` into `planned` ends.
    pub fn between(current: &App, planned: &App) -> Ends {
        let confidential = |app: &App| app.oidc.as_ref().is_some_and(|c| !c.settings.public);
        let public = |app: &App| app.oidc.as_ref().is_some_and(|c| c.settings.public);
        Ends {
            client: current.oidc.is_some() && planned.oidc.is_none(),
            secret: confidential(current) && public(planned),
        }
    }

    pub fn any(self) -> bool {
        self.client || self.secret
    }

    /// The words a form carries it in (`client`, `secret`, both, or nothing).
    pub fn to_words(self) -> Vec<&'static str> {
        [("client", self.client), ("secret", self.secret)]
            .into_iter()
            .filter_map(|(word, on)| on.then_some(word))
            .collect()
    }

    /// The opposite of [`Ends::to_words`]; an unknown word is `None`.
    pub fn from_words<'a>(words: impl IntoIterator<Item = &'a str>) -> Option<Ends> {
        let mut ends = Ends::NOTHING;
        for word in words {
            match word {
                "client" => ends.client = true,
                "secret" => ends.secret = true,
                _ => return None,
            }
        }
        Some(ends)
    }
}

/// How an administrator agreed to an edit in the panel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Review {
    /// `None`: the edit as first submitted (it may end nothing); `Some`: the [`version`] of
    /// the application its confirmation page showed.
    pub version: Option<String>,
    /// What the confirmation page said would end.
    pub ends: Ends,
}

impl Review {
    /// A first submission: applied only if it ends nothing.
    pub fn first() -> Review {
        Review {
            version: None,
            ends: Ends::NOTHING,
        }
    }
}

/// Why a reviewed edit was not applied (`Error::EditUnconfirmed`): what it would end now, the
/// application's version now (for a confirmation page), whether the application changed since
/// it was reviewed, and how many users are signed in to it through its client (they would
/// lose their tokens).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unconfirmed {
    pub ends: Ends,
    pub version: String,
    pub changed: bool,
    pub signed_in: u64,
}

/// What to do with a reviewed edit.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Apply,
    /// The application already is what the edit makes it (a second click on Confirm after the
    /// first applied it): nothing to do.
    AlreadyDone,
}

/// A short fingerprint of everything an administrator sees of the application: any change
/// by anyone moves it.
pub fn version(app: &App) -> String {
    let digest = Sha256::digest(format!("{:?}", normalised(app)).as_bytes());
    hex::encode(&digest[..16])
}

/// The application with its lists in one order (the database gives them sorted, an edit in
/// the order typed).
fn normalised(app: &App) -> App {
    let mut app = app.clone();
    app.hosts.sort_by_key(ToString::to_string);
    app.public_paths.sort_by_key(ToString::to_string);
    app.allowed_roles.sort_unstable();
    app
}

/// Decides on an edit reviewed as `review`, which changes `current` into `planned`.
pub fn check(current: &App, planned: &App, review: &Review) -> Result<Verdict, Box<Unconfirmed>> {
    let ends = Ends::between(current, planned);
    let now = version(current);
    let refuse = |changed| {
        Err(Box::new(Unconfirmed {
            ends,
            version: now.clone(),
            changed,
            signed_in: 0,
        }))
    };
    match review.version.as_deref() {
        None if !ends.any() => Ok(Verdict::Apply),
        None => refuse(false),
        Some(seen) if seen == now && ends == review.ends => Ok(Verdict::Apply),
        Some(seen) if seen == now => refuse(false),
        Some(_) if normalised(current) == normalised(planned) => Ok(Verdict::AlreadyDone),
        Some(_) => refuse(true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::apps::Policy;
    use crate::accounts::oidc::Alg;
    use crate::accounts::oidc::clients::{ClientInfo, ClientSettings};

    fn app(oidc: Option<bool>) -> App {
        App {
            app_id: 1,
            name: "Wiki".into(),
            description: String::new(),
            policy: Policy::OneFactor,
            hosts: Vec::new(),
            public_paths: Vec::new(),
            allowed_roles: Vec::new(),
            oidc: oidc.map(|public| ClientInfo {
                client_id: "c1".into(),
                settings: ClientSettings {
                    redirect_uris: vec!["https://wiki.example.org/cb".into()],
                    post_logout_redirect_uris: Vec::new(),
                    public,
                    alg: Alg::Rs256,
                },
            }),
        }
    }

    #[test]
    fn what_an_edit_ends() {
        let confidential = app(Some(false));
        let public = app(Some(true));
        let none = app(None);
        assert_eq!(
            Ends::between(&confidential, &none),
            Ends {
                client: true,
                secret: false
            }
        );
        assert_eq!(
            Ends::between(&confidential, &public),
            Ends {
                client: false,
                secret: true
            }
        );
        assert!(!Ends::between(&public, &confidential).any());
        assert!(!Ends::between(&none, &public).any());
        assert!(Ends::between(&public, &none).client);
        for ends in [Ends::NOTHING, Ends::between(&confidential, &none)] {
            assert_eq!(Ends::from_words(ends.to_words()), Some(ends));
        }
        assert_eq!(Ends::from_words(["everything"]), None);
    }

    #[test]
    fn a_destructive_edit_applies_only_as_confirmed_against_the_version_shown() {
        let current = app(Some(false));
        let off = app(None);
        let mut renamed = current.clone();
        renamed.name = "Team wiki".into();
        // A first submission: a harmless edit applies, a destructive one asks.
        assert_eq!(
            check(&current, &renamed, &Review::first()),
            Ok(Verdict::Apply)
        );
        let asked = check(&current, &off, &Review::first()).unwrap_err();
        assert!(asked.ends.client && !asked.changed);
        // Confirmed against that version, with what it said: applied.
        let confirmed = Review {
            version: Some(asked.version.clone()),
            ends: asked.ends,
        };
        assert_eq!(check(&current, &off, &confirmed), Ok(Verdict::Apply));
        // Confirmed, but claiming to end less than it does: asked again.
        let understated = Review {
            ends: Ends::NOTHING,
            ..confirmed.clone()
        };
        assert!(!check(&current, &off, &understated).unwrap_err().changed);
        // The application changed since: refused, even if the edit now ends nothing.
        assert!(check(&renamed, &off, &confirmed).unwrap_err().changed);
        let mut off_renamed = off.clone();
        off_renamed.name = "Team wiki".into();
        let stale = check(&off_renamed, &off, &confirmed).unwrap_err();
        assert!(stale.changed && !stale.ends.any());
        // Already what the edit makes it (the second click): nothing to do.
        assert_eq!(check(&off, &off, &confirmed), Ok(Verdict::AlreadyDone));
    }
}
