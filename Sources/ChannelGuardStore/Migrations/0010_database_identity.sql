-- Which database this is, so that files derived from it (the serial index snapshot) are never
-- taken for another database's. Two databases loaded the same way can reach the same change
-- sequence; their identities still differ. One row, made once; a dump restored elsewhere carries
-- it along, as it carries the data the snapshot describes.
CREATE TABLE database_identity (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO database_identity DEFAULT VALUES;
