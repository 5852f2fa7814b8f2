"""Deploy-time code, run on the deploying machine by Zappa's callbacks and `make package`."""
