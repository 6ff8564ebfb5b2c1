//! The appliance's sync, which only certd links: fetching the authority's TUF repository and
//! writing what it verified into the store.
//!
//! * [`repo`] — the TUF client (tough) against the pinned root: verified publications, whole or
//!   as delta chains from the version held.
//! * [`transport`] — HTTP(S) mirrors for tough, bounded in time and size.
//! * [`writer`] — the store's writer: schema, migrations, repair, atomic apply.
//! * [`clock`] — the clock a sync reads: the system's, or a pinned moment for fixed worlds.

pub mod clock;
pub mod repo;
pub mod transport;
pub mod writer;
