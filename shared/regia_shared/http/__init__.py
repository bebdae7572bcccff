"""HTTP plumbing every service shares: errors and refusals, authentication, request limits, rate limits, API docs, audit trail, operations routes, serving."""
