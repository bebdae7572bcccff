-- Coverage in basis points is committed × 10000 / need: €2,150,000 committed against a
-- €10 need is 2,150,000,000, above the 2,147,483,647 an integer holds, and the projection's
-- transaction failed for ever (issue 22). bigint holds every figure the service computes:
-- it saturates coverage_bp at 10^14 (domain/coverage.py). Closed reviews keep the same
-- figure; changing a column's type fires no row trigger, so they stay frozen.
ALTER TABLE coverage ALTER COLUMN coverage_bp TYPE bigint;
ALTER TABLE review_items ALTER COLUMN coverage_bp TYPE bigint;
