//! [`flows::Tx`] over a PostgreSQL transaction: the shared flows'
//! statements, their `?N` placeholders rewritten to `$N`, on the
//! connection's statement cache (`conn.rs`).

use postgres::types::ToSql;

use super::conn::{Sql, Tx};
use super::count;
use super::users::{end_links, get_user, revoke_sessions};
use crate::store::flows::{self, Arg, Cell};
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

/// The flows' arguments as the PostgreSQL client takes them.
fn params<'a>(args: &'a [Arg<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    args.iter()
        .map(|arg| match arg {
            Arg::Text(s) => s as &(dyn ToSql + Sync),
            Arg::OptText(s) => s,
            Arg::Int(n) => n,
            Arg::OptInt(n) => n,
            Arg::Bool(b) => b,
            Arg::Bytes(b) => b,
        })
        .collect()
}

/// Column `i` of `row` as a [`Cell`]: integers of any width, booleans
/// (as 0 or 1) and text.
fn cell(row: &postgres::Row, i: usize) -> Result<Cell, StoreError> {
    use postgres::types::Type;
    let ty = row.columns()[i].type_().clone();
    let cell = if ty == Type::INT8 {
        row.try_get::<_, Option<i64>>(i)?.map(Cell::Int)
    } else if ty == Type::INT4 {
        row.try_get::<_, Option<i32>>(i)?
            .map(|n| Cell::Int(n.into()))
    } else if ty == Type::INT2 {
        row.try_get::<_, Option<i16>>(i)?
            .map(|n| Cell::Int(n.into()))
    } else if ty == Type::BOOL {
        row.try_get::<_, Option<bool>>(i)?
            .map(|b| Cell::Int(b.into()))
    } else if ty == Type::TEXT || ty == Type::VARCHAR || ty == Type::NAME {
        row.try_get::<_, Option<String>>(i)?.map(Cell::Text)
    } else {
        return Err(StoreError::Internal(format!(
            "column {i} has type {ty}, which flows cannot read"
        )));
    };
    Ok(cell.unwrap_or(Cell::Null))
}

impl flows::Tx for Tx<'_> {
    fn query(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Vec<Cell>>, StoreError> {
        let rows = Sql::query(self, &dollars(sql), &params(args))?;
        rows.iter()
            .map(|row| (0..row.len()).map(|i| cell(row, i)).collect())
            .collect()
    }

    fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<usize, StoreError> {
        Ok(count(Sql::execute(self, &dollars(sql), &params(args))?))
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

    fn skip_locked(&self) -> &'static str {
        " FOR UPDATE SKIP LOCKED"
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
