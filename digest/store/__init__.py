"""State that must survive a crash: the ledger database (send runs, deliveries,
suppressions) behind one class, ``SendLedger``."""
