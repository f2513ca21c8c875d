//! One tree's reads and writes outside a transaction: a key's value, a put or delete, the
//! names of the trees in use, and [`PgScan`], a range read lazily a page at a time.

use std::collections::VecDeque;
use std::ops::Bound;

use sled::IVec;

use super::PgStore;
use crate::store::{Pair, StorageError};

/// Rows fetched per page of a range read.
const PAGE: i64 = 512;

impl PgStore {
    pub(in crate::store) fn get(
        &self,
        tree: &str,
        key: &[u8],
    ) -> Result<Option<IVec>, StorageError> {
        self.with_conn(|conn| {
            let row = conn
                .client
                .query_opt(&conn.get, &[&tree, &key])
                .map_err(|e| self.error(&e))?;
            Ok(row.map(|r| IVec::from(r.get::<_, Vec<u8>>(0))))
        })
    }

    pub(in crate::store) fn put(
        &self,
        tree: &str,
        key: &[u8],
        value: Option<&[u8]>,
    ) -> Result<(), StorageError> {
        self.with_conn(|conn| {
            let done = match value {
                Some(value) => conn.client.execute(&conn.upsert, &[&tree, &key, &value]),
                None => conn.client.execute(&conn.delete, &[&tree, &key]),
            };
            done.map(drop).map_err(|e| self.error(&e))
        })
    }

    /// One page of `tree` within `[lower, upper)` (`upper` `None`: no bound).
    fn page(
        &self,
        tree: &str,
        lower: &[u8],
        upper: Option<&[u8]>,
        backward: bool,
    ) -> Result<Vec<Pair>, StorageError> {
        self.with_conn(|conn| {
            let statement = if backward {
                &conn.page_backward
            } else {
                &conn.page_forward
            };
            let rows = conn
                .client
                .query(statement, &[&tree, &lower, &upper, &PAGE])
                .map_err(|e| self.error(&e))?;
            Ok(rows
                .iter()
                .map(|r| {
                    (
                        IVec::from(r.get::<_, Vec<u8>>(0)),
                        IVec::from(r.get::<_, Vec<u8>>(1)),
                    )
                })
                .collect())
        })
    }

    /// The names of the trees that hold at least one pair.
    pub(in crate::store) fn tree_names(&self) -> Result<Vec<String>, StorageError> {
        self.with_conn(|conn| {
            let rows = conn
                .client
                .query("SELECT DISTINCT tree FROM seedance_kv ORDER BY tree", &[])
                .map_err(|e| self.error(&e))?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }
}

/// A lazily read range of one tree, a page at a time.
pub struct PgScan {
    store: PgStore,
    tree: &'static str,
    /// Inclusive.
    lower: Vec<u8>,
    /// Exclusive; `None`: no bound.
    upper: Option<Vec<u8>>,
    backward: bool,
    buffer: VecDeque<Pair>,
    done: bool,
}

/// The least key after `key`.
fn after(key: &[u8]) -> Vec<u8> {
    let mut next = key.to_vec();
    next.push(0);
    next
}

impl PgScan {
    pub(in crate::store) fn new(
        store: PgStore,
        tree: &'static str,
        lower: Bound<Vec<u8>>,
        upper: Bound<Vec<u8>>,
    ) -> PgScan {
        let lower = match lower {
            Bound::Included(k) => k,
            Bound::Excluded(k) => after(&k),
            Bound::Unbounded => Vec::new(),
        };
        let upper = match upper {
            Bound::Included(k) => Some(after(&k)),
            Bound::Excluded(k) => Some(k),
            Bound::Unbounded => None,
        };
        PgScan {
            store,
            tree,
            lower,
            upper,
            backward: false,
            buffer: VecDeque::new(),
            done: false,
        }
    }

    pub(in crate::store) fn reversed(mut self) -> PgScan {
        self.backward = !self.backward;
        self
    }
}

impl Iterator for PgScan {
    type Item = Result<Pair, StorageError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buffer.is_empty() && !self.done {
            match self
                .store
                .page(self.tree, &self.lower, self.upper.as_deref(), self.backward)
            {
                Ok(rows) => {
                    self.done = (rows.len() as i64) < PAGE;
                    if let Some((last, _)) = rows.last() {
                        if self.backward {
                            self.upper = Some(last.to_vec());
                        } else {
                            self.lower = after(last);
                        }
                    }
                    self.buffer.extend(rows);
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        self.buffer.pop_front().map(Ok)
    }
}
