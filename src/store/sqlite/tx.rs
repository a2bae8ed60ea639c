//! [`flows::Tx`] over a rusqlite transaction: the shared flows' statements
//! run here as written (`?N`), and the lock primitives are not needed,
//! because `BEGIN IMMEDIATE` already makes each write transaction the only
//! one.

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{params_from_iter, Connection, ToSql, Transaction};

use super::users::{end_links, get_user, revoke_sessions};
use crate::store::flows::{self, Arg, Cell};
use crate::store::{StoreError, UserRecord};

impl ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            Arg::Text(s) => s.to_sql(),
            Arg::OptText(s) => s.to_sql(),
            Arg::Int(n) => n.to_sql(),
            Arg::OptInt(n) => n.to_sql(),
            Arg::Bool(b) => b.to_sql(),
            Arg::Bytes(b) => b.to_sql(),
        }
    }
}

impl flows::Tx for &Transaction<'_> {
    fn query(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Vec<Cell>>, StoreError> {
        let mut stmt = self.prepare_cached(sql)?;
        let width = stmt.column_count();
        let rows = stmt.query_map(params_from_iter(args), |row| {
            (0..width)
                .map(|i| {
                    Ok(match row.get_ref(i)? {
                        ValueRef::Null => Cell::Null,
                        ValueRef::Integer(n) => Cell::Int(n),
                        ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
                        ValueRef::Real(_) | ValueRef::Blob(_) => {
                            return Err(rusqlite::Error::InvalidColumnType(
                                i,
                                "real or blob".to_owned(),
                                rusqlite::types::Type::Blob,
                            ))
                        }
                    })
                })
                .collect::<rusqlite::Result<Vec<Cell>>>()
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<usize, StoreError> {
        let conn: &Connection = self;
        Ok(conn.execute(sql, params_from_iter(args))?)
    }

    fn execute_cached(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<usize, StoreError> {
        Ok(self.prepare_cached(sql)?.execute(params_from_iter(args))?)
    }

    fn get_user(&mut self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        get_user(self, id)
    }

    fn revoke_sessions(
        &mut self,
        user_id: &str,
        except: Option<&str>,
        reason: &str,
        now: i64,
    ) -> Result<usize, StoreError> {
        revoke_sessions(self, user_id, except, reason, now)
    }

    fn end_links(&mut self, user_id: &str, actions: &[&str]) -> Result<(), StoreError> {
        end_links(self, user_id, actions)
    }
}
