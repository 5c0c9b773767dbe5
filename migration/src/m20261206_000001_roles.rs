//! Roles (SPEC §14), as Crafty 4.10.3 has them: named groups of users, each with an optional
//! manager (a `ROLES_CONFIG` holder, set null when that user is deleted) and `mfa_required`,
//! which requires a second factor of every member. `role_name` is stored lower-cased and
//! trimmed, so its unique index makes names unique in any case. `user_roles` links users and
//! roles; a row goes with either side.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

impl crate::Step for Migration {
    fn down_loses(&self) -> crate::Loss {
        crate::Loss {
            tables: &["roles", "user_roles"],
            columns: &[],
            emptied: &[],
            in_words: "every role and its members (second factors required by a role are no \
                       longer required)",
        }
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Roles::Table)
                    .col(
                        ColumnDef::new(Roles::RoleId)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Roles::RoleName)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Roles::Created).timestamp().not_null())
                    .col(ColumnDef::new(Roles::LastUpdate).timestamp().not_null())
                    .col(ColumnDef::new(Roles::Manager).integer().null())
                    .col(
                        ColumnDef::new(Roles::MfaRequired)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_roles_manager")
                            .from(Roles::Table, Roles::Manager)
                            .to(Users::Table, Users::UserId)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        // The roles a manager manages (the `ROLES_CONFIG` quota counts them).
        manager
            .create_index(
                Index::create()
                    .name("idx_roles_manager")
                    .table(Roles::Table)
                    .col(Roles::Manager)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UserRoles::Table)
                    .col(ColumnDef::new(UserRoles::UserId).integer().not_null())
                    .col(ColumnDef::new(UserRoles::RoleId).integer().not_null())
                    .primary_key(
                        Index::create()
                            .name("pk_user_roles")
                            .col(UserRoles::UserId)
                            .col(UserRoles::RoleId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_user_roles_user_id")
                            .from(UserRoles::Table, UserRoles::UserId)
                            .to(Users::Table, Users::UserId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_user_roles_role_id")
                            .from(UserRoles::Table, UserRoles::RoleId)
                            .to(Roles::Table, Roles::RoleId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A role's members (the primary key serves a user's roles).
        manager
            .create_index(
                Index::create()
                    .name("idx_user_roles_role_id")
                    .table(UserRoles::Table)
                    .col(UserRoles::RoleId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(UserRoles::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Roles::Table).to_owned())
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

#[derive(DeriveIden)]
enum Roles {
    Table,
    RoleId,
    RoleName,
    Created,
    LastUpdate,
    Manager,
    MfaRequired,
}

#[derive(DeriveIden)]
enum UserRoles {
    Table,
    UserId,
    RoleId,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    UserId,
}
