-- Issue 19: the identifiers people search a line by besides the CUP, and the dates of acts.
--
-- source_ref: the source's own code for the project (OpenCoesione's COD_LOCALE_PROGETTO),
-- source_status: the project's status as the source writes it ("In corso", "Concluso").
-- Both optional, set by the commitment that opens the line, kept by its roll-over. Lines
-- opened before have neither (NULL), which the checks allow.
ALTER TABLE funding_lines
    ADD COLUMN source_ref text
        CONSTRAINT funding_lines_source_ref_text CHECK (length(source_ref) BETWEEN 1 AND 100 AND source_ref !~ '[[:cntrl:]]'),
    ADD COLUMN source_status text
        CONSTRAINT funding_lines_source_status_text CHECK (length(source_status) BETWEEN 1 AND 100 AND source_status !~ '[[:cntrl:]]');
-- GET /v1/funding-lines?source_ref= finds a project's lines by its code, as ?cup= does by CUP.
CREATE INDEX funding_lines_source_ref ON funding_lines (source_ref) WHERE source_ref IS NOT NULL;

-- act_date: the date of the act an entry records (the commitment's act, the payment's
-- date), when the command gave one; NULL for every entry recorded before, and for the kinds
-- that carry none (a revision, a roll-over). recorded_at stays when Regia recorded it.
ALTER TABLE ledger_entries
    ADD COLUMN act_date date
        CONSTRAINT ledger_entries_act_date_range CHECK (act_date BETWEEN DATE '1990-01-01' AND DATE '2100-12-31');
