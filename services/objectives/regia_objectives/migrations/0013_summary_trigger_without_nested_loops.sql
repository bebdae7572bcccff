-- The coverage summary's statement trigger (0008) pairs each updated row's old and new
-- versions by joining its two transition tables. PostgreSQL has no statistics on a
-- transition table and planned that join as a nested loop, so its cost grew with the square
-- of the rows a statement updated: 56 ms for 500 coverage rows, 593 ms for 2,000 (issue 21),
-- where the upsert alone takes 20-60 ms. Inside the trigger function nested loops are priced
-- out: the pairing is hashed (63 ms for 2,000 rows), and each node's lookup (LATERAL ...
-- OFFSET 0, a parameterised scan that has no other plan) is still made by its key.
ALTER FUNCTION coverage_summary_apply() SET enable_nestloop = off;
