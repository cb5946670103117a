-- Three more rules (ChannelGuardDetection's AlertRule):
--   unknown_region       a scan in a region code of valid shape that is no region of the catalogue;
--   no_territory         a downstream scan of a unit whose distributor holds no grant at the time;
--   unauthorised_binding a scan a gateway may not send (a ship of a unit its owner does not hold,
--                        a step its kind does not allow), refused by the daemon.
ALTER TABLE alerts DROP CONSTRAINT alerts_rule_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_rule_check CHECK (rule IN (
    'out_of_territory', 'unknown_code', 'duplicate', 'not_consignee', 'price_below_floor',
    'unknown_region', 'no_territory', 'unauthorised_binding'));
ALTER TABLE incidents DROP CONSTRAINT incidents_rule_check;
ALTER TABLE incidents ADD CONSTRAINT incidents_rule_check CHECK (rule IN (
    'out_of_territory', 'unknown_code', 'duplicate', 'not_consignee', 'price_below_floor',
    'unknown_region', 'no_territory', 'unauthorised_binding'));
ALTER TABLE webhook_subscriptions DROP CONSTRAINT webhook_subscriptions_rules_check;
ALTER TABLE webhook_subscriptions ADD CONSTRAINT webhook_subscriptions_rules_check CHECK (rules <@ '{
    out_of_territory,unknown_code,duplicate,not_consignee,price_below_floor,
    unknown_region,no_territory,unauthorised_binding}');

-- An unknown_region alert keeps the region as scanned (it still has the code's shape: the
-- region_code domain holds), and its incident groups by it: neither may require a catalogue row.
ALTER TABLE alerts DROP CONSTRAINT alerts_scan_region_fkey;
ALTER TABLE incidents DROP CONSTRAINT incidents_destination_region_fkey;
