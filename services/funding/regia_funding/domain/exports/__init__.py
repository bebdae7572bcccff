"""Read-only exports of the ledger: CSV for spreadsheets, IATI-style JSON for open data.
The converters are pure; `adapters.ledger_export` reads the rows and
`entrypoints.ledger_export_http` serves them."""
