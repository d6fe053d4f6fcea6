//! Rebuilds the crate when a migration is added or edited: `sqlx::migrate!` embeds the
//! migration files at compile time, and cargo does not otherwise notice a new file there.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations/postgres");
    println!("cargo:rerun-if-changed=../../migrations/sqlite");
}
