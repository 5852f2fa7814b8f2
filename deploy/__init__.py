"""Deploy-time code: the stage checks, the static files' publishing and the Lambda package build.

It runs on the deploying machine only (Zappa's callbacks, `make package`) and is never shipped to
Lambda: zappa_settings.json leaves deploy/ out of the package, and the package test fails if it
is there. So it may use what the package strips (click, the Zappa CLI, git).
"""
