# Roster's everyday commands. `just` is optional: `pip install rust-just`.

# Serve on 127.0.0.1:8080 with the embedded defaults (./data).
run:
    cargo run --release

# The whole test suite (starts its own PostgreSQL).
test:
    cargo test --workspace

# Formatting and lints, as CI runs them, and the structure check (module
# imports in one direction, no I/O crate under the domain).
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
    cargo test --test structure

# Load the release server on loopback and print logins/s, GET /me latency,
# refreshes/s, an organization read with a session and with an API key, and
# peak RSS. Pass seconds per phase, e.g. `just bench 30`.
bench seconds="20":
    cargo build --release --bin roster
    cargo bench --bench load -- --seconds {{seconds}}

# Seed N users into a fresh embedded PostgreSQL, start the release server on
# it and print p50/p99/max per directory query (filters, sorts, q, paging,
# counts) against the targets, then the plan of the slowest statement.
# `just bench-directory 10000000` for 10M; see docs/PERFORMANCE.md.
bench-directory users="1000000":
    cargo build --release --bin roster
    cargo bench --bench directory -- --users {{users}}

# Forgot-password response times for known vs unknown addresses (with and
# without the floor), then outbox throughput and request → delivery latency
# with one and two server processes, duplicates, peak RSS.
# `just bench-mail 400 2000` for 400 timed requests and 2000 letters.
bench-mail requests="400" messages="2000":
    cargo build --release --bin roster
    cargo bench --bench mail -- --requests {{requests}} --messages {{messages}}

# Instructions the server executes per GET /me (valgrind callgrind): a figure
# that does not move with the machine's load, for comparing two builds.
# `just bench-instructions target/release/roster 2000`.
bench-instructions bin="target/release/roster" requests="2000":
    cargo build --release --bin roster
    bash benches/instructions.sh {{bin}} {{requests}}

# Pictures: the pipeline alone (time to render a 12 MP and a 40 MP JPEG into
# the four sizes), then through the release server on the file store:
# uploads/s with 4 clients, GET /images/{id} requests/s and p99, and peak
# RSS across 8 concurrent 40 MP uploads. `just bench-images 10`.
bench-images seconds="10":
    cargo bench -p roster-images --bench render
    cargo build --release --bin roster
    cargo bench --bench images -- --seconds {{seconds}}

# What lockout adds to each login: the statements of a failed and of a
# successful attempt, in sequence, on the test kit's PostgreSQL (no bcrypt).
bench-lockout attempts="4000" concurrency="4":
    cargo bench --bench lockout -- --attempts {{attempts}} --concurrency {{concurrency}}
