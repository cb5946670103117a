-- The GTIN-14 check of the gtin14 domain without a regular expression and fourteen substrings.
--
-- Every rollup cell the fold upserts passes the domain's check (about 107,000 cells a fold at
-- 1,000,000 events/s). Inside a domain check the argument is the char(14) value cast to text, and
-- PostgreSQL, inlining the function, casts it again wherever the body names it: sixteen times in
-- the old body, with a regular expression and fourteen substr-and-cast steps. Casting 107,000
-- GTINs to the domain took 360-470 ms; with this body 260-270 ms (docs/performance.md).
--
-- The sum: with q(j) = n / 10^j (integer division), the digit j places from the right is
-- q(j) - 10 q(j+1), so sum(w(j) digit(j)) and sum(w(j) q(j)) differ by a multiple of 10. The
-- weights are 1 for even j (the check digit is j = 0) and 3 for odd j: GS1's modulo 10.
CREATE OR REPLACE FUNCTION gtin14_is_valid(v text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN v IS NULL THEN NULL
            WHEN length(v) = 14 AND ltrim(v, '0123456789') = '' THEN
                (v::bigint + v::bigint / 100 + v::bigint / 10000 + v::bigint / 1000000 + v::bigint / 100000000
                 + v::bigint / 10000000000 + v::bigint / 1000000000000
                 + 3 * (v::bigint / 10 + v::bigint / 1000 + v::bigint / 100000 + v::bigint / 10000000
                        + v::bigint / 1000000000 + v::bigint / 100000000000 + v::bigint / 10000000000000)) % 10 = 0
            ELSE false END;
