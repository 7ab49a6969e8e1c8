-- Token calls to a provider that limits them per merchant account (bKash: two
-- grant/refresh calls an hour, then an hour's block). Every process on this
-- journal reads and appends here under the token lock, so restarts and the
-- CLI beside the app share one budget (`provider::token_store`). Rows older
-- than an hour are deleted when the budget is written.
CREATE TABLE token_calls (
    provider TEXT NOT NULL,
    at_ms    INTEGER NOT NULL
);
CREATE INDEX token_calls_by_provider ON token_calls(provider, at_ms);

-- The provider refused token calls (HTTP 429): none before `until_ms`.
CREATE TABLE token_blocks (
    provider TEXT PRIMARY KEY,
    until_ms INTEGER NOT NULL
);
