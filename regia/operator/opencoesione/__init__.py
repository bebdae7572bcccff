"""`regia import opencoesione`: OpenCoesione's projects file into the funding ledger.

command.py is the command; everything else here is pure: it reads text streams (reader,
amounts) and produces funding commands in the wire format of `POST /v1/funding-events`
(mapping, allocation, pipeline); sending them is the command's business, so the same rules
serve a dry run, a test and a real import.
"""
