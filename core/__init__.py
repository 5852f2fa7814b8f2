"""Shared infrastructure that the resume, counter and owners apps import, and nothing of theirs:
the one DynamoDB table and its connection (dynamodb.py), what a DynamoDB failure means and
whether it is sent again (failures.py), the request's time budget for DynamoDB and the
middleware that starts it (budget.py), the item calls the services share (items.py), the client
of a request (clients.py), the distribution's origin check (edge.py), the garbage collector
around what a process makes once and keeps (lifetime.py), and the `create_table` command that
makes the site's table."""
