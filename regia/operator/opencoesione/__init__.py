"""Importing funding from outside sources into the ledger.

Everything here is pure: it reads text streams and produces funding commands in the wire
format of `POST /v1/funding-events`; sending them is the caller's business (the `regia
import` command), so the same rules serve a dry run, a test and a real import.
"""
