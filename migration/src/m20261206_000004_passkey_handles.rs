//! Passkeys as people use them (SPEC §13, 2026-12-06): every user gets a WebAuthn user handle
//! (`users.passkey_handle`: 16 random bytes as 32 lowercase hex digits, unique, never derived
//! from the name or the id), the handle a discoverable credential carries back so that a
//! sign-in with nothing typed finds its user; and each passkey records whether it was
//! registered as discoverable (`passkeys.discoverable`).
//!
//! Existing users get a random handle here, in the same transaction (SQLite's `randomblob`,
//! PostgreSQL's `gen_random_uuid`, which is built in from PostgreSQL 13). The column stays
//! nullable so that a row written by other means (an operator's import) is not refused; the
//! application gives such a user a handle before their first passkey. Existing passkeys were
//! registered without a resident key and with a handle derived from the user id: they are
//! `discoverable = FALSE` and keep working with a typed username.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

impl crate::Step for Migration {
    fn down_loses(&self) -> crate::Loss {
        crate::Loss {
            tables: &[],
            columns: &[("users", "passkey_handle"), ("passkeys", "discoverable")],
            emptied: &[],
            in_words: "users' passkey handles and which passkeys are discoverable (passkeys \
                       registered since then no longer sign in with nothing typed)",
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
                    .add_column(ColumnDef::new(Users::PasskeyHandle).string_len(32).null())
                    .to_owned(),
            )
            .await?;
        let fill = match manager.get_database_backend() {
            DbBackend::Postgres => {
                "UPDATE users SET passkey_handle = replace(gen_random_uuid()::text, '-', '') \
                 WHERE passkey_handle IS NULL"
            }
            _ => {
                "UPDATE users SET passkey_handle = lower(hex(randomblob(16))) \
                 WHERE passkey_handle IS NULL"
            }
        };
        manager.get_connection().execute_unprepared(fill).await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_users_passkey_handle")
                    .table(Users::Table)
                    .col(Users::PasskeyHandle)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Passkeys::Table)
                    .add_column(
                        ColumnDef::new(Passkeys::Discoverable)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Passkeys::Table)
                    .drop_column(Passkeys::Discoverable)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_users_passkey_handle")
                    .table(Users::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::PasskeyHandle)
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
    PasskeyHandle,
}

#[derive(DeriveIden)]
enum Passkeys {
    Table,
    Discoverable,
}
