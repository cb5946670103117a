-- Rollup deltas travel with their batch and are folded into scan_rollups_hourly later, in larger
-- merged transactions: the flush stays one cheap transaction, and a batch's deltas are counted
-- exactly once (the fold marks the batches it applied in the same transaction).
ALTER TABLE scan_batches ADD COLUMN rollup bytea;
ALTER TABLE scan_batches ADD COLUMN rolled_up boolean NOT NULL DEFAULT true;
CREATE INDEX scan_batches_unfolded_idx ON scan_batches (id) WHERE NOT rolled_up;
