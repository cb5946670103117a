-- The steps a gateway may send: NULL for its kind's (warehouse_pda: ship, receive, inspect, return;
-- store_pos: receive, sell, inspect, return; consumer_backend: activate, inspect; inspector_app:
-- inspect), or a list of its own (an integration gateway bridging a brand's ERP, say). The daemon
-- refuses any other step from it as unauthorised_binding.
ALTER TABLE gateways ADD COLUMN steps text[]
    CHECK (steps <@ '{ship,receive,sell,activate,inspect,return}' AND cardinality(steps) > 0);
