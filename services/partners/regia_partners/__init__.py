"""Regia partners service: the authority on the plan's actors, their contacts and who
leads which objective."""
