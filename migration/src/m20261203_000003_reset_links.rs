//! Reset links (SPEC §10): single-use links that let a user set their own password, so an
//! administrator never knows it. Only a hash of each link's token is stored; `state` says
//! whether a link is still live, or why it is not (used, revoked, superseded by a newer
//! link, or voided by another change of the password).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

impl crate::Step for Migration {
    fn down_loses(&self) -> crate::Loss {
        crate::Loss {
            tables: &["reset_links"],
            columns: &[],
            emptied: &[],
            in_words: "every reset and set-up link (links handed out stop working)",
        }
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ResetLinks::Table)
                    .col(
                        ColumnDef::new(ResetLinks::LinkId)
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ResetLinks::UserId).integer().not_null())
                    .col(
                        ColumnDef::new(ResetLinks::TokenHash)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(ResetLinks::Purpose)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(ResetLinks::State).string_len(24).not_null())
                    .col(ColumnDef::new(ResetLinks::Created).timestamp().not_null())
                    .col(
                        ColumnDef::new(ResetLinks::CreatedBy)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(ResetLinks::Expires).timestamp().not_null())
                    .col(ColumnDef::new(ResetLinks::Ended).timestamp().null())
                    .col(
                        ColumnDef::new(ResetLinks::RevokeApiKeys)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(ResetLinks::ResetMfa)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_reset_links_user_id")
                            .from(ResetLinks::Table, ResetLinks::UserId)
                            .to(Users::Table, Users::UserId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_reset_links_user_id")
                    .table(ResetLinks::Table)
                    .col(ResetLinks::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ResetLinks::Table).to_owned())
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

#[derive(DeriveIden)]
enum ResetLinks {
    Table,
    LinkId,
    UserId,
    TokenHash,
    Purpose,
    State,
    Created,
    CreatedBy,
    Expires,
    Ended,
    RevokeApiKeys,
    ResetMfa,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    UserId,
}
