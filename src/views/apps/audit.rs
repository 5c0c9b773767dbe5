//! How the audit entries of applications and single sign-on read.

use crate::i18n::Lang;
use crate::views::apps::policy_key;

/// The audit detail of an application or single sign-on entry as a sentence (`None`: not
/// one of those, or a detail this does not know). `get` reads a value of the detail, decoded
/// (`app=Team+Wiki`: names are form-encoded, see `accounts::audit::value`).
pub fn audit_sentence(
    lang: Lang,
    action: &str,
    get: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    let yes = |value: Option<String>| {
        if value.as_deref() == Some("true") {
            lang.t("panelConfig.yes")
        } else {
            lang.t("panelConfig.no")
        }
    };
    if action == "sso_session_issued" && get("app").is_none() {
        return Some(format!(
            "{}.",
            lang.t("apps.auditIssued")
                .replace("{yes}", yes(get("second_factor")))
        ));
    }
    let app = get("app")?;
    let sentence = match action {
        "app_created" | "app_deleted" => lang
            .t("apps.auditApp")
            .replace("{app}", &app)
            .replace("{policy}", lang.t(policy_key(&get("policy")?)))
            .replace(
                "{hosts}",
                &get("hosts")
                    .filter(|h| !h.is_empty())
                    .unwrap_or_else(|| "—".into()),
            ),
        "app_updated" => {
            let changed = lang
                .t("apps.auditChanged")
                .replace("{app}", &app)
                .replace("{fields}", &get("changed")?.replace(',', ", "));
            match get("ended") {
                Some(_) => format!("{changed}; {}", lang.t("appsConfirm.auditEnded")),
                None => changed,
            }
        }
        "app_client_secret_regenerated" => lang.t("oidcClient.auditSecret").replace("{app}", &app),
        "sso_session_issued" => lang
            .t("apps.auditIssuedFor")
            .replace("{app}", &app)
            .replace("{yes}", yes(get("second_factor"))),
        "sso_refused" if get("reason").as_deref() == Some("roles") => {
            lang.t("apps.auditRefusedRoles").replace("{app}", &app)
        }
        "sso_refused" => lang.t("apps.auditRefusedPolicy").replace("{app}", &app),
        _ => return None,
    };
    Some(format!("{sentence}."))
}
