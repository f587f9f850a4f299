//! `embed_migrations!` reads the workspace's `migrations/` when this crate
//! compiles, but cargo does not know to look there: a new or changed
//! migration would not reach the binary without this.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
