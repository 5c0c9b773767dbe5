//! Two-factor sign-in (SPEC §9): TOTP devices, pending enrolments, recovery codes, and
//! `users.require_mfa`.
//!
//! Secrets are stored encrypted (the application's AEAD; base64 text, so both backends keep
//! the same column type). `last_step` is the last TOTP time step a device accepted: the
//! replay guard is a conditional UPDATE on it. Existing users get `require_mfa = FALSE`, so
//! an upgrade changes nobody's sign-in.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

impl crate::Step for Migration {
    fn down_loses(&self) -> crate::Loss {
        crate::Loss {
            tables: &["totp_devices", "totp_enrolments", "recovery_codes"],
            columns: &[("users", "require_mfa")],
            emptied: &[],
            in_words: "every TOTP device, enrolment in progress and recovery code, and users' \
                       require_mfa flags: nobody has a second factor any more",
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
                        ColumnDef::new(Users::RequireMfa)
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
                    .table(TotpDevices::Table)
                    .col(pk_auto(TotpDevices::Id))
                    .col(ColumnDef::new(TotpDevices::UserId).integer().not_null())
                    .col(ColumnDef::new(TotpDevices::Name).string_len(64).not_null())
                    .col(ColumnDef::new(TotpDevices::Secret).text().not_null())
                    .col(
                        ColumnDef::new(TotpDevices::LastStep)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(TotpDevices::Created).timestamp().not_null())
                    .col(ColumnDef::new(TotpDevices::LastUsed).timestamp().null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_totp_devices_user_id")
                            .from(TotpDevices::Table, TotpDevices::UserId)
                            .to(Users::Table, Users::UserId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_totp_devices_user_id")
                    .table(TotpDevices::Table)
                    .col(TotpDevices::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TotpEnrolments::Table)
                    .col(pk_auto(TotpEnrolments::Id))
                    .col(ColumnDef::new(TotpEnrolments::UserId).integer().not_null())
                    .col(ColumnDef::new(TotpEnrolments::Secret).text().not_null())
                    .col(
                        ColumnDef::new(TotpEnrolments::Created)
                            .timestamp()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(TotpEnrolments::Expires)
                            .timestamp()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_totp_enrolments_user_id")
                            .from(TotpEnrolments::Table, TotpEnrolments::UserId)
                            .to(Users::Table, Users::UserId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_totp_enrolments_user_id")
                    .table(TotpEnrolments::Table)
                    .col(TotpEnrolments::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RecoveryCodes::Table)
                    .col(pk_auto(RecoveryCodes::Id))
                    .col(ColumnDef::new(RecoveryCodes::UserId).integer().not_null())
                    .col(
                        ColumnDef::new(RecoveryCodes::CodeHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RecoveryCodes::Created)
                            .timestamp()
                            .not_null(),
                    )
                    .col(ColumnDef::new(RecoveryCodes::UsedAt).timestamp().null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_recovery_codes_user_id")
                            .from(RecoveryCodes::Table, RecoveryCodes::UserId)
                            .to(Users::Table, Users::UserId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_recovery_codes_user_hash")
                    .table(RecoveryCodes::Table)
                    .col(RecoveryCodes::UserId)
                    .col(RecoveryCodes::CodeHash)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RecoveryCodes::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(TotpEnrolments::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(TotpDevices::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::RequireMfa)
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
    RequireMfa,
}

#[derive(DeriveIden)]
enum TotpDevices {
    Table,
    Id,
    UserId,
    Name,
    Secret,
    LastStep,
    Created,
    LastUsed,
}

#[derive(DeriveIden)]
enum TotpEnrolments {
    Table,
    Id,
    UserId,
    Secret,
    Created,
    Expires,
}

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    Id,
    UserId,
    CodeHash,
    Created,
    UsedAt,
}

/// `integer NOT NULL PRIMARY KEY` with auto-increment, as in the base migration (whose
/// helper stays private to it: a landed migration is never edited).
fn pk_auto<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name)
        .integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}
