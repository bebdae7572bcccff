-- The annual review (punto della situazione): a plan's year, frozen when it closes.
CREATE TABLE reviews (
    plan_id     text    NOT NULL REFERENCES plans (plan_id),
    fiscal_year integer NOT NULL,
    closed_at   timestamptz NOT NULL DEFAULT now(),
    closed_by   text    NOT NULL,
    PRIMARY KEY (plan_id, fiscal_year)
);

-- One row per node, copied at closing: later changes to the plan, its money or its
-- indicators never alter a closed review.
CREATE TABLE review_items (
    plan_id            text    NOT NULL,
    fiscal_year        integer NOT NULL,
    node_id            text    NOT NULL,
    parent_id          text,
    kind               text    NOT NULL,
    title              text    NOT NULL,
    position           integer NOT NULL,
    need_cents         bigint  NOT NULL,
    committed_cents    bigint  NOT NULL,
    disbursed_cents    bigint  NOT NULL,
    committed_by_level jsonb   NOT NULL,
    coverage_bp        integer NOT NULL,
    status             text    NOT NULL,
    indicators         jsonb   NOT NULL DEFAULT '[]',
    PRIMARY KEY (plan_id, fiscal_year, node_id),
    FOREIGN KEY (plan_id, fiscal_year) REFERENCES reviews (plan_id, fiscal_year)
);

CREATE FUNCTION reviews_are_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a closed review is frozen: % refused', TG_OP;
END $$;
CREATE TRIGGER review_items_frozen BEFORE UPDATE OR DELETE ON review_items
    FOR EACH ROW EXECUTE FUNCTION reviews_are_frozen();
