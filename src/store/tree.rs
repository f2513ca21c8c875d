//! Reading and writing one tree of the store outside a transaction ([`Tree`]), the same way
//! on both backends: single keys, and ranges read lazily ([`Scan`]: a page at a time on
//! PostgreSQL) in key order or newest first.

use std::ops::Bound;

use sled::IVec;

use super::{StorageError, postgres};

/// One tree of the store, outside any transaction.
#[derive(Clone)]
pub enum Tree {
    Sled(sled::Tree),
    Pg(postgres::PgStore, &'static str),
}

/// A stored pair.
pub type Pair = (IVec, IVec);

impl Tree {
    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<IVec>, StorageError> {
        match self {
            Tree::Sled(t) => Ok(t.get(key)?),
            Tree::Pg(pg, name) => pg.get(name, key.as_ref()),
        }
    }

    pub fn contains_key(&self, key: impl AsRef<[u8]>) -> Result<bool, StorageError> {
        Ok(self.get(key)?.is_some())
    }

    /// Writes one pair (not durable until a flush on sled).
    pub fn insert(&self, key: impl AsRef<[u8]>, value: &[u8]) -> Result<(), StorageError> {
        match self {
            Tree::Sled(t) => t.insert(key.as_ref(), value).map(drop).map_err(Into::into),
            Tree::Pg(pg, name) => pg.put(name, key.as_ref(), Some(value)),
        }
    }

    pub fn remove(&self, key: impl AsRef<[u8]>) -> Result<(), StorageError> {
        match self {
            Tree::Sled(t) => t.remove(key.as_ref()).map(drop).map_err(Into::into),
            Tree::Pg(pg, name) => pg.put(name, key.as_ref(), None),
        }
    }

    /// Every pair, in key order.
    pub fn iter(&self) -> Scan {
        self.scan(Bound::Unbounded, Bound::Unbounded)
    }

    /// The pairs whose key starts with `prefix`, in key order.
    pub fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> Scan {
        let prefix = prefix.as_ref().to_vec();
        let upper = successor(&prefix).map_or(Bound::Unbounded, Bound::Excluded);
        self.scan(Bound::Included(prefix), upper)
    }

    /// The pairs with `start <= key < end`, in key order.
    pub fn range(&self, range: std::ops::Range<impl AsRef<[u8]>>) -> Scan {
        self.scan(
            Bound::Included(range.start.as_ref().to_vec()),
            Bound::Excluded(range.end.as_ref().to_vec()),
        )
    }

    fn scan(&self, lower: Bound<Vec<u8>>, upper: Bound<Vec<u8>>) -> Scan {
        match self {
            Tree::Sled(t) => Scan::Sled(t.range((lower, upper)), false),
            Tree::Pg(pg, name) => Scan::Pg(postgres::PgScan::new(pg.clone(), name, lower, upper)),
        }
    }
}

/// The smallest key greater than every key starting with `prefix` (`None`: no bound).
fn successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// A range of one tree, read lazily (PostgreSQL: a page at a time), in key order or, after
/// [`Scan::rev`], newest (greatest key) first.
pub enum Scan {
    Sled(sled::Iter, bool),
    Pg(postgres::PgScan),
}

impl Scan {
    /// The same range, greatest key first. Call before reading.
    pub fn rev(self) -> Scan {
        match self {
            Scan::Sled(iter, reverse) => Scan::Sled(iter, !reverse),
            Scan::Pg(scan) => Scan::Pg(scan.reversed()),
        }
    }

    pub fn keys(self) -> impl Iterator<Item = Result<IVec, StorageError>> {
        self.map(|pair| pair.map(|(k, _)| k))
    }

    pub fn values(self) -> impl Iterator<Item = Result<IVec, StorageError>> {
        self.map(|pair| pair.map(|(_, v)| v))
    }
}

impl Iterator for Scan {
    type Item = Result<Pair, StorageError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Scan::Sled(iter, false) => iter.next().map(|r| r.map_err(Into::into)),
            Scan::Sled(iter, true) => iter.next_back().map(|r| r.map_err(Into::into)),
            Scan::Pg(scan) => scan.next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::successor;

    #[test]
    fn the_successor_of_a_prefix_bounds_every_key_that_starts_with_it() {
        assert_eq!(successor(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(successor(&[1, 0xff]), Some(vec![2]));
        assert_eq!(successor(&[0xff, 0xff]), None);
        assert_eq!(successor(b""), None);
    }
}
