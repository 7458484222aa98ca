-- The ledger functions look rows up by key, thousands of times a second. PL/pgSQL caches their plans (a
-- generic plan after five calls), and a plan made while a table was nearly empty (a fresh database, a new
-- cycle's counters, the first idempotency keys) went on scanning the whole table on every call as it grew,
-- until an autoanalyze happened to invalidate it. Measured with auto_explain during bench/usage.mjs: a
-- sequential scan of idempotency_keys took 7.5 ms of a 10 ms batch, and the runs were fast or slow depending
-- on when autoanalyze came. With sequential scans off inside these functions every plan uses the keys.
ALTER FUNCTION credits_record_usage_batch(text, jsonb) SET enable_seqscan = off;
ALTER FUNCTION credits_record_usage_fast(text, bigint, timestamptz, integer, jsonb) SET enable_seqscan = off;
ALTER FUNCTION credits_record_usage(text, text, numeric, numeric, text, jsonb, text, text, timestamptz, integer)
  SET enable_seqscan = off;
ALTER FUNCTION credits_spend(text, bigint, text, text, boolean, numeric, integer) SET enable_seqscan = off;
ALTER FUNCTION credits_charge(text, bigint, text, numeric, boolean, integer) SET enable_seqscan = off;
