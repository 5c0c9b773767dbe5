//! Base schema: every table as it was before the temporary-password feature.
//!
//! Written with sea-query's schema builder so the same code runs on SQLite and PostgreSQL.
//! All timestamps are `timestamp` without time zone and hold UTC (sea-query writes them as
//! `timestamp` on PostgreSQL and `timestamp_text` on SQLite).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

impl crate::Step for Migration {
    fn down_loses(&self) -> crate::Loss {
        crate::Loss {
            tables: &[
                "users",
                "user_permissions",
                "api_keys",
                "sessions",
                "audit_log",
                "login_throttle",
                "settings",
            ],
            columns: &[],
            emptied: &[],
            in_words: "every user with their permissions and API keys, every session, the audit log, \
                       the sign-in throttle and the settings (the token signing key): everything",
        }
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // users
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk_auto(Users::UserId))
                    .col(
                        ColumnDef::new(Users::Username)
                            .string_len(20)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Users::Password).string().not_null())
                    .col(ColumnDef::new(Users::Email).string().null())
                    .col(
                        ColumnDef::new(Users::Enabled)
                            .boolean()
                            .not_null()
                            .default(true),
                    )
                    .col(
                        ColumnDef::new(Users::Superuser)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(ColumnDef::new(Users::Manager).integer().null())
                    .col(
                        ColumnDef::new(Users::Lang)
                            .string_len(16)
                            .not_null()
                            .default("en"),
                    )
                    .col(ColumnDef::new(Users::Created).timestamp().not_null())
                    .col(ColumnDef::new(Users::LastUpdate).timestamp().not_null())
                    .col(ColumnDef::new(Users::LastLogin).timestamp().null())
                    .col(
                        ColumnDef::new(Users::LastIp)
                            .string_len(64)
                            .not_null()
                            .default(""),
                    )
                    .col(
                        ColumnDef::new(Users::SecurityStamp)
                            .string_len(64)
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_users_manager")
                            .from(Users::Table, Users::Manager)
                            .to(Users::Table, Users::UserId)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;

        // user_permissions
        manager
            .create_table(
                Table::create()
                    .table(UserPermissions::Table)
                    .col(pk_auto(UserPermissions::Id))
                    .col(ColumnDef::new(UserPermissions::UserId).integer().not_null())
                    .col(
                        ColumnDef::new(UserPermissions::Permission)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(UserPermissions::Quantity)
                            .integer()
                            .not_null()
                            .default(-1),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_user_permissions_user_id")
                            .from(UserPermissions::Table, UserPermissions::UserId)
                            .to(Users::Table, Users::UserId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_user_permissions_user_permission")
                    .table(UserPermissions::Table)
                    .col(UserPermissions::UserId)
                    .col(UserPermissions::Permission)
                    .unique()
                    .to_owned(),
            )
            .await?;

        // api_keys
        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(pk_auto(ApiKeys::KeyId))
                    .col(ColumnDef::new(ApiKeys::UserId).integer().not_null())
                    .col(ColumnDef::new(ApiKeys::Name).string_len(64).not_null())
                    .col(
                        ColumnDef::new(ApiKeys::TokenHash)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(ApiKeys::Permissions)
                            .text()
                            .not_null()
                            .default(""),
                    )
                    .col(
                        ColumnDef::new(ApiKeys::FullAccess)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(ColumnDef::new(ApiKeys::Created).timestamp().not_null())
                    .col(ColumnDef::new(ApiKeys::LastUsed).timestamp().null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_api_keys_user_id")
                            .from(ApiKeys::Table, ApiKeys::UserId)
                            .to(Users::Table, Users::UserId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_api_keys_user_id")
                    .table(ApiKeys::Table)
                    .col(ApiKeys::UserId)
                    .to_owned(),
            )
            .await?;

        // sessions (tower-sessions store)
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(
                        ColumnDef::new(Sessions::Id)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Sessions::UserId).integer().null())
                    .col(ColumnDef::new(Sessions::Data).text().not_null())
                    .col(ColumnDef::new(Sessions::ExpiryDate).timestamp().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sessions_user_id")
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::UserId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_user_id")
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_expiry_date")
                    .table(Sessions::Table)
                    .col(Sessions::ExpiryDate)
                    .to_owned(),
            )
            .await?;

        // audit_log: no foreign keys, the history outlives the users it mentions.
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(pk_auto(AuditLog::AuditId))
                    .col(ColumnDef::new(AuditLog::Created).timestamp().not_null())
                    .col(ColumnDef::new(AuditLog::ActorId).integer().null())
                    .col(ColumnDef::new(AuditLog::ActorName).string_len(64).null())
                    .col(ColumnDef::new(AuditLog::TargetId).integer().null())
                    .col(ColumnDef::new(AuditLog::TargetName).string_len(64).null())
                    .col(ColumnDef::new(AuditLog::Action).string_len(64).not_null())
                    .col(
                        ColumnDef::new(AuditLog::Detail)
                            .text()
                            .not_null()
                            .default(""),
                    )
                    .col(
                        ColumnDef::new(AuditLog::SourceIp)
                            .string_len(64)
                            .not_null()
                            .default(""),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_log_created")
                    .table(AuditLog::Table)
                    .col(AuditLog::Created)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_log_target_id")
                    .table(AuditLog::Table)
                    .col(AuditLog::TargetId)
                    .to_owned(),
            )
            .await?;

        // login_throttle
        manager
            .create_table(
                Table::create()
                    .table(LoginThrottle::Table)
                    .col(
                        ColumnDef::new(LoginThrottle::ThrottleKey)
                            .string_len(200)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(LoginThrottle::Failures).integer().not_null())
                    .col(
                        ColumnDef::new(LoginThrottle::WindowStart)
                            .timestamp()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LoginThrottle::LockedUntil)
                            .timestamp()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;

        // settings
        manager
            .create_table(
                Table::create()
                    .table(Settings::Table)
                    .col(
                        ColumnDef::new(Settings::Key)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Settings::Value).text().not_null())
                    .to_owned(),
            )
            .await?;

        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Children before `users`; dropping a table drops its indexes too.
        for table in [
            Settings::Table.into_iden(),
            LoginThrottle::Table.into_iden(),
            AuditLog::Table.into_iden(),
            Sessions::Table.into_iden(),
            ApiKeys::Table.into_iden(),
            UserPermissions::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        // SQLite has transactional DDL too: a failure leaves no half-built schema.
        Some(true)
    }
}

/// `integer NOT NULL PRIMARY KEY` with auto-increment (`AUTOINCREMENT` on SQLite,
/// `GENERATED BY DEFAULT AS IDENTITY` on PostgreSQL).
fn pk_auto<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name)
        .integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

#[derive(DeriveIden)]
enum Users {
    Table,
    UserId,
    Username,
    Password,
    Email,
    Enabled,
    Superuser,
    Manager,
    Lang,
    Created,
    LastUpdate,
    LastLogin,
    LastIp,
    SecurityStamp,
}

#[derive(DeriveIden)]
enum UserPermissions {
    Table,
    Id,
    UserId,
    Permission,
    Quantity,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    KeyId,
    UserId,
    Name,
    TokenHash,
    Permissions,
    FullAccess,
    Created,
    LastUsed,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    Data,
    ExpiryDate,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    AuditId,
    Created,
    ActorId,
    ActorName,
    TargetId,
    TargetName,
    Action,
    Detail,
    SourceIp,
}

#[derive(DeriveIden)]
enum LoginThrottle {
    Table,
    ThrottleKey,
    Failures,
    WindowStart,
    LockedUntil,
}

#[derive(DeriveIden)]
enum Settings {
    Table,
    Key,
    Value,
}
