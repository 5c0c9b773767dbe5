//! The OpenID Connect provider (SPEC §16): signing keys, client settings of applications,
//! each user's subject identifier, grants (one per sign-in to an app, holding its code) and
//! the access and refresh tokens issued under them.
//!
//! Nothing secret is stored in clear: a private key is sealed with the server's AEAD key (as
//! TOTP secrets are), client secrets, codes and tokens are kept as SHA-256 hashes. A key in
//! use has `active_for` = its algorithm, unique, so two instances starting at once cannot
//! both make one; a retired key keeps its public half in the JWKS for a day. Deleting a user
//! or an application deletes their grants, and a grant's tokens go with it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

impl crate::Step for Migration {
    fn down_loses(&self) -> crate::Loss {
        crate::Loss {
            tables: &[
                "oidc_keys",
                "oidc_clients",
                "oidc_subjects",
                "oidc_grants",
                "oidc_tokens",
            ],
            columns: &[],
            emptied: &[],
            in_words: "every application's OpenID Connect settings (client ids, secrets, redirect \
                       URIs), the signing keys, each user's subject identifier (apps see new \
                       ones after the next up) and every grant and token: everyone is signed \
                       out of the OpenID Connect apps",
        }
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OidcKeys::Table)
                    .col(
                        ColumnDef::new(OidcKeys::Kid)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(OidcKeys::Alg).string_len(8).not_null())
                    .col(
                        ColumnDef::new(OidcKeys::ActiveFor)
                            .string_len(8)
                            .null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(OidcKeys::PrivateKey).text().not_null())
                    .col(ColumnDef::new(OidcKeys::PublicJwk).text().not_null())
                    .col(ColumnDef::new(OidcKeys::Created).timestamp().not_null())
                    .col(ColumnDef::new(OidcKeys::Retired).timestamp().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OidcClients::Table)
                    .col(
                        ColumnDef::new(OidcClients::AppId)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(OidcClients::ClientId)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(OidcClients::SecretHash)
                            .string_len(64)
                            .null(),
                    )
                    .col(ColumnDef::new(OidcClients::RedirectUris).text().not_null())
                    .col(
                        ColumnDef::new(OidcClients::PostLogoutRedirectUris)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OidcClients::IdTokenAlg)
                            .string_len(8)
                            .not_null()
                            .default("RS256"),
                    )
                    .col(ColumnDef::new(OidcClients::Created).timestamp().not_null())
                    .col(
                        ColumnDef::new(OidcClients::SecretCreated)
                            .timestamp()
                            .null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_oidc_clients_app_id")
                            .from(OidcClients::Table, OidcClients::AppId)
                            .to(Apps::Table, Apps::AppId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OidcSubjects::Table)
                    .col(
                        ColumnDef::new(OidcSubjects::UserId)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(OidcSubjects::Sub)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_oidc_subjects_user_id")
                            .from(OidcSubjects::Table, OidcSubjects::UserId)
                            .to(Users::Table, Users::UserId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OidcGrants::Table)
                    .col(pk_auto(OidcGrants::GrantId))
                    .col(ColumnDef::new(OidcGrants::UserId).integer().not_null())
                    .col(ColumnDef::new(OidcGrants::AppId).integer().not_null())
                    .col(ColumnDef::new(OidcGrants::Scope).string_len(256).not_null())
                    .col(ColumnDef::new(OidcGrants::Nonce).text().null())
                    .col(
                        ColumnDef::new(OidcGrants::CodeChallenge)
                            .string_len(128)
                            .null(),
                    )
                    .col(ColumnDef::new(OidcGrants::RedirectUri).text().not_null())
                    .col(
                        ColumnDef::new(OidcGrants::CodeHash)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(OidcGrants::CodeExpires)
                            .timestamp()
                            .not_null(),
                    )
                    .col(ColumnDef::new(OidcGrants::CodeUsed).timestamp().null())
                    .col(ColumnDef::new(OidcGrants::AuthTime).timestamp().not_null())
                    .col(ColumnDef::new(OidcGrants::Amr).string_len(32).not_null())
                    .col(ColumnDef::new(OidcGrants::Sid).string_len(64).not_null())
                    .col(ColumnDef::new(OidcGrants::Stamp).string_len(64).not_null())
                    .col(ColumnDef::new(OidcGrants::Created).timestamp().not_null())
                    .col(ColumnDef::new(OidcGrants::Expires).timestamp().not_null())
                    .col(ColumnDef::new(OidcGrants::LastUsed).timestamp().null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_oidc_grants_user_id")
                            .from(OidcGrants::Table, OidcGrants::UserId)
                            .to(Users::Table, Users::UserId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_oidc_grants_app_id")
                            .from(OidcGrants::Table, OidcGrants::AppId)
                            .to(Apps::Table, Apps::AppId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_oidc_grants_user_id", OidcGrants::UserId),
            ("idx_oidc_grants_sid", OidcGrants::Sid),
            ("idx_oidc_grants_expires", OidcGrants::Expires),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(OidcGrants::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(OidcTokens::Table)
                    .col(
                        ColumnDef::new(OidcTokens::TokenHash)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(OidcTokens::GrantId).integer().not_null())
                    .col(ColumnDef::new(OidcTokens::Kind).string_len(8).not_null())
                    .col(ColumnDef::new(OidcTokens::Scope).string_len(256).not_null())
                    .col(ColumnDef::new(OidcTokens::Created).timestamp().not_null())
                    .col(ColumnDef::new(OidcTokens::Expires).timestamp().not_null())
                    .col(ColumnDef::new(OidcTokens::Used).timestamp().null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_oidc_tokens_grant_id")
                            .from(OidcTokens::Table, OidcTokens::GrantId)
                            .to(OidcGrants::Table, OidcGrants::GrantId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_oidc_tokens_grant_id", OidcTokens::GrantId),
            ("idx_oidc_tokens_expires", OidcTokens::Expires),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(OidcTokens::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            OidcTokens::Table.into_iden(),
            OidcGrants::Table.into_iden(),
            OidcSubjects::Table.into_iden(),
            OidcClients::Table.into_iden(),
            OidcKeys::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    UserId,
}

#[derive(DeriveIden)]
enum Apps {
    Table,
    AppId,
}

#[derive(DeriveIden)]
enum OidcKeys {
    Table,
    Kid,
    Alg,
    ActiveFor,
    PrivateKey,
    PublicJwk,
    Created,
    Retired,
}

#[derive(DeriveIden)]
enum OidcClients {
    Table,
    AppId,
    ClientId,
    SecretHash,
    RedirectUris,
    PostLogoutRedirectUris,
    IdTokenAlg,
    Created,
    SecretCreated,
}

#[derive(DeriveIden)]
enum OidcSubjects {
    Table,
    UserId,
    Sub,
}

#[derive(DeriveIden)]
enum OidcGrants {
    Table,
    GrantId,
    UserId,
    AppId,
    Scope,
    Nonce,
    CodeChallenge,
    RedirectUri,
    CodeHash,
    CodeExpires,
    CodeUsed,
    AuthTime,
    Amr,
    Sid,
    Stamp,
    Created,
    Expires,
    LastUsed,
}

#[derive(DeriveIden)]
enum OidcTokens {
    Table,
    TokenHash,
    GrantId,
    Kind,
    Scope,
    Created,
    Expires,
    Used,
}

/// `integer NOT NULL PRIMARY KEY` with auto-increment, as in the earlier migrations (a landed
/// migration is never edited, so each keeps its own helper).
fn pk_auto<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name)
        .integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}
