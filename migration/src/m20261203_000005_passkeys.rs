//! Passkeys (SPEC §13): WebAuthn credentials, the ceremonies in progress, and
//! `users.disable_password_auth`.
//!
//! A credential is stored as `webauthn-rs`'s serialised `Passkey` (public key, signature
//! counter; no secret) beside its id, so a sign-in finds it by the id the browser returns. A
//! ceremony's state lives here, not in process memory, so any instance can finish it; it is
//! deleted when it is used (a replay finds nothing) and expires after five minutes. Existing
//! users get `disable_password_auth = FALSE`: an upgrade changes nobody's sign-in.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

impl crate::Step for Migration {
    fn down_loses(&self) -> crate::Loss {
        crate::Loss {
            tables: &["passkeys", "webauthn_ceremonies"],
            columns: &[("users", "disable_password_auth")],
            emptied: &[],
            in_words: "every passkey and passkey ceremony in progress, and users' \
                       disable_password_auth flags (password sign-in is on again for them)",
        }
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(
                        ColumnDef::new(Users::DisablePasswordAuth)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Passkeys::Table)
                    .col(pk_auto(Passkeys::Id))
                    .col(ColumnDef::new(Passkeys::UserId).integer().not_null())
                    .col(
                        ColumnDef::new(Passkeys::CredentialId)
                            .string_len(1400)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Passkeys::Name).string_len(64).not_null())
                    .col(ColumnDef::new(Passkeys::Credential).text().not_null())
                    .col(ColumnDef::new(Passkeys::Created).timestamp().not_null())
                    .col(ColumnDef::new(Passkeys::LastUsed).timestamp().null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_passkeys_user_id")
                            .from(Passkeys::Table, Passkeys::UserId)
                            .to(Users::Table, Users::UserId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_passkeys_credential_id")
                    .table(Passkeys::Table)
                    .col(Passkeys::CredentialId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_passkeys_user_id")
                    .table(Passkeys::Table)
                    .col(Passkeys::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebauthnCeremonies::Table)
                    .col(
                        ColumnDef::new(WebauthnCeremonies::Id)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(WebauthnCeremonies::UserId).integer().null())
                    .col(
                        ColumnDef::new(WebauthnCeremonies::Purpose)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(WebauthnCeremonies::State).text().not_null())
                    .col(
                        ColumnDef::new(WebauthnCeremonies::Expires)
                            .timestamp()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webauthn_ceremonies_user_id")
                            .from(WebauthnCeremonies::Table, WebauthnCeremonies::UserId)
                            .to(Users::Table, Users::UserId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webauthn_ceremonies_expires")
                    .table(WebauthnCeremonies::Table)
                    .col(WebauthnCeremonies::Expires)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WebauthnCeremonies::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Passkeys::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::DisablePasswordAuth)
                    .to_owned(),
            )
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    UserId,
    DisablePasswordAuth,
}

#[derive(DeriveIden)]
enum Passkeys {
    Table,
    Id,
    UserId,
    CredentialId,
    Name,
    Credential,
    Created,
    LastUsed,
}

#[derive(DeriveIden)]
enum WebauthnCeremonies {
    Table,
    Id,
    UserId,
    Purpose,
    State,
    Expires,
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
