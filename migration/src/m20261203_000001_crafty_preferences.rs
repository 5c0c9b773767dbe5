//! Crafty's user preferences: adds `theme`, `hints`, `server_order` and `dashboard_columns`
//! to `users`, with Crafty 4's defaults, so a Crafty client's user body is stored as given.
//!
//! passgate itself does not use them; they are kept only to be returned (SPEC §12). Existing
//! rows get the defaults. One column per statement (sea-query's SQLite backend takes one
//! option per `ALTER TABLE`), in one transaction.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Crafty's default for `dashboard_columns` (its `Users` model).
const DEFAULT_DASHBOARD_COLUMNS: &str = "server,actions,cpuUsage,memUsage,size,players,status";

impl crate::Step for Migration {
    fn down_loses(&self) -> crate::Loss {
        crate::Loss {
            tables: &[],
            columns: &[
                ("users", "theme"),
                ("users", "hints"),
                ("users", "server_order"),
                ("users", "dashboard_columns"),
            ],
            emptied: &[],
            in_words: "users' Crafty preferences (theme, hints, server order, dashboard columns)",
        }
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            ColumnDef::new(Users::Theme)
                .string()
                .not_null()
                .default("default")
                .to_owned(),
            ColumnDef::new(Users::Hints)
                .boolean()
                .not_null()
                .default(true)
                .to_owned(),
            ColumnDef::new(Users::ServerOrder)
                .string()
                .not_null()
                .default("")
                .to_owned(),
            ColumnDef::new(Users::DashboardColumns)
                .string()
                .not_null()
                .default(DEFAULT_DASHBOARD_COLUMNS)
                .to_owned(),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Users::DashboardColumns,
            Users::ServerOrder,
            Users::Hints,
            Users::Theme,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .drop_column(column)
                        .to_owned(),
                )
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
    Theme,
    Hints,
    ServerOrder,
    DashboardColumns,
}
