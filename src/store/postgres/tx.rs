//! [`flows::Tx`] over a PostgreSQL transaction: the shared flows'
//! statements, their `?N` placeholders rewritten to `$N`, on the
//! connection's statement cache (`conn.rs`).

use postgres::types::ToSql;

use super::conn::{Sql, Tx};
use super::count;
use super::users::{end_links, get_user, revoke_sessions};
use crate::store::flows::{self, Arg};
use crate::store::{StoreError, UserRecord};

/// `sql` with each `?N` placeholder written `$N`. The shared statements
/// hold no `?` anywhere else.
fn dollars(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

impl flows::Tx for Tx<'_> {
    fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<usize, StoreError> {
        let params: Vec<&(dyn ToSql + Sync)> = args
            .iter()
            .map(|arg| match arg {
                Arg::Text(s) => s as &(dyn ToSql + Sync),
                Arg::OptText(s) => s,
                Arg::Int(n) => n,
                Arg::OptInt(n) => n,
                Arg::Bool(b) => b,
                Arg::Bytes(b) => b,
            })
            .collect();
        Ok(count(Sql::execute(self, &dollars(sql), &params)?))
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

#[cfg(test)]
mod tests {
    use super::dollars;

    #[test]
    fn placeholders_become_dollars_and_nothing_else_changes() {
        assert_eq!(
            dollars("UPDATE t SET a = ?2, b = '?' WHERE id = ?1 AND c ?| x"),
            "UPDATE t SET a = $2, b = '?' WHERE id = $1 AND c ?| x"
        );
        assert_eq!(dollars("?10, ?1"), "$10, $1");
    }
}
