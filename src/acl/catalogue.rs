//! What the ACL rules know of the command table: [`Catalogue`], built once by the commands
//! layer and handed to the rule parser, so this module needs nothing from above it.
//!
//! Row indexes are the command table's (the same as `INFO commandstats` and MULTI's queue use),
//! so a user's command bitmap is indexed by the row a connection resolved.

/// One row of the command table, as far as the ACL is concerned.
#[derive(Debug, Clone)]
pub struct Row {
    /// `get`, or `client|list` for a subcommand.
    pub name: &'static str,
    /// ACL category bits of the row (see [`Catalogue::categories`]).
    pub categories: u32,
    /// The container's row, for a subcommand.
    pub parent: Option<usize>,
    /// A container's subcommand rows.
    pub children: Vec<usize>,
}

/// The command table's rows and the category names, in Redis's `ACL CAT` order.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    pub rows: Vec<Row>,
    /// `(name without @, bit)`; a bit of 0 is a Redis category no llmcached command has.
    pub categories: Vec<(&'static str, u32)>,
}

impl Catalogue {
    /// The row named `name` (`get`, `client|list`), any case.
    pub fn find(&self, name: &[u8]) -> Option<usize> {
        self.rows
            .iter()
            .position(|r| r.name.as_bytes().eq_ignore_ascii_case(name))
    }

    /// The bit of the category `name` (without `@`), any case; `None` for an unknown one.
    pub fn category(&self, name: &[u8]) -> Option<u32> {
        self.categories
            .iter()
            .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
            .map(|(_, bit)| *bit)
    }

    /// Rows in the category with bit `bit` (none for a bit of 0).
    pub fn in_category(&self, bit: u32) -> impl Iterator<Item = usize> + '_ {
        self.rows
            .iter()
            .enumerate()
            .filter(move |(_, r)| bit != 0 && r.categories & bit != 0)
            .map(|(i, _)| i)
    }
}
