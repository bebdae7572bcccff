"""Read-only exports of the ledger: CSV for spreadsheets, IATI-style JSON for open data.
The converters are pure; `adapters.ledger_export` reads the rows and
`entrypoints.exports` serves them."""
