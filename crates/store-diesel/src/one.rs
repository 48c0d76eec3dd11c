//! `LIMIT 1` written into the statement instead of bound.
//!
//! Diesel's `.first()` binds the limit (`LIMIT ?`). SQLite's planner reads a bound LIMIT's
//! value (`sqlite3ExprIsInteger`), which marks the statement as depending on it: every fresh
//! bind expires the cached statement, so each execution parsed and planned the query again
//! (half the server's CPU time under a goal read, by `perf`). A literal `LIMIT 1` keeps the
//! cached statement valid; PostgreSQL does not care either way.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// `query LIMIT 1`, with the 1 in the SQL text.
#[derive(Debug, Clone, Copy, QueryId)]
pub(crate) struct One<Q>(Q);

impl<Q: Query> Query for One<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, DB> QueryFragment<DB> for One<Q>
where
    DB: Backend,
    Q: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(out.reborrow())?;
        out.push_sql(" LIMIT 1");
        Ok(())
    }
}

impl<Q, Conn> RunQueryDsl<Conn> for One<Q> {}

/// `.one()` on any query: the first row only, with a literal limit (see the module doc).
/// Use `.one().get_result(conn)` where diesel would have `.first(conn)`.
pub(crate) trait OneRow: Sized {
    /// The query, limited to one row.
    fn one(self) -> One<Self> {
        One(self)
    }
}

impl<T: Query> OneRow for T {}
