"""Shared infrastructure that the resume, counter and owners apps import, and nothing of theirs:
the one DynamoDB table (dynamodb.py), the client of a request (clients.py), the distribution's
origin check (edge.py), and the `create_table` command that makes the site's table."""
