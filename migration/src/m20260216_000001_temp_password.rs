//! Temporary passwords: adds `require_password_change` and `password_expires` to `users`.
//!
//! Existing rows get `require_password_change = FALSE` and `password_expires = NULL`, so every
//! user of a database created by the base migration can still log in after the upgrade.
//!
//! sea-query's SQLite backend accepts only one option per `ALTER TABLE` (it panics on more),
//! and SQLite (≥ 3.35) drops one column per statement, so each column is its own statement
//! on every backend; the migration runs in a transaction so it applies all or nothing.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

impl crate::Step for Migration {
    fn down_loses(&self) -> crate::Loss {
        crate::Loss {
            tables: &[],
            columns: &[
                ("users", "require_password_change"),
                ("users", "password_expires"),
            ],
            emptied: &[],
            in_words: "pending password changes and the expiry dates of temporary passwords \
                       (the passwords stay)",
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
                        ColumnDef::new(Users::RequirePasswordChange)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(ColumnDef::new(Users::PasswordExpires).timestamp().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::PasswordExpires)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::RequirePasswordChange)
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
    RequirePasswordChange,
    PasswordExpires,
}
