//! The application form: its fields as submitted (`Submitted`, read once from the pairs the
//! browser sent), the form shown again, and a refusal placed beside its field.

use axum::http::StatusCode;
use axum::response::IntoResponse;

use crate::accounts;
use crate::accounts::apps::{self, App, AppChanges, AppFields, Ends, Policy, Review};
use crate::error::Error;
use crate::i18n::Lang;
use crate::state::AppState;
use crate::views::apps::client::ClientErrors;
use crate::views::apps::{AppFormErrors, AppFormView, RoleChoice, app_form_page};
use crate::web::apps::client::{self, ClientForm};
use crate::web::{PageResult, Viewer};

/// The form's fields as submitted (or as the application is).
#[derive(Default)]
pub(super) struct Submitted {
    pub name: String,
    description: String,
    hosts: String,
    public_paths: String,
    roles: Vec<i32>,
    /// A role value that was not a number (tampered with).
    bad_role: bool,
    pub policy: String,
    pub client: ClientForm,
    /// The edit's fields as they came, to carry whole on a confirmation page.
    pub carried: Vec<(String, String)>,
    /// The confirmation page's: the application's version it showed, and what it said ends.
    review_version: Option<String>,
    review_ends: Vec<String>,
}

impl Submitted {
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut submitted = Submitted {
            policy: Policy::OneFactor.as_str().to_string(),
            ..Submitted::default()
        };
        for (key, value) in pairs {
            match key.as_str() {
                "csrf_token" => continue,
                "review_version" => {
                    submitted.review_version = Some(value);
                    continue;
                }
                "review_ends" => {
                    submitted.review_ends.push(value);
                    continue;
                }
                _ => submitted.carried.push((key.clone(), value.clone())),
            }
            if submitted.client.take(&key, &value) {
                continue;
            }
            match key.as_str() {
                "name" => submitted.name = value,
                "description" => submitted.description = value,
                "hosts" => submitted.hosts = value,
                "public_paths" => submitted.public_paths = value,
                "policy" => submitted.policy = value,
                "role" => match value.parse::<i32>() {
                    Ok(id) => submitted.roles.push(id),
                    Err(_) => submitted.bad_role = true,
                },
                _ => {}
            }
        }
        submitted
    }

    pub fn of(app: &App) -> Self {
        let lines = |items: Vec<String>| items.join("\n");
        Submitted {
            name: app.name.clone(),
            description: app.description.clone(),
            hosts: lines(app.hosts.iter().map(ToString::to_string).collect()),
            public_paths: lines(app.public_paths.iter().map(ToString::to_string).collect()),
            roles: app.allowed_roles.clone(),
            bad_role: false,
            policy: app.policy.as_str().to_string(),
            client: ClientForm::of(app.oidc.as_ref()),
            ..Submitted::default()
        }
    }

    pub fn fields(&self) -> Result<AppFields, accounts::Error> {
        if self.bad_role {
            return Err(accounts::Error::invalid("allowed_roles", "allowed_roles"));
        }
        let policy = Policy::parse(&self.policy)
            .ok_or_else(|| accounts::Error::invalid("policy", "policy"))?;
        Ok(AppFields {
            name: self.name.clone(),
            description: self.description.clone(),
            hosts: client::lines(&self.hosts),
            public_paths: client::lines(&self.public_paths),
            allowed_roles: self.roles.clone(),
            policy,
            oidc: self.client.changes()?,
        })
    }
}

impl Submitted {
    /// The edit: every field of the form replaces the application's, as first submitted or
    /// as confirmed on the confirmation page (what it showed travels with it).
    pub fn changes(&self) -> Result<AppChanges, accounts::Error> {
        let fields = self.fields()?;
        let review = match &self.review_version {
            None => Review::first(),
            Some(version) => Review {
                version: Some(version.clone()),
                ends: Ends::from_words(self.review_ends.iter().map(String::as_str))
                    .ok_or_else(|| accounts::Error::invalid("review", "review"))?,
            },
        };
        Ok(AppChanges {
            name: Some(fields.name),
            description: Some(fields.description),
            hosts: Some(fields.hosts),
            public_paths: Some(fields.public_paths),
            allowed_roles: Some(fields.allowed_roles),
            policy: Some(fields.policy),
            oidc: Some(fields.oidc),
            review: Some(review),
        })
    }
}

