"""The vendor sandbox: a local server that speaks each vendor's API over one synthetic world."""
