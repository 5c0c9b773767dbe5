//! What the sessions page shows (SPEC §11): when a session was signed in, when it was last
//! seen (moved at most every few minutes, with the session's expiry), the address it was last
//! seen from and a short browser summary (never the raw `User-Agent`). All nullable: sessions
//! stored before this migration have none of it. One column per statement (sea-query's
//! SQLite backend takes one option per `ALTER TABLE`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

impl crate::Step for Migration {
    fn down_loses(&self) -> crate::Loss {
        crate::Loss {
            tables: &[],
            columns: &[
                ("sessions", "signed_in_at"),
                ("sessions", "last_seen"),
                ("sessions", "address"),
                ("sessions", "browser"),
            ],
            emptied: &[],
            in_words: "what the sessions page shows of each session (sign-in time, last seen, \
                       address, browser); the sessions stay",
        }
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            ColumnDef::new(Sessions::SignedInAt)
                .date_time()
                .null()
                .to_owned(),
            ColumnDef::new(Sessions::LastSeen)
                .date_time()
                .null()
                .to_owned(),
            ColumnDef::new(Sessions::Address)
                .string_len(64)
                .null()
                .to_owned(),
            ColumnDef::new(Sessions::Browser)
                .string_len(64)
                .null()
                .to_owned(),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Sessions::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Sessions::Browser,
            Sessions::Address,
            Sessions::LastSeen,
            Sessions::SignedInAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Sessions::Table)
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
enum Sessions {
    Table,
    SignedInAt,
    LastSeen,
    Address,
    Browser,
}