/// The form as it is shown: `current` is the application being edited (`None`: a new one).
pub(super) struct Shown<'a> {
    pub current: Option<&'a App>,
    pub errors: AppFormErrors,
    pub client_errors: ClientErrors,
    pub notice: Option<&'a str>,
    /// Why nothing was saved, when it is about no field (the application changed meanwhile).
    pub warning: Option<&'a str>,
    pub status: StatusCode,
}

impl<'a> Shown<'a> {
    pub fn ok(current: Option<&'a App>) -> Self {
        Shown {
            current,
            errors: AppFormErrors::default(),
            client_errors: ClientErrors::default(),
            notice: None,
            warning: None,
            status: StatusCode::OK,
        }
    }
}

pub(super) async fn render_form(
    state: &AppState,
    viewer: &Viewer,
    submitted: &Submitted,
    shown: Shown<'_>,
) -> PageResult {
    let roles = apps::role_choices(&state.db)
        .await
        .map_err(|e| viewer.fail(e))?
        .into_iter()
        .map(|(role_id, name)| RoleChoice {
            id: role_id,
            name,
            checked: submitted.roles.contains(&role_id),
        })
        .collect();
    let existing = shown.current.is_some_and(|app| app.oidc.is_some());
    let view = AppFormView {
        id: shown.current.map(|app| app.app_id),
        name: &submitted.name,
        description: &submitted.description,
        hosts: &submitted.hosts,
        public_paths: &submitted.public_paths,
        roles,
        policy: &submitted.policy,
        errors: shown.errors,
        client: submitted.client.view(state, existing, shown.client_errors),
        card: shown.current.and_then(|app| client::card(state, app)),
        notice: shown.notice,
        warning: shown.warning,
    };
    Ok((shown.status, app_form_page(&viewer.context(), &view)).into_response())
}

/// The quoted value in a refusal's reason (`hosts: 'x': …` → `x`).
fn quoted(reason: &str) -> &str {
    reason.split('\'').nth(1).unwrap_or(reason)
}

/// A refusal beside its field; anything else is the error page.
fn place(lang: Lang, err: accounts::Error) -> Result<(AppFormErrors, ClientErrors), Error> {
    use accounts::Error as D;
    let mut errors = AppFormErrors::default();
    let mut client_errors = ClientErrors::default();
    let text = |key: &str| Some(lang.t(key).to_string());
    match &err {
        D::AppNameExists => errors.name = text("apps.nameTaken"),
        D::HostTaken(host) => {
            errors.hosts = Some(lang.t("apps.hostTaken").replace("{value}", host));
        }
        D::Invalid { field, reason } => match *field {
            "name" => errors.name = text("apps.nameInvalid"),
            "description" => errors.description = text("apps.descriptionInvalid"),
            "hosts" => {
                errors.hosts = Some(
                    lang.t("apps.hostsInvalid")
                        .replace("{value}", quoted(reason)),
                );
            }
            "public_paths" => {
                errors.public_paths = Some(
                    lang.t("apps.pathsInvalid")
                        .replace("{value}", quoted(reason)),
                );
            }
            "allowed_roles" => errors.roles = text("apps.rolesInvalid"),
            field if client::place(lang, field, reason, &mut client_errors) => {}
            _ => return Err(err.into()),
        },
        _ => return Err(err.into()),
    }
    Ok((errors, client_errors))
}

/// A save that was refused: the form again with the reason beside its field (400), or the
/// error page for anything that is not about a field.
pub(super) async fn refused(
    state: &AppState,
    viewer: &Viewer,
    current: Option<&App>,
    submitted: &Submitted,
    err: accounts::Error,
) -> PageResult {
    match place(viewer.lang, err) {
        Ok((errors, client_errors)) => {
            let shown = Shown {
                errors,
                client_errors,
                status: StatusCode::BAD_REQUEST,
                ..Shown::ok(current)
            };
            render_form(state, viewer, submitted, shown).await
        }
        Err(err) => Err(viewer.fail(err)),
    }
}
