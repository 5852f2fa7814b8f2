"""Development harness shared by the tests and `make bench` (never packaged, never imported by
the site): the built zip run as Lambda runs it (lambda_host.py, lambda_runtime.py), and the
proxies put between the site and DynamoDB Local to slow it (delaying_proxy.py) or break it
(fault_proxy.py)."""
