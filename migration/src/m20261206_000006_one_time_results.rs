//! One-time results (SPEC §6: a generated password, a link, recovery codes, a new
//! authenticator's secret, shown exactly once) in a table of their own instead of the session's
//! data: one row per result, its payload sealed with the server's AEAD key (the one TOTP
//! secrets use), bound to the session that made it (`owner`, a random key kept in the session)
//! and its user, deleted when shown or after its expiry. A row per result also means two
//! requests of one session no longer overwrite each other's results (the session store saves
//! whole records). Nothing to carry over: results of the old kind were in the session data,
//! and the session migration that follows signs nobody out but forgets them (they were shown
//! within seconds of being made).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

impl crate::Step for Migration {
    fn down_loses(&self) -> crate::Loss {
        crate::Loss {
            tables: &["one_time_results"],
            columns: &[],
            emptied: &[],
            in_words: "one-time results not yet shown (a generated password or link whose page \
                       was not opened)",
        }
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OneTimeResults::Table)
                    .col(
                        ColumnDef::new(OneTimeResults::Owner)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(OneTimeResults::Id).string_len(64).not_null())
                    .col(ColumnDef::new(OneTimeResults::UserId).integer().not_null())
                    .col(ColumnDef::new(OneTimeResults::Sealed).text().not_null())
                    .col(
                        ColumnDef::new(OneTimeResults::Created)
                            .timestamp()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OneTimeResults::Expires)
                            .timestamp()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(OneTimeResults::Owner)
                            .col(OneTimeResults::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_one_time_results_user_id")
                            .from(OneTimeResults::Table, OneTimeResults::UserId)
                            .to(Users::Table, Users::UserId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_one_time_results_user_id")
                    .table(OneTimeResults::Table)
                    .col(OneTimeResults::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_one_time_results_expires")
                    .table(OneTimeResults::Table)
                    .col(OneTimeResults::Expires)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OneTimeResults::Table).to_owned())
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
}

#[derive(DeriveIden)]
enum OneTimeResults {
    Table,
    Owner,
    Id,
    UserId,
    Sealed,
    Created,
    Expires,
}
