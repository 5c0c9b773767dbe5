//! Applications and single sign-on (SPEC §15): `apps` with their hosts, public paths and
//! allowed roles (each in a table of its own, deleted with the app), and `sso_sessions`, the
//! SSO session rows — a kind of their own beside the panel's `sessions`, so a cookie that is
//! sent to every app can never be read as a panel session. An SSO session's id is stored only
//! as the SHA-256 of the cookie's token.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

impl crate::Step for Migration {
    fn down_loses(&self) -> crate::Loss {
        crate::Loss {
            tables: &[
                "apps",
                "app_hosts",
                "app_public_paths",
                "app_roles",
                "sso_sessions",
            ],
            columns: &[],
            emptied: &[],
            in_words: "every application (its hosts, public paths and allowed roles) and every \
                       single sign-on session (everyone is signed out of the other apps)",
        }
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Apps::Table)
                    .col(
                        ColumnDef::new(Apps::AppId)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Apps::Name).string_len(64).not_null())
                    .col(
                        ColumnDef::new(Apps::Description)
                            .string_len(500)
                            .not_null()
                            .default(""),
                    )
                    .col(ColumnDef::new(Apps::Policy).string_len(16).not_null())
                    .col(ColumnDef::new(Apps::Created).timestamp().not_null())
                    .col(ColumnDef::new(Apps::LastUpdate).timestamp().not_null())
                    .to_owned(),
            )
            .await?;
        // Names are unique whatever their case ("Wiki" and "wiki" would confuse everyone).
        manager
            .get_connection()
            .execute_unprepared("CREATE UNIQUE INDEX idx_apps_name ON apps (lower(name))")
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AppHosts::Table)
                    .col(
                        ColumnDef::new(AppHosts::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AppHosts::AppId).integer().not_null())
                    .col(
                        ColumnDef::new(AppHosts::Host)
                            .string_len(260)
                            .not_null()
                            .unique_key(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_app_hosts_app_id")
                            .from(AppHosts::Table, AppHosts::AppId)
                            .to(Apps::Table, Apps::AppId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AppPublicPaths::Table)
                    .col(
                        ColumnDef::new(AppPublicPaths::Id)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AppPublicPaths::AppId).integer().not_null())
                    .col(
                        ColumnDef::new(AppPublicPaths::Path)
                            .string_len(256)
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_app_public_paths_app_id")
                            .from(AppPublicPaths::Table, AppPublicPaths::AppId)
                            .to(Apps::Table, Apps::AppId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_app_public_paths_app_path")
                    .table(AppPublicPaths::Table)
                    .col(AppPublicPaths::AppId)
                    .col(AppPublicPaths::Path)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AppRoles::Table)
                    .col(ColumnDef::new(AppRoles::AppId).integer().not_null())
                    .col(ColumnDef::new(AppRoles::RoleId).integer().not_null())
                    .primary_key(Index::create().col(AppRoles::AppId).col(AppRoles::RoleId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_app_roles_app_id")
                            .from(AppRoles::Table, AppRoles::AppId)
                            .to(Apps::Table, Apps::AppId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_app_roles_role_id")
                            .from(AppRoles::Table, AppRoles::RoleId)
                            .to(Roles::Table, Roles::RoleId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SsoSessions::Table)
                    .col(
                        ColumnDef::new(SsoSessions::Id)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(SsoSessions::UserId).integer().not_null())
                    .col(
                        ColumnDef::new(SsoSessions::Stamp)
                            .string_len(128)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SsoSessions::SignedInAt)
                            .timestamp()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SsoSessions::LastSeen).timestamp().not_null())
                    .col(ColumnDef::new(SsoSessions::Expires).timestamp().not_null())
                    .col(
                        ColumnDef::new(SsoSessions::SecondFactor)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(ColumnDef::new(SsoSessions::Address).string_len(64).null())
                    .col(ColumnDef::new(SsoSessions::Browser).string_len(64).null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sso_sessions_user_id")
                            .from(SsoSessions::Table, SsoSessions::UserId)
                            .to(Users::Table, Users::UserId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_sso_sessions_user_id", SsoSessions::UserId),
            ("idx_sso_sessions_expires", SsoSessions::Expires),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(SsoSessions::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SsoSessions::Table.into_iden(),
            AppRoles::Table.into_iden(),
            AppPublicPaths::Table.into_iden(),
            AppHosts::Table.into_iden(),
            Apps::Table.into_iden(),
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
enum Apps {
    Table,
    AppId,
    Name,
    Description,
    Policy,
    Created,
    LastUpdate,
}

#[derive(DeriveIden)]
enum AppHosts {
    Table,
    Id,
    AppId,
    Host,
}

#[derive(DeriveIden)]
enum AppPublicPaths {
    Table,
    Id,
    AppId,
    Path,
}

#[derive(DeriveIden)]
enum Roles {
    Table,
    RoleId,
}

#[derive(DeriveIden)]
enum AppRoles {
    Table,
    AppId,
    RoleId,
}

#[derive(DeriveIden)]
enum SsoSessions {
    Table,
    Id,
    UserId,
    Stamp,
    SignedInAt,
    LastSeen,
    Expires,
    SecondFactor,
    Address,
    Browser,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    UserId,
}
